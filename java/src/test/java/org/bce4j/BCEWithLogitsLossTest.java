package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bce4j.BceTestSupport.BufferKind;
import org.bce4j.BceTestSupport.Expected;
import org.bce4j.BceTestSupport.Outcome;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** BCEWithLogitsLoss values, gradients and reductions against the float64 reference. */
class BCEWithLogitsLossTest {

    /** The [4, 7] multi-label case: logits, soft and hard labels, weight[7] and pos_weight[7]. */
    static final long[] MULTI_SHAPE = {4, 7};
    static final double[] MULTI_WEIGHT = {1, 0.5, 2, 1, 1.5, 0.25, 1};
    static final double[] MULTI_POS_WEIGHT = {3, 1, 0.5, 2, 1, 4, 1};

    static double[] multiLogits() {
        double[] x = new double[28];
        for (int i = 0; i < x.length; i++) x[i] = (i % 5 - 2) * 0.75 + (i / 7) * 0.25;
        return x;
    }

    static double[] multiLabels() {
        double[] y = new double[28];
        for (int i = 0; i < y.length; i++) y[i] = (i * 3 + 1) % 4 == 0 ? 1 : (i % 6 == 0 ? 0.25 : 0);
        return y;
    }

    static BCEWithLogitsLoss multiLoss(Reduction reduction) {
        return BCEWithLogitsLoss.builder().weight(MULTI_WEIGHT, 7).posWeight(MULTI_POS_WEIGHT, 7)
                .reduction(reduction).build();
    }

    static Expected multiExpected(Reduction reduction, double[] gradOutput) {
        return expected(true, reduction, multiLogits(), multiLabels(),
                expand(MULTI_WEIGHT, new long[] {7}, MULTI_SHAPE),
                expand(MULTI_POS_WEIGHT, new long[] {7}, MULTI_SHAPE), gradOutput);
    }

