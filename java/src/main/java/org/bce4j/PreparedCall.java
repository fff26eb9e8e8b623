package org.bce4j;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * A loss call prepared for one dtype and shape ({@link BinaryCrossEntropy#prepare(DType, long...)}): the native
 * library checked the options and the shape, planned the broadcast and chose the kernels and thread count once, so
 * that a run only checks its own arguments and computes. Results are bit-identical to
 * {@link BinaryCrossEntropy#compute(Tensor, Tensor, Tensor, Outputs) compute} on the same data.
 *
 * <h2>Batches</h2>
 * A run takes the prepared shape or fewer rows along dimension 0 (its batch; a prepared scalar takes 1): the views'
 * shape gives it, {@link #runAt} takes it as a number. Every input-shaped operand and output has the run's shape; a
 * weight or posWeight that spans dimension 0 (its size there is the prepared shape's, above 1) contributes its
 * first {@code batch} rows, and the rows of gradWeight and gradPosWeight past those get 0. The reductions divide by
 * what the run covers.
 *
 * <pre>{@code
 * try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build();
 *         PreparedCall call = loss.prepare(DType.FLOAT32, 64, 10)) {
 *     double mean = call.run(input, target, new Outputs().gradInput(gradInput)); // input: [n, 10], n <= 64
 * }
 * }</pre>
 *
 * <p>A prepared call computes no partials ({@link Partial}): {@link BinaryCrossEntropy#partial(Tensor, Tensor)}
 * does.
 *
 * <h2>Threads and closing</h2>
 * Any number of threads may run a prepared call at once, each with outputs of its own; each run gives the bits it
 * would give alone. A run allocates nothing on the Java heap and pays nothing per run for close-safety: the native
 * object and this call's copies of the loss' weights are freed by a cleaner once this object is unreachable, never
 * during a run (which keeps it reachable). {@link #close()} only marks it closed: runs that begin after it on the
 * same thread, or on another thread that saw it (through a happens-before edge, e.g. a lock or a volatile write),
 * throw {@link IllegalStateException}; a run racing with it completes normally. Closing the loss that made a
 * prepared call leaves the prepared call working.
 */
public final class PreparedCall implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();

    private final NativeOptions options; // the options and weight copies that the native object points at
    private final long handle; // the native bce4j_prepared
    private final DType dtype;
    private final long[] shape;
    private final long maxBatch; // dimension 0, 1 for a scalar
    private final long rowCount; // elements per row along dimension 0, 1 for a scalar
    private final boolean reducesToNaN; // reduction NONE: the runs return NaN and require a loss output
    private final long weightCount;
    private final long posWeightCount; // -1: the loss has no posWeight gradient (BCELoss)
    private boolean closed; // a plain field: read once per run, written by close()

    PreparedCall(LossKind kind, NativeLibrary.Options settings, WeightTensor weight, Reduction reduction, DType dtype,
            long[] shape, long weightCount) {
        if (shape.length > NativeLibrary.MAX_DIMS) {
            throw new IllegalArgumentException(
                    "shape has " + shape.length + " dimensions; expected 0 to " + NativeLibrary.MAX_DIMS);
        }
        this.dtype = dtype;
        this.shape = shape.clone();
        this.reducesToNaN = reduction == Reduction.NONE;
        this.weightCount = weightCount;
        this.posWeightCount = kind.posWeightGradientCount();
        this.options = new NativeOptions(settings, weight, kind, dtype);
        ByteBuffer arguments = ByteBuffer.allocateDirect(Long.BYTES * (1 + shape.length))
                .order(ByteOrder.nativeOrder());
        for (int i = 0; i < shape.length; i++) {
            arguments.putLong(Long.BYTES * (1 + i), shape[i]);
        }
        long base = new Pointer(arguments).address();
        int status = NativeLibrary.bce4j_prepare(options.address(dtype), kind.logitsFlag(), dtype.code, shape.length,
                base + Long.BYTES, base);
        Reference.reachabilityFence(arguments);
        if (status != NativeLibrary.BCE4J_OK) {
            options.close();
            NativeStatus.check(status); // the native library's message, as a call with this shape would give
        }
        this.handle = arguments.getLong(0);
        this.maxBatch = shape.length == 0 ? 1 : shape[0];
        long count = Checks.shapeCount(this.shape); // checked natively: no exception
        this.rowCount = shape.length == 0 ? 1 : maxBatch == 0 ? 0 : count / maxBatch;
        CLEANER.register(this, new Destroy(handle));
    }

    /** Frees the native object; holds nothing that keeps the PreparedCall reachable. */
    private record Destroy(long handle) implements Runnable {
        @Override
        public void run() {
            NativeLibrary.bce4j_prepared_destroy(handle);
        }
    }

    /** {@return the dtype every run takes} */
    public DType dtype() {
        return dtype;
    }

    /** {@return the prepared shape (a copy); runs take it, or fewer rows along dimension 0} */
    public long[] shape() {
        return shape.clone();
    }

    /**
     * Loss and gradients with upstream gradient 1; see {@link #run(Tensor, Tensor, Tensor, Outputs)}.
     *
     * @param input the logits or probabilities: the prepared shape, or fewer rows along dimension 0
     * @param target the targets, as many as the input has elements
     * @param outputs where the outputs go; null for none
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     */
    public double run(Tensor input, Tensor target, Outputs outputs) {
        return run(input, target, null, outputs);
    }

    /**
     * Loss and gradients of one batch in one native pass, as {@link BinaryCrossEntropy#compute(Tensor, Tensor,
     * Tensor, Outputs)} with the input's shape (the prepared one, with {@code batch <=} the prepared dimension 0).
     *
     * @param input the logits or probabilities: the prepared shape, or fewer rows along dimension 0
     * @param target the targets, as many as the input has elements, of the prepared dtype
     * @param gradOutput the upstream gradient: one element, or the input's element count for {@link Reduction#NONE};
     *     null means 1
     * @param outputs where the outputs go (gradWeight and gradPosWeight have the weights' full shapes); null for none
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code input} or {@code target} is null, or the loss output is null with
     *     {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid (another dtype, shape or element count, a read-only
     *     output, an out-of-range probability, ...), the message naming it
     * @throws IllegalStateException if this prepared call is closed
     */
    public double run(Tensor input, Tensor target, Tensor gradOutput, Outputs outputs) {
        Tensor loss = outputs == null ? null : outputs.loss();
        Tensor gradInput = outputs == null ? null : outputs.gradInput();
        Tensor gradTarget = outputs == null ? null : outputs.gradTarget();
        Tensor gradWeight = outputs == null ? null : outputs.gradWeight();
        Tensor gradPosWeight = outputs == null ? null : outputs.gradPosWeight();
        try {
            checkOpen();
            Checks.notNull(input, "input");
            long batch = batchOf(input);
            long count = batch * rowCount;
            long perResult = reducesToNaN ? count : 1;
            Checks.operand(input, "input", dtype, count, true, false);
            Checks.operand(target, "target", dtype, count, true, false);
            Checks.operand(gradOutput, "gradOutput", dtype, perResult, false, false);
            Checks.operand(loss, "loss", dtype, perResult, reducesToNaN, true);
            Checks.operand(gradInput, "gradInput", dtype, count, false, true);
            Checks.operand(gradTarget, "gradTarget", dtype, count, false, true);
            Checks.operand(gradWeight, "gradWeight", dtype, weightCount, false, true);
            if (posWeightCount >= 0) { // else the native library rejects a gradPosWeight: BCELoss has no pos_weight
                Checks.operand(gradPosWeight, "gradPosWeight", dtype, posWeightCount, false, true);
            }
            CallScratch scratch = CallScratch.current();
            int status = NativeLibrary.bce4j_prepared_run(handle, batch, input.address(), target.address(),
                    addressOf(gradOutput), addressOf(loss), scratch.reducedLossAddress, addressOf(gradInput),
                    addressOf(gradTarget), addressOf(gradWeight), addressOf(gradPosWeight));
            return result(status, scratch);
        } finally {
            Reference.reachabilityFence(this);
            Reference.reachabilityFence(input);
            Reference.reachabilityFence(target);
            Reference.reachabilityFence(gradOutput);
            Reference.reachabilityFence(loss);
            Reference.reachabilityFence(gradInput);
            Reference.reachabilityFence(gradTarget);
            Reference.reachabilityFence(gradWeight);
            Reference.reachabilityFence(gradPosWeight);
        }
    }

    /**
     * Loss and gradients of one batch on raw native addresses (0 = absent for the optional ones), laid out as
     * {@link BinaryCrossEntropy#computeAt} describes for the prepared shape with dimension 0 set to {@code batch}.
     * The caller guarantees that each address holds enough elements of the prepared dtype.
     *
     * @param batch the rows along dimension 0, 0 to the prepared dimension 0 (1 for a prepared scalar)
     * @param input the address of the inputs (logits or probabilities)
     * @param target the address of the targets
     * @param gradOutput the address of the upstream gradient (one element, or one per input element for
     *     {@link Reduction#NONE}); 0 means 1
     * @param loss the address that receives the per-element losses for {@link Reduction#NONE} (required then),
     *     otherwise the reduced loss as one element; 0 if not wanted
     * @param gradInput the address that receives the input gradient; 0 if not wanted
     * @param gradTarget the address that receives the target gradient; 0 if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if, for a run with elements, {@code input}, {@code target} or (with
     *     {@link Reduction#NONE}) {@code loss} is 0
     * @throws IllegalArgumentException if {@code batch} is out of range, or a value is (an out-of-range probability)
     * @throws IllegalStateException if this prepared call is closed
     */
    public double runAt(long batch, long input, long target, long gradOutput, long loss, long gradInput,
            long gradTarget) {
        try {
            checkOpen();
            if (reducesToNaN && batch > 0 && batch <= maxBatch && rowCount > 0) {
                Checks.address(loss, "loss", true);
            }
            CallScratch scratch = CallScratch.current();
            int status = NativeLibrary.bce4j_prepared_run(handle, batch, input, target, gradOutput, loss,
                    scratch.reducedLossAddress, gradInput, gradTarget, 0, 0);
            return result(status, scratch);
        } finally {
            Reference.reachabilityFence(this);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("PreparedCall is closed");
        }
    }

    /** The batch of an input view: its dimension 0, the other dimensions being the prepared ones. */
    private long batchOf(Tensor input) {
        long[] dims = input.dims();
        boolean fits = dims.length == shape.length && (dims.length == 0 || dims[0] <= maxBatch);
        for (int i = 1; fits && i < dims.length; i++) {
            fits = dims[i] == shape[i];
        }
        if (!fits) {
            throw new IllegalArgumentException("input shape " + Checks.format(dims)
                    + " does not fit the prepared shape "
                    + Checks.format(shape) + " (the same dimensions, with at most as many rows along dimension 0)");
        }
        return dims.length == 0 ? 1 : dims[0];
    }

    private static long addressOf(Tensor t) {
        return t == null ? 0 : t.address();
    }

    private double result(int status, CallScratch scratch) {
        NativeStatus.check(status);
        return reducesToNaN ? Double.NaN : scratch.reducedLoss();
    }

    /**
     * Marks this prepared call closed: later runs throw {@link IllegalStateException}. It frees nothing itself (a
     * cleaner does, once this object is unreachable), so a run racing with it is safe. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
    }
}
