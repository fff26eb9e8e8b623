package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** BCEWithLogitsLoss.Builder.validateTargets: targets outside [0, 1] become an exception naming the first one. */
class ValidateTargetsTest {
    private static final int N = 40;
    private static final long[] SHAPE = {N};

    private static double[] targets(int badAt, double bad) {
        double[] y = labels(N, 3);
        y[badAt] = bad;
        if (badAt + 1 < N) y[badAt + 1] = 2; // a later one must not be the one reported
        return y;
    }

    @ParameterizedTest
    @EnumSource(BufferKind.class)
    @DisplayName("the first target outside [0, 1] is named, through every buffer kind")
    void firstInvalidTargetIsNamed(BufferKind kind) {
        double[] x = floatValues(N, 4, -5, 5);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().validateTargets(true).build()) {
            assertTrue(loss.validatesTargets());
            for (int at : new int[] {0, 9, 17, N - 1}) {
                double[] y = targets(at, at % 2 == 0 ? -0.5 : 1.25);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                        () -> run(kind, loss, SHAPE, x, y, null, 0));
                assertTrue(e.getMessage().contains("target element " + at + " "), e.getMessage());
            }
        }
    }

    @Test
    @DisplayName("off by default; ignored and NaN targets pass; valid targets give the usual values")
    void defaultsAndExemptions() {
        double[] x = floatValues(N, 5, -5, 5);
        double[] y = targets(7, -100);
        try (BCEWithLogitsLoss plain = BCEWithLogitsLoss.builder().build();
                BCEWithLogitsLoss checking = BCEWithLogitsLoss.builder().validateTargets(true).build();
                BCEWithLogitsLoss ignoring = BCEWithLogitsLoss.builder().validateTargets(true).ignoreIndex(-100)
                        .build()) {
            assertFalse(plain.validatesTargets());
            run(BufferKind.DOUBLE_POINTER, plain, SHAPE, x, y, null, 0); // no exception
            assertThrows(IllegalArgumentException.class, () -> run(BufferKind.DOUBLE_POINTER, checking, SHAPE, x, y,
                    null, 0));
            y[8] = 1; // the planted 2 after the ignored element
            Outcome o = run(BufferKind.DOUBLE_POINTER, ignoring, SHAPE, x, y, null, 0);
            assertEquals(0.0, o.gradInput[7], "the ignored element");
            double[] valid = labels(N, 6);
            valid[3] = Double.NaN;
            Outcome nan = run(BufferKind.DOUBLE_POINTER, checking, SHAPE, x, valid, null, 0);
            assertTrue(Double.isNaN(nan.returned), "NaN propagates rather than failing");
            valid[3] = 0.5;
            assertClose(run(BufferKind.DOUBLE_POINTER, plain, SHAPE, x, valid, null, 0).returned,
                    run(BufferKind.DOUBLE_POINTER, checking, SHAPE, x, valid, null, 0).returned, 0, 0, "same values");
        }
    }
}
