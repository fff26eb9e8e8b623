package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;

/**
 * Shared test helpers: independent float64 reference formulas (textbook forms, never library output), a numpy-style
 * broadcast written from scratch, deterministic data, buffer factories for every buffer kind the API accepts, and
 * tolerant comparisons.
 */
public final class BceTestSupport {
    private BceTestSupport() {}

    /** libtorch's BCELoss gradient clamp: the float literal 1e-12f, widened. */
    public static final double EPS_F = (double) 1e-12f;

    /** Relative/absolute tolerances for float64 outputs and for reduced losses (always accumulated in double). */
    public static final double REL64 = 1e-12;
    public static final double ABS64 = 1e-13;
    /**
     * True when float32 is computed in double and rounded once: the scalar kernels ({@code BCE4J_ISA=scalar}). The
     * SIMD kernels compute float32 in float32 lanes, within a few float epsilons of the terms that make up each
     * value, so a value that is a difference of larger terms (a gradient near 0) carries their absolute error.
     */
    public static final boolean FLOAT32_ROUNDED_ONCE = Bce4j.cpuIsa().equals("scalar");
    /** Tolerances for float32 outputs: a few ulps of the float64 result. */
    public static final double REL32 = 1e-6;
    public static final double ABS32 = 1e-12;
    /**
     * With the SIMD kernels, the absolute part of the float32 tolerance, relative to the magnitude of the terms that
     * make up each output element (the contract's 2e-6 absolute + 2e-6 relative for terms up to 1).
     */
    public static final double NORMWISE32 = 2e-6;

    /** Relative tolerance of a reduced loss (always accumulated in double) over elements of this dtype. */
    public static double reducedRel(DType dtype) {
        return dtype == DType.FLOAT32 && !FLOAT32_ROUNDED_ONCE ? REL32 : REL64;
    }

    // ---- Reference formulas (float64, textbook) ----------------------------------------------------------------

