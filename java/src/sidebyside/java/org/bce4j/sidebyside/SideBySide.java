package org.bce4j.sidebyside;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.bce4j.Bce4j;
import org.bytedeco.javacpp.Loader;

/**
 * The side-by-side benchmark: the same job (BCE with logits, float32, hard labels, reduction mean, mean loss and
 * grad_input) on the same data, by bce4j (its default kernels through {@code computeAt} and through a prepared call;
 * each other instruction set it can run here in a child JVM), libtorch, ND4J, a plain Java loop, a Java Vector API
 * loop (JDK 25 child process) and the memory floor (a vectorised C loop over the same bytes, a child process), for
 * each N and thread count, in one run. Writes
 * {@code side-by-side.md} and {@code side-by-side.png} and prints the table. Run through Maven:
 *
 * <pre>mvn -B -Psidebyside -DskipTests package exec:exec@sidebyside [-Dsidebyside.args="--quick"]</pre>
 *
 * Arguments: {@code --quick} (N up to 64K, 1 thread, short timings), {@code --sizes 64,1K,4M},
 * {@code --threads 1,2}, {@code --impls bce4j,prepared,isas,libtorch,nd4j,java,vector,floor} ({@code isas}: bce4j on
 * the other instruction sets), {@code --out DIR}, {@code --warmup-s S}, {@code --cap-s S}, {@code --batches B},
 * {@code --jdk25 DIR}, {@code --floor PROGRAM} (default: the {@code sidebyside.floor} property, which Maven sets to the build's {@code bce4j_memory_floor}). The full default grid writes to
 * docs/bench; any other selection to target/sidebyside unless {@code --out} says otherwise.
 */
public final class SideBySide {
    private SideBySide() {}

    static final List<Integer> DEFAULT_SIZES = List.of(64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10,
            1 << 20, 4 << 20, 16 << 20);
    static final List<Integer> DEFAULT_THREADS = List.of(1, 2);
    static final List<String> ALL_IMPLS = List.of("bce4j", "prepared", "isas", "libtorch", "nd4j", "java", "vector",
            "floor");

    static void printPoint(Point p) {
        String check = !p.checked() ? ""
                : String.format(Locale.ROOT, "  loss rel.diff %.1e, grad diff·N %.1e%s", p.lossRelDiff(), p.gradErr(),
                        p.failed() ? "  OUTSIDE TOLERANCE" : "");
        System.out.printf(Locale.ROOT, "%-12s N=%-9d T=%d  %10s  (%d batches of %d)%s%n", p.impl(), p.n(), p.t(),
                Report.time(p.ns()), p.batches(), p.perBatch(), check);
    }

    static List<Integer> parseSizes(String s) {
        List<Integer> out = new ArrayList<>();
        for (String part : s.split(",")) {
            part = part.trim().toUpperCase(Locale.ROOT);
            int scale = part.endsWith("K") ? 1 << 10 : part.endsWith("M") ? 1 << 20 : 1;
            if (scale != 1) part = part.substring(0, part.length() - 1);
            out.add(Math.multiplyExact(Integer.parseInt(part), scale));
        }
        return out;
    }

