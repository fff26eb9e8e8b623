package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * BCEWithLogitsLoss.Builder.focal: torchvision's sigmoid focal loss, against a float64 reference written here from
 * the definition l = alpha_t * (1-p_t)^gamma * bce, with gradients from central finite differences.
 */
class FocalLossTest {
    private static final int ROWS = 8;
    private static final int C = 5;
    private static final int N = ROWS * C;
    private static final long[] SHAPE = {ROWS, C};
    private static final double[] W = {1, 0.5, 2, 0, 1.25};
    private static final double[] P = {1, 3, 0.5, 2, 1};
    private static final double H = 1e-6;
    private static final double FD_REL = 1e-6;
    private static final double FD_ABS = 1e-9;

    /**
     * The focal element loss straight from the definition (fine for |x| <= 20): bce = w*(-p*y*log s - (1-y)*log(1-s))
     * with s = sigmoid(x), p_t = s*y + (1-s)*(1-y), alpha_t = a*y + (1-a)*(1-y), or 1 for a < 0.
     */
    static double focal(double x, double y, double w, double p, double gamma, double alpha) {
        double s = 1 / (1 + Math.exp(-x));
        double sMinus = 1 / (1 + Math.exp(x)); // 1 - s, without the cancellation
        double bce = w * (-p * y * Math.log(s) - (1 - y) * Math.log(sMinus));
        double oneMinusPt = 1 - (s * y + sMinus * (1 - y));
        double alphaT = alpha < 0 ? 1 : alpha * y + (1 - alpha) * (1 - y);
        return alphaT * Math.pow(oneMinusPt, gamma) * bce;
    }

    /** As {@link #focal}, with bce and 1-p_t in forms that stay finite for any finite x (for the +-1e4 logits). */
    static double focalStable(double x, double y, double gamma, double alpha) {
        double bce = logitsLoss(x, y, 1, 1);
        double oneMinusPt = sigmoid(x) * (1 - y) + sigmoid(-x) * y;
        double alphaT = alpha < 0 ? 1 : alpha * y + (1 - alpha) * (1 - y);
        return alphaT * Math.pow(oneMinusPt, gamma) * bce;
    }

    static double centralDifference(DoubleUnaryOperator f, double at, double h) {
        return (f.applyAsDouble(at + h) - f.applyAsDouble(at - h)) / (2 * h);
    }

    private static BCEWithLogitsLoss loss(Reduction reduction, double gamma, double alpha, boolean weighted) {
        BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(reduction).focal(gamma, alpha);
        if (weighted) b.weight(W, C).posWeight(P, C);
        return b.build();
    }

    /** Targets: hard labels, or soft ones in [0.05, 0.95]. */
    private static double[] targets(boolean hard, long seed) {
        return hard ? labels(N, seed) : floatValues(N, seed, 0.05, 0.95);
    }

    /** Logits in [-8, 8], with +-20 planted. */
    private static double[] logits(long seed) {
        double[] x = floatValues(N, seed, -8, 8);
        x[1] = 20;
        x[2] = -20;
        x[C + 3] = 20;
        x[2 * C + 4] = -20;
        return x;
    }

    @Test
    @DisplayName("loss, grad_input and grad_target match the definition and its finite differences over gamma, "
            + "alpha, hard and soft labels, with and without weight and pos_weight")
    void matchesDefinition() {
        for (double gamma : new double[] {0, 0.5, 1, 2, 3.5}) {
            for (double alpha : new double[] {-1, 0, 0.25, 1}) {
                for (boolean hard : new boolean[] {true, false}) {
                    for (boolean weighted : new boolean[] {false, true}) {
                        String label = "gamma " + gamma + " alpha " + alpha + (hard ? " hard" : " soft")
                                + (weighted ? " weighted" : "");
                        check(gamma, alpha, hard, weighted, label);
                    }
                }
            }
        }
    }

