package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * ignoreIndex, labelSmoothing and the normalised means (MEAN_BY_WEIGHT, MEAN_BY_NONZERO_WEIGHT, MEAN_VALID)
 * against their definitions in float64, written here independently of the library.
 */
class TargetConventionsTest {
    private static final long[] SHAPE = {4, 6};
    private static final int N = 24;
    private static final double IGNORE = -100;
    /** Flat indices whose target is set to the ignore index. */
    private static final int[] IGNORED = {0, 5, 13, 23};

    /** Per-element (unreduced) loss and gradients of the definition; {@code w}, {@code p} input-shaped or null. */
    private record Reference(double[] loss, double[] gradInput, double[] gradTarget) {
        static Reference of(boolean logits, double[] x, double[] y, double[] w, double[] p, Double ignore,
                double epsilon, int classes) {
            int n = x.length;
            Reference r = new Reference(new double[n], new double[n], new double[n]);
            for (int i = 0; i < n; i++) {
                if (ignore != null && y[i] == ignore) continue; // loss and gradients 0
                double wi = w == null ? 1 : w[i];
                double pi = p == null ? 1 : p[i];
                double s = y[i] * (1 - epsilon) + epsilon / classes;
                // d/dy l(x, s(y)) = (1-E) * dl/ds: the target gradient is taken w.r.t. the given y.
                if (logits) {
                    r.loss[i] = logitsLoss(x[i], s, wi, pi);
                    r.gradInput[i] = logitsGradInput(x[i], s, wi, pi);
                    r.gradTarget[i] = (1 - epsilon) * logitsGradTarget(x[i], s, wi, pi);
                } else {
                    r.loss[i] = probLoss(x[i], s, wi);
                    r.gradInput[i] = probGradInput(x[i], s, wi);
                    r.gradTarget[i] = (1 - epsilon) * probGradTarget(x[i], s, wi);
                }
            }
            return r;
        }

        /** The reduced loss and gradients for the given denominator, the normalised means giving 0 for 0. */
        Expected reduced(Reduction reduction, double denominator, double gradOutput) {
            double sum = 0;
            for (double l : loss) sum += l;
            double scale = safeDivide(reduction, gradOutput, denominator);
            double[] gi = gradInput.clone();
            double[] gt = gradTarget.clone();
            for (int i = 0; i < gi.length; i++) {
                gi[i] *= scale;
                gt[i] *= scale;
            }
            double value = safeDivide(reduction, sum, denominator);
            return new Expected(new double[] {value}, gi, gt, value);
        }
    }

