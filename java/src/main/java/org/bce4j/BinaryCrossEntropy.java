package org.bce4j;

import java.util.OptionalDouble;

/**
 * What both binary cross-entropy losses share: configuration (weight, reduction, threads, ignore index, label
 * smoothing), native resources, and the calls that compute the loss and its gradients in one native pass over
 * memory the caller owns.
 *
 * <h2>Calls</h2>
 * {@link #compute(Tensor, Tensor, Tensor, Outputs)} takes {@link Tensor} views of one element type:
 * <ul>
 *   <li>{@code input}, {@code target}: required; the target has as many elements as the input (its shape may
 *       differ; the input's shape is the call's);</li>
 *   <li>{@code gradOutput}: the upstream gradient, optional (null means 1): one element for every reduction but
 *       {@link Reduction#NONE}, the input's element count for {@code NONE};</li>
 *   <li>{@link Outputs}: where the loss, the gradients with respect to input and target, and the gradients with
 *       respect to the weights go, each optional except the loss for {@code NONE}.</li>
 * </ul>
 * The return value is the reduced loss in double precision (float32 data is summed in double), and NaN for
 * {@code NONE}. Outputs must not overlap inputs. 16-bit data (float16 or bfloat16, see {@link HalfPrecision}) is
 * computed in float32 and rounded once on output. A call with views and outputs made beforehand allocates nothing.
 * {@link #computeAt} takes raw addresses instead, and {@link #computeOnCuda} CUDA device memory.
 *
 * <p>Bad arguments throw {@link NullPointerException} (a required view is null) or
 * {@link IllegalArgumentException} (a view of another dtype or element count than the call needs, a read-only
 * output, a weight that does not broadcast to the input, an out-of-range probability, ...), each message naming
 * the argument; after a failed call the outputs' contents are undefined. A closed loss throws
 * {@link IllegalStateException}.
 *
 * <h2>Threads and closing</h2>
 * Instances are immutable, and any number of threads may call them at once (each with outputs of its own). They
 * hold native memory (their options and copies of their weights), so close them (try-with-resources) when done.
 * {@link #close()} may be called from any thread at any time, also while other threads' calls are running, and
 * any number of times: the first call marks the loss closed, so that every call that has not begun yet throws
 * {@link IllegalStateException}, then waits for the calls that are running to return, and frees the native memory;
 * every {@code close()} returns once it is freed. A call thus either runs to its end on memory that stays
 * allocated, or throws {@link IllegalStateException} without computing anything. A loss that is never closed is
 * freed once it is unreachable (by JavaCPP's deallocator, a phantom-reference cleaner), never during one of its
 * calls, which keep it reachable until they return.
 */
public abstract class BinaryCrossEntropy implements AutoCloseable {
    // The builder's scalar options, copied; the getters read them (also after close(), which does not free them).
    private final NativeLibrary.Options settings;
    private final Device device;
    private final LossCalls calls;
    private final LossKind kind;
    private final WeightTensor weight; // null: none

    /** A loss of {@code kind} configured by {@code builder}, whose options the native library has checked. */
    BinaryCrossEntropy(Builder<?> builder, LossKind kind) {
        NativeLoader.ensureLoaded(); // where the natives cannot load, the error that says why, every time
        this.settings = builder.options.collectableCopy();
        this.device = builder.device;
        this.kind = kind;
        this.weight = builder.weight;
        if (device == Device.CUDA) {
            CudaAvailability cuda = Bce4j.cuda();
            if (!cuda.available()) {
                throw new CudaUnavailableException("device CUDA was requested, but CUDA is " + cuda.description(),
                        cuda);
            }
        }
        NativeOptions options = new NativeOptions(settings, builder.weight, kind);
        this.calls = new LossCalls(kind, options, reduction(), device == Device.CUDA,
                builder.weight == null ? null : builder.weight.shape, getClass().getSimpleName());
    }

