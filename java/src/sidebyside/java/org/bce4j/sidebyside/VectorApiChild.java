package org.bce4j.sidebyside;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

    /** The child's description (JDK version, species), or why it did not run. */
    String info = "";
    final List<Point> points = new ArrayList<>();

    void run(Path jdk, Path source, List<Integer> sizes, List<Integer> threads, Timer timer,
            Map<Integer, Double> bce4jLoss, DataSet data) throws Exception {
        Path java = jdk.resolve("bin/java");
        if (!Files.isExecutable(java)) {
            info = "skipped: no JDK at " + jdk + " (set -Dsidebyside.jdk25 or --jdk25)";
            System.out.println("NOTE: Vector API baseline " + info);
            return;
        }
        if (!Files.isRegularFile(source)) {
            info = "skipped: no source file " + source;
            System.out.println("NOTE: Vector API baseline " + info);
            return;
        }
        List<String> command = new ArrayList<>(List.of(java.toString(), "-Xmx3g", "--add-modules",
                "jdk.incubator.vector", source.toString(),
                "--sizes", sizes.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--threads", threads.stream().map(String::valueOf).collect(Collectors.joining(",")),
                "--warmup-s", String.valueOf(timer.warmupS), "--cap-s", String.valueOf(timer.capS),
                "--batches", String.valueOf(timer.batches)));
        System.out.println("Vector API child: " + String.join(" ", command));
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null;) {
                if (line.startsWith("INFO ")) {
                    info = line.substring(5);
                    System.out.println("Vector API child: " + info);
                } else if (line.startsWith("RESULT ")) {
                    points.add(parse(line, bce4jLoss, data));
                } else {
                    System.out.println("Vector API child: " + line);
                }
            }
        }
        if (!process.waitFor(10, TimeUnit.MINUTES)) process.destroyForcibly();
        if (process.exitValue() != 0) {
            info += " (exit status " + process.exitValue() + ")";
            System.out.println("WARNING: the Vector API child exited with status " + process.exitValue());
        }
    }

    private Point parse(String line, Map<Integer, Double> bce4jLoss, DataSet data) {
        Map<String, String> kv = new HashMap<>();
        for (String field : line.substring(7).trim().split("\\s+")) {
            int eq = field.indexOf('=');
            kv.put(field.substring(0, eq), field.substring(eq + 1));
        }
        int n = Integer.parseInt(kv.get("n"));
        int t = Integer.parseInt(kv.get("t"));
        double loss = Double.parseDouble(kv.get("loss"));
        double ref = bce4jLoss.getOrDefault(n, Double.NaN);
        double lossRel = Math.abs(loss - ref) / Math.abs(ref);
        double gradErr = Double.parseDouble(kv.get("graderr")) * n;
        if (Double.parseDouble(kv.get("xsum")) != data.inputSum(n)) {
            System.out.printf("WARNING: %s N=%d: the child's data differ from the harness's (logit sums %s vs %s)%n",
                    NAME, n, kv.get("xsum"), data.inputSum(n));
            lossRel = Double.POSITIVE_INFINITY;
        }
        Point p = new Point(NAME, n, t, Double.parseDouble(kv.get("ns")), Integer.parseInt(kv.get("batches")),
                Integer.parseInt(kv.get("perbatch")), lossRel, gradErr, "loss: bce4j; grad: float64 reference");
        SideBySide.printPoint(p);
        return p;
    }
}
