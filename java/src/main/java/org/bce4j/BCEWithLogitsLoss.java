package org.bce4j;

import java.util.OptionalDouble;

/**
 * Binary cross-entropy on logits, as PyTorch's {@code BCEWithLogitsLoss(weight, pos_weight, reduction)}:
 * per element, with logit x, target y, weight w and positive-class weight p,
 * {@code l = w * ((1-y)*x + (1+(p-1)*y) * softplus(-x))}, computed without overflow for any finite x. The
 * gradients with respect to the input and the target come from the same pass. See {@link BinaryCrossEntropy} for
 * the calls.
 *
 * <p>With {@link Builder#focal(double, double)} it is torchvision's sigmoid focal loss instead:
 * {@code l = alpha_t * (1-p_t)^gamma * bce}, where bce is the element loss above,
 * {@code p_t = sigmoid(x)*y + sigmoid(-x)*(1-y)} and {@code alpha_t = alpha*y + (1-alpha)*(1-y)} (1 without alpha).
 *
 * <pre>{@code
 * try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().posWeight(new float[] {2f}, 1).build()) {
 *     Tensor x = Tensor.copyOf(new float[] {5, 1, 3}, 3), y = Tensor.copyOf(new float[] {1, 0, 1}, 3);
 *     Tensor gradX = Tensor.allocate(DType.FLOAT32, 3);
 *     double mean = loss.compute(x, y, new Outputs().gradInput(gradX));
 *     float[] grad = gradX.toFloatArray();
 * }
 * }</pre>
 */
public final class BCEWithLogitsLoss extends BinaryCrossEntropy {

    /**
     * A loss with the given reduction, no weights and the default thread count; close it when done.
     *
     * @param reduction how the per-element losses are reduced
     * @throws NullPointerException if {@code reduction} is null
     */
    public BCEWithLogitsLoss(Reduction reduction) {
        this(builder().reduction(reduction));
    }

    private BCEWithLogitsLoss(Builder builder) {
        super(builder, LossKind.logits(builder.posWeight));
    }

    /**
     * {@return the focal loss' gamma, if {@link Builder#focal(double)} or {@link Builder#focal(double, double)} set
     * one; empty without focal loss}
     */
    public OptionalDouble focalGamma() {
        return settings().has_focal() == 0 ? OptionalDouble.empty() : OptionalDouble.of(settings().focal_gamma());
    }

    /**
     * {@return the focal loss' alpha, if {@link Builder#focal(double, double)} set one in [0, 1]; empty without focal
     * loss or without alpha}
     */
    public OptionalDouble focalAlpha() {
        double alpha = settings().focal_alpha();
        return settings().has_focal() == 0 || alpha < 0 ? OptionalDouble.empty() : OptionalDouble.of(alpha);
    }

    /** {@return whether a target outside [0, 1] is an error ({@link Builder#validateTargets(boolean)})} */
    public boolean validatesTargets() {
        return settings().validate_targets() != 0;
    }

    /**
     * {@return how the positive-class weight is applied; {@link PosWeightMode#TORCH} unless the builder chose
     * otherwise}
     */
    public PosWeightMode posWeightMode() {
        return PosWeightMode.ofCode(settings().pos_weight_mode());
    }

    /** {@return a new builder with reduction {@link Reduction#MEAN}, no weights and the default thread count} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Configures a {@link BCEWithLogitsLoss}. (A new logits-only scalar option is a setter here that writes its
     * field in {@code options}, and a getter above that reads it from {@code settings()}.)
     */
    public static final class Builder extends BinaryCrossEntropy.Builder<Builder> {
        private WeightTensor posWeight;

        private Builder() {}

        @Override
        Builder self() {
            return this;
        }

        /**
         * The weight of positive examples, of a shape that must broadcast to the input's (typically {@code [C]},
         * one per class). The values are copied.
         *
         * @param values the positive-class weights in C order, as many as {@code shape} holds
         * @param shape the positive-class weight's shape, at most 32 dimensions ({@code {}} or none for a scalar)
         * @return this builder
         * @throws NullPointerException if {@code values} or {@code shape} is null
         * @throws IllegalArgumentException if {@code shape} does not hold exactly {@code values.length} elements
         *     ({@code build()} checks the dimensions themselves)
         */
        public Builder posWeight(float[] values, long... shape) {
            this.posWeight = WeightTensor.of(values, shape, "posWeight");
            return this;
        }

