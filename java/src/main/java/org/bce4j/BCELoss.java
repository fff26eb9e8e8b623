package org.bce4j;

/**
 * Binary cross-entropy on probabilities, as PyTorch's {@code BCELoss(weight, reduction)}: per element
 * {@code l = -w * (y*max(log x, -100) + (1-y)*max(log(1-x), -100))}. Inputs and targets must lie in [0, 1]
 * (checked in the same pass; the exception names the first offending element); NaN propagates.
 *
 * <p>The input gradient is {@code w*(x-y)/max(x*(1-x), 1e-12)} as in libtorch; the target gradient is the
 * derivative of the clamped loss, {@code w*(max(log(1-x),-100) - max(log x,-100))}, finite where libtorch's
 * {@code -logit(x)} is infinite. Prefer {@link BCEWithLogitsLoss} on logits: it is exact where this one clamps.
 * See {@link BinaryCrossEntropy} for the calls.
 */
public final class BCELoss extends BinaryCrossEntropy {

    /**
     * A loss with the given reduction, no weight and the default thread count; close it when done.
     *
     * @param reduction how the per-element losses are reduced
     * @throws NullPointerException if {@code reduction} is null
     */
    public BCELoss(Reduction reduction) {
        this(builder().reduction(reduction));
    }

    private BCELoss(Builder builder) {
        super(builder, LossKind.PROBABILITIES);
    }

    /** {@return a new builder with reduction {@link Reduction#MEAN}, no weight and the default thread count} */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link BCELoss}. */
    public static final class Builder extends BinaryCrossEntropy.Builder<Builder> {
        private Builder() {}

        @Override
        Builder self() {
            return this;
        }

        /**
         * Builds a loss from this builder's settings; the builder can be reused.
         *
         * @return a new loss, which holds native memory until closed
         * @throws IllegalArgumentException with the native library's message if it rejects an option (a value out
         *     of range, a weight shape with a negative dimension or more than 32)
         * @throws CudaUnavailableException if the device is {@link Device#CUDA} and CUDA cannot run here
         */
        public BCELoss build() {
            return new BCELoss(this);
        }
    }
}
