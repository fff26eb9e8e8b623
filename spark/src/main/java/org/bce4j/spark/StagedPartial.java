package org.bce4j.spark;

import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.util.Arrays;

import org.bce4j.BinaryCrossEntropy;
import org.bce4j.Partial;
import org.bce4j.Tensor;

/**
 * The aggregation buffer of the SQL aggregates: a {@link Partial} and the rows staged for it.
 *
 * <p>{@link #add} stages a row in heap arrays that grow with the group (from 16 rows, so that many small groups stay
 * small) up to {@link #BATCH} rows; at {@code BATCH} rows the buffer flushes: the staged rows are copied into this
 * thread's direct buffers and added to the partial by one native call. It also flushes before it merges
 * another buffer into itself, before it finishes, and before it is serialised, so its serialised form is the
 * partial's bytes alone ({@link Partial#toBytes()}, versioned) and a deserialised buffer stages nothing.
 *
 * <p>Public only because Spark's Java-serialisation encoder takes public classes; it has no public members.
 */
public final class StagedPartial implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Rows per native call. Each group's buffer stages at most this many (24 bytes each with a weight). */
    static final int BATCH = 4096;

    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    /** BCEWithLogitsLoss if true, BCELoss if false. */
    private final boolean logits;
    /** Whether the rows come with weights. */
    private final boolean weighted;
    private transient Partial partial = Partial.empty();
    private transient double[] x = new double[0];
    private transient double[] y = new double[0];
    private transient double[] w = new double[0]; // weighted only
    private transient int size;

    StagedPartial(boolean logits, boolean weighted) {
        this.logits = logits;
        this.weighted = weighted;
    }

    /** Stages one row (its weight ignored unless weighted); flushes when {@link #BATCH} rows are staged. */
    void add(double xi, double yi, double wi) {
        if (size == x.length) {
            if (size == BATCH) {
                flush();
            } else {
                grow();
            }
        }
        x[size] = xi;
        y[size] = yi;
        if (weighted) {
            w[size] = wi;
        }
        size++;
    }

    /** Adds {@code other}'s rows and partial to this buffer. */
    StagedPartial merge(StagedPartial other) {
        other.flush();
        partial = partial.merge(other.partial);
        return this;
    }

    /** {@return everything added, as one partial} */
    Partial partial() {
        flush();
        return partial;
    }

    private void grow() {
        int capacity = Math.min(BATCH, Math.max(16, x.length * 2));
        x = Arrays.copyOf(x, capacity);
        y = Arrays.copyOf(y, capacity);
        if (weighted) {
            w = Arrays.copyOf(w, capacity);
        }
    }

    private void flush() {
        if (size == 0) {
            return;
        }
        Scratch scratch = SCRATCH.get();
        scratch.input.put(0, x, 0, size);
        scratch.target.put(0, y, 0, size);
        BinaryCrossEntropy loss = logits ? Losses.LOGITS : Losses.PROBABILITIES;
        Tensor input = Tensor.of(scratch.input, size);
        Tensor target = Tensor.of(scratch.target, size);
        Partial added;
        if (weighted) {
            scratch.weight.put(0, w, 0, size);
            added = loss.partial(input, target, Tensor.of(scratch.weight, size));
        } else {
            added = loss.partial(input, target);
        }
        partial = partial.merge(added);
        size = 0;
    }

    /**
     * Flushes, then writes the partial's bytes after the fields.
     *
     * @serialData the length of the partial's bytes (int), then the bytes ({@link Partial#toBytes()})
     * @param out the stream
     * @throws IOException if the stream fails
     */
    private void writeObject(ObjectOutputStream out) throws IOException {
        out.defaultWriteObject();
        byte[] bytes = partial().toBytes();
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    /**
     * Reads what {@link #writeObject} wrote: a buffer with that partial and nothing staged.
     *
     * @param in the stream
     * @throws IOException if the stream fails
     * @throws ClassNotFoundException if a field's class is missing
     */
    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
        in.defaultReadObject();
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        partial = Partial.fromBytes(bytes);
        x = new double[0];
        y = new double[0];
        w = new double[0];
    }

    /** This thread's direct buffers, which every flush on it reuses. */
    private static final class Scratch {
        final DoubleBuffer input = newBuffer();
        final DoubleBuffer target = newBuffer();
        final DoubleBuffer weight = newBuffer();

        private static DoubleBuffer newBuffer() {
            return ByteBuffer.allocateDirect(BATCH * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
        }
    }

    /**
     * The two losses of the SQL aggregates, built once per JVM (they have no options, are immutable and serve any
     * number of threads) and never closed: they live as long as the executor.
     */
    private static final class Losses {
        static final BinaryCrossEntropy LOGITS = LossSpec.PLAIN_LOGITS.newLoss();
        static final BinaryCrossEntropy PROBABILITIES = LossSpec.PLAIN_PROBABILITIES.newLoss();
    }
}
