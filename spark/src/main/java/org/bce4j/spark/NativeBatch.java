package org.bce4j.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.Iterator;
import java.util.List;
import java.util.function.ToLongFunction;

import org.bce4j.BinaryCrossEntropy;
import org.bce4j.Partial;
import org.bce4j.Tensor;

/**
 * Elements staged in direct, native-order float64 buffers, added to a {@link Partial} by one native call per batch.
 * The buffers belong to one thread and are reused by every task that thread runs: a task's {@link #partition pass}
 * starts the batch, {@link #add adds} elements, and finishes it, which flushes what is staged and gives the sum of
 * every batch since the start. A batch is flushed whenever it is full; a flush never
 * changes the result, since partials merge exactly.
 */
final class NativeBatch {
    /** Elements per native call: 64K (64K rows of scalar columns). */
    static final int CAPACITY = 1 << 16;

    private static final ThreadLocal<NativeBatch> PER_THREAD = ThreadLocal.withInitial(NativeBatch::new);

    private final DoubleBuffer input = newBuffer(CAPACITY);
    private final DoubleBuffer target = newBuffer(CAPACITY);
    private final DoubleBuffer weight = newBuffer(CAPACITY);
    // Views of a full batch, made once; a shorter (last) batch gets views of its own.
    private final Tensor fullInput = Tensor.of(input, CAPACITY);
    private final Tensor fullTarget = Tensor.of(target, CAPACITY);
    private final Tensor fullWeight = Tensor.of(weight, CAPACITY);

    private BinaryCrossEntropy loss;
    private String columns;
    private boolean weighted;
    private int rowLength; // > 0: the calls take the shape [rows, rowLength] (a per-class pos_weight); 0: [elements]
    private int size;
    private Partial partial;
    private long nativeNanos;
    private int calls;

    private NativeBatch() {}

    /**
     * One partition's pass: this thread's batch, started for a new loss of {@code spec} (closed at the end), filled
     * by {@code fill}, and finished.
     *
     * @param spec the loss
     * @param columns the columns the elements come from, for messages
     * @param weighted whether each element comes with a weight
     * @param rowLength the length of every row for per-class calls ([rows, rowLength]); 0 for flat calls
     * @param fill adds the partition's elements to the batch and returns how many rows it read
     * @return the partition's result, alone
     */
    static Iterator<PartitionResult> partition(LossSpec spec, String columns, boolean weighted, int rowLength,
            ToLongFunction<NativeBatch> fill) {
        long start = System.nanoTime();
        NativeBatch batch = PER_THREAD.get();
        try (BinaryCrossEntropy loss = spec.newLoss()) {
            batch.start(loss, columns, weighted, rowLength);
            long rows = fill.applyAsLong(batch);
            byte[] partial = batch.finish().toBytes();
            return List.of(new PartitionResult(partial, rows, batch.calls, batch.nativeNanos, System.nanoTime()
                    - start)).iterator();
        }
    }

    /**
     * Starts a batch of elements for {@code loss}, open until {@link #finish}; the arguments are
     * {@link #partition}'s.
     */
    private void start(BinaryCrossEntropy loss, String columns, boolean weighted, int rowLength) {
        if (rowLength > CAPACITY) {
            throw new IllegalArgumentException("rows of " + rowLength + " elements are longer than a batch ("
                    + CAPACITY + ")");
        }
        this.loss = loss;
        this.columns = columns;
        this.weighted = weighted;
        this.rowLength = rowLength;
        this.size = 0;
        this.partial = Partial.empty();
        this.nativeNanos = 0;
        this.calls = 0;
    }

    /** {@return room for how many more elements, at least 1: a full batch is flushed at once} */
    int room() {
        return CAPACITY - size;
    }

    /** Stages one element (weight ignored unless the batch is weighted); flushes when that fills the batch. */
    void add(double x, double y, double w) {
        input.put(size, x);
        target.put(size, y);
        if (weighted) {
            weight.put(size, w);
        }
        if (++size == CAPACITY) {
            flush();
        }
    }

    /**
     * Stages {@code xs.length} elements that fit ({@link #room()}), then flushes if the batch is full.
     *
     * @param xs the inputs
     * @param ys the targets, as many
     * @param ws the weights, as many, if the batch is weighted (ignored otherwise)
     */
    void addAll(double[] xs, double[] ys, double[] ws) {
        int n = xs.length;
        input.put(size, xs);
        target.put(size, ys);
        if (weighted) {
            weight.put(size, ws);
        }
        size += n;
        if (size == CAPACITY) {
            flush();
        }
    }

    /** Makes room for {@code n} elements that must go into one call (a row), flushing if they do not fit. */
    void reserve(int n) {
        if (CAPACITY - size < n) {
            flush();
        }
    }

    /** Adds what is staged to the partial with one native call. */
    void flush() {
        if (size == 0) {
            return;
        }
        long start = System.nanoTime();
        boolean full = size == CAPACITY && rowLength == 0;
        long[] shape = rowLength > 0 ? new long[] {size / rowLength, rowLength} : new long[] {size};
        Tensor x = full ? fullInput : Tensor.of(input, shape);
        Tensor y = full ? fullTarget : Tensor.of(target, shape);
        Partial added;
        try {
            added = weighted ? loss.partial(x, y, full ? fullWeight : Tensor.of(weight, shape)) : loss.partial(x, y);
        } catch (IllegalArgumentException e) {
            // The library names the element by its index in this batch, which counts from a batch boundary.
            throw new IllegalArgumentException(columns + ": " + e.getMessage() + " (the index counts within a batch "
                    + "of this partition's elements)", e);
        }
        partial = partial.merge(added);
        size = 0;
        calls++;
        nativeNanos += System.nanoTime() - start;
    }

    /** Flushes, ends the batch and returns the partial of everything added since {@link #start}. */
    private Partial finish() {
        flush();
        Partial result = partial;
        loss = null;
        partial = null;
        return result;
    }

    private static DoubleBuffer newBuffer(int elements) {
        return ByteBuffer.allocateDirect(elements * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }
}
