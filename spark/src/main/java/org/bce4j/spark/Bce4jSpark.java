package org.bce4j.spark;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.execution.aggregate.ScalaAggregator$;
import org.apache.spark.sql.expressions.UserDefinedAggregator;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;

import scala.Function1;
import scala.collection.immutable.Seq;

/**
 * The SQL aggregate functions of bce4j, for SQL and {@code functions.call_function}:
 * <ul>
 *   <li>{@code bce_with_logits(x, y[, w])}: the mean of BCEWithLogitsLoss over logits x and labels y, each row's
 *       loss multiplied by its weight w;</li>
 *   <li>{@code bce(p, y[, w])}: the same for BCELoss over probabilities p in [0, 1].</li>
 * </ul>
 * The mean is the weighted sum over the number of rows (PyTorch's {@code mean}; the evaluator's
 * {@code mean_by_weight} divides by the weights' sum instead). Rows with a NULL argument are skipped; with none left
 * the result is NULL, as {@code avg}'s. NaN is data and makes the result NaN. The arguments are cast to double.
 *
 * <p>Each aggregate is an {@code Aggregator} (through {@code functions.udaf}) whose buffer stages rows and adds
 * them to a partial loss with one native call per 4096 rows; it flushes at that size, before merging another
 * buffer, before finishing, and before it is serialised, so what it serialises is the partial's bytes alone. The
 * result has the same bits however the rows are partitioned (on executors with the same kernels; README
 * "On Spark"). It is slower per row than {@link BceEvaluator}, which reads internal rows in 64K-row batches without
 * Spark's per-row object conversion; prefer the evaluator for whole-column losses.
 */
public final class Bce4jSpark {
    /** The logits aggregate's name. */
    public static final String BCE_WITH_LOGITS = "bce_with_logits";
    /** The probabilities aggregate's name. */
    public static final String BCE = "bce";

    private Bce4jSpark() {}

    /**
     * Registers {@code bce_with_logits} and {@code bce} as temporary functions of {@code spark}'s session
     * (replacing functions of those names).
     *
     * @param spark the session
     */
    public static void register(SparkSession spark) {
        register(spark, BCE_WITH_LOGITS, true);
        register(spark, BCE, false);
    }

    /**
     * Registers {@code name} for two and three arguments. Spark's {@code udf().register} takes one arity per name, so
     * this registers a builder of its own that picks the aggregator by the argument count and builds its expression
     * as {@code udf().register} does ({@code ScalaAggregator}).
     */
    private static void register(SparkSession spark, String name, boolean logits) {
        UserDefinedAggregator<?, ?, ?> unweighted = aggregator(functions.udaf(new BceAggregator.Unweighted(logits),
                BceAggregator.Unweighted.input()), name);
        UserDefinedAggregator<?, ?, ?> weighted = aggregator(functions.udaf(new BceAggregator.Weighted(logits),
                BceAggregator.Weighted.input()), name);
        String signature = name + (logits ? "(x, y[, w])" : "(p, y[, w])");
        Function1<Seq<Expression>, Expression> byArity = arguments -> switch (arguments.size()) {
            case 2 -> ScalaAggregator$.MODULE$.apply(unweighted, arguments);
            case 3 -> ScalaAggregator$.MODULE$.apply(weighted, arguments);
            default -> throw new IllegalArgumentException(signature + " takes 2 or 3 arguments; got " + arguments
                    .size());
        };
        spark.sessionState().functionRegistry().createOrReplaceTempFunction(name, byArity, "scala_udf");
    }

    private static UserDefinedAggregator<?, ?, ?> aggregator(UserDefinedFunction udaf, String name) {
        return (UserDefinedAggregator<?, ?, ?>) udaf.withName(name);
    }
}
