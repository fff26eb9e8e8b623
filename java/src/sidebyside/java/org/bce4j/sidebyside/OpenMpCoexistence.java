package org.bce4j.sidebyside;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.bce4j.Reduction;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/**
 * Checks that bce4j's bundled OpenMP runtime and libtorch's live together in one JVM: loads one library, then the
 * other (the order is the one argument, {@code torch-first} or {@code bce4j-first}; run each order in a JVM of its
 * own), reports the OpenMP runtimes mapped into the process and what each library sees, then runs Java threads that
 * each alternate a bce4j call and a libtorch call (BCE with logits, mean, forward and backward, float32) on inputs
 * large enough that both open OpenMP parallel regions, comparing every result with a reference computed once up
 * front. Exits 0 when every result matched, 1 on any mismatch or error, or when the watchdog finds the run still
 * going after its timeout (a hang); a crash ends the JVM with a nonzero status anyway. Run through Maven:
 *
 * <pre>mvn -B -f java -Psidebyside -DskipTests package exec:exec@coexistence -Dcoexistence.order=torch-first
 *mvn -B -f java -Psidebyside -DskipTests package exec:exec@coexistence -Dcoexistence.order=bce4j-first</pre>
 *
 * Options after the order ({@code -Dcoexistence.args}): {@code --threads 4} (Java threads), {@code --iterations
 * 10000} (per Java thread; each is one bce4j and one libtorch call), {@code --n 65536} (elements per call),
 * {@code --omp-threads 2} (OpenMP threads of each call, both libraries), {@code --timeout-s 300} (the watchdog).
 *
 * <p>What it reports about the runtimes: the OpenMP runtime files mapped ({@code /proc/self/maps}: libgomp*,
 * libiomp*, libomp*) with the SONAME each declares and which mapped library names which runtime as NEEDED; an ICV
 * probe ({@code at::set_num_threads(k)} on the main thread, then {@code Bce4j.defaultNumThreads()}, which is
 * {@code omp_get_max_threads()} in bce4j's runtime: it answers k only where both libraries run on one runtime
 * instance); and, once the calls are done, the runtime file that holds each idle OpenMP worker thread (the
 * instruction pointer of its futex wait, {@code /proc/self/task/<tid>/syscall}, libgomp issuing that system call
 * itself), which shows whether each Java thread got one worker pool or one per runtime. With the bundled runtime
 * under the system's name (preload {@code gomp@.1}, SONAME {@code libgomp.so.1}) whichever library loads first
 * brings its libgomp and the other runs on it: JavaCPP preloads {@code gomp@.1} once per process (the second
 * copy is never even opened), and the dynamic linker would resolve a NEEDED {@code libgomp.so.1} to the SONAME
 * already loaded anyway. With a runtime of its own name and SONAME ({@code libgomp-bce4j.so.1}) each library keeps
 * its own: two runtimes mapped, and two idle workers per Java thread instead of one.
 *
 * <p>What it proves, and what it does not: that on this machine (x86-64 Linux with glibc only: {@code /proc} and
 * ELF are read directly, and both natives jars are built for that platform alone), with these two builds (the
 * bundled libgomp of this tree and org.bytedeco:pytorch's), in this load order, under this interleaving (several
 * Java threads, each starting parallel regions in both libraries, one after the other), nothing crashed or hung and
 * no call returned a value different from its reference. It does not prove the absence of races in general (a
 * clean run is evidence, not a proof), nor anything about other runtimes (LLVM's libomp, Intel's libiomp5), other
 * libtorch builds, nested parallelism (a bce4j call from inside a libtorch parallel region), or fork. Nor does it
 * prove the absence of oversubscription: two runtimes each keep their own worker pools and spin-wait policies, so
 * threads × OpenMP threads per runtime can exceed the cores (it does here, deliberately); that costs time, not
 * correctness, and the run time printed is not a benchmark.
 */