    /** {@return the reduction this loss applies} */
    public Reduction reduction() {
        return Reduction.ofCode(settings.reduction());
    }

    /** The scalar options as the builder set them (no weights). */
    NativeLibrary.Options settings() {
        return settings;
    }

    /**
     * {@return the target value whose elements this loss ignores, if {@link Builder#ignoreIndex(double)} set
     * one; empty otherwise}
     */
    public OptionalDouble ignoreIndex() {
        return settings.has_ignore_index() == 0 ? OptionalDouble.empty() : OptionalDouble.of(settings.ignore_index());
    }

    /** {@return the label smoothing epsilon, in [0, 1]; 0 (the default) means none} */
    public double labelSmoothing() {
        return settings.label_smoothing();
    }

    /**
     * {@return the class count K of the label smoothing (targets become {@code y*(1-E) + E/K}), 1 or more; 2 by
     * default}
     */
    public int smoothingClasses() {
        return settings.smoothing_classes();
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
        return settings.num_threads();
    }

    /**
     * The reduced loss of {@code input} against {@code target}, writing nothing; see
     * {@link #compute(Tensor, Tensor, Tensor, Outputs)}.
     *
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss})
     * @param target the targets, as many as the input has elements, of the input's dtype
     * @return the reduced loss in double precision
     * @throws NullPointerException if an argument is null, or the reduction is {@link Reduction#NONE} (which needs
     *     a loss output)
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or CUDA fails ({@link CudaUnavailableException} where
     *     it is unavailable)
     */
    public double compute(Tensor input, Tensor target) {
        return compute(input, target, null, null);
    }

    /**
     * Loss and gradients with upstream gradient 1; see {@link #compute(Tensor, Tensor, Tensor, Outputs)}.
     *
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss})
     * @param target the targets, as many as the input has elements, of the input's dtype
     * @param outputs where the outputs go; null for none
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code input} or {@code target} is null, or the loss output is null with
     *     {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or CUDA fails ({@link CudaUnavailableException} where
     *     it is unavailable)
     */
    public double compute(Tensor input, Tensor target, Outputs outputs) {
        return compute(input, target, null, outputs);
    }

    /**
     * Loss and gradients in one native pass. The input's shape is the call's; the weights broadcast to it. See the
     * class description.
     *
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss})
     * @param target the targets, as many as the input has elements, of the input's dtype
     * @param gradOutput the upstream gradient: one element, or the input's element count for
     *     {@link Reduction#NONE}; null means 1
     * @param outputs where the outputs go (the element counts each needs are listed in {@link Outputs}); null for
     *     none
     * @return the reduced loss in double precision, or NaN for {@link Reduction#NONE}
     * @throws NullPointerException if {@code input} or {@code target} is null, or the loss output is null with
     *     {@link Reduction#NONE}
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed, or CUDA fails ({@link CudaUnavailableException} where
     *     it is unavailable)
     */
    public double compute(Tensor input, Tensor target, Tensor gradOutput, Outputs outputs) {
        return calls.compute(input, target, gradOutput, outputs);
    }

    /**
     * The partial loss of {@code input} against {@code target}, for merging with others (see {@link Partial}): this
     * loss' options apply (weight, posWeight, ignore index, label smoothing, focal terms, threads) except its
     * reduction, which {@link Partial#finish(Reduction)} takes instead. Computed on the CPU, also for a loss built
     * for {@link Device#CUDA}. {@link PreparedCall} has no partials.
     *
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss})
     * @param target the targets, as many as the input has elements, of the input's dtype
     * @return the partial of the call's elements
     * @throws NullPointerException if {@code input} or {@code target} is null
     * @throws IllegalArgumentException if an argument is invalid, as the class description lists
     * @throws IllegalStateException if this loss is closed
     */
    public Partial partial(Tensor input, Tensor target) {
        return calls.partial(input, target, null);
    }

