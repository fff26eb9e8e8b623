package org.bce4j.cli;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;

/**
 * The {@code bench} command: the median time of one BCEWithLogitsLoss call (reduction mean) on off-heap data
 * through one of the Java API's paths (JavaCPP pointer views, NIO buffer views, raw addresses) and one of the
 * loss' variants, for the loss alone and for the loss with its gradients, printed as one line for scripts.
 * {@link BenchCalls} builds the loss, the data and the timed calls.
 */
final class Bench {
    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar bench [--n N] [--threads T] [--dtype float32|float64|float16|bfloat16]",
            "           [--path pointer|buffer|address|prepared]",
            "           [--variant plain|focal|weight-grads|paddle-legacy|smoothing|ignore]",
            "",
            "Times BCEWithLogitsLoss(reduction=mean) on N random logits, uniform in [-6, 6], against 0/1 labels",
            "in off-heap memory, and prints one line:",
            "",
            "  bce4j n=N threads=T isa=ISA path=P variant=V fwd_ns=F fwdbwd_ns=B",
            "",
            "F is the median time of one call computing the mean loss only, B of one call computing the mean loss",
            "and grad_input (and grad_weight for weight-grads), in nanoseconds. Each is measured after a warm-up",
            "(at least 0.3 s and 5 calls), over batches of calls lasting at least 1 ms each: for at least 0.5 s,",
            "and 15 batches unless that takes over 1 s. Views, outputs and memory are made before timing, so no",
            "timed call allocates.",
            "",
            "  --n N          elements per call, at least 1; a K, M or G suffix multiplies by 1024, 1024^2 or",
            "                 1024^3 (64K, 1M, 16M); 1M by default",
            "  --threads T    OpenMP threads per call, 0 to 1024; 1 by default. 0 is the library default, and the",
            "                 line reports that count. Calls under 32768 elements run on the calling thread.",
            "  --dtype D      float32 (the default), float64, or the 16-bit storage types float16 and bfloat16",
            "  --path P       how the call reaches the library:",
            "                   address  computeAt on raw addresses (the default)",
            "                   pointer  compute on Tensor views of JavaCPP pointers",
            "                   buffer   compute on Tensor views of direct native-order NIO buffers (each buffer",
            "                            at most 2^31-1 bytes)",
            "                   prepared a PreparedCall (loss.prepare(dtype, shape)) run on Tensor views of",
            "                            JavaCPP pointers",
            "  --variant V    what the loss computes:",
            "                   plain          the mean loss on 0/1 labels (the default)",
            "                   focal          focal loss, gamma 2, alpha 0.25",
            "                   weight-grads   a random weight [16] over the shape [N/16, 16], and fwdbwd also",
            "                                  computes grad_weight; N a multiple of 16, --path pointer, buffer or",
            "                                  prepared",
            "                                  (computeAt has no weight-gradient output)",
            "                   paddle-legacy  a random pos_weight [16] over [N/16, 16] in Paddle's legacy form",
            "                                  (PosWeightMode.PADDLE_LEGACY); N a multiple of 16",
            "                   smoothing      label smoothing 0.1",
            "                   ignore         ignore index -100, with about 5% of the targets set to -100",
            "",
            "Bad arguments: one line on stderr naming the argument, exit code 2. Memory that cannot be",
            "allocated: one line on stderr, exit code 1.");

    /** How a timed call reaches the library. */
    enum Path {
        POINTER, BUFFER, ADDRESS, PREPARED;

        String cliName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What the loss computes. */
    enum Variant {
        PLAIN, FOCAL, WEIGHT_GRADS, PADDLE_LEGACY, SMOOTHING, IGNORE;

        String cliName() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** Whether the call's shape is [n/C, C], for a weight or pos_weight of shape [C]. */
        boolean perClass() {
            return this == WEIGHT_GRADS || this == PADDLE_LEGACY;
        }
    }

    /** The parsed arguments. */
    record Options(long n, int threads, DType dtype, Path path, Variant variant) {}

    private static final List<String> FLAGS = List.of("--n", "--threads", "--dtype", "--path", "--variant");
    private static final long WARMUP_NANOS = 300_000_000L;
    private static final int WARMUP_CALLS = 5;
    private static final long BATCH_NANOS = 1_000_000L;
    private static final int MAX_BATCH = 1 << 30;
    private static final int MIN_BATCHES = 15;
    private static final long MIN_MEASURE_NANOS = 500_000_000L;
    private static final long MAX_MEASURE_NANOS = 1_000_000_000L;

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
            loss = BenchCalls.loss(options);
        } catch (IllegalArgumentException e) { // the library's range of threads: the one option given here
            err.println("bce4j bench: --threads: " + e.getMessage());
            return 2;
        }
        try (loss) {
            out.println(BenchCalls.measure(options, loss));
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
        Path path = Path.ADDRESS;
        Variant variant = Variant.PLAIN;
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
                case "--dtype":
                    dtype = dtype(value);
                    break;
                case "--path":
                    path = path(value);
                    break;
                default:
                    variant = variant(value);
            }
        }
        return checked(new Options(n, threads, dtype, path, variant));
    }

    /** The checks between arguments. */
    private static Options checked(Options o) throws UsageException {
        if (o.variant.perClass() && o.n % BenchCalls.CLASSES != 0) {
            throw new UsageException("--n is " + o.n + "; --variant " + o.variant.cliName() + " needs a multiple of "
                    + BenchCalls.CLASSES + " (the shape is [N/" + BenchCalls.CLASSES + ", " + BenchCalls.CLASSES
                    + "])");
        }
        if (o.variant == Variant.WEIGHT_GRADS && o.path == Path.ADDRESS) {
            throw new UsageException(
                    "--variant weight-grads needs --path pointer, buffer or prepared (computeAt, the address"
                            + " path and the default, has no weight-gradient output)");
        }
        int bytes = o.dtype == DType.FLOAT32 ? Float.BYTES : o.dtype == DType.FLOAT64 ? Double.BYTES : Short.BYTES;
        if (o.path == Path.BUFFER && o.n > Integer.MAX_VALUE / bytes) {
            throw new UsageException("--n is " + o.n + "; --path buffer holds at most " + Integer.MAX_VALUE / bytes
                    + " " + o.dtype.name().toLowerCase(Locale.ROOT)
                    + " elements (2^31-1 bytes per buffer)");
        }
        return o;
    }

    private static Path path(String value) throws UsageException {
        for (Path p : Path.values()) {
            if (p.cliName().equals(value)) return p;
        }
        throw new UsageException("--path is '" + value + "'; expected pointer, buffer, address or prepared");
    }

    private static Variant variant(String value) throws UsageException {
        for (Variant v : Variant.values()) {
            if (v.cliName().equals(value)) return v;
        }
        throw new UsageException("--variant is '" + value
                + "'; expected plain, focal, weight-grads, paddle-legacy, smoothing or ignore");
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

    /**
     * The median time of one call in nanoseconds, after a warm-up (for the JIT, and for the first writes to fault
     * the output's pages in). Calls are timed in batches of at least BATCH_NANOS: a call on a few elements takes
     * about 100 ns, close to the cost and granularity of System.nanoTime itself.
     */
    static long medianNanos(Runnable call) {
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
