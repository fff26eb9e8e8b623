package org.bce4j.cli;

import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.bce4j.Outputs;
import org.bce4j.PosWeightMode;
import org.bce4j.PreparedCall;
import org.bce4j.Reduction;
import org.bce4j.Tensor;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The loss, the data and the two timed calls of one {@code bench} run, for each path and variant. Everything a
 * timed call uses (memory, views, outputs) is made before timing, so the calls themselves allocate nothing.
 */
final class BenchCalls {
    /** The last dimension of the weighted variants' shape [n/C, C], and the size of their weight and pos_weight. */
    static final long CLASSES = 16;

    private static final int FILL_CHUNK = 1 << 16;
    private static final long SEED = 0x5eed_bce4L;
    /** The target value of the ignore variant, and the share of targets set to it. */
    private static final double IGNORE_INDEX = -100;
    private static final int IGNORE_ONE_IN = 20;

    private BenchCalls() {}

    /** The loss a variant times: reduction mean and the given threads, plus the variant's option. */
    static BCEWithLogitsLoss loss(Bench.Options o) {
        BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(o.threads());
        SplittableRandom random = new SplittableRandom(SEED + 1);
        switch (o.variant()) {
            case FOCAL -> b.focal(2, 0.25);
            case WEIGHT_GRADS -> b.weight(values(random, 0.5, 1.5), CLASSES);
            case PADDLE_LEGACY -> b.posWeight(values(random, 0.5, 2), CLASSES)
                    .posWeightMode(PosWeightMode.PADDLE_LEGACY);
            case SMOOTHING -> b.labelSmoothing(0.1);
            case IGNORE -> b.ignoreIndex(IGNORE_INDEX);
            case PLAIN -> {
                // mean over 0/1 labels, nothing else
            }
        }
        return b.build();
    }

    private static double[] values(SplittableRandom random, double from, double to) {
        double[] values = new double[(int) CLASSES];
        for (int i = 0; i < values.length; i++) values[i] = random.nextDouble(from, to);
        return values;
    }

    /** The two timed calls: the loss alone, and the loss with its gradients. */
    record Calls(Runnable fwd, Runnable fwdBwd) {}

    /** Allocates and fills the data once, times both calls of {@code loss} and returns the result line. */
    static String measure(Bench.Options o, BCEWithLogitsLoss loss) {
        try (PointerScope scope = new PointerScope()) {
            Calls calls = calls(o, loss);
            long fwdNanos = Bench.medianNanos(calls.fwd);
            long fwdBwdNanos = Bench.medianNanos(calls.fwdBwd);
            int threads = o.threads() == 0 ? Bce4j.defaultNumThreads() : o.threads();
            return String.format(Locale.ROOT, "bce4j n=%d threads=%d isa=%s path=%s variant=%s fwd_ns=%d fwdbwd_ns=%d",
                    o.n(), threads, Bce4j.cpuIsa(), o.path().cliName(), o.variant().cliName(), fwdNanos,
                    fwdBwdNanos);
        }
    }

    /**
     * Allocates and fills the data, and makes the views and outputs, of both calls; the memory belongs to the
     * caller's {@link PointerScope}. Running a call allocates nothing.
     */
    static Calls calls(Bench.Options o, BCEWithLogitsLoss loss) {
        Pointer input = allocate(o.dtype(), o.n());
        Pointer target = allocate(o.dtype(), o.n());
        Pointer gradInput = allocate(o.dtype(), o.n());
        Pointer gradWeight = allocate(o.dtype(), CLASSES);
        SplittableRandom random = new SplittableRandom(SEED);
        fill(o.dtype(), input, o.n(), () -> random.nextDouble(-6, 6));
        boolean ignore = o.variant() == Bench.Variant.IGNORE;
        fill(o.dtype(), target, o.n(), () -> ignore && random.nextInt(IGNORE_ONE_IN) == 0 ? IGNORE_INDEX
                : random.nextBoolean() ? 1 : 0);
        long[] shape = o.variant().perClass() ? new long[] {o.n() / CLASSES, CLASSES} : new long[] {o.n()};

        Runnable fwd;
        Runnable fwdBwd;
        if (o.path() == Bench.Path.ADDRESS) {
            long in = input.address();
            long tg = target.address();
            long gi = gradInput.address();
            // A native call is never elided by the JIT, so the returned losses need no sink.
            fwd = () -> loss.computeAt(o.dtype(), shape, in, tg, 0, 0, 0, 0);
            fwdBwd = () -> loss.computeAt(o.dtype(), shape, in, tg, 0, 0, gi, 0);
        } else {
            Tensor in = view(o, input, shape);
            Tensor tg = view(o, target, shape);
            Outputs lossOnly = new Outputs();
            Outputs grads = new Outputs().gradInput(view(o, gradInput, shape));
            if (o.variant() == Bench.Variant.WEIGHT_GRADS) grads.gradWeight(view(o, gradWeight, CLASSES));
            if (o.path() == Bench.Path.PREPARED) {
                // Freed by its cleaner once these calls are dropped (close() would only mark it closed).
                PreparedCall prepared = loss.prepare(o.dtype(), shape);
                fwd = () -> prepared.run(in, tg, lossOnly);
                fwdBwd = () -> prepared.run(in, tg, grads);
            } else {
                fwd = () -> loss.compute(in, tg, lossOnly);
                fwdBwd = () -> loss.compute(in, tg, grads);
            }
        }
        return new Calls(fwd, fwdBwd);
    }

    /** A view of {@code p} for the pointer path (the JavaCPP pointer) or the buffer path (a direct NIO buffer). */
    private static Tensor view(Bench.Options o, Pointer p, long... shape) {
        boolean buffer = o.path() == Bench.Path.BUFFER;
        if (p instanceof FloatPointer f) return buffer ? Tensor.of(f.asBuffer(), shape) : Tensor.of(f, shape);
        if (p instanceof DoublePointer d) return buffer ? Tensor.of(d.asBuffer(), shape) : Tensor.of(d, shape);
        ShortPointer s = (ShortPointer) p;
        return buffer ? Tensor.of(o.dtype(), s.asBuffer(), shape) : Tensor.of(o.dtype(), s, shape);
    }

    private static Pointer allocate(DType dtype, long n) {
        return switch (dtype) {
            case FLOAT32 -> new FloatPointer(n);
            case FLOAT64 -> new DoublePointer(n);
            case FLOAT16, BFLOAT16 -> new ShortPointer(n);
        };
    }

    /** Writes n values of {@code next} through a heap chunk: one JNI copy per chunk rather than one per element. */
    private static void fill(DType dtype, Pointer p, long n, DoubleSupplier next) {
        double[] chunk = new double[FILL_CHUNK];
        float[] floats = new float[FILL_CHUNK];
        short[] shorts = new short[FILL_CHUNK];
        for (long start = 0; start < n; start += FILL_CHUNK) {
            int length = (int) Math.min(FILL_CHUNK, n - start);
            for (int i = 0; i < length; i++) chunk[i] = next.getAsDouble();
            if (p instanceof FloatPointer f) {
                for (int i = 0; i < length; i++) floats[i] = (float) chunk[i];
                f.position(start).put(floats, 0, length);
            } else if (p instanceof ShortPointer h) {
                for (int i = 0; i < length; i++) shorts[i] = HalfPrecision.fromDouble(dtype, chunk[i]);
                h.position(start).put(shorts, 0, length);
            } else {
                ((DoublePointer) p).position(start).put(chunk, 0, length);
            }
        }
        p.position(0);
    }
}
