package org.bce4j.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** One local[2] session for every test class of the module (built once per JVM), and test data. */
final class TestData {
    private TestData() {}

    static synchronized SparkSession spark() {
        return SparkSession.builder().master("local[2]").appName("bce4j-spark tests")
                .config("spark.ui.enabled", false).config("spark.sql.shuffle.partitions", 4)
                .config("spark.sql.adaptive.enabled", false).getOrCreate();
    }

    /**
     * {@code n} rows (x, y, w): logits over [-40, 40] with a few large ones, labels 0, 1 and soft, weights in
     * [0, 2) with some zeros.
     */
    static Dataset<Row> logits(int n, long seed) {
        Random random = new Random(seed);
        List<Row> rows = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            double x = i % 97 == 0 ? (random.nextBoolean() ? 1 : -1) * 40 * random.nextDouble()
                    : 4 * random.nextGaussian();
            double y = i % 5 == 0 ? random.nextDouble() : random.nextInt(2);
            double w = i % 11 == 0 ? 0 : 2 * random.nextDouble();
            rows.add(RowFactory.create(x, y, w));
        }
        StructType schema = new StructType().add("x", DataTypes.DoubleType).add("y", DataTypes.DoubleType).add("w",
                DataTypes.DoubleType);
        return spark().createDataFrame(rows, schema);
    }

    /** The logits loss of one element in float64, as README "Semantics" writes it. */
    static double logitsLoss(double x, double y, double posWeight) {
        double softplusMinusX = Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
        return (1 - y) * x + (1 + (posWeight - 1) * y) * softplusMinusX;
    }

    /** The probabilities loss of one element in float64, as README "Semantics" writes it. */
    static double probabilityLoss(double p, double y) {
        return -(y * Math.max(Math.log(p), -100) + (1 - y) * Math.max(Math.log1p(-p), -100));
    }

    /** The relative tolerance of the float64 kernels' means against a float64 reference: 1e-13. */
    static final double RELATIVE = 1e-13;
}
