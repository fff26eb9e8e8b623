package org.bce4j;

/**
 * What distinguishes the two losses below their options (which their builders write into the native options
 * directly): the native entry points and the positive-class weight. One object per loss, held by
 * {@link BinaryCrossEntropy}.
 */
abstract class LossKind {
    /** BCELoss, on probabilities. */
    static final LossKind PROBABILITIES = new Probabilities();

    /** BCEWithLogitsLoss with the given positive-class weight, or null for none. */
    static LossKind logits(WeightTensor posWeight) {
        return new Logits(posWeight);
    }

    /** Sets the weights of this kind in {@code options}, for {@code dtype}, in {@code owner}'s memory. */
    abstract void setOptions(NativeLibrary.Options options, DType dtype, NativeOptions owner);

    /** {@code bce4j_check_options} for this kind. */
    abstract int checkOptions(long options);

    /** {@return 1 for the logits loss, 0 for BCELoss: {@code bce4j_prepare}'s {@code logits} argument} */
    abstract int logitsFlag();

    /** The element count of a gradPosWeight output; -1 where the loss has no positive-class weight at all. */
    abstract long posWeightGradientCount();

    /** Whether the loss holds a positive-class weight (in host memory). */
    abstract boolean hasPosWeight();

    /** The shape of a gradPosWeight output ({@code []} without a posWeight); null where the loss has none at all. */
    abstract long[] posWeightGradientShape();

    /** The CPU entry point, or the CUDA one on host memory. */
    abstract int compute(boolean onCuda, long options, int dtype, int ndim, long shape, long input, long target,
            long gradOutput, long loss, long reducedLoss, long gradInput, long gradTarget);

    /** The CUDA entry point on device memory. */
    abstract int computeOnCuda(long options, int dtype, int ndim, long shape, long input, long target,
            long gradOutput, long loss, long reducedLoss, long gradInput, long gradTarget, long stream);

    private static final class Logits extends LossKind {
        private final WeightTensor posWeight; // null: none

        Logits(WeightTensor posWeight) {
            this.posWeight = posWeight;
        }

        @Override
        void setOptions(NativeLibrary.Options nativeOptions, DType dtype, NativeOptions owner) {
            if (posWeight != null) {
                nativeOptions.pos_weight(owner.own(posWeight.toNative(dtype))).pos_weight_ndim(posWeight.shape.length)
                        .pos_weight_shape(owner.shapeOf(posWeight));
            }
        }

        @Override
        int checkOptions(long options) {
            return NativeLibrary.bce4j_check_options(options, 1);
        }

        @Override
        int logitsFlag() {
            return 1;
        }

        @Override
        long posWeightGradientCount() {
            return posWeight == null ? 1 : posWeight.values.length;
        }

        @Override
        boolean hasPosWeight() {
            return posWeight != null;
        }

        @Override
        long[] posWeightGradientShape() {
            return posWeight == null ? new long[0] : posWeight.shape.clone();
        }

        @Override
        int compute(boolean onCuda, long options, int dtype, int ndim, long shape, long input, long target,
                long gradOutput, long loss, long reducedLoss, long gradInput, long gradTarget) {
            return onCuda
                    ? NativeLibrary.bce4j_cuda_bce_with_logits_host(options, dtype, ndim, shape, input, target,
                            gradOutput, loss, reducedLoss, gradInput, gradTarget)
                    : NativeLibrary.bce4j_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput,
                            loss, reducedLoss, gradInput, gradTarget);
        }

        @Override
        int computeOnCuda(long options, int dtype, int ndim, long shape, long input, long target, long gradOutput,
                long loss, long reducedLoss, long gradInput, long gradTarget, long stream) {
            return NativeLibrary.bce4j_cuda_bce_with_logits(options, dtype, ndim, shape, input, target, gradOutput,
                    loss, reducedLoss, gradInput, gradTarget, stream);
        }
    }

    private static final class Probabilities extends LossKind {
        @Override
        void setOptions(NativeLibrary.Options options, DType dtype, NativeOptions owner) {}

        @Override
        int checkOptions(long options) {
            return NativeLibrary.bce4j_check_options(options, 0);
        }

        @Override
        int logitsFlag() {
            return 0;
        }

        @Override
        long posWeightGradientCount() {
            return -1;
        }

        @Override
        boolean hasPosWeight() {
            return false;
        }

        @Override
        long[] posWeightGradientShape() {
            return null;
        }

        @Override
        int compute(boolean onCuda, long options, int dtype, int ndim, long shape, long input, long target,
                long gradOutput, long loss, long reducedLoss, long gradInput, long gradTarget) {
            return onCuda
                    ? NativeLibrary.bce4j_cuda_bce_host(options, dtype, ndim, shape, input, target, gradOutput, loss,
                            reducedLoss, gradInput, gradTarget)
                    : NativeLibrary.bce4j_bce(options, dtype, ndim, shape, input, target, gradOutput, loss,
                            reducedLoss, gradInput, gradTarget);
        }

        @Override
        int computeOnCuda(long options, int dtype, int ndim, long shape, long input, long target, long gradOutput,
                long loss, long reducedLoss, long gradInput, long gradTarget, long stream) {
            return NativeLibrary.bce4j_cuda_bce(options, dtype, ndim, shape, input, target, gradOutput, loss,
                    reducedLoss, gradInput, gradTarget, stream);
        }
    }
}