public final class OpenMpCoexistence {
    private static final Pattern RUNTIME = Pattern.compile("lib(gomp|iomp5?|omp)([-_.][^/]*)?\\.so[^/]*");

    private static volatile String phase = "starting";

    private OpenMpCoexistence() {}

    /** The run's settings: the load order and the options after it. */
    record Settings(String order, int threads, int iterations, int n, int ompThreads, int timeoutS) {
        static Settings parse(String[] args) {
            if (args.length == 0 || !(args[0].equals("torch-first") || args[0].equals("bce4j-first"))) {
                throw new IllegalArgumentException("the first argument is the load order: torch-first or bce4j-first");
            }
            Map<String, Integer> o = new LinkedHashMap<>(Map.of("--threads", 4, "--iterations", 10_000, "--n", 65_536,
                    "--omp-threads", 2, "--timeout-s", 300));
            for (int i = 1; i < args.length; i += 2) {
                if (!o.containsKey(args[i]) || i + 1 == args.length) {
                    throw new IllegalArgumentException("unknown option or missing value: " + args[i]);
                }
                o.put(args[i], Integer.parseInt(args[i + 1]));
            }
            return new Settings(args[0], o.get("--threads"), o.get("--iterations"), o.get("--n"),
                    o.get("--omp-threads"), o.get("--timeout-s"));
        }
    }

    /** One file mapped into this process: its path and the address ranges it occupies. */
    record Mapping(String path, List<long[]> ranges) {
        String fileName() {
            return Paths.get(path).getFileName().toString();
        }

        boolean isRuntime() {
            return RUNTIME.matcher(fileName()).matches();
        }

        boolean contains(long address) {
            return ranges.stream().anyMatch(r -> address >= r[0] && address < r[1]);
        }

        /** Whose natives a file is, from where JavaCPP put it. */
        String origin() {
            return path.contains("/org/bce4j/") ? "bce4j" : path.contains("/org/bytedeco/pytorch/") ? "pytorch"
                    : path.contains("/org/bytedeco/") ? "bytedeco" : "system";
        }

        String label() {
            return fileName() + "[" + origin() + "]";
        }
    }