    @Test
    @DisplayName("seed: logits [5,1,3], labels [1,0,1], mean = 0.45618813; grads (sigmoid(x)-y)/3 and -x/3")
    void seedExample() {
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.MEAN); PointerScope scope = new PointerScope()) {
            Tensor gi = Tensor.allocate(DType.FLOAT32, 3);
            Tensor gt = Tensor.allocate(DType.FLOAT32, 3);
            double mean = loss.compute(Tensor.of(new FloatPointer(5f, 1f, 3f), 3),
                    Tensor.of(new FloatPointer(1f, 0f, 1f), 3),
                    new Outputs().gradInput(gi).gradTarget(gt));
            assertClose(0.45618813, mean, 0, 1e-7, "seed mean");
            // float32 data is summed in double: with the scalar kernels the result is the exact value, not Paddle's
            // float32 0.45618808; the SIMD kernels sum their float32 element losses.
            double exact = (softplus(-5) + (1 + softplus(-1)) + softplus(-3)) / 3;
            assertClose(exact, mean, reducedRel(DType.FLOAT32), 0, "seed mean, float64 precision");
            double[] x = {5, 1, 3};
            double[] y = {1, 0, 1};
            double[] expectedGi = new double[3];
            double[] expectedGt = new double[3];
            for (int i = 0; i < 3; i++) {
                expectedGi[i] = (sigmoid(x[i]) - y[i]) / 3;
                expectedGt[i] = -x[i] / 3;
            }
            Expected terms = expected(true, Reduction.MEAN, x, y, null, null, null);
            assertAllClose(expectedGi, terms.gradInputTerms, toDoubles(gi.toFloatArray()), DType.FLOAT32,
                    "grad_input");
            assertAllClose(expectedGt, terms.gradTargetTerms, toDoubles(gt.toFloatArray()), DType.FLOAT32,
                    "grad_target");
        }
    }

    static Stream<Arguments> reductionsAndDtypes() {
        List<Arguments> list = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            list.add(Arguments.of(r, BufferKind.FLOAT_POINTER));
            list.add(Arguments.of(r, BufferKind.DOUBLE_POINTER));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "[4,7] weight[7] pos_weight[7] {0} {1}")
    @MethodSource("reductionsAndDtypes")
    @DisplayName("multi-label [4,7] with weight and pos_weight of shape [7]")
    void multiLabelWithWeights(Reduction reduction, BufferKind kind) {
        try (BCEWithLogitsLoss loss = multiLoss(reduction)) {
            Outcome o = run(kind, loss, MULTI_SHAPE, multiLogits(), multiLabels(), null, 0);
            assertOutcome(multiExpected(reduction, null), o, kind.dtype, reduction + " " + kind);
        }
    }

    @ParameterizedTest(name = "gradOutput with {0} {1}")
    @MethodSource("reductionsAndDtypes")
    @DisplayName("upstream gradient: one scalar for MEAN/SUM, input-shaped for NONE")
    void upstreamGradient(Reduction reduction, BufferKind kind) {
        double[] gradOutput = reduction == Reduction.NONE ? floatValues(28, 7, -2, 3) : new double[] {2.5};
        try (BCEWithLogitsLoss loss = multiLoss(reduction)) {
            Outcome o = run(kind, loss, MULTI_SHAPE, multiLogits(), multiLabels(), gradOutput, 0);
            Expected e = multiExpected(reduction, gradOutput);
            assertOutcome(e, o, kind.dtype, "gradOutput " + reduction);
            // the loss itself is never scaled by the upstream gradient
            Expected unscaled = multiExpected(reduction, null);
            assertAllClose(unscaled.loss, o.loss, kind.dtype, "loss ignores gradOutput");
            if (reduction != Reduction.NONE) {
                assertClose(unscaled.returned, o.returned, reducedRel(kind.dtype), ABS64,
                        "returned loss ignores gradOutput");
            }
        }
    }

    @Test
    @DisplayName("MEAN divides by the element count, not by the sum of the weights")
    void meanDividesByCount() {
        try (BCEWithLogitsLoss mean = multiLoss(Reduction.MEAN); BCEWithLogitsLoss sum = multiLoss(Reduction.SUM)) {
            Outcome m = run(BufferKind.DOUBLE_POINTER, mean, MULTI_SHAPE, multiLogits(), multiLabels(), null, 0);
            Outcome s = run(BufferKind.DOUBLE_POINTER, sum, MULTI_SHAPE, multiLogits(), multiLabels(), null, 0);
            assertClose(s.returned / 28, m.returned, REL64, 0, "mean = sum / 28");
        }
    }

    @Test
    @DisplayName("NONE returns NaN and writes per-element losses; MEAN/SUM also write the loss buffer")
    void returnValueAndLossBuffer() {
        try (BCEWithLogitsLoss none = new BCEWithLogitsLoss(Reduction.NONE);
                BCEWithLogitsLoss sum = new BCEWithLogitsLoss(Reduction.SUM)) {
            double[] x = {-1.5, 0, 2};
            double[] y = {0, 0.5, 1};
            Outcome o = run(BufferKind.DOUBLE_POINTER, none, new long[] {3}, x, y, null, 0);
            assertTrue(Double.isNaN(o.returned));
            assertAllClose(expected(true, Reduction.NONE, x, y, null, null, null).loss, o.loss, DType.FLOAT64, "loss");
            Outcome s = run(BufferKind.FLOAT_POINTER, sum, new long[] {3}, x, y, null, 0);
            assertEquals((float) s.returned, s.loss[0], 0.0, "float32 loss buffer holds the rounded sum");
        }
    }

    @Test
    @DisplayName("outputs are optional: only the return value requested")
    void onlyReturnValue() {
        double[] x = floatValues(10, 1, -4, 4);
        double[] y = labels(10, 2);
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.MEAN); PointerScope scope = new PointerScope()) {
            double mean = loss.compute(Tensor.of(new FloatPointer(toFloats(x)), 10),
                    Tensor.of(new FloatPointer(toFloats(y)), 10));
            double want = expected(true, Reduction.MEAN, x, y, null, null, null).returned;
            assertClose(want, mean, reducedRel(DType.FLOAT32), ABS64, "mean");
            double mean2 = loss.computeAt(DType.FLOAT32, new long[] {10}, new FloatPointer(toFloats(x)).address(),
                    new FloatPointer(toFloats(y)).address(), 0, 0, 0, 0);
            assertEquals(mean, mean2, 0.0, "raw-address path, no outputs");
        }
    }

    @ParameterizedTest(name = "empty input shape {0}, {1}")
    @MethodSource("emptyCases")
    @DisplayName("empty input: NONE writes nothing, MEAN is NaN, SUM and the normalised means are 0")
    void emptyInput(String shapeText, Reduction reduction, BufferKind kind) {
        long[] shape = shapeText.equals("[0]") ? new long[] {0} : new long[] {2, 0, 3};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(new double[] {2}, 1)
                .build()) {
            Outcome o = run(kind, loss, shape, new double[0], new double[0], null, 2);
            switch (reduction) {
                case NONE -> assertTrue(Double.isNaN(o.returned));
                case SUM, MEAN_BY_WEIGHT, MEAN_BY_NONZERO_WEIGHT, MEAN_VALID -> {
                    assertEquals(0.0, o.returned, 0.0);
                    assertEquals(0.0, o.loss[0], 0.0);
                }
                case MEAN -> {
                    assertTrue(Double.isNaN(o.returned), "mean of nothing is NaN, was " + o.returned);
                    assertTrue(Double.isNaN(o.loss[0]), "loss buffer holds NaN");
                }
            }
        }
    }

    static Stream<Arguments> emptyCases() {
        List<Arguments> list = new ArrayList<>();
        for (Reduction r : Reduction.values()) {
            list.add(Arguments.of("[0]", r, BufferKind.FLOAT_POINTER));
            list.add(Arguments.of("[2, 0, 3]", r, BufferKind.DOUBLE_BUFFER));
        }
        list.add(Arguments.of("[0]", Reduction.SUM, BufferKind.FLOAT_ADDRESS));
        list.add(Arguments.of("[0]", Reduction.MEAN, BufferKind.DOUBLE_ARRAY));
        return list.stream();
    }

    @Test
    @DisplayName("empty input through raw addresses of 0 is allowed")
    void emptyInputNullAddresses() {
        try (BCEWithLogitsLoss sum = new BCEWithLogitsLoss(Reduction.SUM);
                BCEWithLogitsLoss none = new BCEWithLogitsLoss(Reduction.NONE)) {
            assertEquals(0.0, sum.computeAt(DType.FLOAT64, new long[] {0}, 0, 0, 0, 0, 0, 0), 0.0);
            assertTrue(Double.isNaN(none.computeAt(DType.FLOAT32, new long[] {3, 0}, 0, 0, 0, 0, 0, 0)));
        }
    }

    @ParameterizedTest(name = "0-d input, {0}")
    @EnumSource(Reduction.class)
    @DisplayName("0-d input (shape {}) with 0-d weight and pos_weight")
    void scalarInput(Reduction reduction) {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(new double[] {1.5})
                .posWeight(new double[] {3}).build()) {
            double[] x = {-0.75};
            double[] y = {1};
            for (BufferKind kind : new BufferKind[] {BufferKind.FLOAT_BUFFER, BufferKind.DOUBLE_ADDRESS}) {
                Outcome o = run(kind, loss, new long[] {}, x, y, null, 1);
                assertOutcome(expected(true, reduction, x, y, new double[] {1.5}, new double[] {3}, null), o,
                        kind.dtype, "0-d " + kind);
            }
        }
    }

    @ParameterizedTest(name = "{0} elements, {1}")
    @MethodSource("largeCases")
    @DisplayName("odd, multi-threaded sizes agree with an element-by-element loop")
    void largeOddSizes(String shapeText, BufferKind kind) {
        long[] shape = shapeText.equals("[100003]") ? new long[] {100003} : new long[] {1001, 101};
        int n = count(shape);
        double[] x = floatValues(n, 11, -8, 8);
        double[] y = floatValues(n, 12, 0, 1);
        double[] w;
        double[] p;
        BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN);
        if (shape.length == 1) {
            b.weight(new double[] {0.75}).posWeight(new double[] {2}, 1);
            w = filled(n, 0.75);
            p = filled(n, 2);
        } else {
            double[] wv = floatValues(101, 13, 0, 2);
            double[] pv = floatValues(1001, 14, 0.5, 4);
            b.weight(wv, 101).posWeight(pv, 1001, 1);
            w = expand(wv, new long[] {101}, shape);
            p = expand(pv, new long[] {1001, 1}, shape);
        }
        try (BCEWithLogitsLoss loss = b.build()) {
            Outcome o = run(kind, loss, shape, x, y, null, 1);
            assertOutcome(expected(true, Reduction.MEAN, x, y, w, p, null), o, kind.dtype, shapeText);
        }
    }

    static Stream<Arguments> largeCases() {
        return Stream.of(Arguments.of("[100003]", BufferKind.FLOAT_ADDRESS),
                Arguments.of("[100003]", BufferKind.DOUBLE_BUFFER),
                Arguments.of("[1001, 101]", BufferKind.FLOAT_POINTER),
                Arguments.of("[1001, 101]", BufferKind.DOUBLE_POINTER));
    }

    @ParameterizedTest(name = "[{0}, 7]")
    @ValueSource(ints = {1170, 1171, 1172, 4681, 4682, 4683})
    @DisplayName("sizes around the 8192-element block and the 32768-element parallel threshold, rows split across blocks")
    void blockBoundaries(int rows) {
        long[] shape = {rows, 7};
        int n = rows * 7;
        double[] x = floatValues(n, rows, -6, 6);
        double[] y = floatValues(n, rows + 1, 0, 1);
        double[] pv = floatValues(rows, rows + 2, 0.5, 3);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).numThreads(2)
                .weight(BCEWithLogitsLossTest.MULTI_WEIGHT, 7).posWeight(pv, rows, 1).build()) {
            Outcome o = run(BufferKind.DOUBLE_POINTER, loss, shape, x, y, new double[] {0.75}, 0);
            assertOutcome(expected(true, Reduction.SUM, x, y, expand(MULTI_WEIGHT, new long[] {7}, shape),
                    expand(pv, new long[] {rows, 1}, shape), new double[] {0.75}), o, DType.FLOAT64, rows + " rows");
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = BufferKind.class, names = {"FLOAT_ADDRESS", "DOUBLE_POINTER"})
    @DisplayName("numThreads(1), numThreads(2) and the default give bit-identical results")
    void threadCountDoesNotChangeResults(BufferKind kind) {
        int n = 100003;
        long[] shape = {n};
        double[] x = floatValues(n, 21, -10, 10);
        double[] y = floatValues(n, 22, 0, 1);
        for (Reduction reduction : new Reduction[] {Reduction.SUM, Reduction.NONE}) {
            Outcome[] outcomes = new Outcome[3];
            int[] threads = {1, 2, 0};
            for (int t = 0; t < 3; t++) {
                try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).numThreads(threads[t])
                        .posWeight(new double[] {1.25}, 1).build()) {
                    assertEquals(threads[t], loss.numThreads());
                    outcomes[t] = run(kind, loss, shape, x, y, null, 0);
                }
            }
            for (int t = 1; t < 3; t++) {
                String what = reduction + " threads " + threads[t] + " vs 1";
                assertEquals(Double.doubleToLongBits(outcomes[0].returned),
                        Double.doubleToLongBits(outcomes[t].returned),
                        what);
                assertArrayEquals(outcomes[0].loss, outcomes[t].loss, 0.0, what);
                assertArrayEquals(outcomes[0].gradInput, outcomes[t].gradInput, 0.0, what);
                assertArrayEquals(outcomes[0].gradTarget, outcomes[t].gradTarget, 0.0, what);
            }
        }
    }

    @ParameterizedTest(name = "{0}, {1}")
    @MethodSource("kindsAndLosses")
    @DisplayName("every reduction with weight, ignore_index, smoothing and (logits) focal: numThreads(1), numThreads(2) "
            + "and the default give bit-identical results above the OpenMP threshold")
    void threadCountDoesNotChangeConventions(BufferKind kind, boolean logits) {
        long[] shape = {14287, 7}; // 100009 elements: above the 32768-element threshold, 13 blocks of 8192
        int n = count(shape);
        double[] x = logits ? floatValues(n, 31, -10, 10) : floatValues(n, 31, 0.01, 0.99);
        double[] y = floatValues(n, 32, 0, 1);
        for (int i = 0; i < n; i += 11) y[i] = -100;
        double[] w = {0, 0.5, 1, 1.5, 2, 0.25, 3}; // a 0 weight: MEAN_BY_NONZERO_WEIGHT differs from MEAN_BY_WEIGHT
        for (Reduction reduction : Reduction.values()) {
            Outcome[] outcomes = new Outcome[3];
            int[] threads = {1, 2, 0};
            for (int t = 0; t < 3; t++) {
                try (BinaryCrossEntropy loss = logits
                        ? BCEWithLogitsLoss.builder().reduction(reduction).numThreads(threads[t]).weight(w, 7)
                                .ignoreIndex(-100).labelSmoothing(0.1).focal(2, 0.25).build()
                        : BCELoss.builder().reduction(reduction).numThreads(threads[t]).weight(w, 7)
                                .ignoreIndex(-100).labelSmoothing(0.1, 4).build()) {
                    outcomes[t] = run(kind, loss, shape, x, y, null, 0);
                }
            }
            for (int t = 1; t < 3; t++) {
                String what = (logits ? "logits " : "probabilities ") + reduction + " threads " + threads[t] + " vs 1";
                assertEquals(Double.doubleToLongBits(outcomes[0].returned),
                        Double.doubleToLongBits(outcomes[t].returned),
                        what);
                assertArrayEquals(outcomes[0].loss, outcomes[t].loss, 0.0, what);
                assertArrayEquals(outcomes[0].gradInput, outcomes[t].gradInput, 0.0, what);
                assertArrayEquals(outcomes[0].gradTarget, outcomes[t].gradTarget, 0.0, what);
            }
        }
    }

    static Stream<Arguments> kindsAndLosses() {
        return Stream.of(Arguments.of(BufferKind.FLOAT_ADDRESS, true), Arguments.of(BufferKind.DOUBLE_POINTER, true),
                Arguments.of(BufferKind.FLOAT_BUFFER, false), Arguments.of(BufferKind.DOUBLE_ADDRESS, false));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = BufferKind.class, names = {"FLOAT_POINTER", "DOUBLE_POINTER"})
    @DisplayName("extreme logits (±1e4, ±100, ±30) give finite, accurate losses and gradients")
    void extremeLogits(BufferKind kind) {
        double[] magnitudes = {1e4, 100, 30};
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (double m : magnitudes) {
            for (double sign : new double[] {1, -1}) {
                for (double label : new double[] {0, 1, 0.5}) {
                    xs.add(sign * m);
                    ys.add(label);
                }
            }
        }
        double[] x = xs.stream().mapToDouble(Double::doubleValue).toArray();
        double[] y = ys.stream().mapToDouble(Double::doubleValue).toArray();
        long[] shape = {x.length};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE)
                .posWeight(new double[] {2}, 1).build()) {
            Outcome o = run(kind, loss, shape, x, y, null, 0);
            for (int i = 0; i < x.length; i++) {
                assertTrue(Double.isFinite(o.loss[i]) && Double.isFinite(o.gradInput[i])
                        && Double.isFinite(o.gradTarget[i]), "finite at x=" + x[i] + " y=" + y[i]);
                assertTrue(o.loss[i] >= 0, "loss is non-negative at x=" + x[i]);
            }
            assertOutcome(expected(true, Reduction.NONE, x, y, null, filled(x.length, 2), null), o, kind.dtype,
                    "extremes");
        }
    }

    @Test
    @DisplayName("infinite logits give the true limit (0) where the label agrees, as documented")
    void infiniteLogits() {
        double inf = Double.POSITIVE_INFINITY;
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.NONE)) {
            Outcome o = run(BufferKind.DOUBLE_POINTER, loss, new long[] {3}, new double[] {inf, -inf, inf},
                    new double[] {1, 0, 0}, null, 0);
            assertEquals(0.0, o.loss[0], 0.0, "x=+inf, y=1");
            assertEquals(0.0, o.loss[1], 0.0, "x=-inf, y=0");
            assertEquals(inf, o.loss[2], "x=+inf, y=0");
            assertEquals(0.0, o.gradInput[0], 0.0);
            assertEquals(0.0, o.gradInput[1], 0.0);
            assertEquals(1.0, o.gradInput[2], 0.0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = BufferKind.class, names = {"FLOAT_BUFFER", "DOUBLE_ARRAY"})
    @DisplayName("NaN in input or target gives NaN out, neighbours unaffected, reduced loss NaN")
    void nanPropagates(BufferKind kind) {
        double[] x = {Double.NaN, 1, 0.5};
        double[] y = {1, Double.NaN, 0};
        try (BCEWithLogitsLoss none = new BCEWithLogitsLoss(Reduction.NONE);
                BCEWithLogitsLoss mean = new BCEWithLogitsLoss(Reduction.MEAN)) {
            Outcome o = run(kind, none, new long[] {3}, x, y, null, 1);
            assertTrue(Double.isNaN(o.loss[0]), "loss at NaN logit");
            assertTrue(Double.isNaN(o.gradInput[0]), "grad_input at NaN logit");
            assertTrue(Double.isNaN(o.gradTarget[0]), "grad_target at NaN logit");
            assertTrue(Double.isNaN(o.loss[1]), "loss at NaN target");
            assertTrue(Double.isNaN(o.gradInput[1]), "grad_input at NaN target");
            // grad_target = -x + (p-1)*softplus(-x) does not depend on the target
            assertClose(logitsGradTarget(1, Double.NaN, 1, 1), o.gradTarget[1], REL32, ABS32, "grad_target");
            assertClose(logitsLoss(0.5, 0, 1, 1), o.loss[2], REL32, ABS32, "finite neighbour");
            assertTrue(Double.isNaN(run(kind, mean, new long[] {3}, x, y, null, 0).returned), "mean is NaN");
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"float64", "float32"})
    @DisplayName("double weights are used exactly for float64 and rounded to float for float32")
    void doubleWeightsRoundedForFloat32(String dtype) {
        double[] x = {1, -2, 3};
        double[] y = {0, 1, 0.5};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).weight(new double[] {0.1}, 1)
                .posWeight(new double[] {0.3}, 1).build()) {
            boolean f32 = dtype.equals("float32");
            double w = f32 ? (float) 0.1 : 0.1;
            double p = f32 ? (float) 0.3 : 0.3;
            Outcome o = run(f32 ? BufferKind.FLOAT_POINTER : BufferKind.DOUBLE_POINTER, loss, new long[] {3}, x, y,
                    null, 0);
            double e = expected(true, Reduction.SUM, x, y, filled(3, w), filled(3, p), null).returned;
            assertClose(e, o.returned, f32 ? reducedRel(DType.FLOAT32) : 1e-14, 0, dtype + " sum");
        }
    }

    @Test
    @DisplayName("builder copies the weight values: later changes to the array have no effect")
    void builderCopiesWeights() {
        double[] weight = {2, 3};
        BCEWithLogitsLoss.Builder builder = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).weight(weight, 2);
        weight[0] = 100;
        double[] x = {0.5, -0.5};
        double[] y = {1, 0};
        try (BCEWithLogitsLoss first = builder.build()) {
            weight[1] = 100;
            try (BCEWithLogitsLoss second = builder.build()) {
                first.close();
                Outcome o = run(BufferKind.DOUBLE_POINTER, second, new long[] {2}, x, y, null, 0);
                assertOutcome(expected(true, Reduction.NONE, x, y, new double[] {2, 3}, null, null), o, DType.FLOAT64,
                        "copied weights; a sibling's close() does not matter");
            }
        }
    }

    @Test
    @DisplayName("accessors: reduction() and numThreads(); defaults MEAN and 0")
    void accessors() {
        try (BCEWithLogitsLoss a = BCEWithLogitsLoss.builder().build(); BCELoss b = new BCELoss(Reduction.SUM);
                BCEWithLogitsLoss c = BCEWithLogitsLoss.builder().numThreads(3).reduction(Reduction.NONE).build()) {
            assertEquals(Reduction.MEAN, a.reduction());
            assertEquals(0, a.numThreads());
            assertEquals(Reduction.SUM, b.reduction());
            assertEquals(Reduction.NONE, c.reduction());
            assertEquals(3, c.numThreads());
        }
    }
}