        /**
         * As {@link #posWeight(float[], long...)}, from double values (rounded once to the call's type for float32,
         * float16 and bfloat16 calls).
         *
         * @param values the positive-class weights in C order, as many as {@code shape} holds
         * @param shape the positive-class weight's shape, at most 32 dimensions ({@code {}} or none for a scalar)
         * @return this builder
         * @throws NullPointerException if {@code values} or {@code shape} is null
         * @throws IllegalArgumentException if {@code shape} does not hold exactly {@code values.length} elements
         *     ({@code build()} checks the dimensions themselves)
         */
        public Builder posWeight(double[] values, long... shape) {
            this.posWeight = WeightTensor.of(values, shape, "posWeight");
            return this;
        }

        /**
         * How the positive-class weight is applied: {@link PosWeightMode#TORCH} (the default, PyTorch) or
         * {@link PosWeightMode#PADDLE_LEGACY} (Paddle up to 2.5, which scales the whole loss). Both run on the same
         * SIMD kernels, at about the same speed.
         *
         * @param mode how to apply the positive-class weight
         * @return this builder
         * @throws NullPointerException if {@code mode} is null
         */
        public Builder posWeightMode(PosWeightMode mode) {
            options.pos_weight_mode(java.util.Objects.requireNonNull(mode, "posWeightMode").code);
            return this;
        }

        /**
         * Whether a target outside [0, 1] (other than an ignored one, see {@link #ignoreIndex(double)}) makes a call
         * throw {@link IllegalArgumentException} naming its index, checked in the same pass; off by default, as in
         * PyTorch. BCELoss always checks its inputs and targets.
         *
         * @param validate true to reject targets outside [0, 1]
         * @return this builder
         */
        public Builder validateTargets(boolean validate) {
            options.validate_targets(validate ? 1 : 0);
            return this;
        }

        /**
         * Sigmoid focal loss (torchvision's {@code sigmoid_focal_loss}) with the given gamma and no alpha
         * ({@code alpha_t = 1}); see {@link #focal(double, double)}.
         *
         * @param gamma the focusing parameter: finite, 0 or more (checked by {@link #build()})
         * @return this builder
         */
        public Builder focal(double gamma) {
            return focal(gamma, -1);
        }

        /**
         * Sigmoid focal loss (torchvision's {@code sigmoid_focal_loss}, whose defaults are gamma 2 and alpha 0.25):
         * each element's loss (weighted, with the positive-class weight and label smoothing as configured) is
         * multiplied by {@code alpha_t * (1-p_t)^gamma}, with {@code p_t = sigmoid(x)*y + sigmoid(-x)*(1-y)} and
         * {@code alpha_t = alpha*y + (1-alpha)*(1-y)}. Gamma 0 without alpha is the plain loss. Computed in log space,
         * so any finite logit gives finite values.
         *
         * @param gamma the focusing parameter: finite, 0 or more (checked by {@link #build()})
         * @param alpha the weight of positive examples in [0, 1] (above 1 or NaN is rejected by {@link #build()}); a
         *     negative alpha means none ({@code alpha_t = 1})
         * @return this builder
         */
        public Builder focal(double gamma, double alpha) {
            options.has_focal(1).focal_gamma(gamma).focal_alpha(alpha < 0 ? -1 : alpha + 0.0); // + 0.0: -0.0 is 0
            return this;
        }

        /**
         * Builds a loss from this builder's settings; the builder can be reused.
         *
         * @return a new loss, which holds native memory until closed
         * @throws IllegalArgumentException with the native library's message if it rejects an option (a value out
         *     of range, a weight or posWeight shape with a negative dimension or more than 32)
         * @throws CudaUnavailableException if the device is {@link Device#CUDA} and CUDA cannot run here
         */
        public BCEWithLogitsLoss build() {
            return new BCEWithLogitsLoss(this);
        }
    }
}