    /** The files mapped into this process, in address order. */
    static List<Mapping> mappedFiles() throws IOException {
        Map<String, List<long[]>> files = new LinkedHashMap<>();
        for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
            String[] f = line.trim().split("\\s+", 6);
            if (f.length < 6 || !f[5].startsWith("/")) continue;
            String[] range = f[0].split("-");
            files.computeIfAbsent(f[5], k -> new ArrayList<>())
                    .add(new long[] {Long.parseUnsignedLong(range[0], 16), Long.parseUnsignedLong(range[1], 16)});
        }
        List<Mapping> out = new ArrayList<>();
        files.forEach((path, ranges) -> out.add(new Mapping(path, ranges)));
        return out;
    }

    static List<Mapping> runtimes() throws IOException {
        return mappedFiles().stream().filter(Mapping::isRuntime).collect(Collectors.toList());
    }

    static String labels(List<Mapping> runtimes) {
        return runtimes.isEmpty() ? "none"
                : runtimes.stream().map(Mapping::label).sorted().collect(Collectors.joining(","));
    }

    /**
     * The SONAME (first element, "" if none) and the NEEDED entries of an ELF64 little-endian shared object, from
     * its section headers; null where the file is not one or cannot be read.
     */
    static List<String> dynamicNames(String path) {
        try (FileChannel ch = FileChannel.open(Paths.get(path), StandardOpenOption.READ)) {
            ByteBuffer h = read(ch, 0, 64);
            if (h.getInt(0) != 0x464c457f || h.get(4) != 2 || h.get(5) != 1) return null;
            long shoff = h.getLong(0x28);
            int shentsize = h.getShort(0x3A) & 0xffff;
            int shnum = h.getShort(0x3C) & 0xffff;
            if (shoff == 0 || shentsize < 64) return null;
            ByteBuffer sh = read(ch, shoff, shnum * shentsize);
            for (int i = 0; i < shnum; i++) {
                int s = i * shentsize;
                if (sh.getInt(s + 4) != 6) continue; // SHT_DYNAMIC
                ByteBuffer dyn = read(ch, sh.getLong(s + 24), (int) sh.getLong(s + 32));
                long strOffset = sh.getLong(sh.getInt(s + 40) * shentsize + 24);
                String soname = "";
                List<String> needed = new ArrayList<>();
                for (int d = 0; d + 16 <= dyn.limit(); d += 16) {
                    long tag = dyn.getLong(d);
                    if (tag == 0) break; // DT_NULL
                    if (tag == 1) needed.add(string(ch, strOffset + dyn.getLong(d + 8))); // DT_NEEDED
                    if (tag == 14) soname = string(ch, strOffset + dyn.getLong(d + 8)); // DT_SONAME
                }
                needed.add(0, soname);
                return needed;
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static ByteBuffer read(FileChannel ch, long offset, int size) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        while (b.hasRemaining() && ch.read(b, offset + b.position()) > 0) {
            // keep reading
        }
        return b.flip();
    }

    private static String string(FileChannel ch, long offset) throws IOException {
        ByteBuffer b = read(ch, offset, 256);
        int end = 0;
        while (end < b.limit() && b.get(end) != 0) end++;
        return new String(b.array(), 0, end, StandardCharsets.UTF_8);
    }

    static void printRuntimes(String when) throws IOException {
        System.out.println("after " + when + ": OpenMP runtimes mapped: " + labels(runtimes()));
    }

    /** The runtime files with their SONAMEs, and which mapped library names which runtime as NEEDED. */
    static void printRuntimeFacts() throws IOException {
        List<Mapping> mapped = mappedFiles();
        for (Mapping m : mapped) {
            if (!m.isRuntime()) continue;
            List<String> names = dynamicNames(m.path());
            System.out.printf(Locale.ROOT, "  runtime %s: SONAME %s, %d bytes, %s%n", m.label(),
                    names == null ? "?" : names.get(0), Files.size(Paths.get(m.path())), m.path());
        }
        for (Mapping m : mapped) {
            if (m.isRuntime()) continue;
            List<String> names = dynamicNames(m.path());
            if (names == null) continue;
            List<String> omp = names.subList(1, names.size()).stream().filter(s -> RUNTIME.matcher(s).matches())
                    .collect(Collectors.toList());
            if (!omp.isEmpty()) System.out.printf(Locale.ROOT, "  %s needs %s%n", m.label(), String.join(", ", omp));
        }
    }

    /**
     * For the threads whose name starts with {@code prefix} (the Java threads and, inheriting their names, the
     * OpenMP workers they started): how many sit in a system call issued from inside each mapped runtime (idle
     * libgomp workers wait on a futex with their own syscall instruction). Empty where the kernel does not say.
     */
    static Map<String, Map<String, Integer>> idleWorkersByRuntime(String prefix, List<Mapping> runtimes) {
        Map<String, Map<String, Integer>> out = new TreeMap<>();
        try (var tasks = Files.list(Paths.get("/proc/self/task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String comm;
                String[] syscall;
                try {
                    comm = Files.readString(task.resolve("comm")).trim();
                    syscall = Files.readString(task.resolve("syscall")).trim().split("\\s+");
                } catch (IOException e) {
                    continue; // the thread ended, or the kernel has no syscall file
                }
                if (!comm.startsWith(prefix) || syscall.length < 9) continue;
                long pc = Long.parseUnsignedLong(syscall[8].substring(2), 16);
                for (Mapping r : runtimes) {
                    if (r.contains(pc))
                        out.computeIfAbsent(comm, k -> new TreeMap<>()).merge(r.label(), 1, Integer::sum);
                }
            }
        } catch (IOException e) {
            // nothing to say
        }
        return out;
    }

    /**
     * libtorch's side, driven as the benchmark drives it ({@link TorchImpl}: from_blob over the shared data, a leaf
     * input, forward and backward); its thread count is libtorch's global one, set once on the main thread.
     */
    static TorchImpl torchCall(DataSet data, int n) {
        TorchImpl t = new TorchImpl(data);
        t.prepare(n);
        return t;
    }

    /** One bce4j call: a grad_input buffer of its own, poisoned with NaN before each call so a stale one shows. */
    static final class Bce4jCall implements AutoCloseable {
        private final BCEWithLogitsLoss loss;
        private final DataSet data;
        private final long[] shape;
        private final FloatPointer out;
        final float[] grad;

        Bce4jCall(BCEWithLogitsLoss loss, DataSet data, int n) {
            this.loss = loss;
            this.data = data;
            this.shape = new long[] {n};
            this.out = new FloatPointer(n);
            this.grad = new float[n];
        }

        double run() {
            out.fill(0xff);
            double l = loss.computeAt(DType.FLOAT32, shape, data.input.address(), data.target.address(), 0, 0,
                    out.address(), 0);
            out.get(grad);
            return l;
        }

        @Override
        public void close() {
            out.close();
        }
    }

    /** The counts every Java thread adds to. */
    static final class Tally {
        final AtomicLong calls = new AtomicLong();
        final AtomicLong bce4jMismatches = new AtomicLong();
        final AtomicLong torchMismatches = new AtomicLong();
        final AtomicLong torchNotBitIdentical = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        volatile double torchWorstLossRel;
        volatile double torchWorstGradAbs;

        long mismatches() {
            return bce4jMismatches.get() + torchMismatches.get();
        }
    }

    public static void main(String[] args) throws Exception {
        Settings s;
        try {
            s = Settings.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("OpenMpCoexistence: " + e.getMessage());
            System.exit(2);
            return;
        }
        long start = System.nanoTime();
        Tally tally = new Tally();
        startWatchdog(s, tally, start);

        // 1. Load in the order asked, forcing each library's natives (and their OpenMP runtime) in.
        System.out.printf(Locale.ROOT, "OpenMP coexistence: order %s, %d Java threads x %d iterations, N=%d, "
                + "%d OpenMP threads per call%n", s.order(), s.threads(), s.iterations(), s.n(), s.ompThreads());
        printRuntimes("start");
        for (String lib : s.order().equals("torch-first") ? List.of("libtorch", "bce4j")
                : List.of("bce4j", "libtorch")) {
            phase = "loading " + lib;
            if (lib.equals("libtorch")) {
                Loader.load(torch.class);
            } else {
                Bce4j.version();
            }
            printRuntimes("loading " + lib);
        }
        printRuntimeFacts();

        // 2. What each library sees: thread counts, and whether an ICV set through libtorch reaches bce4j.
        phase = "probing";
        System.out.printf(Locale.ROOT,
                "bce4j %s: Bce4j.defaultNumThreads() = %d (omp_get_max_threads in its runtime)%n",
                Bce4j.version(), Bce4j.defaultNumThreads());
        System.out.printf(Locale.ROOT, "libtorch: at::get_num_threads() = %d, intraop_default_num_threads() = %d%n",
                torch.get_num_threads(), torch.intraop_default_num_threads());
        for (String line : torch.get_parallel_info().getString().split("\n")) {
            if (line.contains("OpenMP") || line.contains("backend") || line.contains("omp_get")) {
                System.out.println("  libtorch parallel info: " + line.trim());
            }
        }
        int probe = Math.max(torch.get_num_threads(), Bce4j.defaultNumThreads()) + 1;
        torch.set_num_threads(probe);
        int seen = Bce4j.defaultNumThreads();
        boolean sharedIcv = seen == probe;
        System.out.printf(Locale.ROOT, "ICV probe: at::set_num_threads(%d), then Bce4j.defaultNumThreads() = %d: %s%n",
                probe, seen, sharedIcv ? "ONE runtime instance serves both libraries"
                        : "bce4j's runtime is not libtorch's");
        torch.set_num_threads(s.ompThreads());

        // 3. References, on the main thread.
        phase = "references";
        try (DataSet data = new DataSet(s.n());
                BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN)
                        .numThreads(s.ompThreads()).build()) {
            double bce4jLoss;
            float[] bce4jGrad;
            double torchLoss;
            float[] torchGrad;
            try (Bce4jCall b = new Bce4jCall(loss, data, s.n()); TorchImpl t = torchCall(data, s.n())) {
                bce4jLoss = b.run();
                bce4jGrad = b.grad.clone();
                torchLoss = t.call();
                torchGrad = t.gradInput();
            }
            // libtorch promises no bit-exact results across runs: its reductions and vectorised loops are split by
            // the team the runtime grants, and scalar tails round differently from vector bodies; so a tolerance
            // far above rounding (1e-6 relative for the loss, 1e-4 of the largest possible gradient, 1/N, per
            // element) and far below a wrong result (a chunk lost or counted twice moves the loss by percent).
            double lossTol = 1e-6 * Math.abs(torchLoss);
            double gradTol = 1e-4 / s.n();
            System.out.printf(Locale.ROOT, "references: bce4j loss %.9f, libtorch loss %.9f (differ by %.1e)%n",
                    bce4jLoss, torchLoss, Math.abs(bce4jLoss - torchLoss));

            // 4. The interleaved calls.
            phase = "interleaved calls";
            CountDownLatch go = new CountDownLatch(1);
            CountDownLatch done = new CountDownLatch(s.threads());
            CountDownLatch release = new CountDownLatch(1);
            List<Thread> workers = new ArrayList<>();
            for (int w = 0; w < s.threads(); w++) {
                Thread thread = new Thread(() -> {
                    boolean counted = false;
                    try (Bce4jCall b = new Bce4jCall(loss, data, s.n()); TorchImpl t = torchCall(data, s.n())) {
                        go.await();
                        for (int i = 0; i < s.iterations(); i++) {
                            double lb = b.run();
                            tally.calls.incrementAndGet();
                            if (Double.doubleToRawLongBits(lb) != Double.doubleToRawLongBits(bce4jLoss)
                                    || !Arrays.equals(b.grad, bce4jGrad)) {
                                tally.bce4jMismatches.incrementAndGet();
                            }
                            double lt = t.call();
                            tally.calls.incrementAndGet();
                            checkTorch(tally, lt, t.gradInput(), torchLoss, torchGrad, lossTol, gradTol);
                        }
                        counted = true;
                        done.countDown();
                        release.await(); // keeps this thread's OpenMP worker pools alive for the census
                    } catch (Throwable e) {
                        tally.errors.incrementAndGet();
                        System.out.println("ERROR in " + Thread.currentThread().getName() + ": " + e);
                        if (!counted) done.countDown();
                    }
                }, "coexist-" + w);
                workers.add(thread);
                thread.start();
            }
            long runStart = System.nanoTime();
            go.countDown();
            done.await();
            double seconds = (System.nanoTime() - runStart) / 1e9;

            // 5. Which runtime holds each Java thread's idle OpenMP workers (after their spin-wait has ended).
            phase = "worker census";
            Thread.sleep(500);
            List<Mapping> runtimes = runtimes();
            Map<String, Map<String, Integer>> census = idleWorkersByRuntime("coexist-", runtimes);
            if (census.isEmpty()) {
                System.out.println("idle OpenMP workers: none found (or /proc/self/task/*/syscall unreadable)");
            }
            census.forEach((thread, byRuntime) -> System.out.println("idle OpenMP workers of " + thread + ": "
                    + counts(byRuntime)));
            Map<String, Integer> all = new TreeMap<>();
            idleWorkersByRuntime("", runtimes).values()
                    .forEach(m -> m.forEach((k, v) -> all.merge(k, v, Integer::sum)));
            System.out.println("idle OpenMP workers in the whole process: " + (all.isEmpty() ? "none" : counts(all)));
            release.countDown();
            for (Thread thread : workers) thread.join();

            phase = "summary";
            long expected = 2L * s.threads() * s.iterations();
            boolean pass = tally.mismatches() == 0 && tally.errors.get() == 0 && tally.calls.get() == expected;
            System.out.printf(Locale.ROOT, "bce4j mismatches %d (bit-exact expected), libtorch mismatches %d "
                    + "(tolerance; %d of its calls not bit-identical to the reference, worst loss rel.diff %.1e, "
                    + "worst grad diff %.1e), errors %d%n", tally.bce4jMismatches.get(), tally.torchMismatches.get(),
                    tally.torchNotBitIdentical.get(), tally.torchWorstLossRel, tally.torchWorstGradAbs,
                    tally.errors.get());
            System.out.println(summary(s, tally, labels(runtimes), sharedIcv ? "yes" : "no", seconds,
                    pass ? "PASS" : "FAIL"));
            System.out.printf(Locale.ROOT, "total %.1f s%n", (System.nanoTime() - start) / 1e9);
            System.exit(pass ? 0 : 1);
        }
    }

    private static String counts(Map<String, Integer> byRuntime) {
        return byRuntime.entrySet().stream().map(e -> e.getValue() + " in " + e.getKey())
                .collect(Collectors.joining(", "));
    }

    private static void checkTorch(Tally tally, double loss, float[] grad, double refLoss, float[] refGrad,
            double lossTol, double gradTol) {
        double lossDiff = Math.abs(loss - refLoss);
        double gradDiff = 0;
        for (int i = 0; i < grad.length; i++) {
            gradDiff = Math.max(gradDiff, Math.abs(grad[i] - refGrad[i]));
        }
        if (Double.isNaN(lossDiff) || Double.isNaN(gradDiff) || lossDiff > lossTol || gradDiff > gradTol) {
            tally.torchMismatches.incrementAndGet();
        }
        if (Double.doubleToRawLongBits(loss) != Double.doubleToRawLongBits(refLoss) || !Arrays.equals(grad, refGrad)) {
            tally.torchNotBitIdentical.incrementAndGet();
            synchronized (tally) {
                tally.torchWorstLossRel = Math.max(tally.torchWorstLossRel, lossDiff / Math.abs(refLoss));
                tally.torchWorstGradAbs = Math.max(tally.torchWorstGradAbs, gradDiff);
            }
        }
    }

    private static String summary(Settings s, Tally tally, String runtimes, String oneInstance, double seconds,
            String result) {
        return String.format(Locale.ROOT, "SUMMARY order=%s runtimes=%s one-runtime-instance=%s calls=%d mismatches=%d "
                + "errors=%d seconds=%.1f result=%s", s.order(), runtimes, oneInstance, tally.calls.get(),
                tally.mismatches(), tally.errors.get(), seconds, result);
    }

    /** Ends the JVM with status 1 if the run is still going after the timeout: a hang, wherever it is. */
    private static void startWatchdog(Settings s, Tally tally, long start) {
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(s.timeoutS() * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            String runtimes;
            try {
                runtimes = labels(runtimes());
            } catch (IOException e) {
                runtimes = "?";
            }
            System.out.printf(Locale.ROOT, "HANG: still %s after %d s (%d calls done)%n", phase, s.timeoutS(),
                    tally.calls.get());
            System.out.println(summary(s, tally, runtimes, "?", (System.nanoTime() - start) / 1e9, "HANG"));
            System.out.flush();
            Runtime.getRuntime().halt(1);
        }, "omp-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }
}