    private static void check(double gamma, double alpha, boolean hard, boolean weighted, String label) {
        double[] x = logits(11);
        double[] y = targets(hard, 12);
        double[] go = floatValues(N, 13, 0.5, 2);
        double[] expectedLoss = new double[N];
        double sum = 0;
        try (BCEWithLogitsLoss none = loss(Reduction.NONE, gamma, alpha, weighted);
                BCEWithLogitsLoss mean = loss(Reduction.MEAN, gamma, alpha, weighted)) {
            Outcome o = run(BufferKind.DOUBLE_ARRAY, none, SHAPE, x, y, go, 0);
            for (int i = 0; i < N; i++) {
                double w = weighted ? W[i % C] : 1;
                double p = weighted ? P[i % C] : 1;
                double xi = x[i];
                double yi = y[i];
                String at = label + " element " + i + " (x " + xi + ", y " + yi + ")";
                expectedLoss[i] = focal(xi, yi, w, p, gamma, alpha);
                sum += expectedLoss[i];
                assertClose(expectedLoss[i], o.loss[i], 1e-9, 1e-13, at + ": loss");
                double dx = centralDifference(v -> focal(v, yi, w, p, gamma, alpha), xi, H);
                assertClose(go[i] * dx, o.gradInput[i], FD_REL, FD_ABS, at + ": grad_input");
                // The definition is a polynomial in y for an integer gamma, so the difference may step past 0 and 1;
                // for another gamma, (1-p_t)^gamma is only defined inside, and soft labels keep the steps there.
                if (gamma == Math.rint(gamma) || !hard) {
                    double dy = centralDifference(v -> focal(xi, v, w, p, gamma, alpha), yi, H);
                    assertClose(go[i] * dy, o.gradTarget[i], FD_REL, FD_ABS, at + ": grad_target");
                }
            }
            double returned = mean.compute(Tensor.copyOf(x, SHAPE), Tensor.copyOf(y, SHAPE));
            assertClose(sum / N, returned, 1e-9, 1e-13, label + ": mean");
        }
    }

