package org.bce4j;

import static org.bce4j.BceTestSupport.floatValues;
import static org.bce4j.BceTestSupport.labels;
import static org.bce4j.BceTestSupport.toFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntUnaryOperator;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * computeWeightGradients: the gradients with respect to weight and posWeight against central finite differences
 * of the result (reduced loss times the upstream gradient, or sum of gradOutput*loss for NONE) in float64, every
 * buffer kind, float32, thread safety and argument checks.
 */
class WeightGradientsTest {
    private static final long[] SHAPE = {4, 3};
    private static final int N = 12;
    private static final double[] X = floatValues(N, 11, -3, 3);
    private static final double[] Y = labels(N, 12);
    private static final double[] GRAD_OUTPUT_NONE = floatValues(N, 13, -1.5, 1.5);
    private static final double UPSTREAM = 0.75;

    /** Builds a loss with the given operands (null = absent). */
    @FunctionalInterface
    private interface LossFactory {
        BinaryCrossEntropy build(double[] weight, long[] weightShape, double[] posWeight, long[] posWeightShape);
    }

    private static LossFactory logits(Reduction reduction, boolean variants) {
        return (w, ws, p, ps) -> {
            BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(reduction);
            if (variants) {
                b.posWeightMode(PosWeightMode.PADDLE_LEGACY).focal(2, 0.25).labelSmoothing(0.1).ignoreIndex(0.0);
            }
            if (w != null) b.weight(w, ws);
            if (p != null) b.posWeight(p, ps);
            return b.build();
        };
    }

    private static LossFactory probabilities(Reduction reduction) {
        return (w, ws, p, ps) -> {
            BCELoss.Builder b = BCELoss.builder().reduction(reduction).labelSmoothing(0.2);
            if (w != null) b.weight(w, ws);
            return b.build();
        };
    }

    private static double[] gradOutput(Reduction reduction) {
        return reduction == Reduction.NONE ? GRAD_OUTPUT_NONE : new double[] {UPSTREAM};
    }

    /** What the call differentiates. */
    private static double result(BinaryCrossEntropy bce, double[] x) {
        Reduction r = bce.reduction();
        double[] g = gradOutput(r);
        double[] loss = new double[r == Reduction.NONE ? N : 1];
        double reduced = WeightGradientCalls.plain(bce, SHAPE, x, Y, g, loss, null, null);
        if (r != Reduction.NONE) return reduced * UPSTREAM;
        double sum = 0;
        for (int i = 0; i < N; i++) sum += g[i] * loss[i];
        return sum;
    }

    private static WeightGradientCalls.Gradients analytic(LossFactory factory, double[] x, double[] w, long[] ws,
            double[] p,
            long[] ps, Reduction reduction) {
        try (BinaryCrossEntropy bce = factory.build(w, ws, p, ps)) {
            double[] loss = new double[reduction == Reduction.NONE ? N : 1]; // required for NONE
            return WeightGradientCalls.compute(bce, SHAPE, x, Y, gradOutput(reduction), loss, null, null);
        }
    }

    /** Central differences of result() in each element of one operand; an absent one is probed as the scalar 1. */
    private static double[] finiteDifferences(LossFactory factory, double[] x, double[] w, long[] ws, double[] p,
            long[] ps, boolean posWeight) {
        double[] operand = (posWeight ? p : w) == null ? new double[] {1} : (posWeight ? p : w).clone();
        long[] operandShape = (posWeight ? p : w) == null ? new long[0] : (posWeight ? ps : ws);
        double[] fd = new double[operand.length];
        for (int j = 0; j < operand.length; j++) {
            double v = operand[j];
            double h = 1e-5 * Math.max(1, Math.abs(v));
            double[] up = operand.clone();
            up[j] = v + h;
            double[] down = operand.clone();
            down[j] = v - h;
            double resultUp;
            double resultDown;
            if (posWeight) {
                try (BinaryCrossEntropy a = factory.build(w, ws, up, operandShape);
                        BinaryCrossEntropy b = factory.build(w, ws, down, operandShape)) {
                    resultUp = result(a, x);
                    resultDown = result(b, x);
                }
            } else {
                try (BinaryCrossEntropy a = factory.build(up, operandShape, p, ps);
                        BinaryCrossEntropy b = factory.build(down, operandShape, p, ps)) {
                    resultUp = result(a, x);
                    resultDown = result(b, x);
                }
            }
            fd[j] = (resultUp - resultDown) / (2 * h);
        }
        return fd;
    }

