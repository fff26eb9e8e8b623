package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** PosWeightMode.PADDLE_LEGACY (Paddle up to 2.5) against its definition, and against TORCH on hard labels. */
class PosWeightModeTest {
    private static final long[] SHAPE = {4, 6};
    private static final int N = 24;

    /** Paddle's legacy loss from its definition: c * ((1-y)*softplus(x) + y*softplus(-x)), c = 1 + (p-1)*y. */
    static double legacyLoss(double x, double y, double p) {
        return (1 + (p - 1) * y) * ((1 - y) * softplus(x) + y * softplus(-x));
    }

    /** Its derivatives by central differences: an independent check of the gradients. */
    static double legacyGradInput(double x, double y, double p) {
        double h = 1e-5;
        return (legacyLoss(x + h, y, p) - legacyLoss(x - h, y, p)) / (2 * h);
    }

    static double legacyGradTarget(double x, double y, double p) {
        double h = 1e-5;
        return (legacyLoss(x, y + h, p) - legacyLoss(x, y - h, p)) / (2 * h);
    }

    private static double[] softLabels() {
        double[] y = floatValues(N, 11, 0, 1);
        y[0] = 0;
        y[1] = 1;
        return y;
    }

    private static BCEWithLogitsLoss legacyLoss(double[] posWeight, Reduction reduction) {
        return BCEWithLogitsLoss.builder().posWeight(posWeight, posWeight.length).reduction(reduction)
                .posWeightMode(PosWeightMode.PADDLE_LEGACY).build();
    }

    @ParameterizedTest
    @EnumSource(BufferKind.class)
    @DisplayName("soft labels: loss and gradients of Paddle's legacy formula, through every buffer kind")
    void matchesDefinition(BufferKind kind) {
        double[] x = floatValues(N, 7, -6, 6);
        double[] y = softLabels();
        double[] p = {0.5, 1, 2, 3, 4, 0.25};
        try (BCEWithLogitsLoss loss = legacyLoss(p, Reduction.NONE)) {
            assertEquals(PosWeightMode.PADDLE_LEGACY, loss.posWeightMode());
            Outcome o = run(kind, loss, SHAPE, x, y, null, 0);
            for (int i = 0; i < N; i++) {
                double pi = p[i % p.length];
                String at = kind + " element " + i;
                assertClose(legacyLoss(x[i], y[i], pi), o.loss[i], 1e-6, 1e-7, at + " loss");
                assertClose(legacyGradInput(x[i], y[i], pi), o.gradInput[i], 1e-6, 1e-7, at + " gradInput");
                assertClose(legacyGradTarget(x[i], y[i], pi), o.gradTarget[i], 1e-6, 1e-7, at + " gradTarget");
            }
        }
    }

    @Test
    @DisplayName("hard labels: the same loss and input gradient as TORCH; soft labels: a different loss")
    void equalsTorchOnHardLabels() {
        double[] x = floatValues(N, 8, -6, 6);
        double[] hard = labels(N, 9);
        double[] p = {3, 0.5, 2, 1, 4, 0.25};
        try (BCEWithLogitsLoss legacy = legacyLoss(p, Reduction.MEAN);
                BCEWithLogitsLoss torch = BCEWithLogitsLoss.builder().posWeight(p, p.length).build()) {
            assertEquals(PosWeightMode.TORCH, torch.posWeightMode());
            Outcome a = run(BufferKind.DOUBLE_POINTER, legacy, SHAPE, x, hard, null, 0);
            Outcome b = run(BufferKind.DOUBLE_POINTER, torch, SHAPE, x, hard, null, 0);
            assertClose(b.returned, a.returned, 1e-14, 0, "mean loss");
            assertAllClose(b.gradInput, a.gradInput, DType.FLOAT64, "gradInput");

            double[] soft = softLabels();
            double legacyMean = run(BufferKind.DOUBLE_POINTER, legacy, SHAPE, x, soft, null, 0).returned;
            double torchMean = run(BufferKind.DOUBLE_POINTER, torch, SHAPE, x, soft, null, 0).returned;
            assertTrue(Math.abs(legacyMean - torchMean) > 1e-3, legacyMean + " vs " + torchMean);
        }
    }

    @Test
    @DisplayName("a null mode is rejected by name")
    void nullMode() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> BCEWithLogitsLoss.builder().posWeightMode(null));
        assertTrue(e.getMessage().contains("posWeightMode"), e.getMessage());
    }
}
