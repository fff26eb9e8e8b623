package org.bce4j;

import static org.bce4j.BceTestSupport.expand;
import static org.bce4j.BceTestSupport.expected;
import static org.bce4j.BceTestSupport.floatValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The optional CUDA path from Java: the availability query on this machine, the errors where CUDA cannot run,
 * and, where a device is present, the host-buffer path against the float64 reference. Tests that need a device
 * are skipped with the reason where there is none.
 */
class CudaTest {
    private static final CudaAvailability CUDA = Bce4j.cuda();

    private static void assumeDevice() {
        assumeTrue(CUDA.available(), "no CUDA device: " + CUDA.description());
    }

    @Test
    @DisplayName("the availability query is self-consistent and stable")
    void availability() {
        CudaAvailability again = Bce4j.cuda();
        assertEquals(CUDA, again, "a second query gives the same answer");
        if (CUDA.available()) {
            assertTrue(CUDA.deviceCount() > 0, CUDA.toString());
            assertTrue(CUDA.description().startsWith("available (" + CUDA.deviceCount() + " device"),
                    CUDA.description());
        } else {
            assertEquals(0, CUDA.deviceCount(), CUDA.toString());
            assertTrue(CUDA.description().startsWith("unavailable (") && CUDA.description().endsWith(")"),
                    CUDA.description());
            assertTrue(CUDA.description().length() > "unavailable ()".length(), "a reason is given");
        }
    }

