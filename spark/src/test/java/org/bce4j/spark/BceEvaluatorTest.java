package org.bce4j.spark;

import static org.bce4j.spark.TestData.RELATIVE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The evaluator on a local[2] session: values against a float64 reference computed here and against Spark's own
 * SQL expression of the stable formula (both within {@link TestData#RELATIVE}), the same bits for 1, 3 and 7
 * partitions, nulls and NaN, bad parameters, save and load.
 */
class BceEvaluatorTest {
    private static SparkSession spark;
    private static Dataset<Row> data; // x, y, w: 20000 rows
    private static List<Row> rows;

    @BeforeAll
    static void start() {
        spark = TestData.spark();
        data = TestData.logits(20000, 1).cache();
        rows = data.collectAsList();
    }

    private static void assertClose(double expected, double actual) {
        assertEquals(expected, actual, RELATIVE * Math.abs(expected), () -> "relative error "
                + Math.abs(actual - expected) / Math.abs(expected));
    }

    private static void assertSameBits(double expected, double actual) {
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), () -> expected + " != "
                + actual);
    }

    @Test
    void meanMatchesTheFloat64ReferenceAndSparksSqlExpression() {
        double sum = 0;
        for (Row row : rows) {
            sum += TestData.logitsLoss(row.getDouble(0), row.getDouble(1), 1);
        }
        double reference = sum / rows.size();
        double sql = data.selectExpr("avg(greatest(x, 0) - x * y + log1p(exp(-abs(x))))").first().getDouble(0);
        double value = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").evaluate(data);
        assertClose(reference, value);
        assertClose(sql, value);
    }

    @Test
    void everyReductionAndOptionMatchesTheReference() {
        double posWeight = 3;
        double smoothing = 0.1;
        double ignore = 1;
        double weighted = 0, weights = 0, nonzero = 0, valid = 0, smoothed = 0, ignoredSum = 0;
        for (Row row : rows) {
            double x = row.getDouble(0), y = row.getDouble(1), w = row.getDouble(2);
            double loss = TestData.logitsLoss(x, y, posWeight);
            weighted += w * loss;
            weights += w;
            nonzero += w != 0 ? 1 : 0;
            smoothed += TestData.logitsLoss(x, y * (1 - smoothing) + smoothing / 2, 1);
            if (y != ignore) {
                valid++;
                ignoredSum += TestData.logitsLoss(x, y, 1);
            }
        }
        int n = rows.size();
        BceEvaluator weightedEvaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w")
                .setPosWeight(posWeight);
        assertClose(weighted / n, weightedEvaluator.evaluate(data));
        assertClose(weighted, weightedEvaluator.setReduction("sum").evaluate(data));
        assertClose(weighted / weights, weightedEvaluator.setReduction("mean_by_weight").evaluate(data));
        assertClose(weighted / nonzero, weightedEvaluator.setReduction("mean_by_nonzero_weight").evaluate(data));
        BceEvaluator plain = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y");
        assertClose(smoothed / n, plain.copy(plain.extractParamMap()).setLabelSmoothing(smoothing).evaluate(data));
        BceEvaluator ignoring = plain.copy(plain.extractParamMap()).setIgnoreIndex(ignore);
        assertClose(ignoredSum / n, ignoring.evaluate(data));
        assertClose(ignoredSum / valid, ignoring.setReduction("mean_valid").evaluate(data));
    }

    @Test
    void theResultHasTheSameBitsFor1And3And7Partitions() {
        for (String reduction : List.of("mean", "mean_by_weight")) {
            BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w")
                    .setPosWeight(2).setReduction(reduction);
            double one = evaluator.evaluate(data.coalesce(1));
            assertSameBits(one, evaluator.evaluate(data.repartition(3)));
            assertSameBits(one, evaluator.evaluate(data.repartition(7)));
        }
    }

    @Test
    void columnBatchesAndRowsGiveTheSameBits() {
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w");
        BceEvaluator.Evaluation batches = evaluator.run(data); // cached double columns: read as column batches
        BceEvaluator.Evaluation rows = evaluator.run(data.repartition(3));
        assertTrue(batches.columnar());
        assertFalse(rows.columnar());
        assertSameBits(batches.value(), rows.value());
    }

    @Test
    void probabilitiesFromADoubleColumnOrABinaryProbabilityVector() {
        List<Row> probabilities = new ArrayList<>();
        double sum = 0;
        Random random = new Random(2);
        for (int i = 0; i < 5000; i++) {
            double p = i % 100 == 0 ? (i % 200 == 0 ? 0 : 1) : random.nextDouble();
            double y = random.nextInt(2);
            sum += TestData.probabilityLoss(p, y);
            probabilities.add(RowFactory.create(p, Vectors.dense(1 - p, p), y));
        }
        StructType schema = new StructType().add("p", DataTypes.DoubleType).add("probability", new VectorUDT()).add(
                "label", DataTypes.DoubleType);
        Dataset<Row> frame = spark.createDataFrame(probabilities, schema);
        double fromColumn = new BceEvaluator().setProbabilityCol("p").evaluate(frame);
        double fromVector = new BceEvaluator().setProbabilityCol("probability").evaluate(frame.repartition(3));
        assertClose(sum / probabilities.size(), fromColumn);
        assertSameBits(fromColumn, fromVector);
    }

    @Test
    void multiLabelArraysWithAPosWeightPerClass() {
        double[] posWeight = {1, 2, 4};
        List<Row> arrays = new ArrayList<>();
        double sum = 0;
        Random random = new Random(3);
        for (int i = 0; i < 3000; i++) {
            Double[] x = new Double[3];
            Double[] y = new Double[3];
            for (int c = 0; c < 3; c++) {
                x[c] = 3 * random.nextGaussian();
                y[c] = (double) random.nextInt(2);
                sum += TestData.logitsLoss(x[c], y[c], posWeight[c]);
            }
            arrays.add(RowFactory.create(Arrays.asList(x), Arrays.asList(y)));
        }
        StructType schema = new StructType().add("x", DataTypes.createArrayType(DataTypes.DoubleType)).add("y",
                DataTypes.createArrayType(DataTypes.DoubleType));
        Dataset<Row> frame = spark.createDataFrame(arrays, schema);
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setPosWeight(posWeight);
        double value = evaluator.evaluate(frame);
        assertClose(sum / (3 * arrays.size()), value);
        assertSameBits(value, evaluator.evaluate(frame.repartition(7)));
    }

    @Test
    void rowsWithANullAreSkipped() {
        Dataset<Row> withNulls = data.selectExpr("if(x < -3, null, x) as x", "if(y = 0.5, null, y) as y",
                "if(w > 1.9, null, w) as w");
        Dataset<Row> without = withNulls.na().drop();
        assertTrue(without.count() < withNulls.count());
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w");
        double expected = evaluator.evaluate(without);
        assertSameBits(expected, evaluator.evaluate(withNulls));
        Dataset<Row> cached = withNulls.cache();
        BceEvaluator.Evaluation batches = evaluator.run(cached);
        assertTrue(batches.columnar());
        assertSameBits(expected, batches.value());
        cached.unpersist();
        // No row left: the reductions' values for an empty input.
        Dataset<Row> allNull = data.selectExpr("x", "double(null) as y", "w");
        assertTrue(Double.isNaN(evaluator.evaluate(allNull)));
        assertEquals(0.0, evaluator.setReduction("sum").evaluate(allNull));
    }

    @Test
    void nanPropagates() {
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w");
        for (String column : List.of("x", "y", "w")) {
            Dataset<Row> oneNaN = data.withColumn(column, org.apache.spark.sql.functions.expr("if(abs(x - 1) < 0.001, "
                    + "double('NaN'), " + column + ")"));
            assertTrue(Double.isNaN(evaluator.evaluate(oneNaN)), column);
        }
    }

    @Test
    void badParametersAreRejectedWithTheirNames() {
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("nope").setLabelCol("y");
        assertMessage(evaluator, data, "rawPredictionCol 'nope' is not a column of the dataset");
        assertMessage(new BceEvaluator().setRawPredictionCol("x").setLabelCol("z"), data,
                "labelCol 'z' is not a column");
        Dataset<Row> strings = data.selectExpr("string(x) as x", "y");
        assertMessage(new BceEvaluator().setRawPredictionCol("x").setLabelCol("y"), strings,
                "rawPredictionCol 'x' has type string");
        assertMessage(new BceEvaluator().setRawPredictionCol("y").setLabelCol("y").setWeightCol("x"), strings,
                "weightCol 'x' has type string");
        assertMessage(new BceEvaluator().setLabelCol("y"), data, "neither rawPredictionCol");
        assertMessage(new BceEvaluator().setProbabilityCol("x").setLabelCol("y").setPosWeight(2), data,
                "posWeight is for logits");
        IllegalArgumentException reduction = assertThrows(IllegalArgumentException.class, () -> new BceEvaluator()
                .setReduction("avg"));
        assertEquals("reduction is 'avg'; expected mean, sum, mean_by_weight, mean_by_nonzero_weight or mean_valid",
                reduction.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new BceEvaluator().setReduction("none"));
        IllegalArgumentException smoothing = assertThrows(IllegalArgumentException.class, () -> new BceEvaluator()
                .setLabelSmoothing(2));
        assertTrue(smoothing.getMessage().startsWith("labelSmoothing is 2.0"), smoothing.getMessage());
        // A row that does not fit fails the job with the task's message.
        Dataset<Row> outOfRange = data.selectExpr("x as p", "y");
        assertMessage(new BceEvaluator().setProbabilityCol("p").setLabelCol("y"), outOfRange, "[0, 1]");
    }

    private static void assertMessage(BceEvaluator evaluator, Dataset<Row> frame, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> evaluator.evaluate(frame));
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }

    @Test
    void savedAndLoadedItEvaluatesTheSame(@TempDir Path dir) throws IOException {
        BceEvaluator evaluator = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y").setWeightCol("w")
                .setPosWeight(1.5).setReduction("mean_by_weight").setLabelSmoothing(0.05).setIgnoreIndex(-100);
        String path = dir.resolve("evaluator").toString();
        evaluator.save(path);
        assertTrue(Files.isDirectory(Path.of(path)));
        BceEvaluator loaded = BceEvaluator.load(path);
        assertEquals(evaluator.uid(), loaded.uid());
        assertEquals(evaluator.getRawPredictionCol(), loaded.getRawPredictionCol());
        assertFalse(loaded.isDefined(loaded.probabilityCol()));
        assertEquals(evaluator.getLabelCol(), loaded.getLabelCol());
        assertEquals(evaluator.getWeightCol(), loaded.getWeightCol());
        assertArrayEquals(evaluator.getPosWeight(), loaded.getPosWeight());
        assertEquals(evaluator.getReduction(), loaded.getReduction());
        assertEquals(evaluator.getLabelSmoothing(), loaded.getLabelSmoothing());
        assertEquals(evaluator.getIgnoreIndex(), loaded.getIgnoreIndex());
        assertFalse(loaded.isLargerBetter());
        assertSameBits(evaluator.evaluate(data), loaded.evaluate(data));
    }
}
