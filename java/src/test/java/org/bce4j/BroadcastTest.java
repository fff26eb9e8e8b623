package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.bce4j.BceTestSupport.BufferKind;
import org.bce4j.BceTestSupport.Outcome;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** weight and pos_weight broadcast numpy-style to the input's shape, and may never enlarge it. */
class BroadcastTest {

    static Stream<Arguments> broadcastShapes() {
        long[] nc = {3, 4};
        long[] nhc = {2, 3, 4};
        return Stream.of(
                Arguments.of(nc, new long[] {4}),          // [C]
                Arguments.of(nc, new long[] {3, 1}),       // [N, 1]
                Arguments.of(nc, new long[] {1}),          // [1]
                Arguments.of(nc, new long[] {}),           // 0-d
                Arguments.of(nc, new long[] {3, 4}),       // full
                Arguments.of(nc, new long[] {1, 4}),
                Arguments.of(nc, new long[] {1, 1}),
                Arguments.of(nhc, new long[] {3, 1}),      // middle dimension only
                Arguments.of(nhc, new long[] {2, 1, 4}),
                Arguments.of(nhc, new long[] {1, 3, 1}),
                Arguments.of(nhc, new long[] {2, 3, 4}),
                Arguments.of(new long[] {1, 5, 1}, new long[] {5, 1}),
                Arguments.of(new long[] {6, 1}, new long[] {6, 1}));
    }

