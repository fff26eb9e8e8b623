package org.bce4j;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.ShortPointer;

/**
 * Weight-gradient calls for the tests, through Outputs.gradWeight/gradPosWeight: views of the given memory, gradient
 * outputs of the loss' own weight shapes, and the results read back as doubles.
 */
final class WeightGradientCalls {
    private WeightGradientCalls() {}

    /** What one call returned and wrote into its weight-gradient outputs. */
    record Gradients(double reducedLoss, double[] weight, long[] weightShape, double[] posWeight,
            long[] posWeightShape) {
        boolean hasPosWeight() {
            return posWeight != null;
        }
    }

    /** A call on views of copies of float64 arrays; the loss, gradInput and gradTarget arrays (null: none) are written. */
    static Gradients compute(BinaryCrossEntropy bce, long[] shape, double[] x, double[] y, double[] gradOutput,
            double[] loss, double[] gradInput, double[] gradTarget) {
        return onArrays(bce, shape, x, y, gradOutput, loss, gradInput, gradTarget,
                (tx, ty, tg, outputs) -> compute(bce, tx, ty, tg, outputs));
    }

    /** As {@link #compute(BinaryCrossEntropy, long[], double[], double[], double[], double[], double[], double[])},
     *  without weight-gradient outputs; returns the reduced loss. */
    static double plain(BinaryCrossEntropy bce, long[] shape, double[] x, double[] y, double[] gradOutput,
            double[] loss, double[] gradInput, double[] gradTarget) {
        return onArrays(bce, shape, x, y, gradOutput, loss, gradInput, gradTarget, bce::compute);
    }

    /** One call on float64 views of the arrays, with outputs. */
    private interface ViewCall<R> {
        R run(Tensor x, Tensor y, Tensor gradOutput, Outputs outputs);
    }

    /** Runs {@code call} on views of copies of the arrays and writes its outputs into those given (null: none). */
    private static <R> R onArrays(BinaryCrossEntropy bce, long[] shape, double[] x, double[] y, double[] gradOutput,
            double[] loss, double[] gradInput, double[] gradTarget, ViewCall<R> call) {
        long[] resultShape = bce.reduction() == Reduction.NONE ? shape : new long[0];
        Outputs outputs = new Outputs();
        outputs.loss(loss == null ? null : Tensor.allocate(DType.FLOAT64, resultShape));
        outputs.gradInput(gradInput == null ? null : Tensor.allocate(DType.FLOAT64, shape));
        outputs.gradTarget(gradTarget == null ? null : Tensor.allocate(DType.FLOAT64, shape));
        R result = call.run(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                gradOutput == null ? null : Tensor.copyOf(gradOutput, resultShape), outputs);
        copy(outputs.loss(), loss);
        copy(outputs.gradInput(), gradInput);
        copy(outputs.gradTarget(), gradTarget);
        return result;
    }

    static Gradients compute(BinaryCrossEntropy bce, long[] shape, float[] x, float[] y) {
        return compute(bce, Tensor.copyOf(x, shape), Tensor.copyOf(y, shape), null, new Outputs());
    }

    static Gradients compute(BinaryCrossEntropy bce, long[] shape, FloatPointer x, FloatPointer y) {
        return compute(bce, Tensor.of(x, shape), Tensor.of(y, shape), null, new Outputs());
    }

    static Gradients compute(BinaryCrossEntropy bce, long[] shape, FloatBuffer x, FloatBuffer y) {
        return compute(bce, Tensor.of(x, shape), Tensor.of(y, shape), null, new Outputs());
    }

    static Gradients compute(BinaryCrossEntropy bce, long[] shape, DoubleBuffer x, DoubleBuffer y) {
        return compute(bce, Tensor.of(x, shape), Tensor.of(y, shape), null, new Outputs());
    }

    static Gradients compute(BinaryCrossEntropy bce, DType dtype, long[] shape, ShortPointer x, ShortPointer y) {
        return compute(bce, Tensor.of(dtype, x, shape), Tensor.of(dtype, y, shape), null, new Outputs());
    }

    static Gradients compute(BinaryCrossEntropy bce, DType dtype, long[] shape, ShortBuffer x, ShortBuffer y) {
        return compute(bce, Tensor.of(dtype, x, shape), Tensor.of(dtype, y, shape), null, new Outputs());
    }

    /** Adds weight-gradient outputs of the input's dtype to {@code outputs}, runs the call, and reads them back. */
    static Gradients compute(BinaryCrossEntropy bce, Tensor x, Tensor y, Tensor gradOutput, Outputs outputs) {
        long[] weightShape = bce.weightGradientShape();
        long[] posWeightShape = bce.posWeightGradientShape();
        Tensor gradWeight = Tensor.allocate(x.dtype(), weightShape);
        Tensor gradPosWeight = posWeightShape == null ? null : Tensor.allocate(x.dtype(), posWeightShape);
        double reduced = bce.compute(x, y, gradOutput, outputs.gradWeight(gradWeight).gradPosWeight(gradPosWeight));
        return new Gradients(reduced, gradWeight.toDoubleArray(), weightShape,
                gradPosWeight == null ? null : gradPosWeight.toDoubleArray(), posWeightShape);
    }

    private static void copy(Tensor from, double[] to) {
        if (to != null) {
            System.arraycopy(from.toDoubleArray(), 0, to, 0, to.length);
        }
    }
}