    /** softplus(z) = log(1 + e^z), as max(z, 0) + log1p(exp(-|z|)). */
    public static double softplus(double z) {
        return Math.max(z, 0.0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    public static double sigmoid(double x) {
        return 1.0 / (1.0 + Math.exp(-x));
    }

    /** l = w*[(1-y)*x + (1+(p-1)*y)*softplus(-x)]. */
    public static double logitsLoss(double x, double y, double w, double p) {
        return w * ((1 - y) * x + (1 + (p - 1) * y) * softplus(-x));
    }

    /** dl/dx = w*((1+(p-1)y)*sigmoid(x) - p*y). */
    public static double logitsGradInput(double x, double y, double w, double p) {
        return w * ((1 + (p - 1) * y) * sigmoid(x) - p * y);
    }

    /** dl/dy = w*(-x + (p-1)*softplus(-x)). */
    public static double logitsGradTarget(double x, double y, double w, double p) {
        return w * (-x + (p - 1) * softplus(-x));
    }

    static double clampedLog(double v) {
        return Math.max(Math.log(v), -100.0);
    }

    static double clampedLog1m(double v) {
        return Math.max(Math.log1p(-v), -100.0);
    }

    /** l = -w*(y*max(log x,-100) + (1-y)*max(log1p(-x),-100)). */
    public static double probLoss(double x, double y, double w) {
        return -w * (y * clampedLog(x) + (1 - y) * clampedLog1m(x));
    }

    /** dl/dx = w*(x-y)/max(x(1-x), (double) 1e-12f). */
    public static double probGradInput(double x, double y, double w) {
        return w * (x - y) / Math.max(x * (1 - x), EPS_F);
    }

    /** dl/dy = w*(max(log1p(-x),-100) - max(log x,-100)). */
    public static double probGradTarget(double x, double y, double w) {
        return w * (clampedLog1m(x) - clampedLog(x));
    }

    /** What a call should produce: per-element (NONE) or one reduced loss, gradients, return value. */
    public static final class Expected {
        public final double[] loss;
        public final double[] gradInput;
        public final double[] gradTarget;
        public final double returned;
        /**
         * Per element of each output, the magnitude of the terms that make it up (a gradient near 0 is a difference
         * of larger terms): the scale of that element's float32 SIMD tolerance; null where not known.
         */
        final double[] lossTerms;
        final double[] gradInputTerms;
        final double[] gradTargetTerms;

        Expected(double[] loss, double[] gradInput, double[] gradTarget, double returned) {
            this(loss, gradInput, gradTarget, returned, null, null, null);
        }

        Expected(double[] loss, double[] gradInput, double[] gradTarget, double returned, double[] lossTerms,
                double[] gradInputTerms, double[] gradTargetTerms) {
            this.loss = loss;
            this.gradInput = gradInput;
            this.gradTarget = gradTarget;
            this.returned = returned;
            this.lossTerms = lossTerms;
            this.gradInputTerms = gradInputTerms;
            this.gradTargetTerms = gradTargetTerms;
        }
    }

    /**
     * The reference result of a call. {@code w} and {@code p} are input-shaped (see {@link #expand}) or null (1);
     * {@code gradOutput} is null (1), one scalar (reductions) or input-shaped (NONE).
     */
    public static Expected expected(boolean logits, Reduction reduction, double[] x, double[] y, double[] w,
            double[] p, double[] gradOutput) {
        int n = x.length;
        double[] loss = new double[n];
        double[] gi = new double[n];
        double[] gt = new double[n];
        double[] lossTerms = new double[n];
        double[] giTerms = new double[n];
        double[] gtTerms = new double[n];
        double sum = 0;
        double lossTermSum = 0;
        for (int i = 0; i < n; i++) {
            double wi = w == null ? 1 : w[i];
            double pi = p == null ? 1 : p[i];
            double aw = Math.abs(wi);
            if (logits) {
                loss[i] = logitsLoss(x[i], y[i], wi, pi);
                gi[i] = logitsGradInput(x[i], y[i], wi, pi);
                gt[i] = logitsGradTarget(x[i], y[i], wi, pi);
                double c = Math.abs(1 + (pi - 1) * y[i]);
                double sp = softplus(-x[i]);
                lossTerms[i] = aw * (Math.abs((1 - y[i]) * x[i]) + c * sp);
                giTerms[i] = aw * (c * sigmoid(x[i]) + Math.abs(pi * y[i]));
                gtTerms[i] = aw * (Math.abs(x[i]) + Math.abs(pi - 1) * sp);
            } else {
                loss[i] = probLoss(x[i], y[i], wi);
                gi[i] = probGradInput(x[i], y[i], wi);
                gt[i] = probGradTarget(x[i], y[i], wi);
                double logX = Math.abs(clampedLog(x[i]));
                double log1mX = Math.abs(clampedLog1m(x[i]));
                lossTerms[i] = aw * (Math.abs(y[i]) * logX + Math.abs(1 - y[i]) * log1mX);
                giTerms[i] = aw * (Math.abs(x[i]) + Math.abs(y[i])) / Math.max(x[i] * (1 - x[i]), EPS_F);
                gtTerms[i] = aw * (logX + log1mX);
            }
            sum += loss[i];
            lossTermSum += lossTerms[i];
        }
        if (reduction == Reduction.NONE) {
            for (int i = 0; i < n; i++) {
                double g = gradOutput == null ? 1 : gradOutput[i];
                gi[i] *= g;
                gt[i] *= g;
                giTerms[i] *= Math.abs(g);
                gtTerms[i] *= Math.abs(g);
            }
            return new Expected(loss, gi, gt, Double.NaN, lossTerms, giTerms, gtTerms);
        }
        double denominator = denominator(reduction, w, n);
        double g = gradOutput == null ? 1 : gradOutput[0];
        double scale = safeDivide(reduction, g, denominator);
        for (int i = 0; i < n; i++) {
            gi[i] *= scale;
            gt[i] *= scale;
            giTerms[i] *= Math.abs(scale);
            gtTerms[i] *= Math.abs(scale);
        }
        double reduced = safeDivide(reduction, sum, denominator);
        double reducedTerms = Math.abs(safeDivide(reduction, lossTermSum, denominator));
        return new Expected(new double[] {reduced}, gi, gt, reduced, new double[] {reducedTerms}, giTerms, gtTerms);
    }

    /**
     * What a reduction divides the sum by, from its definition: {@code w} input-shaped or null (1); no element
     * ignored, so MEAN_VALID divides by the element count.
     */
    public static double denominator(Reduction reduction, double[] w, int n) {
        return switch (reduction) {
            case NONE, SUM -> 1;
            case MEAN, MEAN_VALID -> n;
            case MEAN_BY_WEIGHT -> w == null ? n : Arrays.stream(w).sum();
            case MEAN_BY_NONZERO_WEIGHT -> w == null ? n : Arrays.stream(w).filter(v -> v != 0).count();
        };
    }

    /** value / denominator, except that the normalised means give 0 for a zero denominator (MEAN gives NaN). */
    public static double safeDivide(Reduction reduction, double value, double denominator) {
        boolean normalised = reduction == Reduction.MEAN_BY_WEIGHT || reduction == Reduction.MEAN_BY_NONZERO_WEIGHT
                || reduction == Reduction.MEAN_VALID;
        return normalised && denominator == 0 ? 0 : value / denominator;
    }

    // ---- Shapes and broadcasting ---------------------------------------------------------------------------

    public static int count(long[] shape) {
        long c = 1;
        for (long d : shape) c *= d;
        return Math.toIntExact(c);
    }

    /** Expands {@code values} of {@code valueShape} numpy-style (right-aligned) to {@code shape}. */
    public static double[] expand(double[] values, long[] valueShape, long[] shape) {
        assertTrue(valueShape.length <= shape.length, "test bug: operand has more dims");
        int n = count(shape);
        int offset = shape.length - valueShape.length;
        double[] out = new double[n];
        for (int flat = 0; flat < n; flat++) {
            long rest = flat;
            long source = 0;
            long stride = 1;
            for (int d = shape.length - 1; d >= 0; d--) {
                long index = rest % shape[d];
                rest /= shape[d];
                int vd = d - offset;
                if (vd >= 0) {
                    assertTrue(valueShape[vd] == 1 || valueShape[vd] == shape[d], "test bug: not broadcastable");
                    if (valueShape[vd] != 1) source += index * stride;
                    stride *= valueShape[vd];
                }
            }
            out[flat] = values[(int) source];
        }
        return out;
    }

    // ---- Deterministic data (float-exact so that float32 and float64 calls see the same values) -------------

    /** n values uniform in [lo, hi), each exactly representable as a float. */
    public static double[] floatValues(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return v;
    }

    /** n hard labels (0 or 1). */
    public static double[] labels(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextBoolean() ? 1 : 0;
        return v;
    }

    public static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    public static double[] toDoubles(float[] f) {
        double[] v = new double[f.length];
        for (int i = 0; i < f.length; i++) v[i] = f[i];
        return v;
    }

    public static double[] filled(int n, double value) {
        double[] v = new double[n];
        Arrays.fill(v, value);
        return v;
    }

    // ---- Buffer factories ------------------------------------------------------------------------------------

    public static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    public static FloatBuffer directFloats(double[] values) {
        FloatBuffer b = directFloats(values.length);
        b.put(toFloats(values)).flip();
        return b;
    }

    public static DoubleBuffer directDoubles(int n) {
        return ByteBuffer.allocateDirect(n * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }

    public static DoubleBuffer directDoubles(double[] values) {
        DoubleBuffer b = directDoubles(values.length);
        b.put(values).flip();
        return b;
    }

    public static double[] read(FloatPointer p, int n) {
        float[] f = new float[n];
        p.get(f);
        return toDoubles(f);
    }

    public static double[] read(DoublePointer p, int n) {
        double[] d = new double[n];
        p.get(d);
        return d;
    }

    public static double[] read(FloatBuffer b, int from, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = b.get(from + i);
        return v;
    }

    // ---- Calls through every buffer kind ---------------------------------------------------------------------

    /**
     * Each way the API accepts data, and the dtype it implies: views of pointers, buffers and (copied) arrays, and
     * the raw addresses of computeAt.
     */
    public enum BufferKind {
        FLOAT_POINTER(DType.FLOAT32),
        DOUBLE_POINTER(DType.FLOAT64),
        FLOAT_BUFFER(DType.FLOAT32),
        DOUBLE_BUFFER(DType.FLOAT64),
        FLOAT_ARRAY(DType.FLOAT32),
        DOUBLE_ARRAY(DType.FLOAT64),
        FLOAT_ADDRESS(DType.FLOAT32),
        DOUBLE_ADDRESS(DType.FLOAT64);

        public final DType dtype;

        BufferKind(DType dtype) {
            this.dtype = dtype;
        }

        /** Arrays have no position: they are always read from index 0. */
        public boolean hasPosition() {
            return this != FLOAT_ARRAY && this != DOUBLE_ARRAY;
        }
    }

    /** What a call returned and wrote (outputs read back as doubles). */
    public static final class Outcome {
        public final double returned;
        public final double[] loss;
        public final double[] gradInput;
        public final double[] gradTarget;

        Outcome(double returned, double[] loss, double[] gradInput, double[] gradTarget) {
            this.returned = returned;
            this.loss = loss;
            this.gradInput = gradInput;
            this.gradTarget = gradTarget;
        }
    }

    /** Padding value before/after input data: NaN, so that reading it would poison the results. */
    static final double INPUT_PAD = Double.NaN;
    /** Padding value before/after output regions, which must stay untouched. */
    static final double OUTPUT_PAD = 4242.5;
    /** Initial content of output regions (so that a missing write is visible). */
    static final double OUTPUT_INIT = -777.25;
    static final int TAIL = 3;

    /** One argument laid out as [offset pads][data][TAIL pads] in the kind's storage, positioned at the data. */
    private static final class Slot {
        final BufferKind kind;
        final int offset;
        final int length;
        final double pad;
        Object arg;
        long address;

        Slot(BufferKind kind, double[] data, int offset, double pad) {
            this.kind = kind;
            this.offset = kind.hasPosition() ? offset : 0;
            this.length = data.length;
            this.pad = pad;
            int total = kind.hasPosition() ? this.offset + length + TAIL : length;
            double[] image = filled(total, pad);
            System.arraycopy(data, 0, image, this.offset, length);
            switch (kind) {
                case FLOAT_POINTER, FLOAT_ADDRESS -> {
                    FloatPointer p = new FloatPointer(toFloats(image));
                    address = p.address() + (long) this.offset * Float.BYTES;
                    arg = p.position(this.offset);
                }
                case DOUBLE_POINTER, DOUBLE_ADDRESS -> {
                    DoublePointer p = new DoublePointer(image);
                    address = p.address() + (long) this.offset * Double.BYTES;
                    arg = p.position(this.offset);
                }
                case FLOAT_BUFFER -> {
                    FloatBuffer b = directFloats(total);
                    b.put(toFloats(image)).position(this.offset);
                    arg = b;
                }
                case DOUBLE_BUFFER -> {
                    DoubleBuffer b = directDoubles(total);
                    b.put(image).position(this.offset);
                    arg = b;
                }
                case FLOAT_ARRAY -> arg = toFloats(image);
                case DOUBLE_ARRAY -> arg = image;
            }
        }

        /** The whole image as stored now. */
        double[] image() {
            switch (kind) {
                case FLOAT_POINTER, FLOAT_ADDRESS -> {
                    FloatPointer p = (FloatPointer) arg;
                    float[] f = new float[(int) p.capacity()];
                    long position = p.position();
                    p.position(0).get(f);
                    p.position(position);
                    return toDoubles(f);
                }
                case DOUBLE_POINTER, DOUBLE_ADDRESS -> {
                    DoublePointer p = (DoublePointer) arg;
                    double[] d = new double[(int) p.capacity()];
                    long position = p.position();
                    p.position(0).get(d);
                    p.position(position);
                    return d;
                }
                case FLOAT_BUFFER -> {
                    FloatBuffer b = (FloatBuffer) arg;
                    return read(b, 0, b.capacity());
                }
                case DOUBLE_BUFFER -> {
                    DoubleBuffer b = (DoubleBuffer) arg;
                    double[] d = new double[b.capacity()];
                    for (int i = 0; i < d.length; i++) d[i] = b.get(i);
                    return d;
                }
                case FLOAT_ARRAY -> {
                    return toDoubles((float[]) arg);
                }
                default -> {
                    return ((double[]) arg).clone();
                }
            }
        }

        /** The data region, after checking that the pads are untouched and the position unchanged. */
        double[] data(String name) {
            double[] image = image();
            for (int i = 0; i < image.length; i++) {
                if (i < offset || i >= offset + length) {
                    assertEquals(Double.doubleToLongBits(pad), Double.doubleToLongBits(image[i]),
                            name + ": padding element " + i + " was overwritten");
                }
            }
            if (arg instanceof org.bytedeco.javacpp.Pointer p) {
                assertEquals(offset, p.position(), name + ": pointer position changed");
            } else if (arg instanceof java.nio.Buffer b) {
                assertEquals(offset, b.position(), name + ": buffer position changed");
            }
            return Arrays.copyOfRange(image, offset, offset + length);
        }

        /** The view of the data region: of the pointer or buffer at its position, or of a native copy of an array. */
        Tensor view(long[] shape) {
            return switch (kind) {
                case FLOAT_POINTER -> Tensor.of((FloatPointer) arg, shape);
                case DOUBLE_POINTER -> Tensor.of((DoublePointer) arg, shape);
                case FLOAT_BUFFER -> Tensor.of((FloatBuffer) arg, shape);
                case DOUBLE_BUFFER -> Tensor.of((DoubleBuffer) arg, shape);
                case FLOAT_ARRAY -> Tensor.copyOf((float[]) arg, shape);
                case DOUBLE_ARRAY -> Tensor.copyOf((double[]) arg, shape);
                case FLOAT_ADDRESS, DOUBLE_ADDRESS -> Tensor.ofAddress(kind.dtype, address, shape);
            };
        }

        /** Copies an output view of an array's native copy back into the array (other kinds write in place). */
        void readBack(Tensor view) {
            if (kind == BufferKind.FLOAT_ARRAY) {
                float[] values = view.toFloatArray();
                System.arraycopy(values, 0, (float[]) arg, 0, values.length);
            } else if (kind == BufferKind.DOUBLE_ARRAY) {
                double[] values = view.toDoubleArray();
                System.arraycopy(values, 0, (double[]) arg, 0, values.length);
            }
        }

        static long address(Slot s) {
            return s == null ? 0 : s.address;
        }
    }

    /**
     * Runs {@code bce} on {@code x}/{@code y} (and {@code gradOutput}, null for none) through {@code kind}, with every
     * buffer positioned {@code offset} elements into its storage (ignored for arrays), requesting loss and both
     * gradients. Checks that no padding around any buffer is touched, that the inputs are unchanged, and that
     * positions are preserved.
     */
    public static Outcome run(BufferKind kind, BinaryCrossEntropy bce, long[] shape, double[] x, double[] y,
            double[] gradOutput, int offset) {
        int n = x.length;
        int results = bce.reduction() == Reduction.NONE ? n : 1;
        try (PointerScope scope = new PointerScope()) {
            Slot in = new Slot(kind, x, offset, INPUT_PAD);
            Slot tg = new Slot(kind, y, offset, INPUT_PAD);
            Slot go = gradOutput == null ? null : new Slot(kind, gradOutput, offset, INPUT_PAD);
            Slot loss = new Slot(kind, filled(results, OUTPUT_INIT), offset, OUTPUT_PAD);
            Slot gi = new Slot(kind, filled(n, OUTPUT_INIT), offset, OUTPUT_PAD);
            Slot gt = new Slot(kind, filled(n, OUTPUT_INIT), offset, OUTPUT_PAD);
            double returned;
            if (kind == BufferKind.FLOAT_ADDRESS || kind == BufferKind.DOUBLE_ADDRESS) {
                returned = bce.computeAt(kind.dtype, shape, in.address, tg.address, Slot.address(go), loss.address,
                        gi.address, gt.address);
            } else {
                long[] resultShape = results == n ? shape : new long[0];
                Tensor lossView = loss.view(resultShape);
                Tensor giView = gi.view(shape);
                Tensor gtView = gt.view(shape);
                returned = bce.compute(in.view(shape), tg.view(shape), go == null ? null : go.view(resultShape),
                        new Outputs().loss(lossView).gradInput(giView).gradTarget(gtView));
                loss.readBack(lossView);
                gi.readBack(giView);
                gt.readBack(gtView);
            }
            assertBitsEqual(kind.dtype, x, in.data("input"), "input was modified");
            assertBitsEqual(kind.dtype, y, tg.data("target"), "target was modified");
            if (go != null) assertBitsEqual(kind.dtype, gradOutput, go.data("gradOutput"), "gradOutput was modified");
            return new Outcome(returned, loss.data("loss"), gi.data("gradInput"), gt.data("gradTarget"));
        }
    }

    /**
     * A float64 call on views of copies of {@code x} and {@code y}, requesting the loss and both gradients (the loss
     * of one element for the reductions but NONE).
     */
    public static Outcome compute64(BinaryCrossEntropy bce, long[] shape, double[] x, double[] y) {
        Tensor loss = Tensor.allocate(DType.FLOAT64, bce.reduction() == Reduction.NONE ? shape : new long[0]);
        Tensor gradInput = Tensor.allocate(DType.FLOAT64, shape);
        Tensor gradTarget = Tensor.allocate(DType.FLOAT64, shape);
        double returned = bce.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                new Outputs().loss(loss).gradInput(gradInput).gradTarget(gradTarget));
        return new Outcome(returned, loss.toDoubleArray(), gradInput.toDoubleArray(), gradTarget.toDoubleArray());
    }

    private static void assertBitsEqual(DType dtype, double[] expected, double[] actual, String message) {
        for (int i = 0; i < expected.length; i++) {
            double e = dtype == DType.FLOAT32 ? (float) expected[i] : expected[i];
            assertEquals(Double.doubleToLongBits(e), Double.doubleToLongBits(actual[i]), message + " at " + i);
        }
    }

    // ---- Comparisons -----------------------------------------------------------------------------------------

    public static boolean close(double expected, double actual, double rel, double abs) {
        if (Double.isNaN(expected)) return Double.isNaN(actual);
        if (Double.isInfinite(expected)) return expected == actual;
        return Math.abs(actual - expected) <= abs + rel * Math.abs(expected);
    }

    public static void assertClose(double expected, double actual, double rel, double abs, String what) {
        if (!close(expected, actual, rel, abs)) {
            fail(what + ": expected " + expected + " but was " + actual + " (difference " + (actual - expected)
                    + ")");
        }
    }

    /**
     * Each element within the dtype's tolerance. With the SIMD kernels, float32 elements get an absolute part of
     * {@link #NORMWISE32} times the largest value of the array (or 1): use the overload with term magnitudes where
     * they are known.
     */
    public static void assertAllClose(double[] expected, double[] actual, DType dtype, String what) {
        double[] terms = null;
        if (dtype == DType.FLOAT32 && !FLOAT32_ROUNDED_ONCE) {
            double largest = 0;
            for (double v : expected) largest = Double.isFinite(v) ? Math.max(largest, Math.abs(v)) : largest;
            terms = filled(expected.length, Math.max(1, largest));
        }
        assertAllClose(expected, terms, actual, dtype, what);
    }

    /**
     * Each element within the dtype's tolerance; with the SIMD kernels, a float32 element's absolute part is
     * {@link #NORMWISE32} times the magnitude of the terms that make up that element ({@code terms[i]}), as the C++
     * suite measures it: a gradient near 0 is a difference of larger terms, and carries their absolute error, but no
     * more. {@code terms} may be null where the tolerance needs none (float64, or float32 rounded once).
     */
    public static void assertAllClose(double[] expected, double[] terms, double[] actual, DType dtype, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double rel = dtype == DType.FLOAT32 ? REL32 : REL64;
        double abs = dtype == DType.FLOAT32 ? ABS32 : ABS64;
        boolean lanes = dtype == DType.FLOAT32 && !FLOAT32_ROUNDED_ONCE;
        for (int i = 0; i < expected.length; i++) {
            double elementAbs = lanes ? Math.max(abs, NORMWISE32 * terms[i]) : abs;
            assertClose(expected[i], actual[i], rel, elementAbs, what + "[" + i + "]");
        }
    }

    /** Half the format's spacing at magnitude a (the subnormal spacing below the smallest normal). */
    public static double halfSpacing(DType dtype, double a) {
        int mantissaBits = dtype == DType.FLOAT16 ? 10 : 7;
        int minExponent = dtype == DType.FLOAT16 ? -14 : -126;
        int exponent = a > 0 ? Math.max(Math.getExponent(a), minExponent) : minExponent;
        return Math.scalb(1.0, exponent - mantissaBits - 1);
    }

    /** What float32 lanes (the SIMD kernels) add to a value, relative to its terms' magnitude. */
    public static final double LANES32 = 4 * Math.ulp(1f);

    /**
     * A 16-bit output within one rounding of the float64 value {@code want}, plus what the computation before it
     * adds relative to the magnitude of its terms: ~1e-12 in the scalar kernels, {@link #LANES32} in float32 lanes.
     */
    public static void assertRounded16(DType dtype, double want, double got, double terms, String what) {
        if (Double.isNaN(want) || Double.isNaN(got)) {
            assertTrue(Double.isNaN(want) && Double.isNaN(got), what + ": got " + got + ", want " + want);
            return;
        }
        double slack = (FLOAT32_ROUNDED_ONCE ? 1e-12 : LANES32) * Math.max(Math.abs(want), terms);
        double bound = halfSpacing(dtype, Math.abs(want) + slack) + slack;
        assertTrue(Math.abs(got - want) <= bound, what + ": got " + got + ", want " + want + ", bound " + bound);
    }

    /** Compares a whole outcome with the reference; the return value always at float64 precision. */
    public static void assertOutcome(Expected e, Outcome o, DType dtype, String label) {
        if (Double.isNaN(e.returned)) {
            assertTrue(Double.isNaN(o.returned), label + ": NONE returns NaN, got " + o.returned);
        } else {
            assertClose(e.returned, o.returned, reducedRel(dtype), ABS64, label + ": returned loss");
        }
        if (e.lossTerms != null) {
            assertAllClose(e.loss, e.lossTerms, o.loss, dtype, label + ": loss");
            assertAllClose(e.gradInput, e.gradInputTerms, o.gradInput, dtype, label + ": gradInput");
            assertAllClose(e.gradTarget, e.gradTargetTerms, o.gradTarget, dtype, label + ": gradTarget");
        } else {
            assertAllClose(e.loss, o.loss, dtype, label + ": loss");
            assertAllClose(e.gradInput, o.gradInput, dtype, label + ": gradInput");
            assertAllClose(e.gradTarget, o.gradTarget, dtype, label + ": gradTarget");
        }
    }
}
