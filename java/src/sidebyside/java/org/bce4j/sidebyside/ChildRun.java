package org.bce4j.sidebyside;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A column measured in a child process, which prints one {@code RESULT key=value ...} line per point (or another
 * prefix than {@code RESULT}) and optionally {@code INFO text}; other lines are echoed. Used where a column
 * needs a process of its own: another JDK (the Vector API), another BCE4J_ISA (read once per process), a C program
 * (the memory floor).
 */
final class ChildRun {
    final String name;
    private final String resultPrefix;
    /** The child's description from its INFO line, or why it did not run or failed. */
    String info = "";
    final List<Point> points = new ArrayList<>();

    ChildRun(String name) {
        this(name, "RESULT ");
    }

    ChildRun(String name, String resultPrefix) {
        this.name = name;
        this.resultPrefix = resultPrefix;
    }

    /** Runs {@code command} with {@code environment} added, turning each RESULT line's fields into a point. */
    void run(List<String> command, Map<String, String> environment, Function<Map<String, String>, Point> point)
            throws Exception {
        System.out.println(name + " child: " + String.join(" ", command));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().putAll(environment);
        Process process = builder.start();
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = out.readLine()) != null;) {
                if (line.startsWith("INFO ")) {
                    info = line.substring(5);
                    System.out.println(name + " child: " + info);
                } else if (line.startsWith(resultPrefix)) {
                    Point p = point.apply(fields(line.substring(resultPrefix.length())));
                    points.add(p);
                    SideBySide.printPoint(p);
                } else {
                    System.out.println(name + " child: " + line);
                }
            }
        }
        if (!process.waitFor(10, TimeUnit.MINUTES)) process.destroyForcibly();
        if (process.exitValue() != 0) {
            info += " (exit status " + process.exitValue() + ")";
            System.out.println("WARNING: the " + name + " child exited with status " + process.exitValue());
        }
    }

    static Map<String, String> fields(String line) {
        Map<String, String> kv = new HashMap<>();
        for (String field : line.trim().split("\\s+")) {
            int eq = field.indexOf('=');
            if (eq > 0) kv.put(field.substring(0, eq), field.substring(eq + 1));
        }
        return kv;
    }

    /** A point from a RESULT line with n, t, ns, batches and perbatch, unchecked. */
    Point timing(Map<String, String> kv) {
        return new Point(name, Integer.parseInt(kv.get("n")), Integer.parseInt(kv.get("t")),
                Double.parseDouble(kv.get("ns")), Integer.parseInt(kv.get("batches")),
                Integer.parseInt(kv.get("perbatch")), Double.NaN, Double.NaN, "");
    }

    /** Warns about each point whose check failed. */
    void warnFailures() {
        for (Point p : points) {
            if (p.failed()) {
                System.out.printf(java.util.Locale.ROOT,
                        "WARNING: %s N=%d T=%d: loss rel. diff %.2e, max|grad diff|·N %.2e%n", p.impl(), p.n(),
                        p.t(), p.lossRelDiff(), p.gradErr());
            }
        }
    }
}