    @Test
    @DisplayName("losses compute on the CPU unless asked otherwise")
    void cpuByDefault() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build(); BCELoss bce = new BCELoss(Reduction.SUM)) {
            assertSame(Device.CPU, loss.device());
            assertSame(Device.CPU, bce.device());
        }
        assertThrows(NullPointerException.class, () -> BCEWithLogitsLoss.builder().device(null));
    }

    @Test
    @DisplayName("where CUDA cannot run, a CUDA loss cannot be built, and the exception says why")
    void cudaLossWhereUnavailable() {
        assumeFalse(CUDA.available(), "CUDA is available here");
        CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                () -> BCEWithLogitsLoss.builder().device(Device.CUDA).build());
        assertEquals(CUDA, e.availability());
        assertTrue(e.getMessage().contains(CUDA.description()), e.getMessage());
        assertThrows(CudaUnavailableException.class, () -> BCELoss.builder().device(Device.CUDA).build());
    }

    @Test
    @DisplayName("where CUDA cannot run, computeOnCuda throws CudaUnavailableException and the CPU still works")
    void deviceCallWhereUnavailable() {
        assumeFalse(CUDA.available(), "CUDA is available here");
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build()) {
            // Addresses that are never dereferenced: the call fails before any device work.
            CudaUnavailableException e = assertThrows(CudaUnavailableException.class,
                    () -> loss.computeOnCuda(DType.FLOAT32, new long[] {3}, 256, 512, 0, 1024, 0, 0, 0));
            assertEquals(CUDA.state(), e.availability().state());
            double mean = loss.compute(Tensor.copyOf(new float[] {5, 1, 3}, 3), Tensor.copyOf(new float[] {1, 0, 1}, 3),
                    new Outputs().gradInput(Tensor.allocate(DType.FLOAT32, 3)));
            assertEquals(0.45618813, mean, 1e-6);
        }
    }

    @Test
    @DisplayName("computeOnCuda rejects a loss whose weights live in host memory, and null or zero arguments")
    void deviceCallArguments() {
        try (BCEWithLogitsLoss weighted = BCEWithLogitsLoss.builder().weight(new float[] {1, 2}, 2).build();
                BCEWithLogitsLoss plain = BCEWithLogitsLoss.builder().build()) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> weighted.computeOnCuda(DType.FLOAT32, new long[] {2}, 256, 512, 0, 1024, 0, 0, 0));
            assertTrue(e.getMessage().contains("host memory"), e.getMessage());
            assertThrows(NullPointerException.class,
                    () -> plain.computeOnCuda(null, new long[] {2}, 256, 512, 0, 1024, 0, 0, 0));
            NullPointerException input = assertThrows(NullPointerException.class,
                    () -> plain.computeOnCuda(DType.FLOAT32, new long[] {2}, 0, 512, 0, 1024, 0, 0, 0));
            assertTrue(input.getMessage().startsWith("input"), input.getMessage());
        }
    }

    /** Every option that changes the arithmetic, on a device, against the float64 reference. */
    @Test
    @DisplayName("on a device: host buffers of every kind, weights broadcast, all reductions, against the reference")
    void hostBuffersOnDevice() {
        assumeDevice();
        long[] shape = {40, 30};
        int n = 1200;
        double[] x = floatValues(n, 11, -12, 12);
        double[] y = floatValues(n, 12, 0, 1);
        double[] w = floatValues(30, 13, 0, 2);
        double[] p = floatValues(40, 14, 0.5, 3);
        for (Reduction reduction : Reduction.values()) {
            BceTestSupport.Expected e = expected(true, reduction, x, y, expand(w, new long[] {30}, shape),
                    expand(p, new long[] {40, 1}, shape), null);
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().device(Device.CUDA).reduction(reduction)
                    .weight(w, 30).posWeight(p, 40, 1).build()) {
                assertSame(Device.CUDA, loss.device());
                // float64 arrays (through pointers and raw addresses)
                long[] resultShape = reduction == Reduction.NONE ? shape : new long[0];
                Tensor giView = Tensor.allocate(DType.FLOAT64, shape);
                Tensor outView = Tensor.allocate(DType.FLOAT64, resultShape);
                double r = loss.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                        new Outputs().loss(outView).gradInput(giView));
                double[] out = outView.toDoubleArray();
                assertNear(e.gradInput, e.gradInputTerms, giView.toDoubleArray(), 1e-12, reduction + " f64 grad_input");
                assertNear(e.loss, e.lossTerms, out, 1e-12, reduction + " f64 loss");
                if (reduction != Reduction.NONE) assertEquals(e.returned, r, 1e-12 * Math.abs(e.returned));
                // float32 direct buffers
                FloatBuffer xb = BceTestSupport.directFloats(x);
                FloatBuffer yb = BceTestSupport.directFloats(y);
                FloatBuffer gib = BceTestSupport.directFloats(n);
                FloatBuffer lb = BceTestSupport.directFloats(out.length);
                loss.compute(Tensor.of(xb, shape), Tensor.of(yb, shape),
                        new Outputs().loss(Tensor.of(lb, resultShape)).gradInput(Tensor.of(gib, shape)));
                assertNear(e.gradInput, e.gradInputTerms, BceTestSupport.read(gib, 0, n), 4e-6,
                        reduction + " f32 grad_input");
                assertNear(e.loss, e.lossTerms, BceTestSupport.read(lb, 0, out.length), 4e-6, reduction + " f32 loss");
                // float64 direct buffers, twice: the same bits (deterministic reduction)
                DoubleBuffer xd = BceTestSupport.directDoubles(x);
                DoubleBuffer yd = BceTestSupport.directDoubles(y);
                Outputs none = new Outputs().loss(Tensor.allocate(DType.FLOAT64, resultShape));
                double first = loss.compute(Tensor.of(xd, shape), Tensor.of(yd, shape), none);
                double second = loss.compute(Tensor.of(xd, shape), Tensor.of(yd, shape), none);
                if (reduction != Reduction.NONE) {
                    assertEquals(Double.doubleToLongBits(first), Double.doubleToLongBits(second), "bit-reproducible");
                }
            }
        }
    }

    @Test
    @DisplayName("on a device: focal loss, smoothing and ignore_index agree with the CPU path")
    void conventionsOnDevice() {
        assumeDevice();
        long[] shape = {64, 33};
        int n = 64 * 33;
        double[] x = floatValues(n, 21, -20, 20);
        double[] y = floatValues(n, 22, 0, 1);
        for (int i = 0; i < n; i += 7) y[i] = -100;
        double[][] results = new double[2][];
        double[] reduced = new double[2];
        for (Device device : Device.values()) {
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().device(device).reduction(Reduction.MEAN_VALID)
                    .ignoreIndex(-100).labelSmoothing(0.1).focal(2, 0.25).build()) {
                Tensor gi = Tensor.allocate(DType.FLOAT64, shape);
                reduced[device.ordinal()] = loss.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                        new Outputs().gradInput(gi));
                results[device.ordinal()] = gi.toDoubleArray();
            }
        }
        assertNear(results[0], focalTerms(x, y, 0.1, 2, -100), results[1], 1e-12, "grad_input, CUDA vs CPU");
        assertEquals(reduced[0], reduced[1], 1e-12 * Math.abs(reduced[0]), "reduced loss, CUDA vs CPU");
        double[] ignored = new double[n / 7 + 1];
        int k = 0;
        for (int i = 0; i < n; i += 7) ignored[k++] = results[1][i];
        assertArrayEquals(new double[k], java.util.Arrays.copyOf(ignored, k), "ignored elements get 0");
    }

    /**
     * Elementwise: |a - e| <= tol * (|e| + terms[i]), with each element's own term magnitude (an all-zero result
     * fails wherever the terms are not 0, however small the values are); NaN and infinities exactly.
     */
    private static void assertNear(double[] expected, double[] terms, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            BceTestSupport.assertClose(expected[i], actual[i], tol, tol * terms[i], what + "[" + i + "]");
        }
    }

    /**
     * The term magnitude of each focal MEAN_VALID input gradient: the plain gradient's terms on the smoothed
     * target, times the focal factor's bound with its derivative (1 + gamma * the element loss' terms), over the
     * count of elements not ignored; 0 for an ignored element.
     */
    private static double[] focalTerms(double[] x, double[] y, double epsilon, double gamma, double ignored) {
        int n = x.length;
        double[] smoothed = new double[n];
        int valid = 0;
        for (int i = 0; i < n; i++) {
            smoothed[i] = y[i] == ignored ? 0 : y[i] * (1 - epsilon) + epsilon / 2;
            valid += y[i] == ignored ? 0 : 1;
        }
        BceTestSupport.Expected plain = expected(true, Reduction.NONE, x, smoothed, null, null, null);
        double[] terms = new double[n];
        for (int i = 0; i < n; i++) {
            terms[i] = y[i] == ignored ? 0
                    : plain.gradInputTerms[i] * (1 + gamma * plain.lossTerms[i]) / valid;
        }
        return terms;
    }
}