    /**
     * As {@link #partial(Tensor, Tensor)}, with {@code weight} instead of this loss' weight for this call (e.g. a
     * weight per row of a batch): it broadcasts to the input's shape as the loss' weight does, and has the input's
     * dtype.
     *
     * @param input the logits ({@link BCEWithLogitsLoss}) or probabilities ({@link BCELoss})
     * @param target the targets, as many as the input has elements, of the input's dtype
     * @param weight the weight of this call, broadcast to the input's shape
     * @return the partial of the call's elements
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if an argument is invalid (a weight of another dtype, or one that does not
     *     broadcast to the input), as the class description lists
     * @throws IllegalStateException if this loss is closed
     */
    public Partial partial(Tensor input, Tensor target, Tensor weight) {
        Checks.notNull(weight, "weight");
        return calls.partial(input, target, weight);
    }

    /** The shape of a gradWeight output: the weight's, {@code []} without one. */
    long[] weightGradientShape() {
        return calls.weightGradientShape();
    }

    /** The shape of a gradPosWeight output, {@code []} without a posWeight; null for BCELoss, which has none. */
    long[] posWeightGradientShape() {
        return calls.posWeightGradientShape();
    }

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
     *     {@code input}, {@code target} or (with {@link Reduction#NONE}) {@code loss} is 0 (the message is the
     *     native library's for input and target)
     * @throws IllegalArgumentException if the shape or another argument the native library checks is invalid (a
     *     weight that does not broadcast, a probability outside [0, 1], ...)
     * @throws IllegalStateException if this loss is closed, or it computes on {@link Device#CUDA} and CUDA fails
     */
    public double computeAt(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget) {
        return calls.computeAt(dtype, shape, input, target, gradOutput, loss, gradInput, gradTarget);
    }

    /**
     * Prepares this loss for calls on one dtype and shape: the checks, the broadcast plan, the kernels and the thread
     * count are settled once, so that each {@link PreparedCall#run run} only passes its memory (see
     * {@link PreparedCall}). The prepared call copies what it needs (the options and the weights), so it stays
     * usable after this loss is closed; close it when done.
     *
     * @param dtype the element type of every tensor the runs take
     * @param shape the largest input shape, C order, at most 32 dimensions ({@code {}} is a scalar); runs may take
     *     fewer rows along dimension 0
     * @return a new prepared call
     * @throws NullPointerException if {@code dtype} or {@code shape} is null
     * @throws IllegalArgumentException if the native library rejects the shape (a negative dimension, too many
     *     elements, a weight that does not broadcast to it, ...)
     * @throws IllegalStateException if this loss is closed, or computes on {@link Device#CUDA} (prepared calls run
     *     on the CPU only)
     */
    public PreparedCall prepare(DType dtype, long... shape) {
        Checks.notNull(dtype, "dtype");
        Checks.notNull(shape, "shape");
        if (device == Device.CUDA) {
            throw new IllegalStateException("prepared calls run on the CPU only; this loss computes on CUDA");
        }
        return calls.whileOpen(() -> new PreparedCall(kind, settings, weight, reduction(), dtype, shape,
                calls.weightCount()));
    }

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
     *     {@code input}, {@code target} or (with {@link Reduction#NONE}) {@code loss} is 0 (the message is the
     *     native library's for input and target)
     * @throws IllegalArgumentException if the shape or another argument the native library checks is invalid
     * @throws CudaUnavailableException if CUDA cannot run here ({@link Bce4j#cuda()} says why)
     * @throws IllegalStateException if this loss is closed or has a weight or pos_weight, which it holds in host
     *     memory (use {@link Device#CUDA} with host buffers for those), or the CUDA runtime fails (e.g. an address
     *     that is not device memory)
     */
    public double computeOnCuda(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget, long stream) {
        return calls.computeOnCuda(dtype, shape, input, target, gradOutput, loss, gradInput, gradTarget, stream);
    }

    /**
     * Frees the native memory of this loss; calls that begin after this one began throw
     * {@link IllegalStateException}. Safe at any time and from any thread: it waits for the calls that are running
     * to return (uninterruptibly; an interrupt is kept for the caller), and frees the memory once however many
     * threads close the loss, each returning once it is freed.
     */
    @Override
    public void close() {
        calls.close();
    }

    /**
     * Configuration shared by both losses.
     *
     * @param <B> the concrete builder, returned by every setter
     */
    public abstract static class Builder<B extends Builder<B>> {
        // The scalar options, the native defaults until a setter writes them; build() copies them. A new one: its
        // setter here, its getter above (reading settings), its field's pair in NativeLibrary.Options.
        final NativeLibrary.Options options;
        Reduction reduction = Reduction.MEAN;
        // Null unless a legacy flag is given; then it wins over reduction, as in PyTorch's losses.
        Reduction legacyReduction;
        WeightTensor weight;
        Device device = Device.CPU;

        Builder() {
            NativeLoader.ensureLoaded(); // where the natives cannot load, the error that says why, every time
            this.options = NativeLibrary.Options.collectable();
        }

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
            options.reduction(effectiveReduction().code);
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
            options.reduction(effectiveReduction().code);
            return self();
        }

        Reduction effectiveReduction() {
            return legacyReduction != null ? legacyReduction : reduction;
        }

        /**
         * OpenMP threads per call, 0 to 1024 (checked by {@code build()}); 0 (the default) uses
         * {@link Bce4j#defaultNumThreads()}. Inputs under 32768 elements always run on the calling thread, and a call
         * never uses more threads than it has 8192-element blocks.
         *
         * @param numThreads the thread count, 0 to 1024
         * @return this builder
         */
        public B numThreads(int numThreads) {
            options.num_threads(numThreads);
            return self();
        }

        /**
         * Where the loss computes: {@link Device#CPU} (the default) or {@link Device#CUDA}, which takes the same host
         * buffers, copies them to the calling thread's current CUDA device and the outputs back (worth it for large
         * inputs only). Building a CUDA loss throws {@link CudaUnavailableException} where CUDA cannot run. A CUDA
         * loss takes every dtype (16-bit ones computed in float and rounded, as on the CPU), and computes no weight
         * gradients yet.
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
         * @throws IllegalArgumentException if {@code shape} does not hold exactly {@code values.length} elements
         *     ({@code build()} checks the dimensions themselves)
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
         * @throws IllegalArgumentException if {@code shape} does not hold exactly {@code values.length} elements
         *     ({@code build()} checks the dimensions themselves)
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
         * @param value the target value to ignore (not NaN, which no target equals: rejected by {@code build()})
         * @return this builder
         */
        public B ignoreIndex(double value) {
            options.has_ignore_index(1).ignore_index(value);
            return self();
        }

        /**
         * Label smoothing in Keras' binary form: targets become {@code y*(1-epsilon) + epsilon/2} before the loss.
         * As {@link #labelSmoothing(double, int) labelSmoothing(epsilon, 2)}.
         *
         * @param epsilon the smoothing, in [0, 1] (checked by {@code build()}); 0 turns it off
         * @return this builder
         */
        public B labelSmoothing(double epsilon) {
            return labelSmoothing(epsilon, 2);
        }

        /**
         * Label smoothing over {@code classes} classes: targets become {@code y*(1-epsilon) + epsilon/classes}
         * before the loss (the class count gives timm's per-class form, 2 Keras' binary form). The target gradient
         * stays the gradient with respect to the given target {@code y}. Epsilon 0 (the default) turns it off.
         *
         * @param epsilon the smoothing, in [0, 1] (checked by {@code build()}); 0 turns it off
         * @param classes the class count K, 1 or more (checked by {@code build()})
         * @return this builder
         */
        public B labelSmoothing(double epsilon, int classes) {
            options.label_smoothing(epsilon).smoothing_classes(classes);
            return self();
        }
    }
}