    @ParameterizedTest(name = "input {0}, weight and pos_weight {1}")
    @MethodSource("broadcastShapes")
    @DisplayName("weight and pos_weight broadcast to the input (float64 and float32)")
    void weightsBroadcast(long[] inputShape, long[] operandShape) {
        int n = count(inputShape);
        int m = count(operandShape);
        double[] x = floatValues(n, 41, -3, 3);
        double[] y = floatValues(n, 42, 0, 1);
        double[] w = floatValues(m, 43, 0.25, 2);
        double[] p = floatValues(m, 44, 0.5, 5);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).weight(w, operandShape)
                .posWeight(p, operandShape).build()) {
            var e = expected(true, Reduction.NONE, x, y, expand(w, operandShape, inputShape),
                    expand(p, operandShape, inputShape), null);
            for (BufferKind kind : new BufferKind[] {BufferKind.DOUBLE_POINTER, BufferKind.FLOAT_BUFFER}) {
                Outcome o = run(kind, loss, inputShape, x, y, null, 0);
                assertOutcome(e, o, kind.dtype, Arrays.toString(operandShape) + " over " + Arrays.toString(inputShape));
            }
        }
    }

    @Test
    @DisplayName("300 random input shapes (0-4 dims) with random broadcastable weight and pos_weight shapes")
    void randomBroadcasts() {
        SplittableRandom random = new SplittableRandom(2024);
        for (int round = 0; round < 300; round++) {
            long[] inputShape = new long[random.nextInt(5)];
            for (int d = 0; d < inputShape.length; d++)
                inputShape[d] = random.nextInt(4) == 0 ? 1 : 1 + random.nextInt(5);
            long[] weightShape = randomOperandShape(random, inputShape);
            long[] posWeightShape = randomOperandShape(random, inputShape);
            int n = count(inputShape);
            double[] x = floatValues(n, round, -5, 5);
            double[] y = floatValues(n, round + 1000, 0, 1);
            double[] w = floatValues(count(weightShape), round + 2000, 0, 3);
            double[] p = floatValues(count(posWeightShape), round + 3000, 0.25, 4);
            Reduction reduction = Reduction.values()[round % 3];
            BufferKind kind = round % 2 == 0 ? BufferKind.DOUBLE_ADDRESS : BufferKind.FLOAT_POINTER;
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(w, weightShape)
                    .posWeight(p, posWeightShape).build()) {
                Outcome o = run(kind, loss, inputShape, x, y, null, round % 4);
                assertOutcome(expected(true, reduction, x, y, expand(w, weightShape, inputShape),
                        expand(p, posWeightShape, inputShape), null), o, kind.dtype,
                        "round " + round + ": input " + Arrays.toString(inputShape) + ", weight "
                                + Arrays.toString(weightShape) + ", pos_weight " + Arrays.toString(posWeightShape));
            }
        }
    }

    /** A suffix of the input's dimensions, each kept or replaced by 1. */
    private static long[] randomOperandShape(SplittableRandom random, long[] inputShape) {
        long[] shape = new long[random.nextInt(inputShape.length + 1)];
        int offset = inputShape.length - shape.length;
        for (int d = 0; d < shape.length; d++) shape[d] = random.nextBoolean() ? inputShape[offset + d] : 1;
        return shape;
    }

    @Test
    @DisplayName("weight [N,1] and pos_weight [C] together over [N,C]")
    void differentShapesForWeightAndPosWeight() {
        long[] shape = {5, 3};
        double[] x = floatValues(15, 51, -4, 4);
        double[] y = labels(15, 52);
        double[] w = {1, 2, 3, 0.5, 0};
        double[] p = {4, 0.25, 1};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).weight(w, 5, 1)
                .posWeight(p, 3).build()) {
            Outcome o = run(BufferKind.DOUBLE_ADDRESS, loss, shape, x, y, null, 0);
            assertOutcome(expected(true, Reduction.SUM, x, y, expand(w, new long[] {5, 1}, shape),
                    expand(p, new long[] {3}, shape), null), o, DType.FLOAT64, "mixed");
        }
    }

    @Test
    @DisplayName("BCELoss weight [N,1] over [N,C]")
    void probabilitiesWeightBroadcast() {
        long[] shape = {4, 3};
        double[] x = floatValues(12, 61, 0.05, 0.95);
        double[] y = labels(12, 62);
        double[] w = {0.5, 1, 2, 4};
        try (BCELoss loss = BCELoss.builder().reduction(Reduction.MEAN).weight(w, 4, 1).build()) {
            Outcome o = run(BufferKind.FLOAT_POINTER, loss, shape, x, y, null, 2);
            assertOutcome(expected(false, Reduction.MEAN, x, y, expand(w, new long[] {4, 1}, shape), null, null), o,
                    DType.FLOAT32, "BCELoss [N,1]");
        }
    }

    @Test
    @DisplayName("a non-broadcastable weight: IllegalArgumentException naming weight and both shapes")
    void nonBroadcastableWeight() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(new float[5], 5).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(BufferKind.FLOAT_POINTER, loss, new long[] {4, 7}, new double[28], new double[28], null,
                            0));
            assertTrue(e.getMessage().contains("weight"), e.getMessage());
            assertTrue(e.getMessage().contains("[5]"), e.getMessage());
            assertTrue(e.getMessage().contains("[4, 7]"), e.getMessage());
        }
    }

    @Test
    @DisplayName("a non-broadcastable pos_weight: IllegalArgumentException naming it and both shapes")
    void nonBroadcastablePosWeight() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().posWeight(new double[] {1, 2}, 2, 1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(BufferKind.DOUBLE_BUFFER, loss, new long[] {3, 2}, new double[6], new double[6], null,
                            0));
            String m = e.getMessage();
            assertTrue(m.contains("pos_weight") || m.contains("posWeight"), m);
            assertTrue(m.contains("[2, 1]") && m.contains("[3, 2]"), m);
        }
    }

    @Test
    @DisplayName("a weight with more dimensions than the input: IllegalArgumentException naming weight")
    void weightWithMoreDimensions() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(new double[] {1, 2, 3}, 1, 3).build();
                BCELoss probabilities = BCELoss.builder().weight(new double[] {1}, 1).build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(BufferKind.DOUBLE_POINTER, loss, new long[] {3}, new double[3], new double[3], null, 0));
            assertTrue(e.getMessage().contains("weight"), e.getMessage());
            assertTrue(e.getMessage().contains("[1, 3]") && e.getMessage().contains("[3]"), e.getMessage());
            // even [1] may not enlarge a 0-d input
            IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
                    () -> run(BufferKind.FLOAT_ADDRESS, probabilities, new long[] {}, new double[] {0.5},
                            new double[] {1}, null, 0));
            assertTrue(e2.getMessage().contains("weight"), e2.getMessage());
        }
    }
}
