package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * float16 and bfloat16 calls through every 16-bit buffer kind (direct {@link ShortBuffer}, {@link ShortPointer},
 * raw address), against a float64 reference on the widened values, rounded: within one rounding of the format
 * plus what float32 lanes add (4 float epsilons of the terms), or, where float32 is computed in double
 * ({@code BCE4J_ISA=scalar}), equal to the library's float64 result rounded once.
 */
class HalfStorageTest {
    static final long[] SHAPE = {5, 23};
    static final int N = 115;

    enum Kind { SHORT_BUFFER, SHORT_POINTER, ADDRESS }

    static Stream<Arguments> kindsFormatsReductions() {
        List<Arguments> list = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                for (Reduction r : Reduction.values()) list.add(Arguments.of(kind, dtype, r));
            }
        }
        return list.stream();
    }

    static double[] rounded(DType dtype, double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = HalfPrecision.toFloat(dtype, HalfPrecision.fromDouble(dtype, v[i]));
        return r;
    }

    static short[] bitsOf(DType dtype, double[] v) {
        short[] s = new short[v.length];
        for (int i = 0; i < v.length; i++) s[i] = HalfPrecision.fromDouble(dtype, v[i]);
        return s;
    }

    static double[] widened(DType dtype, short[] s) {
        double[] v = new double[s.length];
        for (int i = 0; i < s.length; i++) v[i] = HalfPrecision.toFloat(dtype, s[i]);
        return v;
    }

    static ShortBuffer directShorts(int n) {
        return ByteBuffer.allocateDirect(n * Short.BYTES).order(ByteOrder.nativeOrder()).asShortBuffer();
    }

    /** Outputs of one call, widened; the reduced loss as returned. */
    record Outcome(double[] loss, double[] gradInput, double[] gradTarget, double returned) {}

    /** Runs a call on 16-bit copies of x, y and gradOutput (values already representable) through `kind`. */
    static Outcome run(Kind kind, DType dtype, BinaryCrossEntropy loss, long[] shape, double[] x, double[] y,
            double[] gradOutput) {
        int n = x.length;
        int results = loss.reduction() == Reduction.NONE ? n : 1;
        short[] lossBits = new short[results];
        short[] gradInputBits = new short[n];
        short[] gradTargetBits = new short[n];
        double returned;
        switch (kind) {
            case SHORT_BUFFER -> {
                ShortBuffer l = directShorts(results), gi = directShorts(n), gt = directShorts(n);
                ShortBuffer g = gradOutput == null ? null
                        : directShorts(gradOutput.length).put(bitsOf(dtype, gradOutput)).flip();
                long[] resultShape = results == n ? shape : new long[0];
                returned = loss.compute(Tensor.of(dtype, directShorts(n).put(bitsOf(dtype, x)).flip(), shape),
                        Tensor.of(dtype, directShorts(n).put(bitsOf(dtype, y)).flip(), shape),
                        g == null ? null : Tensor.of(dtype, g, resultShape),
                        new Outputs().loss(Tensor.of(dtype, l, resultShape)).gradInput(Tensor.of(dtype, gi, shape))
                                .gradTarget(Tensor.of(dtype, gt, shape)));
                l.get(lossBits);
                gi.get(gradInputBits);
                gt.get(gradTargetBits);
            }
            case SHORT_POINTER, ADDRESS -> {
                try (PointerScope scope = new PointerScope()) {
                    ShortPointer l = new ShortPointer(results), gi = new ShortPointer(n), gt = new ShortPointer(n);
                    ShortPointer in = new ShortPointer(bitsOf(dtype, x)), tg = new ShortPointer(bitsOf(dtype, y));
                    ShortPointer g = gradOutput == null ? null : new ShortPointer(bitsOf(dtype, gradOutput));
                    returned = kind == Kind.SHORT_POINTER
                            ? loss.compute(Tensor.of(dtype, in, shape), Tensor.of(dtype, tg, shape),
                                    g == null ? null : Tensor.of(dtype, g, results == n ? shape : new long[0]),
                                    new Outputs().loss(Tensor.of(dtype, l, results == n ? shape : new long[0]))
                                            .gradInput(Tensor.of(dtype, gi, shape))
                                            .gradTarget(Tensor.of(dtype, gt, shape)))
                            : loss.computeAt(dtype, shape, in.address(), tg.address(), g == null ? 0 : g.address(),
                                    l.address(), gi.address(), gt.address());
                    l.get(lossBits);
                    gi.get(gradInputBits);
                    gt.get(gradTargetBits);
                }
            }
            default -> throw new AssertionError(kind);
        }
        return new Outcome(widened(dtype, lossBits), widened(dtype, gradInputBits), widened(dtype, gradTargetBits),
                returned);
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("kindsFormatsReductions")
    void logitsWithBroadcastWeightsMatchTheReference(Kind kind, DType dtype, Reduction reduction) {
        double[] x = rounded(dtype, floatValues(N, 1, -9, 9));
        double[] y = rounded(dtype, floatValues(N, 2, 0, 1));
        float[] weight = toFloats(floatValues(23, 3, 0, 2)); // not representable: rounded for the call
        weight[4] = 0;
        float[] posWeight = toFloats(floatValues(5, 4, 0.5, 3));
        double[] gradOutput = reduction == Reduction.NONE ? rounded(dtype, floatValues(N, 5, -2, 2))
                : rounded(dtype, new double[] {0.3});
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(weight, 23)
                .posWeight(posWeight, 5, 1).build()) {
            Outcome o = run(kind, dtype, loss, SHAPE, x, y, gradOutput);
            double[] w = expand(rounded(dtype, toDoubles(weight)), new long[] {23}, SHAPE);
            double[] p = expand(rounded(dtype, toDoubles(posWeight)), new long[] {5, 1}, SHAPE);
            Expected e = expected(true, reduction, x, y, w, p, gradOutput);
            double g = reduction == Reduction.NONE ? 1 : Math.abs(gradOutput[0]);
            double sumTerms = 0;
            for (int i = 0; i < N; i++) {
                double gi = reduction == Reduction.NONE ? Math.abs(gradOutput[i]) : g;
                double terms = Math.abs(w[i]) * (1 + Math.abs(x[i])) * (1 + p[i]);
                sumTerms += terms;
                assertRounded16(dtype, e.gradInput[i], o.gradInput[i], terms * gi, "gradInput " + i);
                assertRounded16(dtype, e.gradTarget[i], o.gradTarget[i], terms * gi, "gradTarget " + i);
                if (reduction == Reduction.NONE) assertRounded16(dtype, e.loss[i], o.loss[i], terms, "loss " + i);
            }
            if (reduction == Reduction.NONE) {
                assertTrue(Double.isNaN(o.returned));
            } else {
                assertEquals(e.returned, o.returned, (FLOAT32_ROUNDED_ONCE ? 1e-12 : LANES32) * sumTerms, "returned");
                // The one-element loss is the double result rounded once.
                assertEquals(rounded(dtype, new double[] {o.returned})[0], o.loss[0], "loss[0]");
            }
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("kindsAndFormats")
    void probabilitiesWithWeightMatchTheReference(Kind kind, DType dtype) {
        double[] x = rounded(dtype, floatValues(N, 6, 0.02, 0.98));
        double[] y = rounded(dtype, floatValues(N, 7, 0, 1));
        double[] weight = floatValues(23, 8, 0.5, 2);
        try (BCELoss loss = BCELoss.builder().reduction(Reduction.NONE).weight(weight, 23).build()) {
            Outcome o = run(kind, dtype, loss, SHAPE, x, y, null);
            double[] w = expand(rounded(dtype, weight), new long[] {23}, SHAPE);
            Expected e = expected(false, Reduction.NONE, x, y, w, null, null);
            for (int i = 0; i < N; i++) {
                double terms = w[i] * (2 - Math.log(x[i]) - Math.log1p(-x[i]) + 1 / (x[i] * (1 - x[i])));
                assertRounded16(dtype, e.loss[i], o.loss[i], terms, "loss " + i);
                assertRounded16(dtype, e.gradInput[i], o.gradInput[i], terms, "gradInput " + i);
                assertRounded16(dtype, e.gradTarget[i], o.gradTarget[i], terms, "gradTarget " + i);
            }
        }
    }

    static Stream<Arguments> kindsAndFormats() {
        List<Arguments> list = new ArrayList<>();
        for (Kind kind : Kind.values()) {
            list.add(Arguments.of(kind, DType.FLOAT16));
            list.add(Arguments.of(kind, DType.BFLOAT16));
        }
        return list.stream();
    }

    /**
     * Options without a closed-form reference here (ignore index, label smoothing, focal loss, mean-valid): the
     * float64 call of the same loss on the widened values, rounded.
     */
    @ParameterizedTest
    @EnumSource(names = {"FLOAT16", "BFLOAT16"})
    void conventionsMatchTheFloat64CallRounded(DType dtype) {
        double[] x = rounded(dtype, floatValues(N, 9, -6, 6));
        double[] y = rounded(dtype, floatValues(N, 10, 0, 1));
        for (int i = 0; i < N; i += 7) y[i] = -100;
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).ignoreIndex(-100)
                .labelSmoothing(0.1, 4).focal(2, 0.25).weight(new double[] {0.5, 1.5, 1, 2, 0.75}, 5, 1).build()) {
            Outcome o = run(Kind.SHORT_BUFFER, dtype, loss, SHAPE, x, y, null);
            BceTestSupport.Outcome wide = compute64(loss, SHAPE, x, y);
            double[] l = wide.loss, gi = wide.gradInput, gt = wide.gradTarget;
            for (int i = 0; i < N; i++) {
                double terms = 2 * (1 + Math.abs(x[i])) * 3;
                if (FLOAT32_ROUNDED_ONCE) {
                    assertEquals(rounded(dtype, new double[] {l[i]})[0], o.loss[i], "loss " + i);
                    assertEquals(rounded(dtype, new double[] {gi[i]})[0], o.gradInput[i], "gradInput " + i);
                    assertEquals(rounded(dtype, new double[] {gt[i]})[0], o.gradTarget[i], "gradTarget " + i);
                } else {
                    assertRounded16(dtype, l[i], o.loss[i], terms, "loss " + i);
                    assertRounded16(dtype, gi[i], o.gradInput[i], terms, "gradInput " + i);
                    assertRounded16(dtype, gt[i], o.gradTarget[i], terms, "gradTarget " + i);
                }
                if (y[i] == -100) assertEquals(0, o.gradInput[i], "ignored " + i);
            }
        }
    }

    @Test
    void anOutOfRangeProbabilityIsReportedWithItsIndexAndValue() {
        double[] x = rounded(DType.BFLOAT16, floatValues(N, 11, 0.1, 0.9));
        x[47] = 1.5;
        try (BCELoss loss = BCELoss.builder().build()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> run(Kind.SHORT_POINTER, DType.BFLOAT16, loss, SHAPE, x, labels(N, 12), null));
            assertTrue(e.getMessage().contains("input element 47 (index [2, 1]) is 1.5"), e.getMessage());
        }
    }

    @Test
    void badArgumentsAreRejectedNamingThem() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build()) {
            ShortBuffer ok = directShorts(N);
            Tensor view = Tensor.of(DType.FLOAT16, ok, SHAPE);
            assertMessage(IllegalArgumentException.class, "dtype is FLOAT32",
                    () -> Tensor.of(DType.FLOAT32, ok, SHAPE));
            assertMessage(NullPointerException.class, "dtype", () -> Tensor.of(null, ok, SHAPE));
            assertMessage(IllegalArgumentException.class, "data is a heap buffer",
                    () -> Tensor.of(DType.FLOAT16, ShortBuffer.allocate(N), SHAPE));
            ShortBuffer bigEndian = ByteBuffer.allocateDirect(2 * N)
                    .order(ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN
                            : ByteOrder.BIG_ENDIAN)
                    .asShortBuffer();
            assertMessage(IllegalArgumentException.class, "data has byte order",
                    () -> Tensor.of(DType.FLOAT16, bigEndian, SHAPE));
            assertMessage(IllegalArgumentException.class, "data has 114 elements remaining but 115",
                    () -> Tensor.of(DType.BFLOAT16, directShorts(114), SHAPE));
            assertMessage(IllegalArgumentException.class, "gradInput is read-only", () -> loss.compute(view, view,
                    new Outputs().gradInput(Tensor.of(DType.FLOAT16, ok.asReadOnlyBuffer(), SHAPE))));
            assertMessage(IllegalArgumentException.class, "target is BFLOAT16 but input is FLOAT16",
                    () -> loss.compute(view, Tensor.of(DType.BFLOAT16, ok, SHAPE)));
            assertMessage(NullPointerException.class, "input must not be null", () -> loss.compute(null, view));
            try (ShortPointer shortPointer = new ShortPointer(100); ShortPointer full = new ShortPointer(N)) {
                assertMessage(IllegalArgumentException.class, "data holds 100 elements",
                        () -> Tensor.of(DType.FLOAT16, shortPointer, SHAPE));
                ShortPointer closed = new ShortPointer(N);
                Tensor closedView = Tensor.of(DType.FLOAT16, closed, SHAPE);
                closed.close();
                assertMessage(IllegalArgumentException.class, "target points to NULL",
                        () -> loss.compute(Tensor.of(DType.FLOAT16, full, SHAPE), closedView));
                assertMessage(IllegalArgumentException.class, "dtype is FLOAT64",
                        () -> Tensor.of(DType.FLOAT64, full, SHAPE));
            }
        }
        BCEWithLogitsLoss closedLoss = BCEWithLogitsLoss.builder().build();
        closedLoss.close();
        Tensor b = Tensor.of(DType.FLOAT16, directShorts(N), SHAPE);
        assertThrows(IllegalStateException.class, () -> closedLoss.compute(b, b));
    }

    static void assertMessage(Class<? extends RuntimeException> type, String part, Runnable call) {
        RuntimeException e = assertThrows(type, call::run);
        if (!e.getMessage().contains(part)) fail("message \"" + e.getMessage() + "\" lacks \"" + part + "\"");
    }
}