    private static void assertMatchesFiniteDifferences(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 1e-6 * (1 + Math.abs(expected[j])), what + " element " + j);
        }
    }

    private static void checkAgainstFiniteDifferences(LossFactory factory, boolean onLogits, Reduction reduction,
            double[] x, double[] w, long[] ws, double[] p, long[] ps) {
        WeightGradientCalls.Gradients g = analytic(factory, x, w, ws, p, ps, reduction);
        assertArrayEquals(w == null ? new long[0] : ws, g.weightShape());
        assertMatchesFiniteDifferences(finiteDifferences(factory, x, w, ws, p, ps, false), g.weight(),
                reduction + " weight");
        assertEquals(onLogits, g.hasPosWeight());
        if (onLogits) {
            assertArrayEquals(p == null ? new long[0] : ps, g.posWeightShape());
            assertMatchesFiniteDifferences(finiteDifferences(factory, x, w, ws, p, ps, true), g.posWeight(),
                    reduction + " posWeight");
        }
    }

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void logitsPerClassWeightAndPerRowPosWeightMatchFiniteDifferences(Reduction reduction) {
        double[] w = {0.5, 0.0, 1.5};
        double[] p = {2.0, 0.5, 1.0, 3.0};
        for (boolean variants : new boolean[] {false, true}) {
            if (reduction == Reduction.MEAN_BY_NONZERO_WEIGHT) w = new double[] {0.5, 0.25, 1.5}; // count jumps at 0
            checkAgainstFiniteDifferences(logits(reduction, variants), true, reduction, X, w, new long[] {3}, p,
                    new long[] {4, 1});
        }
    }

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void absentOperandsAreImplicitScalars(Reduction reduction) {
        checkAgainstFiniteDifferences(logits(reduction, false), true, reduction, X, null, null, null, null);
        double[] probabilities = floatValues(N, 21, 0.05, 0.95);
        checkAgainstFiniteDifferences(probabilities(reduction), false, reduction, probabilities, null, null, null,
                null);
    }

    @ParameterizedTest
    @EnumSource(Reduction.class)
    void probabilitiesFullShapeWeightMatchesFiniteDifferences(Reduction reduction) {
        double[] probabilities = floatValues(N, 22, 0.05, 0.95);
        checkAgainstFiniteDifferences(probabilities(reduction), false, reduction, probabilities,
                floatValues(N, 23, 0.5, 2), SHAPE, null, null);
    }

    @Test
    void everyBufferKindGivesTheSameGradients() {
        float[] x = toFloats(X);
        float[] y = toFloats(Y);
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().weight(new float[] {0.5f, 1f, 2f}, 3)
                .posWeight(new float[] {3f}, 1).reduction(Reduction.SUM).build();
                PointerScope scope = new PointerScope()) {
            WeightGradientCalls.Gradients arrays = WeightGradientCalls.compute(bce, SHAPE, x, y);
            WeightGradientCalls.Gradients pointers = WeightGradientCalls.compute(bce, SHAPE, new FloatPointer(x),
                    new FloatPointer(y));
            FloatBuffer xb = BceTestSupport.directFloats(X);
            FloatBuffer yb = BceTestSupport.directFloats(Y);
            WeightGradientCalls.Gradients buffers = WeightGradientCalls.compute(bce, SHAPE, xb, yb);
            for (WeightGradientCalls.Gradients other : List.of(pointers, buffers)) {
                assertArrayEquals(arrays.weight(), other.weight());
                assertArrayEquals(arrays.posWeight(), other.posWeight());
                assertEquals(arrays.reducedLoss(), other.reducedLoss());
            }
            assertEquals(bce.compute(Tensor.copyOf(x, SHAPE), Tensor.copyOf(y, SHAPE)), arrays.reducedLoss());

            // float32 against float64 on the same values: one rounding apart where float32 is computed in double,
            // otherwise within float32 lanes' error of the terms' magnitude, then rounded.
            WeightGradientCalls.Gradients f64 = WeightGradientCalls.compute(bce, SHAPE, BceTestSupport.toDoubles(x),
                    BceTestSupport.toDoubles(y), null, null, null, null);
            DoubleBuffer xd = BceTestSupport.directDoubles(BceTestSupport.toDoubles(x));
            DoubleBuffer yd = BceTestSupport.directDoubles(BceTestSupport.toDoubles(y));
            assertArrayEquals(f64.weight(), WeightGradientCalls.compute(bce, SHAPE, xd, yd).weight());
            double[][] terms = termMagnitudes(BceTestSupport.toDoubles(x), BceTestSupport.toDoubles(y),
                    new double[] {0.5, 1, 2}, i -> i % 3, new double[] {3}, i -> 0, 1);
            for (int j = 0; j < 3; j++) {
                assertFloat32(f64.weight()[j], arrays.weight()[j], terms[0][j], "float32 weight element " + j);
            }
            assertFloat32(f64.posWeight()[0], arrays.posWeight()[0], terms[1][0], "float32 posWeight");
        }
    }

    /**
     * 16-bit storage: the gradients are the float64 gradients of the same (widened) values rounded once where the
     * terms are computed in double (the scalar kernels), otherwise within float32 lanes' error of the terms' magnitude,
     * then rounded.
     */
    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void sixteenBitGradientsMatchFloat64(DType dtype) {
        short[] x = new short[N];
        short[] y = new short[N];
        double[] xw = new double[N];
        double[] yw = new double[N];
        for (int i = 0; i < N; i++) {
            x[i] = HalfPrecision.fromDouble(dtype, X[i]);
            y[i] = HalfPrecision.fromDouble(dtype, Y[i]);
            xw[i] = HalfPrecision.toFloat(dtype, x[i]);
            yw[i] = HalfPrecision.toFloat(dtype, y[i]);
        }
        // Weights held exactly by both 16-bit formats, so that both calls see the same values.
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().weight(new double[] {0.5, 1, 2}, 3)
                .posWeight(new double[] {3, 0.25, 1.5, 2}, 4, 1).reduction(Reduction.MEAN).build();
                PointerScope scope = new PointerScope()) {
            WeightGradientCalls.Gradients reference = WeightGradientCalls.compute(bce, SHAPE, xw, yw, null, null, null,
                    null);
            WeightGradientCalls.Gradients pointers = WeightGradientCalls.compute(bce, dtype, SHAPE, new ShortPointer(x),
                    new ShortPointer(y));
            ShortBuffer xb = directShorts(x);
            ShortBuffer yb = directShorts(y);
            WeightGradientCalls.Gradients buffers = WeightGradientCalls.compute(bce, dtype, SHAPE, xb, yb);
            double[][] terms = termMagnitudes(xw, yw, new double[] {0.5, 1, 2}, i -> i % 3,
                    new double[] {3, 0.25, 1.5, 2}, i -> i / 3, 1.0 / N);
            for (WeightGradientCalls.Gradients g : List.of(pointers, buffers)) {
                for (int j = 0; j < 3; j++) {
                    assertRounded(dtype, reference.weight()[j], g.weight()[j], terms[0][j], dtype + " weight " + j);
                }
                for (int j = 0; j < 4; j++) {
                    assertRounded(dtype, reference.posWeight()[j], g.posWeight()[j], terms[1][j],
                            dtype + " posWeight " + j);
                }
            }
            assertThrows(IllegalArgumentException.class, () -> WeightGradientCalls.compute(bce, DType.FLOAT32, SHAPE,
                    new ShortPointer(x), new ShortPointer(y)));
        }
    }

    private static double rounded(DType dtype, double v) {
        return HalfPrecision.toFloat(dtype, HalfPrecision.fromDouble(dtype, v));
    }

    /**
     * The magnitudes of the terms that make up each element of grad_weight ([0]) and grad_pos_weight ([1]) of a
     * torch-mode logits call without focal loss, label smoothing or ignore index, as the C++ suite's term_magnitudes.h
     * counts them: per input element, the loss at weight 1 has the parts (x < 0 ? p y : 1 - y)|x| and (1 + (p - 1) y)
     * log1p(e^-|x|), and its derivative in p the parts w y (x < 0 ? |x| : 0) and w y log1p(e^-|x|), the logarithm
     * carrying the exponential's error (relative 1 + |x|); summed over each operand element's inputs, times |scale|.
     */
    private static double[][] termMagnitudes(double[] x, double[] y, double[] w, IntUnaryOperator weightIndex,
            double[] p, IntUnaryOperator posWeightIndex, double scale) {
        double[][] m = {new double[w.length], new double[p.length]};
        for (int i = 0; i < x.length; i++) {
            double wi = w[weightIndex.applyAsInt(i)];
            double pi = p[posWeightIndex.applyAsInt(i)];
            double magnitude = Math.abs(x[i]);
            double log = Math.log1p(Math.exp(-magnitude)) * (1 + magnitude);
            boolean negative = x[i] < 0;
            m[0][weightIndex.applyAsInt(i)] += (negative ? pi * y[i] : 1 - y[i]) * magnitude
                    + (1 + Math.abs(pi - 1) * y[i]) * log;
            m[1][posWeightIndex.applyAsInt(i)] += Math.abs(wi) * y[i] * ((negative ? magnitude : 0) + log);
        }
        for (double[] v : m) {
            for (int j = 0; j < v.length; j++) v[j] *= Math.abs(scale);
        }
        return m;
    }

    /** A float32 gradient against the float64 one: see everyBufferKindGivesTheSameGradients. */
    private static void assertFloat32(double want, double got, double terms, String what) {
        if (BceTestSupport.FLOAT32_ROUNDED_ONCE) {
            assertEquals((double) (float) want, got, what);
            return;
        }
        double slack = BceTestSupport.LANES32 * Math.max(Math.abs(want), terms);
        double bound = Math.ulp((float) (Math.abs(want) + slack)) / 2 + slack;
        assertTrue(Math.abs(got - want) <= bound, what + ": got " + got + ", want " + want + ", bound " + bound);
    }

    /** A 16-bit gradient against the float64 one: see sixteenBitGradientsMatchFloat64. */
    private static void assertRounded(DType dtype, double want, double got, double terms, String what) {
        if (BceTestSupport.FLOAT32_ROUNDED_ONCE) {
            assertEquals(rounded(dtype, want), got, what);
        } else {
            BceTestSupport.assertRounded16(dtype, want, got, terms, what);
        }
    }

    private static ShortBuffer directShorts(short[] values) {
        ShortBuffer b = java.nio.ByteBuffer.allocateDirect(values.length * Short.BYTES)
                .order(java.nio.ByteOrder.nativeOrder()).asShortBuffer();
        b.put(values).flip();
        return b;
    }

    @Test
    void outputsOfTheCallAreStillWritten() {
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).build()) {
            double[] loss = new double[N];
            double[] gradInput = new double[N];
            double[] expectedLoss = new double[N];
            double[] expectedGradInput = new double[N];
            WeightGradientCalls.plain(bce, SHAPE, X, Y, GRAD_OUTPUT_NONE, expectedLoss, expectedGradInput, null);
            WeightGradientCalls.Gradients g = WeightGradientCalls.compute(bce, SHAPE, X, Y, GRAD_OUTPUT_NONE, loss,
                    gradInput, null);
            assertArrayEquals(expectedLoss, loss);
            assertArrayEquals(expectedGradInput, gradInput);
            assertTrue(Double.isNaN(g.reducedLoss()));
        }
    }

    @Test
    void bceLossHasNoPosWeightGradient() {
        try (BCELoss bce = BCELoss.builder().weight(new double[] {1, 2, 3}, 3).build()) {
            double[] x = floatValues(N, 31, 0.1, 0.9);
            WeightGradientCalls.Gradients g = WeightGradientCalls.compute(bce, SHAPE, x, Y, null, null, null, null);
            assertFalse(g.hasPosWeight());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> bce.compute(Tensor.copyOf(x, SHAPE), Tensor.copyOf(Y, SHAPE),
                            new Outputs().gradPosWeight(Tensor.allocate(DType.FLOAT64))));
            assertEquals("options.grad_pos_weight applies to the logits loss only, not to BCELoss (it has no "
                    + "pos_weight)", e.getMessage());
        }
    }

    @Test
    void reusedOutputsAreOverwrittenEachCall() {
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().weight(new double[] {1, 2, 3}, 3).build()) {
            Tensor x = Tensor.copyOf(X, SHAPE);
            Tensor y = Tensor.copyOf(Y, SHAPE);
            Tensor gradWeight = Tensor.allocate(DType.FLOAT64, 3);
            Outputs outputs = new Outputs().gradWeight(gradWeight);
            bce.compute(x, y, outputs);
            double[] first = gradWeight.toDoubleArray();
            bce.compute(x, y, Tensor.copyOf(new double[] {2}), outputs);
            double[] second = gradWeight.toDoubleArray();
            for (int j = 0; j < 3; j++) {
                assertEquals(2 * first[j], second[j], 1e-15 * Math.abs(first[j]), "upstream 2, element " + j);
            }
            assertArrayEquals(new long[] {3}, gradWeight.shape());
        }
    }

    @Test
    void concurrentCallsDoNotSeeEachOthersOutputs() throws Exception {
        // Weight-gradient calls use a private copy of the shared options: plain calls running at the same time on
        // the same loss are unaffected, and every call gets the same answer.
        long[] shape = {256, 64};
        int n = 256 * 64;
        double[] x = floatValues(n, 41, -4, 4);
        double[] y = labels(n, 42);
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().weight(floatValues(64, 43, 0, 2), 64)
                .posWeight(floatValues(256, 44, 0.5, 3), 256, 1).numThreads(1).build()) {
            WeightGradientCalls.Gradients reference = WeightGradientCalls.compute(bce, shape, x, y, null, null, null,
                    null);
            double[] referenceGrad = new double[n];
            WeightGradientCalls.plain(bce, shape, x, y, null, null, referenceGrad, null);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<Boolean>> results = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    boolean gradients = t % 2 == 0;
                    results.add(pool.submit(() -> {
                        boolean same = true;
                        for (int k = 0; k < 20; k++) {
                            if (gradients) {
                                WeightGradientCalls.Gradients g = WeightGradientCalls.compute(bce, shape, x, y, null,
                                        null, null, null);
                                same &= java.util.Arrays.equals(g.weight(), reference.weight())
                                        && java.util.Arrays.equals(g.posWeight(), reference.posWeight());
                            } else {
                                double[] grad = new double[n];
                                WeightGradientCalls.plain(bce, shape, x, y, null, null, grad, null);
                                same &= java.util.Arrays.equals(grad, referenceGrad);
                            }
                        }
                        return same;
                    }));
                }
                for (Future<Boolean> r : results) assertTrue(r.get());
            } finally {
                pool.shutdown();
            }
        }
    }

    @Test
    void badArgumentsAreReportedByName() {
        BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().weight(new double[] {1, 2, 3}, 3).build();
        IllegalArgumentException shortTarget = assertThrows(IllegalArgumentException.class,
                () -> WeightGradientCalls.compute(bce, Tensor.copyOf(X, SHAPE), Tensor.copyOf(new double[N - 1], N - 1),
                        null, new Outputs()));
        assertTrue(shortTarget.getMessage().contains("target"), shortTarget.getMessage());
        IllegalArgumentException broadcast = assertThrows(IllegalArgumentException.class,
                () -> WeightGradientCalls.compute(bce, new long[] {3, 4}, X, Y, null, null, null, null));
        assertTrue(broadcast.getMessage().contains("weight"), broadcast.getMessage());
        assertThrows(NullPointerException.class,
                () -> WeightGradientCalls.compute(bce, null, X, Y, null, null, null, null));
        assertThrows(NullPointerException.class,
                () -> WeightGradientCalls.compute(bce, SHAPE, (FloatPointer) null, null));
        bce.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> WeightGradientCalls.compute(bce, SHAPE, X, Y, null, null, null, null));
        assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
    }
}
