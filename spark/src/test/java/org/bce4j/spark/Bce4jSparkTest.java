package org.bce4j.spark;

import static org.bce4j.spark.TestData.RELATIVE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SQL aggregates: the evaluator's bits (the same partial), Spark's SQL expression within
 * {@link TestData#RELATIVE}, the same bits for 1, 3 and 7 partitions and per group, nulls, NaN and arity.
 */
class Bce4jSparkTest {
    private static SparkSession spark;
    private static Dataset<Row> data;

    @BeforeAll
    static void start() {
        spark = TestData.spark();
        Bce4jSpark.register(spark);
        // 20000 rows: several flushes of 4096 rows per task, and a staged tail.
        data = TestData.logits(20000, 6).cache();
        data.createOrReplaceTempView("logits");
        data.selectExpr("1 / (1 + exp(-x)) as p", "y", "w").cache().createOrReplaceTempView("probabilities");
    }

    private static double sql(String query) {
        return spark.sql(query).first().getDouble(0);
    }

    private static void assertSameBits(double expected, double actual) {
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(actual), () -> expected + " != "
                + actual);
    }

    @Test
    void theAggregatesGiveTheEvaluatorsMean() {
        BceEvaluator logits = new BceEvaluator().setRawPredictionCol("x").setLabelCol("y");
        assertSameBits(logits.evaluate(data), sql("select bce_with_logits(x, y) from logits"));
        assertSameBits(logits.setWeightCol("w").evaluate(data), sql("select bce_with_logits(x, y, w) from logits"));
        Dataset<Row> probabilities = spark.table("probabilities");
        BceEvaluator probability = new BceEvaluator().setProbabilityCol("p").setLabelCol("y");
        assertSameBits(probability.evaluate(probabilities), sql("select bce(p, y) from probabilities"));
        assertSameBits(probability.setWeightCol("w").evaluate(probabilities), sql(
                "select bce(p, y, w) from probabilities"));
    }

    @Test
    void theMeanMatchesSparksSqlExpression() {
        double expected = sql("select avg(greatest(x, 0) - x * y + log1p(exp(-abs(x)))) from logits");
        double actual = sql("select bce_with_logits(x, y) from logits");
        assertEquals(expected, actual, RELATIVE * expected);
    }

    @Test
    void theResultHasTheSameBitsFor1And3And7PartitionsAndPerGroup() {
        double one = data.coalesce(1).selectExpr("bce_with_logits(x, y, w)").first().getDouble(0);
        assertSameBits(one, data.repartition(3).selectExpr("bce_with_logits(x, y, w)").first().getDouble(0));
        assertSameBits(one, data.repartition(7).selectExpr("bce_with_logits(x, y, w)").first().getDouble(0));
        String grouped = "select cast(abs(x) * 10 as int) % 5 as g, bce_with_logits(x, y, w) as loss from VIEW "
                + "group by g order by g";
        data.coalesce(1).createOrReplaceTempView("one");
        data.repartition(7).createOrReplaceTempView("seven");
        List<Row> ones = spark.sql(grouped.replace("VIEW", "one")).collectAsList();
        List<Row> sevens = spark.sql(grouped.replace("VIEW", "seven")).collectAsList();
        assertEquals(5, ones.size());
        for (int g = 0; g < 5; g++) {
            assertSameBits(ones.get(g).getDouble(1), sevens.get(g).getDouble(1));
        }
    }

    @Test
    void rowsWithANullAreSkippedAndNaNPropagates() {
        assertSameBits(sql("select bce_with_logits(x, y, w) from logits where x >= -3 and w <= 1.9"), sql(
                "select bce_with_logits(if(x < -3, null, x), y, if(w > 1.9, null, w)) from logits"));
        assertTrue(spark.sql("select bce_with_logits(x, y) from logits where x > 1e9").first().isNullAt(0));
        assertTrue(Double.isNaN(sql("select bce_with_logits(if(abs(x - 1) < 0.001, double('NaN'), x), y) "
                + "from logits")));
        assertTrue(Double.isNaN(sql("select bce(p, if(p > 0.99, double('NaN'), y)) from probabilities")));
    }

    @Test
    void aWrongArgumentCountIsRejectedWithTheFunctionsSignature() {
        Exception e = assertThrows(Exception.class, () -> sql("select bce_with_logits(x) from logits"));
        assertTrue(e.getMessage().contains("bce_with_logits(x, y[, w]) takes 2 or 3 arguments; got 1"), e
                .getMessage());
    }
}
