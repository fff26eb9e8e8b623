import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Java Vector API baseline of the side-by-side benchmark: BCE with logits, float32, hard labels, mean, loss and
 * grad_input in one hand-fused pass over float[] with FloatVector.SPECIES_PREFERRED and the API's lanewise EXP and
 * LOG1P. A single self-contained source file, because the project builds on JDK 17 and this needs JDK 16+ with
 * jdk.incubator.vector; the harness (org.bce4j.sidebyside.SideBySide) launches it on JDK 25 as
 *
 * <pre>java --add-modules jdk.incubator.vector VectorApiBaseline.java --sizes 64,1024 --threads 1,2
 *     [--warmup-s 0.2] [--cap-s 3] [--batches 11]</pre>
 *
 * and parses its {@code INFO} and {@code RESULT} lines. Each RESULT also carries the check: the mean loss (compared
 * with bce4j's by the harness), grad_input's largest difference from a float64 scalar reference of the same formula
 * on the same elements, and the sum of the logits (which must equal the harness's: the same data). The data and
 * the timing rules are copies of the harness's (DataSet.value, DataSet.label, Timer): keep them in step.
 */
public class VectorApiBaseline {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Elements per float-lane partial sum; the block sums are added in double. */
    static final int BLOCK = 1024;
    /** Each thread's chunk has at least this many elements, so calls under 32768 stay on one thread (as bce4j's). */
    static final int MIN_PER_THREAD = 16384;

    // ---- data: identical to org.bce4j.sidebyside.DataSet ----------------------------------------------------------
    static final long SEED = 0x5EED_B0CE_4BL;

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    static float value(long i) {
        return (float) ((mix(SEED + (2 * i + 1) * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53 * 16 - 8);
    }

    static float label(long i) {
        return (mix(SEED + (2 * i + 2) * 0x9E3779B97F4A7C15L) & 1) == 0 ? 0f : 1f;
    }

    // ---- the kernel ---------------------------------------------------------------------------------------------

    /** Sum of the losses of [from, to), writing grad_input = (sigmoid(x) - y) * invN there. */
    static double fused(float[] x, float[] y, float[] g, int from, int to, float invN) {
        FloatVector zero = FloatVector.zero(S);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector inv = FloatVector.broadcast(S, invN);
        double total = 0;
        int i = from;
        int upper = from + S.loopBound(to - from);
        while (i < upper) {
            int blockEnd = Math.min(upper, i + BLOCK);
            FloatVector acc = zero;
            for (; i < blockEnd; i += S.length()) {
                FloatVector xv = FloatVector.fromArray(S, x, i);
                FloatVector yv = FloatVector.fromArray(S, y, i);
                FloatVector e = xv.abs().neg().lanewise(VectorOperators.EXP); // exp(-|x|)
                // max(x,0) - x*y + log1p(exp(-|x|))
                acc = acc.add(xv.max(zero).sub(xv.mul(yv)).add(e.lanewise(VectorOperators.LOG1P)));
                // sigmoid(x) = 1/(1+e) for x >= 0, e/(1+e) for x < 0
                FloatVector sig = one.blend(e, xv.compare(VectorOperators.LT, zero)).div(e.add(one));
                sig.sub(yv).mul(inv).intoArray(g, i);
            }
            total += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < to; i++) {
            float xi = x[i];
            double e = Math.exp(-Math.abs(xi));
            total += Math.max(xi, 0) - xi * y[i] + Math.log1p(e);
            g[i] = (float) (((xi >= 0 ? 1 : e) / (1 + e) - y[i]) * invN);
        }
        return total;
    }

    /** One call on n elements and t threads: t-1 chunks on the pool, the last on the caller. */
    static double call(ExecutorService pool, float[] x, float[] y, float[] g, int n, int t) throws Exception {
        float invN = 1f / n;
        int chunks = Math.max(1, Math.min(t, n / MIN_PER_THREAD));
        if (chunks == 1) return fused(x, y, g, 0, n, invN) / n;
        List<Future<Double>> parts = new ArrayList<>();
        int step = (n / chunks + S.length() - 1) / S.length() * S.length();
        for (int c = 0; c < chunks - 1; c++) {
            int from = c * step;
            int to = from + step;
            parts.add(pool.submit(() -> fused(x, y, g, from, to, invN)));
        }
        double sum = 0;
        double last = fused(x, y, g, (chunks - 1) * step, n, invN);
        for (Future<Double> f : parts) sum += f.get();
        return (sum + last) / n;
    }

    // ---- timing: identical rules to org.bce4j.sidebyside.Timer ----------------------------------------------------
    interface Call {
        double run() throws Exception;
    }

    static double sink;

    /** {median ns per call, batches, calls per batch}. */
    static double[] measure(Call call, double warmupS, double capS, int batches) throws Exception {
        long warmEnd = System.nanoTime() + (long) (warmupS * 1e9);
        long start = System.nanoTime();
        int calls = 0;
        do {
            sink += call.run();
            calls++;
        } while (System.nanoTime() < warmEnd);
        long t0 = System.nanoTime();
        int probe = Math.max(1, Math.min(calls, 64));
        for (int i = 0; i < probe; i++) sink += call.run();
        double est = Math.max(1, (System.nanoTime() - t0) / (double) probe);
        int perBatch = (int) Math.max(1, Math.ceil(1e6 / est));
        int count = (int) Math.max(3, Math.min(batches, Math.floor(capS * 1e9 / (est * perBatch))));
        double[] ns = new double[count];
        for (int b = 0; b < count; b++) {
            long s = System.nanoTime();
            for (int i = 0; i < perBatch; i++) sink += call.run();
            ns[b] = (System.nanoTime() - s) / (double) perBatch;
        }
        Arrays.sort(ns);
        return new double[] {ns[count / 2], count, perBatch};
    }

    public static void main(String[] args) throws Exception {
        List<Integer> sizes = new ArrayList<>();
        List<Integer> threads = new ArrayList<>();
        double warmupS = 0.2;
        double capS = 3;
        int batches = 11;
        for (int a = 0; a < args.length; a++) {
            switch (args[a]) {
                case "--sizes" -> { for (String s : args[++a].split(",")) sizes.add(Integer.parseInt(s)); }
                case "--threads" -> { for (String s : args[++a].split(",")) threads.add(Integer.parseInt(s)); }
                case "--warmup-s" -> warmupS = Double.parseDouble(args[++a]);
                case "--cap-s" -> capS = Double.parseDouble(args[++a]);
                case "--batches" -> batches = Integer.parseInt(args[++a]);
                default -> throw new IllegalArgumentException("unknown argument " + args[a]);
            }
        }
        System.out.println("INFO " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name")
                + "), " + S);
        int maxN = sizes.stream().max(Integer::compare).orElse(0);
        float[] x = new float[maxN];
        float[] y = new float[maxN];
        float[] g = new float[maxN];
        for (int i = 0; i < maxN; i++) {
            x[i] = value(i);
            y[i] = label(i);
        }
        int maxT = threads.stream().max(Integer::compare).orElse(1);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, maxT - 1), r -> {
            Thread th = new Thread(r, "vector-worker");
            th.setDaemon(true);
            return th;
        });
        // JIT warm-up of the whole Vector API chain, which C2 takes far longer to compile than a scalar loop: at
        // least 1 s, then until a 0.25 s window is no faster than 0.95 x the best before it (at most 8 s).
        int warmN = Math.min(maxN, 4096);
        long begin = System.nanoTime();
        double best = Double.MAX_VALUE;
        while (true) {
            long w0 = System.nanoTime();
            long calls = 0;
            while (System.nanoTime() - w0 < 250_000_000L) {
                for (int t : threads) sink += call(pool, x, y, g, warmN, t);
                calls++;
            }
            double perCall = (System.nanoTime() - w0) / (double) calls;
            boolean settled = perCall > 0.95 * best;
            best = Math.min(best, perCall);
            long elapsed = System.nanoTime() - begin;
            if ((elapsed > 1_000_000_000L && settled) || elapsed > 8_000_000_000L) {
                System.out.println(String.format(Locale.ROOT, "JIT warm-up %.2f s", elapsed / 1e9));
                break;
            }
        }
        for (int n : sizes) {
            double xsum = 0;
            for (int i = 0; i < n; i++) xsum += x[i];
            for (int t : threads) {
                double loss = call(pool, x, y, g, n, t);
                // Check against a float64 scalar reference on the same elements.
                double ref = 0;
                double gradErr = 0;
                for (int i = 0; i < n; i++) {
                    double xi = x[i];
                    double e = Math.exp(-Math.abs(xi));
                    ref += Math.max(xi, 0) - xi * y[i] + Math.log1p(e);
                    double gi = ((xi >= 0 ? 1 : e) / (1 + e) - y[i]) / n;
                    gradErr = Math.max(gradErr, Math.abs(g[i] - gi));
                }
                ref /= n;
                double[] m = measure(() -> call(pool, x, y, g, n, t), warmupS, capS, batches);
                System.out.println(String.format(Locale.ROOT,
                        "RESULT n=%d t=%d ns=%.1f batches=%d perbatch=%d loss=%.9g refloss=%.9g graderr=%.3e xsum=%s",
                        n, t, m[0], (int) m[1], (int) m[2], loss, ref, gradErr, Double.toString(xsum)));
            }
        }
        System.out.println("DONE sink=" + (sink != 0));
    }
}
