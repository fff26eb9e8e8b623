package org.bce4j.sidebyside;

import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.bce4j.Bce4j;

/**
 * bce4j on kernels other than the in-process ones: BCE4J_ISA is read once per process, so each other instruction
 * set runs in a child JVM on the harness's own class path, with BCE4J_ISA set. The child ({@link #main}) measures
 * {@link Bce4jImpl} with the harness's timing rule and checks each point against the double-precision Java loop
 * (the same data, built from the same generator), printing {@code RESULT} lines for {@link ChildRun}.
 */
final class IsaChild {
    private IsaChild() {}

    /** The column name of bce4j on instruction set {@code isa}. */
    static String name(String isa) {
        return "bce4j " + isa;
    }

    /** Measures bce4j on {@code isa} in a child JVM; its points are named {@link #name(String)}. */
    static ChildRun run(String isa, List<Integer> sizes, List<Integer> threads, Timer timer) throws Exception {
        ChildRun child = new ChildRun(name(isa));
        List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx4g", "-cp", System.getProperty("java.class.path"), IsaChild.class.getName(),
                VectorApiChild.joined(sizes), VectorApiChild.joined(threads), String.valueOf(timer.warmupS),
                String.valueOf(timer.capS), String.valueOf(timer.batches)));
        child.run(command, Map.of("BCE4J_ISA", isa), kv -> {
            Point p = child.timing(kv);
            return new Point(p.impl(), p.n(), p.t(), p.ns(), p.batches(), p.perBatch(),
                    Double.parseDouble(kv.get("lossdiff")), Double.parseDouble(kv.get("graderr")),
                    "the Java scalar loop (float64), in the child");
        });
        child.warnFailures();
        return child;
    }

    /** The child: arguments SIZES THREADS WARMUP_S CAP_S BATCHES, as the parent passes them. */
    public static void main(String[] args) {
        List<Integer> sizes = SideBySide.parseSizes(args[0]);
        List<Integer> threads = SideBySide.parseSizes(args[1]);
        Timer timer = new Timer(Double.parseDouble(args[2]), Double.parseDouble(args[3]), Integer.parseInt(args[4]));
        System.out.println("INFO kernels " + Bce4j.cpuIsa() + " (" + Bce4j.nativeInfo().cpuIsaReason() + ")");
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads.get(threads.size() - 1) - 1), r -> {
            Thread th = new Thread(r, "isa-child-worker");
            th.setDaemon(true);
            return th;
        });
        try (DataSet data = new DataSet(sizes.get(sizes.size() - 1)); Bce4jImpl bce4j = new Bce4jImpl(data)) {
            PlainJavaImpl reference = new PlainJavaImpl(data, pool);
            for (int n : sizes) {
                bce4j.prepare(n);
                reference.prepare(n);
                double referenceLoss = reference.call();
                float[] referenceGrad = reference.gradInput();
                for (int t : threads) {
                    bce4j.threads(t);
                    double lossDiff = Math.abs(bce4j.call() - referenceLoss) / Math.abs(referenceLoss);
                    float[] grad = bce4j.gradInput();
                    double gradErr = 0;
                    for (int i = 0; i < n; i++) gradErr = Math.max(gradErr, Math.abs(grad[i] - referenceGrad[i]));
                    Timer.Measurement m = timer.measure(bce4j::call);
                    System.out.printf(Locale.ROOT,
                            "RESULT n=%d t=%d ns=%.6g batches=%d perbatch=%d lossdiff=%.6g graderr=%.6g%n", n, t,
                            m.medianNs(), m.batches(), m.perBatch(), lossDiff, gradErr * n);
                }
            }
        }
        pool.shutdownNow();
    }
}