    @Test
    @DisplayName("gamma 0 without alpha is the plain loss")
    void gammaZeroIsPlainBce() {
        double[] x = logits(21);
        for (boolean hard : new boolean[] {true, false}) {
            double[] y = targets(hard, 22);
            for (boolean weighted : new boolean[] {false, true}) {
                BCEWithLogitsLoss.Builder pb = BCEWithLogitsLoss.builder().reduction(Reduction.NONE);
                BCEWithLogitsLoss.Builder fb = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).focal(0);
                if (weighted) {
                    pb.weight(W, C).posWeight(P, C);
                    fb.weight(W, C).posWeight(P, C);
                }
                try (BCEWithLogitsLoss plain = pb.build(); BCEWithLogitsLoss focal = fb.build()) {
                    Outcome a = run(BufferKind.DOUBLE_POINTER, plain, SHAPE, x, y, null, 0);
                    Outcome b = run(BufferKind.DOUBLE_POINTER, focal, SHAPE, x, y, null, 0);
                    String label = (hard ? "hard" : "soft") + (weighted ? " weighted" : "");
                    assertAllClose(a.loss, b.loss, DType.FLOAT64, label + " loss");
                    assertAllClose(a.gradInput, b.gradInput, DType.FLOAT64, label + " grad_input");
                    assertAllClose(a.gradTarget, b.gradTarget, DType.FLOAT64, label + " grad_target");
                }
            }
        }
    }

    @Test
    @DisplayName("torchvision's defaults (gamma 2, alpha 0.25) on hard and soft labels, and a value by hand")
    void torchvisionDefaults() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).focal(2, 0.25).build()) {
            assertEquals(OptionalDouble.of(2), loss.focalGamma());
            assertEquals(OptionalDouble.of(0.25), loss.focalAlpha());
            // x = 0, y = 1: p_t = 1/2, so l = 0.25 * (1/2)^2 * log 2.
            Tensor out = Tensor.allocate(DType.FLOAT64, 1);
            loss.compute(Tensor.copyOf(new double[] {0}, 1), Tensor.copyOf(new double[] {1}, 1),
                    new Outputs().loss(out));
            assertClose(0.25 * 0.25 * Math.log(2), out.toDoubleArray()[0], 1e-15, 0, "x 0, y 1");
        }
        check(2, 0.25, true, false, "torchvision defaults, hard");
        check(2, 0.25, false, false, "torchvision defaults, soft");
    }

    @Test
    @DisplayName("logits of +-1e4 with soft and hard labels give finite losses and gradients, as the definition")
    void extremeLogits() {
        double[] x = {1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 1e4, -1e4};
        double[] y = {0.3, 0.3, 0.9, 0.05, 0, 0, 1, 1};
        long[] shape = {x.length};
        for (double[] ga : new double[][] {{2, 0.25}, {2, -1}, {0.5, 0.75}, {0, 0.25}}) {
            double gamma = ga[0];
            double alpha = ga[1];
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).focal(gamma, alpha)
                    .build()) {
                for (BufferKind kind : new BufferKind[] {BufferKind.DOUBLE_ARRAY, BufferKind.FLOAT_ARRAY}) {
                    Outcome o = run(kind, loss, shape, x, y, null, 0);
                    for (int i = 0; i < x.length; i++) {
                        String at = kind + " gamma " + gamma + " alpha " + alpha + " x " + x[i] + " y " + y[i];
                        assertTrue(Double.isFinite(o.loss[i]), at + ": loss " + o.loss[i]);
                        assertTrue(Double.isFinite(o.gradInput[i]), at + ": grad_input " + o.gradInput[i]);
                        assertTrue(Double.isFinite(o.gradTarget[i]), at + ": grad_target " + o.gradTarget[i]);
                        if (kind.dtype != DType.FLOAT64) continue;
                        double xi = x[i];
                        double yi = y[i];
                        assertClose(focalStable(xi, yi, gamma, alpha), o.loss[i], 1e-12, 1e-12, at + ": loss");
                        // The loss is linear in x out there; a step relative to x keeps the rounding small.
                        double dx = centralDifference(v -> focalStable(v, yi, gamma, alpha), xi, H * Math.abs(xi));
                        assertClose(dx, o.gradInput[i], FD_REL, FD_ABS, at + ": grad_input");
                        if (gamma == Math.rint(gamma) || (yi > 0 && yi < 1)) {
                            // The truncation error grows with |x| (h^2 * 1e4 at a hard label): a smaller step.
                            double dy = centralDifference(v -> focalStable(xi, v, gamma, alpha), yi, H / 100);
                            assertClose(dy, o.gradTarget[i], FD_REL, FD_ABS, at + ": grad_target");
                        }
                    }
                }
            }
        }
    }

    @Test
    @DisplayName("float32 through FloatBuffer agrees with float64 on the same (float-rounded) values")
    void float32() {
        double[] x = toDoubles(toFloats(floatValues(N, 31, -8, 8)));
        for (boolean hard : new boolean[] {true, false}) {
            double[] y = toDoubles(toFloats(targets(hard, 32)));
            double[] go = toDoubles(toFloats(floatValues(N, 33, 0.5, 2)));
            try (BCEWithLogitsLoss loss = loss(Reduction.NONE, 2, 0.25, true)) {
                Outcome d = run(BufferKind.DOUBLE_ARRAY, loss, SHAPE, x, y, go, 0);
                Outcome f = run(BufferKind.FLOAT_BUFFER, loss, SHAPE, x, y, go, 2);
                String label = hard ? "hard" : "soft";
                assertAllClose(d.loss, f.loss, DType.FLOAT32, label + " loss");
                assertAllClose(d.gradInput, f.gradInput, DType.FLOAT32, label + " grad_input");
                assertAllClose(d.gradTarget, f.gradTarget, DType.FLOAT32, label + " grad_target");
            }
        }
    }

    @Test
    @DisplayName("the builder rejects a bad gamma or alpha, naming it; a negative alpha means none")
    void builderValidation() {
        // The ranges are the native library's rules, checked by build() in its words (C's %g of the value).
        double[] gammas = {Double.NaN, -1, -1e-300, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
        String[] gammaTexts = {"nan", "-1", "-1e-300", "inf", "-inf"};
        for (int i = 0; i < gammas.length; i++) {
            double gamma = gammas[i];
            String message = "options.focal_gamma is " + gammaTexts[i] + "; expected a finite value >= 0";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BCEWithLogitsLoss.builder().focal(gamma).build());
            assertEquals(message, e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BCEWithLogitsLoss.builder().focal(gamma, 0.25).build());
            assertEquals(message, e.getMessage());
        }
        double[] alphas = {1.0000001, 2, Double.POSITIVE_INFINITY};
        String[] alphaTexts = {"1", "2", "inf"};
        for (int i = 0; i < alphas.length; i++) {
            double alpha = alphas[i];
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BCEWithLogitsLoss.builder().focal(2, alpha).build());
            assertEquals("options.focal_alpha is " + alphaTexts[i] + "; expected a value in [0, 1], or < 0 for none",
                    e.getMessage());
        }
        IllegalArgumentException nan = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().focal(2, Double.NaN).build());
        assertEquals("options.focal_alpha is nan; expected a value in [0, 1], or < 0 for none", nan.getMessage());
        try (BCEWithLogitsLoss plain = BCEWithLogitsLoss.builder().build();
                BCEWithLogitsLoss noAlpha = BCEWithLogitsLoss.builder().focal(1.5).build();
                BCEWithLogitsLoss negative = BCEWithLogitsLoss.builder().focal(0, -3).build();
                BCEWithLogitsLoss edges = BCEWithLogitsLoss.builder().focal(0, 1).build()) {
            assertFalse(plain.focalGamma().isPresent());
            assertFalse(plain.focalAlpha().isPresent());
            assertEquals(OptionalDouble.of(1.5), noAlpha.focalGamma());
            assertFalse(noAlpha.focalAlpha().isPresent());
            assertEquals(OptionalDouble.of(0), negative.focalGamma());
            assertFalse(negative.focalAlpha().isPresent(), "a negative alpha is none");
            assertEquals(OptionalDouble.of(1), edges.focalAlpha());
        }
    }
}