    private static double[] softLabelsWithIgnored() {
        double[] y = floatValues(N, 12, 0, 1);
        y[1] = 0;
        y[2] = 1;
        for (int i : IGNORED) y[i] = IGNORE;
        return y;
    }

    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"FLOAT_BUFFER", "DOUBLE_POINTER", "FLOAT_ADDRESS", "DOUBLE_ARRAY"})
    @DisplayName("ignored elements: exact zeros; they count in MEAN but not in MEAN_VALID; both losses")
    void ignoredElements(BufferKind kind) {
        double[] y = softLabelsWithIgnored();
        for (boolean logits : new boolean[] {true, false}) {
            // BCELoss does not range-check the ignored targets (-100), so this call must not throw.
            double[] x = logits ? floatValues(N, 11, -6, 6) : floatValues(N, 11, 0.01, 0.99);
            Reference ref = Reference.of(logits, x, y, null, null, IGNORE, 0, 2);
            String label = kind + (logits ? " logits" : " probabilities");
            try (BinaryCrossEntropy none = build(logits, Reduction.NONE, IGNORE);
                    BinaryCrossEntropy mean = build(logits, Reduction.MEAN, IGNORE);
                    BinaryCrossEntropy valid = build(logits, Reduction.MEAN_VALID, IGNORE)) {
                Outcome o = run(kind, none, SHAPE, x, y, null, 2);
                for (int i : IGNORED) {
                    assertEquals(0.0, o.loss[i], 0.0, label + " loss " + i);
                    assertEquals(0.0, o.gradInput[i], 0.0, label + " gradInput " + i);
                    assertEquals(0.0, o.gradTarget[i], 0.0, label + " gradTarget " + i);
                }
                assertOutcome(new Expected(ref.loss, ref.gradInput, ref.gradTarget, Double.NaN), o, kind.dtype,
                        label + " NONE");
                assertOutcome(ref.reduced(Reduction.MEAN, N, 0.5), run(kind, mean, SHAPE, x, y, new double[] {0.5}, 0),
                        kind.dtype, label + " MEAN");
                assertOutcome(ref.reduced(Reduction.MEAN_VALID, N - IGNORED.length, 0.5),
                        run(kind, valid, SHAPE, x, y, new double[] {0.5}, 0), kind.dtype, label + " MEAN_VALID");
            }
        }
    }

    private static BinaryCrossEntropy build(boolean logits, Reduction reduction, double ignoreIndex) {
        return logits ? BCEWithLogitsLoss.builder().reduction(reduction).ignoreIndex(ignoreIndex).build()
                : BCELoss.builder().reduction(reduction).ignoreIndex(ignoreIndex).build();
    }

    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"FLOAT_POINTER", "DOUBLE_BUFFER", "FLOAT_ARRAY", "DOUBLE_ADDRESS"})
    @DisplayName("MEAN_BY_WEIGHT and MEAN_BY_NONZERO_WEIGHT with a weight [C] (one of them 0) broadcast over [N, C]")
    void weightNormalisedMeans(BufferKind kind) {
        long[] shape = {5, 4};
        double[] w = {0.5, 0, 2, 1.5};
        double[] x = floatValues(20, 31, -5, 5);
        double[] y = floatValues(20, 32, 0, 1);
        double[] wFull = expand(w, new long[] {4}, shape);
        Reference ref = Reference.of(true, x, y, wFull, null, null, 0, 2);
        // Each weight counts once per row: 5 rows.
        double weightSum = 5 * (0.5 + 0 + 2 + 1.5);
        double nonzero = 5 * 3;
        for (Reduction reduction : new Reduction[] {Reduction.MEAN_BY_WEIGHT, Reduction.MEAN_BY_NONZERO_WEIGHT}) {
            double denominator = reduction == Reduction.MEAN_BY_WEIGHT ? weightSum : nonzero;
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(w, 4).build()) {
                assertEquals(reduction, loss.reduction());
                Outcome o = run(kind, loss, shape, x, y, new double[] {-0.75}, 1);
                assertOutcome(ref.reduced(reduction, denominator, -0.75), o, kind.dtype, kind + " " + reduction);
            }
        }
    }

    @Test
    @DisplayName("zero denominators give 0, never NaN: all weights 0, weights summing to 0, all ignored, empty")
    void zeroDenominators() {
        long[] shape = {3, 2};
        double[] x = floatValues(6, 41, -4, 4);
        double[] probabilities = floatValues(6, 43, 0.01, 0.99);
        double[] y = labels(6, 42);
        for (BufferKind kind : new BufferKind[] {BufferKind.FLOAT_BUFFER, BufferKind.DOUBLE_POINTER}) {
            for (Reduction reduction : new Reduction[] {Reduction.MEAN_BY_WEIGHT, Reduction.MEAN_BY_NONZERO_WEIGHT}) {
                try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction)
                        .weight(new double[] {0, 0}, 2).build()) {
                    assertAllZero(run(kind, loss, shape, x, y, null, 0), kind + " " + reduction + " weights 0");
                }
            }
            // The weight sum is 0 although no weight is: MEAN_BY_WEIGHT still gives 0, gradients included.
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN_BY_WEIGHT)
                    .weight(new double[] {1, -1}, 2).build()) {
                assertAllZero(run(kind, loss, shape, x, y, null, 0), kind + " weights summing to 0");
            }
            try (BCELoss loss = BCELoss.builder().reduction(Reduction.MEAN_VALID).ignoreIndex(IGNORE).build()) {
                assertAllZero(run(kind, loss, shape, probabilities, filled(6, IGNORE), null, 0),
                        kind + " all ignored");
                Outcome empty = run(kind, loss, new long[] {2, 0}, new double[0], new double[0], null, 0);
                assertEquals(0.0, empty.returned, 0.0, kind + " empty MEAN_VALID");
                assertEquals(0.0, empty.loss[0], 0.0, kind + " empty MEAN_VALID loss buffer");
            }
            try (BCELoss loss = BCELoss.builder().reduction(Reduction.MEAN).ignoreIndex(IGNORE).build()) {
                Outcome empty = run(kind, loss, new long[] {0}, new double[0], new double[0], null, 0);
                assertTrue(Double.isNaN(empty.returned), kind + " empty MEAN stays NaN, was " + empty.returned);
            }
        }
    }

    private static void assertAllZero(Outcome o, String label) {
        assertEquals(0.0, o.returned, 0.0, label + ": returned");
        assertEquals(0.0, o.loss[0], 0.0, label + ": loss");
        for (int i = 0; i < o.gradInput.length; i++) {
            assertEquals(0.0, o.gradInput[i], 0.0, label + ": gradInput " + i);
            assertEquals(0.0, o.gradTarget[i], 0.0, label + ": gradTarget " + i);
        }
    }

    @ParameterizedTest
    @EnumSource(value = BufferKind.class, names = {"FLOAT_BUFFER", "DOUBLE_POINTER", "FLOAT_ARRAY", "DOUBLE_ADDRESS"})
    @DisplayName("label smoothing (K = 2 and K = 5): loss and gradients of the smoothed targets, both losses")
    void labelSmoothingValues(BufferKind kind) {
        double[] y = floatValues(N, 52, 0, 1);
        y[0] = 0;
        y[1] = 1;
        double[] w = {1, 0.5, 2, 0.25, 3, 1.5};
        double[] wFull = expand(w, new long[] {6}, SHAPE);
        for (boolean logits : new boolean[] {true, false}) {
            double[] x = logits ? floatValues(N, 51, -6, 6) : floatValues(N, 51, 0.01, 0.99);
            for (int classes : new int[] {2, 5}) {
                double epsilon = classes == 2 ? 0.1 : 0.25;
                Reference ref = Reference.of(logits, x, y, wFull, null, null, epsilon, classes);
                String label = kind + (logits ? " logits" : " probabilities") + " K=" + classes;
                try (BinaryCrossEntropy loss = smoothed(logits, Reduction.NONE, epsilon, classes, w);
                        BinaryCrossEntropy sum = smoothed(logits, Reduction.SUM, epsilon, classes, w)) {
                    assertEquals(epsilon, loss.labelSmoothing(), 0.0);
                    assertEquals(classes, loss.smoothingClasses());
                    assertOutcome(new Expected(ref.loss, ref.gradInput, ref.gradTarget, Double.NaN),
                            run(kind, loss, SHAPE, x, y, null, 3), kind.dtype, label + " NONE");
                    assertOutcome(ref.reduced(Reduction.SUM, 1, 2), run(kind, sum, SHAPE, x, y, new double[] {2}, 0),
                            kind.dtype, label + " SUM");
                }
            }
        }
    }

    private static BinaryCrossEntropy smoothed(boolean logits, Reduction reduction, double epsilon, int classes,
            double[] w) {
        return logits
                ? BCEWithLogitsLoss.builder().reduction(reduction).labelSmoothing(epsilon, classes).weight(w, w.length)
                        .build()
                : BCELoss.builder().reduction(reduction).labelSmoothing(epsilon, classes).weight(w, w.length).build();
    }

    @Test
    @DisplayName("with label smoothing, gradTarget is the derivative of the library's own loss w.r.t. the given y")
    void smoothedGradTargetByFiniteDifferences() {
        double h = 1e-6;
        double[] y = floatValues(N, 62, 0.05, 0.95);
        for (boolean logits : new boolean[] {true, false}) {
            double[] x = logits ? floatValues(N, 61, -4, 4) : floatValues(N, 61, 0.05, 0.95);
            try (BinaryCrossEntropy loss = logits
                    ? BCEWithLogitsLoss.builder().reduction(Reduction.NONE).labelSmoothing(0.3, 4).build()
                    : BCELoss.builder().reduction(Reduction.NONE).labelSmoothing(0.3, 4).build()) {
                double[] gradTarget = compute64(loss, SHAPE, x, y).gradTarget;
                double[] yUp = y.clone();
                double[] yDown = y.clone();
                for (int i = 0; i < N; i++) {
                    yUp[i] += h;
                    yDown[i] -= h;
                }
                // Each element's loss depends on its own target only, so one call per side shifts them all.
                double[] up = compute64(loss, SHAPE, x, yUp).loss;
                double[] down = compute64(loss, SHAPE, x, yDown).loss;
                for (int i = 0; i < N; i++) {
                    double numeric = (up[i] - down[i]) / (2 * h);
                    assertClose(numeric, gradTarget[i], 1e-6, 1e-8, (logits ? "logits" : "probabilities")
                            + " gradTarget " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class)
    @DisplayName("pos_weight + label smoothing + ignore_index, MEAN_VALID: against values worked out by hand")
    void combination(DType dtype) {
        double[] x = {0.5, -1, 2, 3};
        double[] y = {1, 0, IGNORE, 0.5};
        double p = 3;
        // Smoothed with E = 0.2, K = 2: s = y*0.8 + 0.1; element 2 is ignored, so MEAN_VALID divides by 3.
        double[] s = {0.9, 0.1, Double.NaN, 0.5};
        double[] loss = new double[4];
        double[] gradInput = new double[4];
        double[] gradTarget = new double[4];
        double sum = 0;
        for (int i : new int[] {0, 1, 3}) {
            // l = (1-s)*x + (1+(p-1)*s)*softplus(-x); dl/dx = (1+(p-1)s)*sigmoid(x) - p*s; dl/dy = 0.8*dl/ds.
            double c = 1 + (p - 1) * s[i];
            loss[i] = (1 - s[i]) * x[i] + c * softplus(-x[i]);
            gradInput[i] = (c * sigmoid(x[i]) - p * s[i]) / 3;
            gradTarget[i] = 0.8 * (-x[i] + (p - 1) * softplus(-x[i])) / 3;
            sum += loss[i];
        }
        Expected expected = new Expected(new double[] {sum / 3}, gradInput, gradTarget, sum / 3);
        try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN_VALID)
                .posWeight(new double[] {p}, 1).labelSmoothing(0.2).ignoreIndex(IGNORE).build()) {
            assertEquals(OptionalDouble.of(IGNORE), bce.ignoreIndex());
            if (dtype.is16Bit()) {
                assertCombination16(dtype, bce, x, y, p, expected);
                return;
            }
            BufferKind kind = dtype == DType.FLOAT32 ? BufferKind.FLOAT_POINTER : BufferKind.DOUBLE_BUFFER;
            Outcome o = run(kind, bce, new long[] {4}, x, y, null, 0);
            assertOutcome(expected, o, dtype, "combination " + dtype);
        }
    }

    /**
     * The combination in 16-bit storage, through every 16-bit buffer kind (the inputs and p are exact in both
     * formats): each output within one rounding of the value worked out by hand, plus what the float32 computation
     * before it adds (see {@link BceTestSupport#assertRounded16}); where float32 is computed in double (the scalar
     * kernels), exactly the float64 call's result rounded once, as {@link HalfStorageTest} compares.
     */
    private static void assertCombination16(DType dtype, BCEWithLogitsLoss bce, double[] x, double[] y, double p,
            Expected e) {
        assertArrayEquals(x, HalfStorageTest.rounded(dtype, x), "test bug: x not exact in " + dtype);
        assertArrayEquals(y, HalfStorageTest.rounded(dtype, y), "test bug: y not exact in " + dtype);
        long[] shape = {4};
        Outcome f64 = run(BufferKind.DOUBLE_ARRAY, bce, shape, x, y, null, 0);
        for (HalfStorageTest.Kind kind : HalfStorageTest.Kind.values()) {
            String label = "combination " + dtype + " " + kind;
            HalfStorageTest.Outcome o = HalfStorageTest.run(kind, dtype, bce, shape, x, y, null);
            double sumTerms = 0;
            for (int i = 0; i < x.length; i++) {
                double terms = (1 + Math.abs(x[i])) * (1 + p);
                sumTerms += terms;
                assertRounded16(dtype, e.gradInput[i], o.gradInput()[i], terms, label + " gradInput " + i);
                assertRounded16(dtype, e.gradTarget[i], o.gradTarget()[i], terms, label + " gradTarget " + i);
                if (FLOAT32_ROUNDED_ONCE) {
                    assertEquals(rounded16(dtype, f64.gradInput[i]), o.gradInput()[i], label + " gradInput " + i);
                    assertEquals(rounded16(dtype, f64.gradTarget[i]), o.gradTarget()[i], label + " gradTarget " + i);
                }
            }
            // The ignored element: exact zeros.
            assertEquals(0.0, o.gradInput()[2], 0.0, label + " ignored gradInput");
            assertEquals(0.0, o.gradTarget()[2], 0.0, label + " ignored gradTarget");
            assertEquals(e.returned, o.returned(), (FLOAT32_ROUNDED_ONCE ? 1e-12 : LANES32) * sumTerms,
                    label + " returned");
            // The one-element loss is the double result rounded once, and within one rounding of the reference.
            assertEquals(rounded16(dtype, o.returned()), o.loss()[0], label + " loss[0]");
            assertRounded16(dtype, e.loss[0], o.loss()[0], sumTerms, label + " loss[0]");
            if (FLOAT32_ROUNDED_ONCE) {
                assertEquals(f64.returned, o.returned(), 0.0, label + " returned against float64");
            }
        }
    }

    private static double rounded16(DType dtype, double v) {
        return HalfStorageTest.rounded(dtype, new double[] {v})[0];
    }

    @Test
    @DisplayName("builder: defaults, and bad epsilon, classes or ignore index rejected by name")
    void builderValidation() {
        try (BCELoss plain = BCELoss.builder().build();
                BCEWithLogitsLoss edges = BCEWithLogitsLoss.builder().labelSmoothing(1).ignoreIndex(-1).build();
                BCELoss single = BCELoss.builder().labelSmoothing(0, 1).build()) {
            assertEquals(OptionalDouble.empty(), plain.ignoreIndex());
            assertEquals(0.0, plain.labelSmoothing(), 0.0);
            assertEquals(2, plain.smoothingClasses());
            assertEquals(1.0, edges.labelSmoothing(), 0.0);
            assertEquals(2, edges.smoothingClasses());
            assertEquals(OptionalDouble.of(-1), edges.ignoreIndex());
            assertEquals(1, single.smoothingClasses());
        }
        // The ranges are the native library's rules, checked by build() in its words (C's %g of the value).
        double[] epsilons = {Double.NaN, -0.01, 1.01, Double.POSITIVE_INFINITY};
        String[] epsilonTexts = {"nan", "-0.01", "1.01", "inf"};
        for (int i = 0; i < epsilons.length; i++) {
            double epsilon = epsilons[i];
            String message = "options.label_smoothing is " + epsilonTexts[i] + "; expected a value in [0, 1]";
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BCEWithLogitsLoss.builder().labelSmoothing(epsilon).build());
            assertEquals(message, e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> BCELoss.builder().labelSmoothing(epsilon, 2).build());
            assertEquals(message, e.getMessage());
        }
        for (int classes : new int[] {0, -3}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> BCELoss.builder().labelSmoothing(0.1, classes).build());
            assertEquals("options.smoothing_classes is " + classes + "; expected at least 1", e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().ignoreIndex(Double.NaN).build());
        assertEquals("options.ignore_index is nan; no target equals NaN", e.getMessage());
    }

    @Test
    @DisplayName("an ignored element is matched exactly: a target next to the ignore index is not ignored")
    void exactMatchOnly() {
        double[] x = {1, 1};
        double[] y = {IGNORE, Math.nextUp(IGNORE)};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).ignoreIndex(IGNORE)
                .build()) {
            Outcome o = run(BufferKind.DOUBLE_ARRAY, loss, new long[] {2}, x, y, null, 0);
            assertEquals(0.0, o.loss[0], 0.0);
            assertClose(logitsLoss(1, y[1], 1, 1), o.loss[1], REL64, ABS64, "loss next to the ignore index");
        }
    }
}
