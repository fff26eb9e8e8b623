package org.bce4j.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.bce4j.Reduction;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.javacpp.ShortPointer;

/**
 * The {@code bench} command: the median time of one BCEWithLogitsLoss call (reduction mean) on off-heap data through
 * the raw-address path, for the loss alone and for the loss with grad_input, printed as one line for scripts.
 */
final class Bench {
    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar bench [--n N] [--threads T] [--dtype float32|float64|float16|bfloat16]",
            "",
            "Times BCEWithLogitsLoss(reduction=mean) on N random logits, uniform in [-6, 6], against 0/1 labels,",
            "through computeAt on off-heap memory, and prints one line:",
            "",
            "  bce4j n=N threads=T isa=ISA fwd_ns=F fwdbwd_ns=B",
            "",
            "F is the median time of one call computing the mean loss only, B of one call computing the mean loss",
            "and grad_input, in nanoseconds. Each is measured after a warm-up (at least 0.3 s and 5 calls), over",
            "batches of calls lasting at least 1 ms each: for at least 0.5 s, and 15 batches unless that takes",
            "over 1 s.",
            "",
            "  --n N          elements per call, at least 1; a K, M or G suffix multiplies by 1024, 1024^2 or",
            "                 1024^3 (64K, 1M, 16M); 1M by default",
            "  --threads T    OpenMP threads per call, 0 to 1024; 1 by default. 0 is the library default, and the",
            "                 line reports that count. Calls under 32768 elements run on the calling thread.",
            "  --dtype D      float32 (the default), float64, or the 16-bit storage types float16 and bfloat16",
            "",
            "Bad arguments: one line on stderr naming the argument, exit code 2. Memory that cannot be",
            "allocated: one line on stderr, exit code 1.");

    /** The parsed arguments. */
    record Options(long n, int threads, DType dtype) {}

    private static final List<String> FLAGS = List.of("--n", "--threads", "--dtype");
    private static final long WARMUP_NANOS = 300_000_000L;
    private static final int WARMUP_CALLS = 5;
    private static final long BATCH_NANOS = 1_000_000L;
    private static final int MAX_BATCH = 1 << 30;
    private static final int MIN_BATCHES = 15;
    private static final long MIN_MEASURE_NANOS = 500_000_000L;
    private static final long MAX_MEASURE_NANOS = 1_000_000_000L;
    private static final int FILL_CHUNK = 1 << 16;
    private static final long SEED = 0x5eed_bce4L;

    private Bench() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE);
                return 0;
            }
        }
        Options options;
        try {
            options = parse(args);
        } catch (UsageException e) {
            err.println("bce4j bench: " + e.getMessage());
            return 2;
        }
        BCEWithLogitsLoss loss;
        try {
            loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(options.threads).build();
        } catch (IllegalArgumentException e) { // the library's range of threads: the one option given here
            err.println("bce4j bench: --threads: " + e.getMessage());
            return 2;
        }
        try (loss) {
            out.println(measure(options, loss));
            return 0;
        } catch (OutOfMemoryError e) {
            err.println("bce4j bench: cannot allocate 3 x " + options.n + " "
                    + options.dtype.name().toLowerCase(Locale.ROOT) + " elements: " + e.getMessage());
            return 1;
        }
    }

    static Options parse(String[] args) throws UsageException {
        long n = 1 << 20;
        int threads = 1;
        DType dtype = DType.FLOAT32;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            String value = null;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            }
            if (!FLAGS.contains(name)) {
                throw new UsageException((name.startsWith("-") ? "unknown flag: " : "unexpected argument: ")
                        + args[i] + " (see bench --help)");
            }
            if (value == null) {
                if (i + 1 >= args.length) throw new UsageException(name + " needs a value");
                value = args[++i];
            }
            if (!seen.add(name)) throw new UsageException(name + " is given twice");
            switch (name) {
                case "--n":
                    n = count(value);
                    break;
                case "--threads":
                    threads = threads(value);
                    break;
                default:
                    dtype = dtype(value);
            }
        }
        return new Options(n, threads, dtype);
    }

    private static long count(String value) throws UsageException {
        String digits = value;
        int shift = 0;
        if (!value.isEmpty()) {
            int suffix = "KMG".indexOf(Character.toUpperCase(value.charAt(value.length() - 1)));
            if (suffix >= 0) {
                digits = value.substring(0, value.length() - 1);
                shift = 10 * (suffix + 1);
            }
        }
        try {
            long n = Long.parseLong(digits);
            if (n >= 1 && n <= Long.MAX_VALUE >> shift) return n << shift;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--n is '" + value + "'; expected a count of at least 1, optionally with a"
                + " K, M or G suffix (64K, 1M, 16M)");
    }

    private static int threads(String value) throws UsageException {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--threads is '" + value + "'; expected an integer from 0 (the library"
                    + " default) to 1024");
        }
    }

    private static DType dtype(String value) throws UsageException {
        switch (value) {
            case "float32":
                return DType.FLOAT32;
            case "float64":
                return DType.FLOAT64;
            case "float16":
                return DType.FLOAT16;
            case "bfloat16":
                return DType.BFLOAT16;
            default:
                throw new UsageException("--dtype is '" + value
                        + "'; expected float32, float64, float16 or bfloat16");
        }
    }

    /** Allocates and fills the data once, times both calls of {@code loss} and returns the result line. */
    private static String measure(Options o, BCEWithLogitsLoss loss) {
        try (PointerScope scope = new PointerScope()) {
            Pointer input = allocate(o.dtype, o.n);
            Pointer target = allocate(o.dtype, o.n);
            Pointer gradInput = allocate(o.dtype, o.n);
            SplittableRandom random = new SplittableRandom(SEED);
            fill(o.dtype, input, o.n, () -> random.nextDouble(-6, 6));
            fill(o.dtype, target, o.n, () -> random.nextBoolean() ? 1 : 0);

            long[] shape = {o.n};
            long in = input.address();
            long tg = target.address();
            long gi = gradInput.address();
            // A native call is never elided by the JIT, so the returned losses need no sink.
            long fwd = medianNanos(() -> loss.computeAt(o.dtype, shape, in, tg, 0, 0, 0, 0));
            long fwdBwd = medianNanos(() -> loss.computeAt(o.dtype, shape, in, tg, 0, 0, gi, 0));
            int threads = o.threads == 0 ? Bce4j.defaultNumThreads() : o.threads;
            return String.format(Locale.ROOT, "bce4j n=%d threads=%d isa=%s fwd_ns=%d fwdbwd_ns=%d", o.n, threads,
                    Bce4j.cpuIsa(), fwd, fwdBwd);
        }
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

    /**
     * The median time of one call in nanoseconds, after a warm-up (for the JIT, and for the first writes to fault
     * the output's pages in). Calls are timed in batches of at least BATCH_NANOS: a call on a few elements takes
     * about 100 ns, close to the cost and granularity of System.nanoTime itself.
     */
    private static long medianNanos(Runnable call) {
        long start = System.nanoTime();
        for (int calls = 0; calls < WARMUP_CALLS || System.nanoTime() - start < WARMUP_NANOS; calls++) {
            call.run();
        }
        int batch = 1;
        while (batch < MAX_BATCH && time(call, batch) < BATCH_NANOS) batch *= 2;

        double[] perCall = new double[MIN_BATCHES];
        int count = 0;
        long measureStart = System.nanoTime();
        // MIN_BATCHES batches, except where calls are so long that they would take more than MAX_MEASURE_NANOS.
        for (long elapsed = 0; elapsed < MIN_MEASURE_NANOS
                || (count < MIN_BATCHES && elapsed < MAX_MEASURE_NANOS); elapsed = System.nanoTime() - measureStart) {
            if (count == perCall.length) perCall = Arrays.copyOf(perCall, 2 * count);
            perCall[count++] = (double) time(call, batch) / batch;
        }
        Arrays.sort(perCall, 0, count);
        int mid = count / 2;
        return Math.round(count % 2 == 1 ? perCall[mid] : (perCall[mid - 1] + perCall[mid]) / 2);
    }

    private static long time(Runnable call, int calls) {
        long start = System.nanoTime();
        for (int i = 0; i < calls; i++) call.run();
        return System.nanoTime() - start;
    }
}
