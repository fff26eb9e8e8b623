package org.bce4j;

/**
 * Binary cross-entropy on logits, as PyTorch's {@code BCEWithLogitsLoss(weight, pos_weight, reduction)}:
 * per element, with logit x, target y, weight w and positive-class weight p,
 * {@code l = w * ((1-y)*x + (1+(p-1)*y) * softplus(-x))}, computed without overflow for any finite x. The
 * gradients with respect to the input and the target come from the same pass. See {@link BinaryCrossEntropy} for
 * the calls.
 *
 * <pre>{@code
 * try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().posWeight(new float[] {2f}, 1).build()) {
 *     double mean = loss.compute(new long[] {n}, logits, labels, null, gradLogits, null);
 * }
 * }</pre>
 */
public final class BCEWithLogitsLoss extends BinaryCrossEntropy {

    /** A loss with the given reduction, no weights and the default thread count. */
    public BCEWithLogitsLoss(Reduction reduction) {
        this(builder().reduction(reduction));
    }

    private final PosWeightMode posWeightMode;
    private final boolean validatesTargets;

    private BCEWithLogitsLoss(Builder builder) {
        super(true, builder, new LogitsOptions(builder.posWeight, builder.posWeightMode, builder.validateTargets));
        this.posWeightMode = builder.posWeightMode;
        this.validatesTargets = builder.validateTargets;
    }

    /** Whether a target outside [0, 1] is an error ({@link Builder#validateTargets(boolean)}). */
    public boolean validatesTargets() {
        return validatesTargets;
    }

    /** How the positive-class weight is applied; {@link PosWeightMode#TORCH} unless the builder chose otherwise. */
    public PosWeightMode posWeightMode() {
        return posWeightMode;
    }

    /** A builder with reduction {@link Reduction#MEAN}, no weights and the default thread count. */
    public static Builder builder() {
        return new Builder();
    }

    /** Configures a {@link BCEWithLogitsLoss}. */
    public static final class Builder extends BinaryCrossEntropy.Builder<Builder> {
        private WeightTensor posWeight;
        private PosWeightMode posWeightMode = PosWeightMode.TORCH;
        private boolean validateTargets;

        private Builder() {}

        @Override
        Builder self() {
            return this;
        }

        /**
         * The weight of positive examples, of a shape that must broadcast to the input's (typically {@code [C]},
         * one per class). The values are copied.
         */
        public Builder posWeight(float[] values, long... shape) {
            this.posWeight = WeightTensor.of(values, shape, "posWeight");
            return this;
        }

        /** As {@link #posWeight(float[], long...)}, from double values (rounded to float for float32 calls). */
        public Builder posWeight(double[] values, long... shape) {
            this.posWeight = WeightTensor.of(values, shape, "posWeight");
            return this;
        }

        /**
         * How the positive-class weight is applied: {@link PosWeightMode#TORCH} (the default, PyTorch) or
         * {@link PosWeightMode#PADDLE_LEGACY} (Paddle up to 2.5, which scales the whole loss). The legacy mode runs
         * on the scalar kernels for now.
         */
        public Builder posWeightMode(PosWeightMode mode) {
            this.posWeightMode = java.util.Objects.requireNonNull(mode, "posWeightMode");
            return this;
        }

        /**
         * Whether a target outside [0, 1] (other than an ignored one, see {@link #ignoreIndex(double)}) makes a call
         * throw {@link IllegalArgumentException} naming its index, checked in the same pass; off by default, as in
         * PyTorch. BCELoss always checks its inputs and targets.
         */
        public Builder validateTargets(boolean validate) {
            this.validateTargets = validate;
            return this;
        }

        /** A new loss; close it when done. */
        public BCEWithLogitsLoss build() {
            return new BCEWithLogitsLoss(this);
        }
    }
}
