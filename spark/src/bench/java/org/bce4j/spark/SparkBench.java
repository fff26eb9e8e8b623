package org.bce4j.spark;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.catalyst.InternalRow;
import org.bce4j.Bce4j;

/**
 * The Spark benchmark of README "On Spark" (not a test): N cached rows of logits and labels (double columns) on
 * local[2], each method run once to warm up, then ROUNDS rounds of all methods in turn, timed by wall clock; prints
 * every time, the medians, the ratios against the evaluator, where the evaluator's time goes, and the load average
 * before and after each round.
 *
 * <pre>mvn -B -q install -DskipTests &amp;&amp; mvn -B -f spark -Pbench verify [-Dbench.rows=20000000 -Dbench.rounds=5]</pre>
 */
public final class SparkBench {
    private SparkBench() {}

    private static final String SQL = "avg(greatest(x, 0) - x * y + log1p(exp(-abs(x))))";

    /**
     * Runs the benchmark.
     *
     * @param args the row count (20M by default) and the round count (5)
     */
    public static void main(String[] args) {
        long rows = args.length > 0 ? Long.parseLong(args[0]) : 20_000_000L;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        SparkSession spark = SparkSession.builder().master("local[2]").appName("bce4j-spark bench").config(
                "spark.ui.enabled", false).config("spark.sql.shuffle.partitions", 2).getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        Bce4jSpark.register(spark);
        System.out.printf(Locale.ROOT, "bce4j-spark bench: %d rows, local[2], Spark %s, %s, kernels %s, %s%n", rows,
                spark.version(), System.getProperty("java.vm.name") + " " + System.getProperty("java.version"), Bce4j
                        .cpuIsa(),
                cpu());

        // Logits ~ N(0, 16), labels drawn from sigmoid(x): a calibrated model's output.
        Dataset<Row> data = spark.range(0, rows, 1, 4).selectExpr("randn(1) * 4 as x").selectExpr("x",
                "cast(rand(2) < 1 / (1 + exp(-x)) as double) as y").cache();
        spark.udf().register("probability_vector", (UDF1<Double, Object>) x -> {
            double p = 1 / (1 + Math.exp(-x));
            return Vectors.dense(1 - p, p);
        }, SQLDataTypes.VectorType());
        Dataset<Row> vectors = data.selectExpr("probability_vector(x) as probability", "y as label",
                "cast(x > 0 as double) as prediction").cache();
        System.out.printf(Locale.ROOT, "cached: %d rows, %d with probability vectors%n", data.count(), vectors
                .count());
        data.createOrReplaceTempView("data");

        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y");
        MulticlassClassificationEvaluator logLoss = new MulticlassClassificationEvaluator().setMetricName("logLoss")
                .setProbabilityCol("probability").setLabelCol("label");
        String[] names = {"evaluator", "sql_expression", "udaf", "mlc_logloss", "scan_only"};
        List<List<Double>> seconds = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            seconds.add(new ArrayList<>());
        }
        List<String> breakdowns = new ArrayList<>();
        for (int round = 0; round <= rounds; round++) {
            String loadBefore = load();
            double[] values = new double[names.length];
            double[] times = new double[names.length];
            BceEvaluator.Evaluation evaluation = null;
            for (int m = 0; m < names.length; m++) {
                long start = System.nanoTime();
                switch (m) {
                    case 0 -> {
                        evaluation = evaluator.run(data);
                        values[m] = evaluation.value();
                    }
                    case 1 -> values[m] = spark.sql("select " + SQL + " from data").first().getDouble(0);
                    case 2 -> values[m] = spark.sql("select bce_with_logits(x, y) from data").first().getDouble(0);
                    case 3 -> values[m] = logLoss.evaluate(vectors);
                    case 4 -> values[m] = scanOnly(data);
                }
                times[m] = (System.nanoTime() - start) / 1e9;
            }
            String label = round == 0 ? "warm-up" : "round " + round;
            System.out.printf(Locale.ROOT, "%s (load %s -> %s):", label, loadBefore, load());
            for (int m = 0; m < names.length; m++) {
                System.out.printf(Locale.ROOT, " %s %.3f s", names[m], times[m]);
            }
            System.out.printf(Locale.ROOT, "%n  values: evaluator %.17g, sql %.17g, udaf %.17g, logLoss %.17g%n",
                    values[0], values[1], values[2], values[3]);
            String breakdown = breakdown(evaluation, times[0]);
            System.out.println("  evaluator: " + breakdown);
            if (round > 0) {
                for (int m = 0; m < names.length; m++) {
                    seconds.get(m).add(times[m]);
                }
                breakdowns.add(breakdown);
            }
        }
        StringBuilder summary = new StringBuilder(String.format(Locale.ROOT, "medians of %d rounds (%d rows):", rounds,
                rows));
        for (int m = 0; m < names.length; m++) {
            double median = median(seconds.get(m));
            // Each round's time over the evaluator's in the same round: the load changes less within a round.
            List<Double> ratios = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                ratios.add(seconds.get(m).get(round) / seconds.get(0).get(round));
            }
            summary.append(String.format(Locale.ROOT, "%n  %-15s %.3f s  %.1f ns/row  %.2fx the evaluator's time "
                    + "(median of the rounds' ratios)", names[m], median, median * 1e9 / rows, median(ratios)));
        }
        System.out.println(summary);
        spark.stop();
    }

    /** Where the evaluator's time went: its tasks' time in native calls, the rest of the tasks, the driver. */
    private static String breakdown(BceEvaluator.Evaluation evaluation, double wallSeconds) {
        long task = 0, nativeNanos = 0, calls = 0;
        for (PartitionResult partition : evaluation.partitions()) {
            task += partition.taskNanos;
            nativeNanos += partition.nativeNanos;
            calls += partition.nativeCalls;
        }
        return String.format(Locale.ROOT, "%d tasks, %d native calls; task time (both cores) %.3f s = native calls "
                + "%.3f s (%.0f%%) + row reading and staging %.3f s; driver merge %.3f ms; wall %.3f s",
                evaluation
                        .partitions().size(),
                calls, task / 1e9, nativeNanos / 1e9, 100.0 * nativeNanos / task,
                (task - nativeNanos) / 1e9, evaluation.mergeNanos() / 1e6, wallSeconds);
    }

    /** Reads every row's two doubles as the evaluator does, without staging or native calls: Spark's share. */
    private static double scanOnly(Dataset<Row> data) {
        FlatMapFunction<Iterator<InternalRow>, Double> sum = rows -> {
            double s = 0;
            while (rows.hasNext()) {
                InternalRow row = rows.next();
                s += row.getDouble(0) + row.getDouble(1);
            }
            return List.of(s).iterator();
        };
        return data.queryExecution().toRdd().toJavaRDD().mapPartitions(sum).collect().stream().mapToDouble(
                Double::doubleValue).sum();
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static String load() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return fields[0];
        } catch (IOException e) {
            return "?";
        }
    }

    private static String cpu() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .findFirst().map(l -> l.substring(l.indexOf(':') + 2)).orElse("?") + " x "
                    + Runtime.getRuntime()
                            .availableProcessors();
        } catch (IOException e) {
            return "?";
        }
    }
}
