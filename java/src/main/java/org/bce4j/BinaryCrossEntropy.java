package org.bce4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.Reference;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.OptionalDouble;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

/**
 * What both binary cross-entropy losses share: configuration (weight, reduction, threads, ignore index, label
 * smoothing), native resources, and the calls that compute the loss and its gradients in one native pass over
 * memory the caller owns.
 *
 * <h2>Calls</h2>
 * Every {@code compute} call takes the input's {@code shape} (dense, C order; {@code {}} is a scalar) and buffers
 * of one element type:
 * <ul>
 *   <li>{@code input}, {@code target}: required, of the shape's element count;</li>
 *   <li>{@code gradOutput}: the upstream gradient, optional (null means 1): one element for every reduction but
 *       {@link Reduction#NONE}, the input's element count for {@code NONE};</li>
 *   <li>{@code loss}: receives the per-element losses for {@code NONE} (required then) or the reduced loss (one
 *       element, optional) for the other reductions;</li>
 *   <li>{@code gradInput}, {@code gradTarget}: receive the gradients; optional (null = not wanted).</li>
 * </ul>
 * The return value is the reduced loss in double precision (float32 data is summed in double), and NaN for
 * {@code NONE}. Buffers are read and written from their current position on, without copies, except the
 * {@code float[]}/{@code double[]} forms, which copy. Outputs must not overlap inputs. 16-bit data (float16 or
 * bfloat16, as {@code short} bits, see {@link HalfPrecision}) comes in {@link ShortPointer}s or direct
 * {@link ShortBuffer}s with its {@link DType} named first; it is computed in float32 and rounded once on output.
 *
 * <p>Bad arguments throw {@link NullPointerException} (a required buffer or the shape is null) or
 * {@link IllegalArgumentException} (a buffer shorter than the shape needs, a heap or non-native-order NIO buffer, a
 * read-only output, a weight that does not broadcast to the input, an out-of-range probability, ...), each
 * message naming the argument; after a failed call the output buffers' contents are undefined. A closed loss
 * throws {@link IllegalStateException}.
 *
 * <p>The {@code computeWeightGradients} forms take the same arguments and also return the gradients with respect
 * to the weight and the positive-class weight, summed back to their own shapes (see {@link WeightGradients}).
 *
 * <h2>Threads and closing</h2>
 * Instances are immutable, and any number of threads may call them at once. They hold native memory (their options
 * and copies of their weights), so close them (try-with-resources) when done. {@link #close()} may be called from
 * any thread at any time, also while other threads' calls are running, and any number of times: the first call
 * marks the loss closed, so that every call that has not begun yet throws {@link IllegalStateException}, then
 * waits for the calls that are running to return, and frees the native memory; every {@code close()} returns once
 * it is freed. A call thus either runs to its end on memory that stays allocated, or throws
 * {@link IllegalStateException} without computing anything. A loss that is never closed is freed when it is
 * garbage collected, never during one of its calls.
 */
public abstract sealed class BinaryCrossEntropy implements AutoCloseable permits BCEWithLogitsLoss, BCELoss {
    private final boolean onLogits;
    private final Reduction reduction;
    private final int numThreads;
    private final Double ignoreIndex;
    private final double labelSmoothing;
    private final int smoothingClasses;
    private final Device device;
    private final boolean hasWeights; // weight or pos_weight, held in host memory
    private final NativeOptions options;
    private final long[] weightShape; // null: no weight
    private final long[] posWeightShape; // null: no pos_weight (always for BCELoss)

    // The lifecycle of the native memory in one word: CLOSED (the sign bit) once close() has begun, plus the number
    // of calls inside that memory. A call adds 1 before it reads the memory and subtracts 1 after (acquire, release:
    // one atomic add each, no lock); close() sets CLOSED, waits under closeLock until the count is 0, then frees.
    private static final long CLOSED = Long.MIN_VALUE;
    private static final long COUNT = ~CLOSED;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(BinaryCrossEntropy.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // read and written through STATE
    private volatile long state;
    private final Object closeLock = new Object();
    private boolean freed; // guarded by closeLock

    /** {@code onLogits}: BCEWithLogitsLoss when true, BCELoss (on probabilities) when false. */
    BinaryCrossEntropy(boolean onLogits, Builder<?> builder, LogitsOptions logits) {
        NativeLoader.ensureLoaded(); // where the natives cannot load, the error that says why, every time
        this.onLogits = onLogits;
        this.reduction = builder.effectiveReduction();
        this.numThreads = builder.numThreads;
        this.ignoreIndex = builder.ignoreIndex;
        this.labelSmoothing = builder.labelSmoothing;
        this.smoothingClasses = builder.smoothingClasses;
        this.device = builder.device;
        if (device == Device.CUDA) {
            CudaAvailability cuda = Bce4j.cuda();
            if (!cuda.available()) {
                throw new CudaUnavailableException("device CUDA was requested, but CUDA is " + cuda.description(), cuda);
            }
        }
        this.hasWeights = builder.weight != null || logits.posWeight() != null;
        this.options = new NativeOptions(reduction, builder.numThreads, builder.weight, logits, ignoreIndex,
                labelSmoothing, smoothingClasses);
        this.weightShape = builder.weight == null ? null : builder.weight.shape;
        this.posWeightShape = logits.posWeight() == null ? null : logits.posWeight().shape;
    }

    /** {@return the reduction this loss applies} */
    public Reduction reduction() {
        return reduction;
    }

    /**
     * {@return the target value whose elements this loss ignores, if {@link Builder#ignoreIndex(double)} set
     * one; empty otherwise}
     */
    public OptionalDouble ignoreIndex() {
        return ignoreIndex == null ? OptionalDouble.empty() : OptionalDouble.of(ignoreIndex);
    }

    /** {@return the label smoothing epsilon, in [0, 1]; 0 (the default) means none} */
    public double labelSmoothing() {
        return labelSmoothing;
    }

    /**
     * {@return the class count K of the label smoothing (targets become {@code y*(1-E) + E/K}), 1 or more; 2 by
     * default}
     */
    public int smoothingClasses() {
        return smoothingClasses;
    }

    /** {@return where this loss computes; {@link Device#CPU} unless the builder chose otherwise} */
    public Device device() {
        return device;
    }

    /**
     * {@return the OpenMP thread count of each call, 0 to 1024; 0 means the library default
     * ({@link Bce4j#defaultNumThreads()})}
     */
    public int numThreads() {
        return numThreads;
    }

    // The native entry point of this loss (bce4j_bce_with_logits or bce4j_bce, or their CUDA forms on host
    // buffers), in its raw-address and NIO forms.
    private int invoke(long options, int dtype, int ndim, long shape, long input, long target, long gradOutput,
            long loss, long reducedLoss, long gradInput, long gradTarget) {
        if (device == Device.CUDA) {
            return onLogits
                    ? NativeLibrary.bce4j_cuda_bce_with_logits_host(options, dtype, ndim, shape, input, target,
                            gradOutput, loss, reducedLoss, gradInput, gradTarget)
                    : NativeLibrary.bce4j_cuda_bce_host(options, dtype, ndim, shape, input, target, gradOutput, loss,
                            reducedLoss, gradInput, gradTarget);
        }
        return onLogits
                ? NativeLibrary.bce4j_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput, loss,
                        reducedLoss, gradInput, gradTarget)
                : NativeLibrary.bce4j_bce(options, dtype, ndim, shape, input, target, gradOutput, loss, reducedLoss,
                        gradInput, gradTarget);
    }

