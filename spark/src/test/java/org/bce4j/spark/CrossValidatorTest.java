package org.bce4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.tuning.CrossValidator;
import org.apache.spark.ml.tuning.CrossValidatorModel;
import org.apache.spark.ml.tuning.ParamGridBuilder;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The evaluator inside CrossValidator: it picks the LogisticRegression whose held-out loss is smallest. */
class CrossValidatorTest {
    @Test
    void crossValidatorPicksTheModelWithTheSmallestLoss() {
        Random random = new Random(4);
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            double a = random.nextGaussian(), b = random.nextGaussian();
            double logit = 2 * a - b;
            double label = random.nextDouble() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
            rows.add(RowFactory.create(Vectors.dense(a, b), label));
        }
        StructType schema = new StructType().add("features", new VectorUDT()).add("label", DataTypes.DoubleType);
        Dataset<Row> data = TestData.spark().createDataFrame(rows, schema).cache();

        LogisticRegression lr = new LogisticRegression().setMaxIter(8);
        // Two candidates, the better one second: a search that kept the first, or the largest loss, would fail.
        double[] regParams = {3.0, 0.0};
        ParamMap[] grid = new ParamGridBuilder().addGrid(lr.regParam(), regParams).build();
        BceEvaluator evaluator = new BceEvaluator().setProbabilityCol("probability");
        CrossValidatorModel model = new CrossValidator().setEstimator(lr).setEstimatorParamMaps(grid).setEvaluator(
                evaluator).setNumFolds(2).setSeed(5).fit(data);

        double[] losses = model.avgMetrics();
        int best = 0;
        for (int i = 1; i < losses.length; i++) {
            best = losses[i] < losses[best] ? i : best;
        }
        double chosen = ((LogisticRegressionModel) model.bestModel()).getRegParam();
        assertEquals(grid[best].apply(lr.regParam()), chosen);
        // Strong regularisation shrinks the true logit 2a - b: it fits worse, by a clear margin.
        assertEquals(0.0, chosen);
        assertTrue(losses[0] > 1.1 * losses[1], () -> java.util.Arrays.toString(losses));
    }
}
