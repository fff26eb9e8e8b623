package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bce4j.BceTestSupport.BufferKind;
import org.bce4j.BceTestSupport.Outcome;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** BCELoss on probabilities: values, clamping, range checks and NaN. */
class BCELossTest {

    static Stream<Arguments> reductionsAndDtypes() {
        List<Arguments> list = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            list.add(Arguments.of(r, BufferKind.FLOAT_BUFFER));
            list.add(Arguments.of(r, BufferKind.DOUBLE_POINTER));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("reductionsAndDtypes")
    @DisplayName("[6,5] probabilities, soft targets, weight[5], with upstream gradient")
    void matchesReference(Reduction reduction, BufferKind kind) {
        long[] shape = {6, 5};
        double[] x = floatValues(30, 71, 0.001, 0.999);
        double[] y = floatValues(30, 72, 0, 1);
        double[] w = {1, 0.5, 2, 0, 3};
        double[] g = reduction == Reduction.NONE ? floatValues(30, 73, -2, 2) : new double[] {-1.5};
        try (BCELoss loss = BCELoss.builder().reduction(reduction).weight(w, 5).build()) {
            Outcome o = run(kind, loss, shape, x, y, g, 1);
            assertOutcome(expected(false, reduction, x, y, expand(w, new long[] {5}, shape), null, g), o, kind.dtype,
                    "BCELoss " + reduction);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = BufferKind.class, names = {"FLOAT_POINTER", "DOUBLE_POINTER"})
    @DisplayName("x = 0 or 1: logs clamped at -100, grad_input clamped by 1e-12f, grad_target finite")
    void clampAtZeroAndOne(BufferKind kind) {
        double[] x = {0, 1, 0, 1, 0, 1};
        double[] y = {1, 0, 0, 1, 0.25, 0.75};
        try (BCELoss loss = BCELoss.builder().reduction(Reduction.NONE).weight(new double[] {2}, 1).build()) {
            Outcome o = run(kind, loss, new long[] {6}, x, y, null, 0);
            double[] expectedLoss = {200, 200, 0, 0, 2 * 0.25 * 100, 2 * 0.25 * 100};
            assertAllClose(expectedLoss, o.loss, kind.dtype, "clamped loss");
            double[] expectedGradTarget = {200, -200, 200, -200, 200, -200};
            assertAllClose(expectedGradTarget, o.gradTarget, kind.dtype, "clamped grad_target");
            double[] expectedGradInput = new double[6];
            for (int i = 0; i < 6; i++) expectedGradInput[i] = 2 * (x[i] - y[i]) / EPS_F;
            assertAllClose(expectedGradInput, o.gradInput, kind.dtype, "grad_input / 1e-12f");
            for (int i = 0; i < 6; i++) assertTrue(Double.isFinite(o.gradInput[i]), "finite grad_input " + i);
            assertOutcome(expected(false, Reduction.NONE, x, y, filled(6, 2), null, null), o, kind.dtype, "reference");
        }
    }

    @Test
    @DisplayName("the gradient clamp is the float literal 1e-12f = 9.99999996e-13, also for float64")
    void gradientClampIsFloatEpsilon() {
        double x = 1e-13;
        try (BCELoss loss = new BCELoss(Reduction.NONE)) {
            Outcome o = run(BufferKind.DOUBLE_POINTER, loss, new long[] {1}, new double[] {x}, new double[] {0}, null,
                    0);
            assertClose(x / EPS_F, o.gradInput[0], 1e-14, 0, "grad_input");
            assertTrue(Math.abs(o.gradInput[0] - x / 1e-12) > 1e-10, "not the double 1e-12");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("outOfRangeCases")
    @DisplayName("out-of-range input or target: IllegalArgumentException naming the argument and the index")
    void outOfRange(String argument, double bad, BufferKind kind) {
        long[] shape = {2, 3};
        double[] x = {0.125, 0.25, 0.375, 0.5, 0.625, 0.75};
        double[] y = {0, 1, 0, 1, 0, 1};
        if (argument.equals("input")) x[4] = bad;
        else y[4] = bad;
        try (BCELoss loss = new BCELoss(Reduction.MEAN)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(kind, loss, shape, x, y, null, 0));
            String m = e.getMessage();
            assertTrue(m.startsWith(argument) || m.contains(argument + " "), m);
            assertTrue(m.contains(" 4 "), "flat index 4: " + m);
            assertTrue(m.contains("[1, 1]"), "index [1, 1]: " + m);
            // the loss still works afterwards
            x[4] = 0.5;
            y[4] = 0;
            assertOutcome(expected(false, Reduction.MEAN, x, y, null, null, null),
                    run(kind, loss, shape, x, y, null, 0),
                    kind.dtype, "after the failure");
        }
    }

    static Stream<Arguments> outOfRangeCases() {
        return Stream.of(Arguments.of("input", 1.5, BufferKind.FLOAT_POINTER),
                Arguments.of("input", -0.1, BufferKind.DOUBLE_BUFFER),
                Arguments.of("target", 1.5, BufferKind.DOUBLE_ARRAY),
                Arguments.of("target", -0.1, BufferKind.FLOAT_ADDRESS),
                Arguments.of("input", Double.POSITIVE_INFINITY, BufferKind.DOUBLE_POINTER));
    }

    @Test
    @DisplayName("in a large multi-threaded input the first offending element is reported")
    void outOfRangeInLargeInput() {
        int n = 100003;
        double[] x = floatValues(n, 81, 0.01, 0.99);
        double[] y = floatValues(n, 82, 0, 1);
        x[90001] = 2;
        y[40961] = -1;
        x[40962] = -1;
        try (BCELoss loss = BCELoss.builder().numThreads(2).reduction(Reduction.SUM).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(BufferKind.FLOAT_ADDRESS, loss, new long[] {n}, x, y, null, 0));
            assertTrue(e.getMessage().contains("target") && e.getMessage().contains("40961"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = BufferKind.class, names = {"FLOAT_POINTER", "DOUBLE_ADDRESS"})
    @DisplayName("NaN input or target propagates (no exception)")
    void nanPropagates(BufferKind kind) {
        double[] x = {Double.NaN, 0.5, 0.25};
        double[] y = {1, Double.NaN, 0};
        try (BCELoss none = new BCELoss(Reduction.NONE); BCELoss mean = new BCELoss(Reduction.MEAN)) {
            Outcome o = run(kind, none, new long[] {3}, x, y, null, 0);
            assertTrue(Double.isNaN(o.loss[0]) && Double.isNaN(o.gradInput[0]) && Double.isNaN(o.gradTarget[0]));
            assertTrue(Double.isNaN(o.loss[1]) && Double.isNaN(o.gradInput[1]));
            assertClose(probGradTarget(0.5, Double.NaN, 1), o.gradTarget[1], REL32, ABS32, "grad_target ignores y");
            assertClose(probLoss(0.25, 0, 1), o.loss[2], REL32, ABS32, "neighbour");
            assertTrue(Double.isNaN(run(kind, mean, new long[] {3}, x, y, null, 0).returned));
        }
    }

    @Test
    @DisplayName("BCELoss is a distinct kind: same numbers as BCEWithLogitsLoss on sigmoid(x) for moderate x")
    void consistentWithLogitsLoss() {
        double[] logits = {-2, -0.5, 0.25, 1.75};
        double[] y = {0, 1, 0.5, 1};
        double[] probabilities = new double[4];
        for (int i = 0; i < 4; i++) probabilities[i] = sigmoid(logits[i]);
        try (BCELoss bce = new BCELoss(Reduction.SUM);
                BCEWithLogitsLoss logitsLoss = new BCEWithLogitsLoss(Reduction.SUM)) {
            double a = run(BufferKind.DOUBLE_ARRAY, bce, new long[] {4}, probabilities, y, null, 0).returned;
            double b = run(BufferKind.DOUBLE_ARRAY, logitsLoss, new long[] {4}, logits, y, null, 0).returned;
            assertEquals(b, a, 1e-12);
        }
    }
}