    private int invoke(long options, int dtype, int ndim, long shape, FloatBuffer input, FloatBuffer target,
            FloatBuffer gradOutput, FloatBuffer loss, long reducedLoss, FloatBuffer gradInput, FloatBuffer gradTarget) {
        if (device == Device.CUDA) {
            return invoke(options, dtype, ndim, shape, addressOf(input), addressOf(target), addressOf(gradOutput),
                    addressOf(loss), reducedLoss, addressOf(gradInput), addressOf(gradTarget));
        }
        return onLogits
                ? NativeLibrary.bce4j_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput, loss,
                        reducedLoss, gradInput, gradTarget)
                : NativeLibrary.bce4j_bce(options, dtype, ndim, shape, input, target, gradOutput, loss, reducedLoss,
                        gradInput, gradTarget);
    }

    private int invoke(long options, int dtype, int ndim, long shape, DoubleBuffer input, DoubleBuffer target,
            DoubleBuffer gradOutput, DoubleBuffer loss, long reducedLoss, DoubleBuffer gradInput,
            DoubleBuffer gradTarget) {
        if (device == Device.CUDA) {
            return invoke(options, dtype, ndim, shape, addressOf(input), addressOf(target), addressOf(gradOutput),
                    addressOf(loss), reducedLoss, addressOf(gradInput), addressOf(gradTarget));
        }
        return onLogits
                ? NativeLibrary.bce4j_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput, loss,
                        reducedLoss, gradInput, gradTarget)
                : NativeLibrary.bce4j_bce(options, dtype, ndim, shape, input, target, gradOutput, loss, reducedLoss,
                        gradInput, gradTarget);
    }

    // The address of a direct buffer's element at its position; 0 for null. JNI calls, unlike the CPU's NIO forms:
    // a CUDA call copies its data anyway.
    private static long addressOf(FloatBuffer b) {
        return b == null ? 0 : new FloatPointer(b).address() + (long) b.position() * Float.BYTES;
    }

    private static long addressOf(DoubleBuffer b) {
        return b == null ? 0 : new DoublePointer(b).address() + (long) b.position() * Double.BYTES;
    }

    private static long addressOf(ShortBuffer b) {
        return b == null ? 0 : new ShortPointer(b).address() + (long) b.position() * Short.BYTES;
    }

    private int invoke(long options, int dtype, int ndim, long shape, ShortBuffer input, ShortBuffer target,
            ShortBuffer gradOutput, ShortBuffer loss, long reducedLoss, ShortBuffer gradInput, ShortBuffer gradTarget) {
        if (device == Device.CUDA) {
            return invoke(options, dtype, ndim, shape, addressOf(input), addressOf(target), addressOf(gradOutput),
                    addressOf(loss), reducedLoss, addressOf(gradInput), addressOf(gradTarget));
        }
        return onLogits
                ? NativeLibrary.bce4j_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput, loss,
                        reducedLoss, gradInput, gradTarget)
                : NativeLibrary.bce4j_bce(options, dtype, ndim, shape, input, target, gradOutput, loss, reducedLoss,
                        gradInput, gradTarget);
    }

    // ---- JavaCPP pointers -----------------------------------------------------------------------------------

    /**
     * Loss and gradients on float32 JavaCPP pointers, upstream gradient 1. Each pointer is read or written from
     * its position on, and must hold enough elements before its limit. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, FloatPointer input, FloatPointer target, FloatPointer loss,
            FloatPointer gradInput, FloatPointer gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * Loss and gradients on float32 JavaCPP pointers with an upstream gradient. Each pointer is read or
     * written from its position on, and must hold enough elements before its limit. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, FloatPointer input, FloatPointer target, FloatPointer gradOutput,
            FloatPointer loss, FloatPointer gradInput, FloatPointer gradTarget) {
        return computePointers(SHARED_OPTIONS, DType.FLOAT32, shape, input, target, gradOutput, loss, gradInput,
                gradTarget);
    }

    /**
     * Loss and gradients on float64 JavaCPP pointers, upstream gradient 1. Each pointer is read or written from
     * its position on, and must hold enough elements before its limit. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, DoublePointer input, DoublePointer target, DoublePointer loss,
            DoublePointer gradInput, DoublePointer gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * Loss and gradients on float64 JavaCPP pointers with an upstream gradient. Each pointer is read or
     * written from its position on, and must hold enough elements before its limit. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, DoublePointer input, DoublePointer target, DoublePointer gradOutput,
            DoublePointer loss, DoublePointer gradInput, DoublePointer gradTarget) {
        return computePointers(SHARED_OPTIONS, DType.FLOAT64, shape, input, target, gradOutput, loss, gradInput,
                gradTarget);
    }

    /**
     * Loss and gradients on 16-bit JavaCPP pointers holding {@code dtype} values ({@link DType#FLOAT16} or
     * {@link DType#BFLOAT16}; see {@link HalfPrecision}), upstream gradient 1. See the class description.
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (16-bit data is not on the CUDA path yet), or another argument is invalid, as the
     *     class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(DType dtype, long[] shape, ShortPointer input, ShortPointer target, ShortPointer loss,
            ShortPointer gradInput, ShortPointer gradTarget) {
        return compute(dtype, shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * As the 16-bit pointer form above, with an upstream gradient. See the class description.
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (16-bit data is not on the CUDA path yet), or another argument is invalid, as the
     *     class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(DType dtype, long[] shape, ShortPointer input, ShortPointer target, ShortPointer gradOutput,
            ShortPointer loss, ShortPointer gradInput, ShortPointer gradTarget) {
        DType storage = Checks.storage16(dtype);
        return computePointers(SHARED_OPTIONS, storage, shape, input, target, gradOutput, loss, gradInput,
                gradTarget);
    }

    // callOptions: SHARED_OPTIONS, or the address of a call's own options (which point at this loss's weights).
    private double computePointers(long callOptions, DType dtype, long[] shape, Pointer input, Pointer target,
            Pointer gradOutput, Pointer loss, Pointer gradInput, Pointer gradTarget) {
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            long count = scratch.putShape(shape);
            long perResult = resultCount(count);
            int bytes = dtype.bytes;
            int status = invoke(optionsAddress(callOptions, dtype), dtype.code, shape.length, scratch.shapeAddress,
                    Checks.address(input, "input", bytes, count, true),
                    Checks.address(target, "target", bytes, count, true),
                    Checks.address(gradOutput, "gradOutput", bytes, perResult, false),
                    Checks.address(loss, "loss", bytes, perResult, reduction == Reduction.NONE),
                    scratch.reducedLossAddress,
                    Checks.address(gradInput, "gradInput", bytes, count, false),
                    Checks.address(gradTarget, "gradTarget", bytes, count, false));
            return finish(status, scratch);
        } finally {
            release();
            fenceOperands(input, target, gradOutput, loss, gradInput, gradTarget);
        }
    }

    // ---- Direct NIO buffers ---------------------------------------------------------------------------------

    /**
     * Loss and gradients on direct float32 buffers of the native byte order, upstream gradient 1, each read or
     * written from its position on (positions are not changed). See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, FloatBuffer input, FloatBuffer target, FloatBuffer loss,
            FloatBuffer gradInput, FloatBuffer gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * Loss and gradients on direct float32 buffers of the native byte order with an upstream gradient, each
     * read or written from its position on (positions are not changed). See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, FloatBuffer input, FloatBuffer target, FloatBuffer gradOutput,
            FloatBuffer loss, FloatBuffer gradInput, FloatBuffer gradTarget) {
        return computeBuffers(SHARED_OPTIONS, shape, input, target, gradOutput, loss, gradInput, gradTarget);
    }

    private double computeBuffers(long callOptions, long[] shape, FloatBuffer input, FloatBuffer target,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradInput, FloatBuffer gradTarget) {
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            long count = scratch.putShape(shape);
            checkBuffers(count, input, target, gradOutput, loss, gradInput, gradTarget);
            int status = invoke(optionsAddress(callOptions, DType.FLOAT32), DType.FLOAT32.code, shape.length,
                    scratch.shapeAddress, input, target, gradOutput, loss, scratch.reducedLossAddress, gradInput,
                    gradTarget);
            return finish(status, scratch);
        } finally {
            release();
            fenceOperands(input, target, gradOutput, loss, gradInput, gradTarget);
        }
    }

    /**
     * Loss and gradients on direct float64 buffers of the native byte order, upstream gradient 1, each read or
     * written from its position on (positions are not changed). See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, DoubleBuffer input, DoubleBuffer target, DoubleBuffer loss,
            DoubleBuffer gradInput, DoubleBuffer gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * Loss and gradients on direct float64 buffers of the native byte order with an upstream gradient, each
     * read or written from its position on (positions are not changed). See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, DoubleBuffer input, DoubleBuffer target, DoubleBuffer gradOutput,
            DoubleBuffer loss, DoubleBuffer gradInput, DoubleBuffer gradTarget) {
        return computeBuffers(SHARED_OPTIONS, shape, input, target, gradOutput, loss, gradInput, gradTarget);
    }

    private double computeBuffers(long callOptions, long[] shape, DoubleBuffer input, DoubleBuffer target,
            DoubleBuffer gradOutput, DoubleBuffer loss, DoubleBuffer gradInput, DoubleBuffer gradTarget) {
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            long count = scratch.putShape(shape);
            checkBuffers(count, input, target, gradOutput, loss, gradInput, gradTarget);
            int status = invoke(optionsAddress(callOptions, DType.FLOAT64), DType.FLOAT64.code, shape.length,
                    scratch.shapeAddress, input, target, gradOutput, loss, scratch.reducedLossAddress, gradInput,
                    gradTarget);
            return finish(status, scratch);
        } finally {
            release();
            fenceOperands(input, target, gradOutput, loss, gradInput, gradTarget);
        }
    }

    /**
     * Loss and gradients on direct 16-bit buffers of the native byte order holding {@code dtype} values
     * ({@link DType#FLOAT16} or {@link DType#BFLOAT16}; see {@link HalfPrecision}), upstream gradient 1. See the
     * class description.
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (16-bit data is not on the CUDA path yet), or another argument is invalid, as the
     *     class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(DType dtype, long[] shape, ShortBuffer input, ShortBuffer target, ShortBuffer loss,
            ShortBuffer gradInput, ShortBuffer gradTarget) {
        return compute(dtype, shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * As the 16-bit buffer form above, with an upstream gradient. See the class description.
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (16-bit data is not on the CUDA path yet), or another argument is invalid, as the
     *     class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(DType dtype, long[] shape, ShortBuffer input, ShortBuffer target, ShortBuffer gradOutput,
            ShortBuffer loss, ShortBuffer gradInput, ShortBuffer gradTarget) {
        Checks.storage16(dtype);
        return computeBuffers(SHARED_OPTIONS, dtype, shape, input, target, gradOutput, loss, gradInput, gradTarget);
    }

    private double computeBuffers(long callOptions, DType dtype, long[] shape, ShortBuffer input,
            ShortBuffer target, ShortBuffer gradOutput, ShortBuffer loss, ShortBuffer gradInput,
            ShortBuffer gradTarget) {
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            long count = scratch.putShape(shape);
            checkBuffers(count, input, target, gradOutput, loss, gradInput, gradTarget);
            int status = invoke(optionsAddress(callOptions, dtype), dtype.code, shape.length, scratch.shapeAddress,
                    input, target, gradOutput, loss, scratch.reducedLossAddress, gradInput, gradTarget);
            return finish(status, scratch);
        } finally {
            release();
            fenceOperands(input, target, gradOutput, loss, gradInput, gradTarget);
        }
    }

    // Pointers, and buffers on the CUDA path, reach the native code as addresses only: one collected during the call
    // would free its memory. Until here, then, after the call.
    private static void fenceOperands(Object input, Object target, Object gradOutput, Object loss, Object gradInput,
            Object gradTarget) {
        Reference.reachabilityFence(input);
        Reference.reachabilityFence(target);
        Reference.reachabilityFence(gradOutput);
        Reference.reachabilityFence(loss);
        Reference.reachabilityFence(gradInput);
        Reference.reachabilityFence(gradTarget);
    }

    private void checkBuffers(long count, java.nio.Buffer input, java.nio.Buffer target, java.nio.Buffer gradOutput,
            java.nio.Buffer loss, java.nio.Buffer gradInput, java.nio.Buffer gradTarget) {
        long perResult = resultCount(count);
        Checks.buffer(input, "input", count, true, false);
        Checks.buffer(target, "target", count, true, false);
        Checks.buffer(gradOutput, "gradOutput", perResult, false, false);
        Checks.buffer(loss, "loss", perResult, reduction == Reduction.NONE, true);
        Checks.buffer(gradInput, "gradInput", count, false, true);
        Checks.buffer(gradTarget, "gradTarget", count, false, true);
    }

    // ---- Java arrays (copied) -------------------------------------------------------------------------------

    /**
     * Loss and gradients on float32 Java arrays, upstream gradient 1. Convenient but not free: the arrays are
     * copied to native memory and the outputs copied back. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, float[] input, float[] target, float[] loss, float[] gradInput,
            float[] gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * As {@link #compute(long[], float[], float[], float[], float[], float[])}, with an upstream gradient.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, float[] input, float[] target, float[] gradOutput, float[] loss,
            float[] gradInput, float[] gradTarget) {
        return withFloatCopies(input, target, gradOutput, loss, gradInput, gradTarget,
                (x, y, g, l, gi, gt) -> compute(shape, x, y, g, l, gi, gt));
    }

    /**
     * Loss and gradients on float64 Java arrays, upstream gradient 1. Convenient but not free: the arrays are
     * copied to native memory and the outputs copied back. See the class description.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, double[] input, double[] target, double[] loss, double[] gradInput,
            double[] gradTarget) {
        return compute(shape, input, target, null, loss, gradInput, gradTarget);
    }

    /**
     * As {@link #compute(long[], double[], double[], double[], double[], double[])}, with an upstream
     * gradient.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA is
     *     unavailable ({@link CudaUnavailableException}) or fails
     */
    public double compute(long[] shape, double[] input, double[] target, double[] gradOutput, double[] loss,
            double[] gradInput, double[] gradTarget) {
        return withDoubleCopies(input, target, gradOutput, loss, gradInput, gradTarget,
                (x, y, g, l, gi, gt) -> compute(shape, x, y, g, l, gi, gt));
    }

    /** A call on native copies of six arrays (null stays null). */
    @FunctionalInterface
    private interface OnCopies<P extends Pointer, R> {
        R run(P input, P target, P gradOutput, P loss, P gradInput, P gradTarget);
    }

    // Copies the arrays to native memory, runs the call, and copies the outputs back.
    private <R> R withFloatCopies(float[] input, float[] target, float[] gradOutput, float[] loss, float[] gradInput,
            float[] gradTarget, OnCopies<FloatPointer, R> call) {
        ensureOpen();
        try (PointerScope scope = new PointerScope()) {
            FloatPointer lossCopy = copyOf(loss);
            FloatPointer gradInputCopy = copyOf(gradInput);
            FloatPointer gradTargetCopy = copyOf(gradTarget);
            R result = call.run(copyOf(input), copyOf(target), copyOf(gradOutput), lossCopy, gradInputCopy,
                    gradTargetCopy);
            if (loss != null) lossCopy.get(loss);
            if (gradInput != null) gradInputCopy.get(gradInput);
            if (gradTarget != null) gradTargetCopy.get(gradTarget);
            return result;
        }
    }

    private <R> R withDoubleCopies(double[] input, double[] target, double[] gradOutput, double[] loss,
            double[] gradInput, double[] gradTarget, OnCopies<DoublePointer, R> call) {
        ensureOpen();
        try (PointerScope scope = new PointerScope()) {
            DoublePointer lossCopy = copyOf(loss);
            DoublePointer gradInputCopy = copyOf(gradInput);
            DoublePointer gradTargetCopy = copyOf(gradTarget);
            R result = call.run(copyOf(input), copyOf(target), copyOf(gradOutput), lossCopy, gradInputCopy,
                    gradTargetCopy);
            if (loss != null) lossCopy.get(loss);
            if (gradInput != null) gradInputCopy.get(gradInput);
            if (gradTarget != null) gradTargetCopy.get(gradTarget);
            return result;
        }
    }

    private static FloatPointer copyOf(float[] array) {
        return array == null ? null : new FloatPointer(array);
    }

    private static DoublePointer copyOf(double[] array) {
        return array == null ? null : new DoublePointer(array);
    }

    // ---- Weight gradients -----------------------------------------------------------------------------------

    /**
     * As {@link #compute(long[], FloatPointer, FloatPointer, FloatPointer, FloatPointer, FloatPointer, FloatPointer)},
     * also returning the gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, FloatPointer input, FloatPointer target,
            FloatPointer gradOutput, FloatPointer loss, FloatPointer gradInput, FloatPointer gradTarget) {
        return withWeightGradients(DType.FLOAT32, optionsAddress -> computePointers(optionsAddress, DType.FLOAT32,
                shape, input, target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As {@link #compute(long[], DoublePointer, DoublePointer, DoublePointer, DoublePointer, DoublePointer,
     * DoublePointer)}, also returning the gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, DoublePointer input, DoublePointer target,
            DoublePointer gradOutput, DoublePointer loss, DoublePointer gradInput, DoublePointer gradTarget) {
        return withWeightGradients(DType.FLOAT64, optionsAddress -> computePointers(optionsAddress, DType.FLOAT64,
                shape, input, target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As {@link #compute(long[], FloatBuffer, FloatBuffer, FloatBuffer, FloatBuffer, FloatBuffer, FloatBuffer)},
     * also returning the gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, FloatBuffer input, FloatBuffer target,
            FloatBuffer gradOutput, FloatBuffer loss, FloatBuffer gradInput, FloatBuffer gradTarget) {
        return withWeightGradients(DType.FLOAT32, optionsAddress -> computeBuffers(optionsAddress, shape, input,
                target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As {@link #compute(long[], DoubleBuffer, DoubleBuffer, DoubleBuffer, DoubleBuffer, DoubleBuffer,
     * DoubleBuffer)}, also returning the gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, DoubleBuffer input, DoubleBuffer target,
            DoubleBuffer gradOutput, DoubleBuffer loss, DoubleBuffer gradInput, DoubleBuffer gradTarget) {
        return withWeightGradients(DType.FLOAT64, optionsAddress -> computeBuffers(optionsAddress, shape, input,
                target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As the 16-bit pointer form of {@code compute}, also returning the gradients with respect to the weight and the
     * positive-class weight (rounded to {@code dtype}, then widened).
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (neither 16-bit data nor weight gradients are on the CUDA path yet), or another
     *     argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(DType dtype, long[] shape, ShortPointer input, ShortPointer target,
            ShortPointer gradOutput, ShortPointer loss, ShortPointer gradInput, ShortPointer gradTarget) {
        DType storage = Checks.storage16(dtype);
        return withWeightGradients(storage, optionsAddress -> computePointers(optionsAddress, storage, shape, input,
                target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As the 16-bit buffer form of {@code compute}, also returning the gradients with respect to the weight and the
     * positive-class weight (rounded to {@code dtype}, then widened).
     *
     * @param dtype what the buffers' bits hold: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code dtype}, {@code shape}, {@code input} or {@code target} is null, or
     *     {@code loss} is null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if {@code dtype} is not a 16-bit type, the loss computes on
     *     {@link Device#CUDA} (neither 16-bit data nor weight gradients are on the CUDA path yet), or another
     *     argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(DType dtype, long[] shape, ShortBuffer input, ShortBuffer target,
            ShortBuffer gradOutput, ShortBuffer loss, ShortBuffer gradInput, ShortBuffer gradTarget) {
        DType storage = Checks.storage16(dtype);
        return withWeightGradients(storage, optionsAddress -> computeBuffers(optionsAddress, storage, shape, input,
                target, gradOutput, loss, gradInput, gradTarget));
    }

    /**
     * As {@link #compute(long[], float[], float[], float[], float[], float[], float[])} (copied), also returning the
     * gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, float[] input, float[] target, float[] gradOutput,
            float[] loss, float[] gradInput, float[] gradTarget) {
        return withFloatCopies(input, target, gradOutput, loss, gradInput, gradTarget,
                (x, y, g, l, gi, gt) -> computeWeightGradients(shape, x, y, g, l, gi, gt));
    }

    /**
     * As {@link #compute(long[], double[], double[], double[], double[], double[], double[])} (copied), also
     * returning the gradients with respect to the weight and the positive-class weight.
     *
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss}), one per element
     *     of {@code shape}
     * @param target the targets, one per element of {@code shape}
     * @param gradOutput the upstream gradient: one element, or one per input element for {@link Reduction#NONE};
     *     null means 1
     * @param loss receives the per-element losses for {@link Reduction#NONE} (required then), otherwise the
     *     reduced loss as one element; null if not wanted
     * @param gradInput receives the gradient with respect to the input, one per element; null if not wanted
     * @param gradTarget receives the gradient with respect to the target, one per element; null if not wanted
     * @return the reduced loss (as {@code compute} returns it) and the weight gradients
     * @throws NullPointerException if {@code shape}, {@code input} or {@code target} is null, or {@code loss} is
     *     null with {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists, or the loss
     *     computes on {@link Device#CUDA} (weight gradients are not on the CUDA path yet)
     * @throws IllegalStateException if this loss is closed
     */
    public WeightGradients computeWeightGradients(long[] shape, double[] input, double[] target, double[] gradOutput,
            double[] loss, double[] gradInput, double[] gradTarget) {
        return withDoubleCopies(input, target, gradOutput, loss, gradInput, gradTarget,
                (x, y, g, l, gi, gt) -> computeWeightGradients(shape, x, y, g, l, gi, gt));
    }

    /** One native call, given the address of the options it is to use. */
    @FunctionalInterface
    private interface NativeCall {
        double run(long optionsAddress);
    }

    /**
     * Runs {@code call} on a private copy of this loss' options that also names native outputs for the weight
     * gradients (the shared options stay untouched, so other threads' calls are unaffected), then reads them.
     */
    private WeightGradients withWeightGradients(DType dtype, NativeCall call) {
        long[] weightGradientShape = weightShape == null ? new long[0] : weightShape;
        long[] posWeightGradientShape = posWeightShape == null ? new long[0] : posWeightShape;
        acquire(); // from the copy of the options to the end of the call: the copy points at this loss's weights
        try (PointerScope scope = new PointerScope()) {
            Pointer gradWeight = nativeOutput(dtype, weightGradientShape);
            Pointer gradPosWeight = onLogits ? nativeOutput(dtype, posWeightGradientShape) : null;
            NativeLibrary.Options callOptions = options.copyForCall(dtype).grad_weight(gradWeight)
                    .grad_pos_weight(gradPosWeight);
            double reducedLoss = call.run(callOptions.address());
            return new WeightGradients(reducedLoss, toDoubles(dtype, gradWeight), weightGradientShape.clone(),
                    onLogits ? toDoubles(dtype, gradPosWeight) : null, posWeightGradientShape.clone());
        } finally {
            release();
        }
    }

    // Native memory for one gradient of the given shape, whose element count WeightTensor checked to fit an array.
    private static Pointer nativeOutput(DType dtype, long[] shape) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        return switch (dtype) {
            case FLOAT64 -> new DoublePointer(count);
            case FLOAT32 -> new FloatPointer(count);
            case FLOAT16, BFLOAT16 -> new ShortPointer(count);
        };
    }

    private static double[] toDoubles(DType dtype, Pointer p) {
        double[] values = new double[(int) p.limit()];
        if (p instanceof DoublePointer d) {
            d.get(values);
        } else if (p instanceof ShortPointer bits) {
            for (int i = 0; i < values.length; i++) {
                values[i] = HalfPrecision.toFloat(dtype, bits.get(i));
            }
        } else {
            FloatPointer f = (FloatPointer) p;
            for (int i = 0; i < values.length; i++) {
                values[i] = f.get(i);
            }
        }
        return values;
    }

    // ---- Raw addresses --------------------------------------------------------------------------------------

    /**
     * Loss and gradients on raw native addresses: the lowest-latency path (no JNI calls besides the computation,
     * no allocation). An address of 0 means "absent" for the optional arguments. Only nulls and the shape can be
     * checked here: the caller guarantees that each address holds enough elements of {@code dtype}, as described
     * in the class description. The addresses are host memory, also for a {@link Device#CUDA} loss.
     *
     * @param dtype the element type at every address
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar)
     * @param input the address of the inputs (logits or probabilities), one per element of {@code shape}
     * @param target the address of the targets, one per element of {@code shape}
     * @param gradOutput the address of the upstream gradient (one element, or one per input element for
     *     {@link Reduction#NONE}); 0 means 1
     * @param loss the address that receives the per-element losses for {@link Reduction#NONE} (required then),
     *     otherwise the reduced loss as one element; 0 if not wanted
     * @param gradInput the address that receives the input gradient, one per element; 0 if not wanted
     * @param gradTarget the address that receives the target gradient, one per element; 0 if not wanted
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype} or {@code shape} is null, or, for a non-empty shape,
     *     {@code input}, {@code target} or (with {@link Reduction#NONE}) {@code loss} is 0
     * @throws IllegalArgumentException if the shape or another argument the native library checks is invalid (a
     *     weight that does not broadcast, a probability outside [0, 1], ...)
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA fails
     */
    public double computeAt(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget) {
        Checks.notNull(dtype, "dtype");
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            long count = scratch.putShape(shape);
            if (count > 0) {
                Checks.address(input, "input", true);
                Checks.address(target, "target", true);
                Checks.address(loss, "loss", reduction == Reduction.NONE);
            }
            int status = invoke(options.address(dtype), dtype.code, shape.length, scratch.shapeAddress, input,
                    target, gradOutput, loss, scratch.reducedLossAddress, gradInput, gradTarget);
            return finish(status, scratch);
        } finally {
            release();
        }
    }

    // ---- CUDA device memory ---------------------------------------------------------------------------------

    /**
     * Loss and gradients on CUDA device memory of the calling thread's current device: every address is a device
     * pointer (0 = absent for the optional ones), laid out as the class description says. The work is queued on
     * {@code stream} (a {@code cudaStream_t}; 0 = the default stream) after what is already queued there, and the
     * call waits for it, so the result and any error are known on return. Whatever this loss's {@link #device()}.
     * Reductions are deterministic: the same call gives the same bits on the same device every time.
     *
     * @param dtype the element type at every address: {@link DType#FLOAT32} or {@link DType#FLOAT64}
     * @param shape the input's shape, C order, at most 32 dimensions ({@code {}} is a scalar); in host memory
     * @param input the device address of the inputs (logits or probabilities), one per element of {@code shape}
     * @param target the device address of the targets, one per element of {@code shape}
     * @param gradOutput the device address of the upstream gradient (one element, or one per input element for
     *     {@link Reduction#NONE}); 0 means 1
     * @param loss the device address that receives the per-element losses for {@link Reduction#NONE} (required
     *     then), otherwise the reduced loss as one element; 0 if not wanted
     * @param gradInput the device address that receives the input gradient, one per element; 0 if not wanted
     * @param gradTarget the device address that receives the target gradient, one per element; 0 if not wanted
     * @param stream the {@code cudaStream_t} to queue the work on; 0 for the default stream
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code dtype} or {@code shape} is null, or, for a non-empty shape,
     *     {@code input}, {@code target} or (with {@link Reduction#NONE}) {@code loss} is 0
     * @throws IllegalArgumentException if {@code dtype} is a 16-bit type (not on the CUDA path yet), or the shape or
     *     another argument the native library checks is invalid
     * @throws CudaUnavailableException if CUDA cannot run here ({@link Bce4j#cuda()} says why)
     * @throws IllegalStateException if this loss is closed or has a weight or pos_weight, which it holds in host
     *     memory (use {@link Device#CUDA} with host buffers for those), or the CUDA runtime fails (e.g. an address
     *     that is not device memory)
     */
    public double computeOnCuda(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget, long stream) {
        Checks.notNull(dtype, "dtype");
        acquire();
        try {
            CallScratch scratch = CallScratch.current();
            if (hasWeights) {
                throw new IllegalStateException("computeOnCuda takes device memory, but this loss holds its weight or "
                        + "posWeight in host memory; build it with device(Device.CUDA) and pass host buffers instead");
            }
            long count = scratch.putShape(shape);
            if (count > 0) {
                Checks.address(input, "input", true);
                Checks.address(target, "target", true);
                Checks.address(loss, "loss", reduction == Reduction.NONE);
            }
            NativeLibrary.CudaLibraryFile.ensureNamed();
            long options = this.options.address(dtype);
            int status = onLogits
                    ? NativeLibrary.bce4j_cuda_bce_with_logits(options, dtype.code, shape.length,
                            scratch.shapeAddress, input, target, gradOutput, loss, scratch.reducedLossAddress,
                            gradInput, gradTarget, stream)
                    : NativeLibrary.bce4j_cuda_bce(options, dtype.code, shape.length, scratch.shapeAddress, input,
                            target, gradOutput, loss, scratch.reducedLossAddress, gradInput, gradTarget, stream);
            return finish(status, scratch);
        } finally {
            release();
        }
    }

    // ---- Call plumbing --------------------------------------------------------------------------------------

    /** {@code callOptions} for a call on the options this loss holds for the call's dtype. */
    private static final long SHARED_OPTIONS = 0;

    private long optionsAddress(long callOptions, DType dtype) {
        return callOptions != SHARED_OPTIONS ? callOptions : options.address(dtype);
    }

    /**
     * Enters a call that uses this loss's native memory, which stays allocated until the matching
     * {@link #release()}; throws {@link IllegalStateException} where close() has begun. Calls may nest.
     */
    private void acquire() {
        if ((long) STATE.getAndAdd(this, 1L) < 0) { // CLOSED: undo, and touch nothing
            release();
            throw closedException();
        }
    }

    /** Leaves a call entered by {@link #acquire()}, in a finally block; wakes close() if it waits for this call. */
    private void release() {
        if ((long) STATE.getAndAdd(this, -1L) == (CLOSED | 1)) {
            synchronized (closeLock) {
                closeLock.notifyAll();
            }
        }
        // Until here, after the native call: were this loss unreachable during the call, the garbage collector
        // could free its native memory (JavaCPP's deallocators) under it.
        Reference.reachabilityFence(this);
    }

    private long resultCount(long count) {
        return reduction == Reduction.NONE ? count : 1;
    }

    private double finish(int status, CallScratch scratch) {
        if (status != NativeLibrary.BCE4J_OK) {
            throw nativeFailure(status);
        }
        return reduction == Reduction.NONE ? Double.NaN : scratch.reducedLoss();
    }

    static RuntimeException nativeFailure(int status) {
        String message = NativeLibrary.bce4j_last_error_message();
        switch (status) {
            case NativeLibrary.BCE4J_ERROR_NULL_ARGUMENT:
                return new NullPointerException(message);
            case NativeLibrary.BCE4J_ERROR_INTERNAL:
                return new IllegalStateException("bce4j internal error: " + message);
            case NativeLibrary.BCE4J_ERROR_UNAVAILABLE:
                return new CudaUnavailableException(message, Bce4j.cuda());
            case NativeLibrary.BCE4J_ERROR_DEVICE:
                return new IllegalStateException("CUDA error: " + message);
            default:
                return new IllegalArgumentException(message);
        }
    }

    // A cheap early check for the calls that copy their arguments first; the call itself acquires.
    private void ensureOpen() {
        if ((long) STATE.getVolatile(this) < 0) {
            throw closedException();
        }
    }

    private IllegalStateException closedException() {
        return new IllegalStateException(getClass().getSimpleName() + " is closed");
    }

    /**
     * Frees the native memory of this loss; calls that begin after this one began throw
     * {@link IllegalStateException}. Safe at any time and from any thread: it waits for the calls that are running
     * to return (uninterruptibly; an interrupt is kept for the caller), and frees the memory once however many
     * threads close the loss, each returning once it is freed.
     */
    @Override
    public void close() {
        STATE.getAndBitwiseOr(this, CLOSED); // from here on, no call begins
        boolean interrupted = false;
        synchronized (closeLock) {
            while (((long) STATE.getVolatile(this) & COUNT) != 0) {
                try {
                    closeLock.wait(); // release() notifies when the count drops to 0
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (!freed) {
                freed = true;
                options.close();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Configuration shared by both losses.
     *
     * @param <B> the concrete builder, returned by every setter
     */
    public abstract static class Builder<B extends Builder<B>> {
        Reduction reduction = Reduction.MEAN;
        // Null unless a legacy flag is given; then it wins over reduction, as in PyTorch's losses.
        Reduction legacyReduction;
        int numThreads;
        WeightTensor weight;
        Double ignoreIndex; // null: no element is ignored
        double labelSmoothing;
        int smoothingClasses = 2;
        Device device = Device.CPU;

        Builder() {}

        abstract B self();

        /**
         * The reduction; {@link Reduction#MEAN} by default. A legacy flag given to
         * {@link #legacyReduction(Boolean, Boolean)} overrides it.
         *
         * @param reduction how the per-element losses are reduced
         * @return this builder
         * @throws NullPointerException if {@code reduction} is null
         */
        public B reduction(Reduction reduction) {
            this.reduction = Checks.notNull(reduction, "reduction");
            return self();
        }

        /**
         * PyTorch's legacy {@code size_average} and {@code reduce} loss arguments, null meaning not given, with
         * the meaning PyTorch's loss constructors give them. When either is given, they select the reduction as
         * {@link Reduction#fromLegacyFlags} maps them ({@code torch.nn._reduction.legacy_get_string}) and override
         * {@link #reduction(Reduction)}, in whichever order the two are called. When both are null, no legacy flag
         * is given: the reduction set by {@code reduction} applies (and an earlier {@code legacyReduction} call is
         * undone). PyTorch deprecates these arguments; prefer {@link #reduction(Reduction)} in new code.
         *
         * @param sizeAverage PyTorch's {@code size_average}, or null if not given
         * @param reduce PyTorch's {@code reduce}, or null if not given
         * @return this builder
         */
        public B legacyReduction(Boolean sizeAverage, Boolean reduce) {
            this.legacyReduction = sizeAverage == null && reduce == null ? null
                    : Reduction.fromLegacyFlags(sizeAverage, reduce);
            return self();
        }

        Reduction effectiveReduction() {
            return legacyReduction != null ? legacyReduction : reduction;
        }

        /**
         * OpenMP threads per call, 0 to 1024; 0 (the default) uses {@link Bce4j#defaultNumThreads()}. Inputs under
         * 32768 elements always run on the calling thread, and a call never uses more threads than it has
         * 8192-element blocks.
         *
         * @param numThreads the thread count, 0 to 1024
         * @return this builder
         * @throws IllegalArgumentException if {@code numThreads} is negative or above 1024
         */
        public B numThreads(int numThreads) {
            if (numThreads < 0 || numThreads > NativeLibrary.MAX_THREADS) {
                throw new IllegalArgumentException("numThreads is " + numThreads + "; expected 0 (default) to "
                        + NativeLibrary.MAX_THREADS);
            }
            this.numThreads = numThreads;
            return self();
        }

        /**
         * Where the loss computes: {@link Device#CPU} (the default) or {@link Device#CUDA}, which takes the same host
         * buffers, copies them to the calling thread's current CUDA device and the outputs back (worth it for large
         * inputs only). Building a CUDA loss throws {@link CudaUnavailableException} where CUDA cannot run. A CUDA
         * loss takes float32 and float64 data only, and computes no weight gradients yet.
         *
         * @param device the device that computes the loss
         * @return this builder
         * @throws NullPointerException if {@code device} is null
         */
        public B device(Device device) {
            this.device = Checks.notNull(device, "device");
            return self();
        }

        /**
         * A per-element rescaling weight of the given shape, which must broadcast numpy-style to the input's shape
         * at each call (e.g. {@code [C]} over {@code [N, C]}). The values are copied.
         *
         * @param values the weights in C order, as many as {@code shape} holds
         * @param shape the weight's shape, at most 32 dimensions ({@code {}} or none for a scalar)
         * @return this builder
         * @throws NullPointerException if {@code values} or {@code shape} is null
         * @throws IllegalArgumentException if {@code shape} has a negative dimension or more than 32, or does not hold
         *     exactly {@code values.length} elements
         */
        public B weight(float[] values, long... shape) {
            this.weight = WeightTensor.of(values, shape, "weight");
            return self();
        }

        /**
         * As {@link #weight(float[], long...)}, from double values (rounded once to the call's type for float32,
         * float16 and bfloat16 calls).
         *
         * @param values the weights in C order, as many as {@code shape} holds
         * @param shape the weight's shape, at most 32 dimensions ({@code {}} or none for a scalar)
         * @return this builder
         * @throws NullPointerException if {@code values} or {@code shape} is null
         * @throws IllegalArgumentException if {@code shape} has a negative dimension or more than 32, or does not hold
         *     exactly {@code values.length} elements
         */
        public B weight(double[] values, long... shape) {
            this.weight = WeightTensor.of(values, shape, "weight");
            return self();
        }

        /**
         * Ignores the elements whose target equals {@code value} exactly, as Paddle's {@code ignore_index} (whose
         * default is -100): their loss and both gradients are 0, and BCELoss does not range-check them. They still
         * count in {@link Reduction#MEAN}'s denominator, but not in {@link Reduction#MEAN_VALID}'s. For float32,
         * float16 and bfloat16 calls, a value that the type cannot hold exactly matches no target.
         *
         * @param value the target value to ignore
         * @return this builder
         * @throws IllegalArgumentException if {@code value} is NaN (no target equals NaN)
         */
        public B ignoreIndex(double value) {
            if (Double.isNaN(value)) {
                throw new IllegalArgumentException("ignoreIndex is NaN; no target equals NaN");
            }
            this.ignoreIndex = value;
            return self();
        }

        /**
         * Label smoothing in Keras' binary form: targets become {@code y*(1-epsilon) + epsilon/2} before the loss.
         * As {@link #labelSmoothing(double, int) labelSmoothing(epsilon, 2)}.
         *
         * @param epsilon the smoothing, in [0, 1]; 0 turns it off
         * @return this builder
         * @throws IllegalArgumentException if {@code epsilon} is NaN or outside [0, 1]
         */
        public B labelSmoothing(double epsilon) {
            return labelSmoothing(epsilon, 2);
        }

        /**
         * Label smoothing over {@code classes} classes: targets become {@code y*(1-epsilon) + epsilon/classes}
         * before the loss (the class count gives timm's per-class form, 2 Keras' binary form). The target gradient
         * stays the gradient with respect to the given target {@code y}. Epsilon 0 (the default) turns it off.
         *
         * @param epsilon the smoothing, in [0, 1]; 0 turns it off
         * @param classes the class count K, 1 or more
         * @return this builder
         * @throws IllegalArgumentException if {@code epsilon} is NaN or outside [0, 1], or {@code classes} is below 1
         */
        public B labelSmoothing(double epsilon, int classes) {
            if (!(epsilon >= 0 && epsilon <= 1)) {
                throw new IllegalArgumentException("epsilon is " + epsilon + "; expected a value in [0, 1]");
            }
            if (classes < 1) {
                throw new IllegalArgumentException("classes is " + classes + "; expected 1 or more");
            }
            this.labelSmoothing = epsilon;
            this.smoothingClasses = classes;
            return self();
        }
    }
}
