package org.bce4j.sidebyside;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Runs the Java Vector API baseline (java/src/sidebyside/vector/VectorApiBaseline.java, one self-contained source
 * file) on JDK 25 as a child process, by JEP 330 source launch:
 * {@code <jdk25>/bin/java --add-modules jdk.incubator.vector VectorApiBaseline.java --sizes ... --threads ...},
 * and parses its {@code INFO} and {@code RESULT} lines. The child builds the same data from the same index-based
 * generator; its {@code xsum} (the sum of the logits) must equal the harness's, which shows it did. It checks its
 * grad_input against a float64 scalar reference of the same formula, in the child; its mean loss is checked here
 * against bce4j's.
 */
final class VectorApiChild {
    static final String NAME = "Vector API";

    final ChildRun child = new ChildRun(NAME);

    void run(Path jdk, Path source, List<Integer> sizes, List<Integer> threads, Timer timer,
            Map<Integer, Double> bce4jLoss, DataSet data) throws Exception {
        Path java = jdk.resolve("bin/java");
        if (!Files.isExecutable(java)) {
            child.info = "skipped: no JDK at " + jdk + " (set -Dsidebyside.jdk25 or --jdk25)";
            System.out.println("NOTE: Vector API baseline " + child.info);
            return;
        }
        if (!Files.isRegularFile(source)) {
            child.info = "skipped: no source file " + source;
            System.out.println("NOTE: Vector API baseline " + child.info);
            return;
        }
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx3g", "--add-modules",
                "jdk.incubator.vector", source.toString(), "--sizes", joined(sizes), "--threads", joined(threads),
                "--warmup-s", String.valueOf(timer.warmupS), "--cap-s", String.valueOf(timer.capS), "--batches",
                String.valueOf(timer.batches)));
        child.run(command, Map.of(), kv -> checked(kv, bce4jLoss, data));
        child.warnFailures();
    }

    static String joined(List<Integer> values) {
        return values.stream().map(String::valueOf).collect(Collectors.joining(","));
    }

    private Point checked(Map<String, String> kv, Map<Integer, Double> bce4jLoss, DataSet data) {
        Point p = child.timing(kv);
        double ref = bce4jLoss.getOrDefault(p.n(), Double.NaN);
        double lossRel = Math.abs(Double.parseDouble(kv.get("loss")) - ref) / Math.abs(ref);
        if (Double.parseDouble(kv.get("xsum")) != data.inputSum(p.n())) {
            System.out.printf("WARNING: %s N=%d: the child's data differ from the harness's (logit sums %s vs %s)%n",
                    NAME, p.n(), kv.get("xsum"), data.inputSum(p.n()));
            lossRel = Double.POSITIVE_INFINITY;
        }
        return new Point(NAME, p.n(), p.t(), p.ns(), p.batches(), p.perBatch(), lossRel,
                Double.parseDouble(kv.get("graderr")) * p.n(), "loss: bce4j; grad: float64 reference");
    }
}