    static String firstLine(Path file, String prefix) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(prefix)) return line.substring(line.indexOf(':') + 1).trim();
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        return "unknown";
    }

    static String loadAverage() {
        try {
            return Files.readString(Paths.get("/proc/loadavg")).trim().split("\\s+", 4)[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        boolean quick = false;
        List<Integer> sizes = DEFAULT_SIZES;
        List<Integer> threads = DEFAULT_THREADS;
        List<String> impls = ALL_IMPLS;
        Path out = null;
        double warmupS = 0.2;
        double capS = 3;
        int batches = 11;
        Path jdk25 = Paths.get(System.getProperty("sidebyside.jdk25", "/usr/lib/jvm/temurin-25-jdk-amd64"));
        Path vectorSource = Paths.get(System.getProperty("sidebyside.vectorSource",
                "java/src/sidebyside/vector/VectorApiBaseline.java"));
        Path floor = Paths.get(System.getProperty("sidebyside.floor",
                "target/cmake/linux-x86_64/bce4j_memory_floor"));
        boolean custom = false;
        List<String> argList = new ArrayList<>();
        for (String a : args) if (!a.isBlank()) argList.addAll(Arrays.asList(a.trim().split("\\s+")));
        for (int i = 0; i < argList.size(); i++) {
            String a = argList.get(i);
            switch (a) {
                case "--quick" -> {
                    quick = true;
                    sizes = parseSizes("64,256,1K,4K,16K,64K");
                    threads = List.of(1);
                    warmupS = 0.05;
                    capS = 0.5;
                    batches = 5;
                }
                case "--sizes" -> sizes = parseSizes(argList.get(++i));
                case "--threads" -> threads = parseSizes(argList.get(++i));
                case "--impls" -> impls = List.of(argList.get(++i).toLowerCase(Locale.ROOT).split(","));
                case "--out" -> out = Paths.get(argList.get(++i));
                case "--warmup-s" -> warmupS = Double.parseDouble(argList.get(++i));
                case "--cap-s" -> capS = Double.parseDouble(argList.get(++i));
                case "--batches" -> batches = Integer.parseInt(argList.get(++i));
                case "--jdk25" -> jdk25 = Paths.get(argList.get(++i));
                case "--floor" -> floor = Paths.get(argList.get(++i));
                default -> {
                    System.err.println("unknown argument " + a + "; see the class description of " + SideBySide.class);
                    System.exit(2);
                }
            }
            if (!a.equals("--out") && !a.equals("--jdk25") && !a.equals("--floor")) custom = true;
        }
        for (String impl : impls) {
            if (!ALL_IMPLS.contains(impl)) throw new IllegalArgumentException("unknown implementation " + impl);
        }
        if (out == null) out = custom ? Paths.get("target/sidebyside") : Paths.get("docs/bench");
        sizes = sizes.stream().sorted().distinct().toList();
        threads = threads.stream().sorted().distinct().toList();
        Timer timer = new Timer(warmupS, capS, batches);

        String started = ZonedDateTime.now().truncatedTo(ChronoUnit.SECONDS)
                .format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        String loadAtStart = loadAverage();
        String cpu = firstLine(Paths.get("/proc/cpuinfo"), "model name");
        int maxN = sizes.get(sizes.size() - 1);
        int maxT = threads.get(threads.size() - 1);
        System.out.printf("side by side: N %s, threads %s, %s; output %s%n", sizes, threads, impls, out);

        DataSet data = new DataSet(maxN);
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, maxT - 1), r -> {
            Thread th = new Thread(r, "sidebyside-worker");
            th.setDaemon(true);
            return th;
        });

        // bce4j first: it is the reference of the checks.
        Map<String, String> notes = new LinkedHashMap<>();
        List<Impl> running = new ArrayList<>();
        Map<String, Function<DataSet, Impl>> makers = new LinkedHashMap<>();
        makers.put("bce4j", Bce4jImpl::new);
        makers.put("prepared", Bce4jPreparedImpl::new);
        makers.put("libtorch", TorchImpl::new);
        makers.put("nd4j", Nd4jImpl::new);
        makers.put("java", d -> new PlainJavaImpl(d, pool));
        String nd4jInfo = "";
        for (var e : makers.entrySet()) {
            if (!e.getKey().equals("bce4j") && !impls.contains(e.getKey())) continue;
            try {
                Impl impl = e.getValue().apply(data);
                running.add(impl);
                if (impl instanceof Nd4jImpl nd) {
                    String lib = Loader.getLoadedLibraries().entrySet().stream()
                            .filter(l -> l.getKey().contains("nd4jcpu")).map(Map.Entry::getValue).findFirst()
                            .orElse("?");
                    nd4jInfo = String.format("native library %s, thread pool %d", lib.replaceAll(".*/bindings/", ""),
                            nd.poolThreads());
                    if (maxT > nd.poolThreads()) {
                        nd4jInfo += " (fewer than the " + maxT + " threads asked for: set OMP_NUM_THREADS)";
                    }
                }
            } catch (Throwable t) {
                notes.put(e.getKey(), "skipped: " + t);
                System.out.println("NOTE: " + e.getKey() + " skipped: " + t);
            }
        }

        if (running.isEmpty() || !(running.get(0) instanceof Bce4jImpl)) {
            throw new IllegalStateException("bce4j, the reference of the checks, did not load: " + notes);
        }

        // A JIT warm-up of each implementation's Java side (the harness's own call paths included) before the
        // first point, so that the small sizes, measured first, do not pay for it.
        int warmN = Math.min(maxN, 4096);
        for (Impl impl : running) {
            impl.prepare(warmN);
            impl.threads(threads.get(0));
            long end = System.nanoTime() + (long) (Math.max(0.25, warmupS * 2) * 1e9);
            while (System.nanoTime() < end) Timer.sink += impl.call();
        }

        List<Point> points = new ArrayList<>();
        Map<Integer, Double> bce4jLoss = new HashMap<>();
        for (int n : sizes) {
            Reference ref = new Reference();
            for (Impl impl : running) {
                try {
                    impl.prepare(n);
                    for (int t : threads) points.add(measurePoint(impl, n, t, ref, timer));
                } catch (RuntimeException | OutOfMemoryError e) {
                    System.out.printf("WARNING: %s N=%d failed, its remaining points at this N are left out: %s%n",
                            impl.name(), n, e);
                    notes.merge(impl.name(), "failed at N=" + n + ": " + e, (a, b) -> a + "; " + b);
                }
                if (impl instanceof Bce4jImpl) {
                    if (ref.grad == null) throw new IllegalStateException("no bce4j result at N=" + n);
                    bce4jLoss.put(n, ref.loss);
                }
            }
        }
        for (Impl impl : running) impl.close();

        List<String> columns = new ArrayList<>();
        for (Impl impl : running) columns.add(impl.name());
        if (impls.contains("isas")) {
            for (String isa : Bce4j.nativeInfo().availableCpuIsas()) {
                if (isa.equals("scalar") || isa.equals(Bce4j.cpuIsa())) continue;
                ChildRun child = IsaChild.run(isa, sizes, threads, timer);
                points.addAll(child.points);
                // Beside the in-process bce4j columns, which come first.
                columns.add((int) columns.stream().filter(c -> c.startsWith("bce4j")).count(), child.name);
                notes.put(child.name, child.info);
            }
        }
        VectorApiChild vector = new VectorApiChild();
        if (impls.contains("vector")) {
            vector.run(jdk25, vectorSource, sizes, threads, timer, bce4jLoss, data);
            points.addAll(vector.child.points);
            columns.add(VectorApiChild.NAME);
        }
        data.close();
        if (impls.contains("floor")) {
            ChildRun child = FloorChild.run(floor, sizes, threads, timer);
            points.addAll(child.points);
            if (!child.points.isEmpty()) columns.add(FloorChild.NAME);
            if (!child.info.isEmpty()) notes.put(FloorChild.NAME, child.info);
        }

        String header = header(started, cpu, loadAtStart, loadAverage(), vector.child.info, nd4jInfo, notes, timer,
                quick);
        String table = Report.table(points, columns, sizes, threads, batches);
        String checks = Report.checks(points, columns);
        String md = header + "\n" + table + "\n† fewer than " + batches
                + " batches (the time cap per point); ⚠ a check outside tolerance.\n\n## Checks\n\n" + checks;
        Files.createDirectories(out);
        Path mdFile = out.resolve("side-by-side.md");
        Files.writeString(mdFile, md, StandardCharsets.UTF_8);
        System.out.println();
        System.out.println(md);
        Path png = out.resolve("side-by-side.png");
        try {
            Plot.write(png, "BCE with logits, float32, mean loss + grad_input: time per call",
                    cpu + ", bce4j " + Bce4j.cpuIsa() + ", " + started + (quick ? ", quick run" : ""), points,
                    columns, sizes, threads);
            System.out.println("wrote " + mdFile + " and " + png);
        } catch (Throwable t) {
            System.out.println("WARNING: no plot (" + t + "); wrote " + mdFile);
        }
        pool.shutdownNow();
    }

    /** bce4j's result at the current N: what the others are checked against. */
    static final class Reference {
        double loss = Double.NaN;
        float[] grad;
    }

    /** One point: a first call checked against bce4j (bce4j's own first call becomes the reference), then timing. */
    static Point measurePoint(Impl impl, int n, int t, Reference ref, Timer timer) {
        impl.threads(t);
        double loss = impl.call();
        float[] grad = impl.gradInput();
        if (impl instanceof Bce4jImpl && ref.grad == null) {
            ref.grad = grad;
            ref.loss = loss;
        }
        double lossRel = Double.NaN;
        double gradErr = Double.NaN;
        if (grad != null) {
            lossRel = Math.abs(loss - ref.loss) / Math.abs(ref.loss);
            gradErr = 0;
            for (int i = 0; i < n; i++) gradErr = Math.max(gradErr, Math.abs(grad[i] - ref.grad[i]));
            gradErr *= n;
        }
        Timer.Measurement m = timer.measure(impl::call);
        Point p = new Point(impl.name(), n, t, m.medianNs(), m.batches(), m.perBatch(), lossRel, gradErr, "bce4j");
        printPoint(p);
        if (p.failed()) {
            System.out.printf(Locale.ROOT,
                    "WARNING: %s N=%d T=%d: mean loss %.9g vs bce4j %.9g (rel. diff %.2e), "
                            + "max|grad_input diff|·N %.2e%n",
                    impl.name(), n, t, loss, ref.loss, lossRel, gradErr);
        }
        return p;
    }

    static String header(String date, String cpu, String loadStart, String loadEnd, String vectorInfo,
            String nd4jInfo, Map<String, String> notes, Timer timer, boolean quick) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append("# Side by side: BCE with logits, float32, mean loss + grad_input\n\n");
        if (quick) s.append("**Quick run (`--quick`): short timings, for smoke tests only.**\n\n");
        s.append("- Date: ").append(date).append('\n');
        s.append("- CPU: ").append(cpu).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" logical CPUs; load average (1 min) ").append(loadStart).append(" at the start, ")
                .append(loadEnd).append(" at the end\n");
        s.append("- bce4j ").append(Bce4j.version()).append(", kernels (Bce4j.cpuIsa()): ").append(Bce4j.cpuIsa())
                .append('\n');
        s.append("- JDK (harness: bce4j, libtorch, ND4J, Java scalar): ")
                .append(System.getProperty("java.version")).append(" (").append(System.getProperty("java.vm.name"))
                .append(")\n");
        s.append("- JDK (Vector API child): ").append(vectorInfo.isEmpty() ? "not run" : vectorInfo).append('\n');
        s.append("- libtorch: org.bytedeco:pytorch ").append(version("org.bytedeco", "pytorch"))
                .append("; ND4J: org.nd4j:nd4j-native ").append(version("org.nd4j", "nd4j-native"))
                .append(nd4jInfo.isEmpty() ? "" : " (" + nd4jInfo + ")").append("; JavaCPP ")
                .append(Loader.getVersion()).append('\n');
        for (var e : notes.entrySet()) s.append("- ").append(e.getKey()).append(": ").append(e.getValue()).append('\n');
        s.append('\n');
        s.append("Job: the same logits (uniform in [-8, 8)) and hard labels (0/1), float32, reduction mean, computing "
                + "the mean loss and grad_input. bce4j: `BCEWithLogitsLoss.computeAt` on off-heap memory, one fused "
                + "call, on the default kernels; bce4j prepared: `PreparedCall.run` on `Tensor` views, the call "
                + "prepared once per N; bce4j ISA: `computeAt` on that instruction set's kernels, in a child JVM "
                + "with BCE4J_ISA set, checked there against the Java scalar loop. libtorch: `binary_cross_entropy_with_logits` + autograd `backward()` on tensors made with "
                + "`from_blob` over the same memory, grad set to none before each call, `at::set_num_threads(T)`. "
                + "ND4J: one `sigm_cross_entropy_loss_grad` custom op (outputs grad_input, dL/dweight = the mean "
                + "loss for a scalar weight 1, and dL/dlabels) on arrays over the same memory, "
                + "`setMaxMasterThreads(T)`. Java scalar: a double-precision loop with `Math.exp`/`Math.log1p` on "
                + "float[]. Vector API: a hand-fused `FloatVector` loop (lanewise EXP, LOG1P) on float[], in a JDK 25 "
                + "child process. Memory floor: bce4j_memory_floor, a vectorised C loop that reads input and target and "
                + "writes one output (the bytes a fused pass moves), OpenMP-threaded, a child process. The "
                + "Java loops split T threads over a fixed pool, one chunk per thread, and stay on one thread below "
                + "2 × 16384 elements (bce4j: below 32768).\n\n");
        s.append(String.format(Locale.ROOT, "Timing: per point, %.2g s of warm-up, then batches of calls sized to "
                + "≥ 1 ms; the median per-call time over %d batches (fewer where that would pass %.2g s). "
                + "Ratios: libtorch ÷ bce4j and Vector API ÷ bce4j > 1 mean bce4j is faster; bce4j ÷ memory floor is "
                + "how many times the memory floor bce4j takes. Checks, once per point before timing: the mean "
                + "loss within %.0e relative of bce4j's, max|grad_input − bce4j's| · N ≤ %.0e.%n",
                timer.warmupS, timer.batches, timer.capS, Point.LOSS_TOLERANCE, Point.GRAD_TOLERANCE));
        return s.toString();
    }

    static String version(String group, String artifact) throws IOException {
        String v = Loader.getVersion(group, artifact);
        return v == null ? "?" : v;
    }
}
