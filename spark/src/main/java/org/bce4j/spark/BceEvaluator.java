package org.bce4j.spark;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.spark.ml.evaluation.Evaluator;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.execution.ColumnarToRowExec;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.WholeStageCodegenExec;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.Partial;
import org.bce4j.Reduction;

import scala.Function1;

/**
 * Binary cross-entropy of a dataset's predictions, computed by the bce4j natives: a {@code spark.ml} evaluator
 * (smaller is better) for {@code CrossValidator} and {@code TrainValidationSplit}, persistable with
 * {@code save}/{@link #load}.
 *
 * <h2>Columns</h2>
 * Set exactly one prediction column (each setter clears the other):
 * <ul>
 *   <li>{@link #setRawPredictionCol}: logits ({@code BCEWithLogitsLoss}): a numeric column, or an array of numbers
 *       per row for multi-label rows;</li>
 *   <li>{@link #setProbabilityCol}: probabilities ({@code BCELoss}): a numeric column, an array column, or the
 *       2-element probability vector of Spark's binary classifiers (its {@code probability} column), whose element
 *       1 is P(label = 1).</li>
 * </ul>
 * The label column ({@code "label"} by default) is numeric or boolean for scalar predictions and an array of the
 * prediction's length for array predictions; the optional weight column is numeric and weighs every element of its
 * row. Every value is computed in float64.
 *
 * <h2>Options and result</h2>
 * {@link #setReduction} takes the reductions' names as the command line's {@code compute --reduction} does:
 * {@code mean} (the default: the weighted sum over the element count, as PyTorch), {@code sum},
 * {@code mean_by_weight}, {@code mean_by_nonzero_weight}, {@code mean_valid} (not {@code none}: an evaluator gives
 * one value). {@link #setPosWeight(double)} and {@link #setPosWeight(double[])} (one per class; every array row must
 * then have that many elements) are for logits only; {@link #setLabelSmoothing} and {@link #setIgnoreIndex} apply to
 * both losses, as in the Java API.
 *
 * <p>A row with a null anywhere (its prediction, label or weight, or an element of an array) is skipped. NaN is
 * data: a NaN prediction, label or weight makes the result NaN. With no row left, the result is the reduction's
 * value for an empty input ({@code mean}: NaN; the others: 0). A probability or array row that does not fit (a
 * probability outside [0, 1], arrays of different lengths) fails the evaluation with an
 * {@link IllegalArgumentException} that says so.
 *
 * <h2>How it runs</h2>
 * Each partition's rows are read as Spark's internal rows, staged in reused direct buffers of 64K elements per
 * executor thread, and added to a partial loss by one native call per batch, on the task's own thread (Spark runs a
 * task per core). The partitions' partials travel to the driver as bytes, are merged there and finished with the
 * reduction. Partials merge exactly, so the result has the same bits however the rows are partitioned, on executors
 * that run the same kernels (README "On Spark").
 */
public final class BceEvaluator extends Evaluator implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    /** The names {@link #setReduction} takes, as {@code compute --reduction} spells them. */
    private static final List<String> REDUCTIONS = List.of("mean", "sum", "mean_by_weight", "mean_by_nonzero_weight",
            "mean_valid");

    /** The unique id. */
    private final String uid;
    /** The logits column (BCEWithLogitsLoss); unset when probabilityCol is set. */
    private final Param<String> rawPredictionCol;
    /** The probabilities column (BCELoss); unset when rawPredictionCol is set. */
    private final Param<String> probabilityCol;
    /** The label column, "label" by default. */
    private final Param<String> labelCol;
    /** The weight column; unset: no weights. */
    private final Param<String> weightCol;
    /** pos_weight: one value, or one per class; unset: none. */
    private final DoubleArrayParam posWeight;
    /** The reduction's name, "mean" by default. */
    private final Param<String> reduction;
    /** The label smoothing epsilon, 0 by default. */
    private final DoubleParam labelSmoothing;
    /** The ignored label value; unset: none. */
    private final DoubleParam ignoreIndex;

    /** An evaluator with a new random uid. */
    public BceEvaluator() {
        this(Identifiable.randomUID("bceEval"));
    }

    /**
     * An evaluator with the given uid (used by {@link #load} and {@code copy}).
     *
     * @param uid the unique id
     */
    public BceEvaluator(String uid) {
        this.uid = uid;
        rawPredictionCol = new Param<>(this, "rawPredictionCol",
                "logits column: numeric, or an array of numbers for multi-label rows (BCEWithLogitsLoss)");
        probabilityCol = new Param<>(this, "probabilityCol",
                "probabilities column: numeric, an array, or a binary classifier's 2-element probability vector "
                        + "(BCELoss)");
        labelCol = new Param<>(this, "labelCol", "label column: numeric or boolean, or an array like the prediction's");
        weightCol = new Param<>(this, "weightCol", "weight column (numeric), weighing every element of its row");
        posWeight = new DoubleArrayParam(this, "posWeight",
                "the positive class's weight (logits only): one value, or one per class (array rows' length)",
                BceEvaluator.<double[]>validator(BceEvaluator::checkPosWeight));
        reduction = new Param<>(this, "reduction",
                "how the losses are reduced: " + String.join(", ", REDUCTIONS) + " (as compute --reduction)",
                BceEvaluator.<String>validator(BceEvaluator::checkReduction));
        labelSmoothing = new DoubleParam(this, "labelSmoothing",
                "label smoothing epsilon in [0, 1]: targets become y*(1-epsilon) + epsilon/2",
                BceEvaluator.<Object>validator(
                        value -> checkLabelSmoothing((Double) value)));
        ignoreIndex = new DoubleParam(this, "ignoreIndex",
                "label value whose elements get loss 0 (they count in mean, not in mean_valid)",
                BceEvaluator.<Object>validator(
                        value -> checkIgnoreIndex((Double) value)));
        setDefault(labelCol, "label");
        setDefault(reduction, "mean");
        setDefault(labelSmoothing, 0.0);
    }

    /**
     * {@return a reader of saved evaluators}
     */
    public static MLReader<BceEvaluator> read() {
        return new DefaultParamsReader<>();
    }

    /**
     * Loads an evaluator saved by {@code write().save(path)} or {@code save(path)}.
     *
     * @param path where it was saved
     * @return the evaluator
     */
    public static BceEvaluator load(String path) {
        return read().load(path);
    }

    @Override
    public String uid() {
        return uid;
    }

    /** {@return the logits column's parameter} */
    public Param<String> rawPredictionCol() {
        return rawPredictionCol;
    }

    /** {@return the probabilities column's parameter} */
    public Param<String> probabilityCol() {
        return probabilityCol;
    }

    /** {@return the label column's parameter} */
    public Param<String> labelCol() {
        return labelCol;
    }

    /** {@return the weight column's parameter} */
    public Param<String> weightCol() {
        return weightCol;
    }

    /** {@return the pos_weight parameter} */
    public DoubleArrayParam posWeight() {
        return posWeight;
    }

    /** {@return the reduction parameter} */
    public Param<String> reduction() {
        return reduction;
    }

    /** {@return the label smoothing parameter} */
    public DoubleParam labelSmoothing() {
        return labelSmoothing;
    }

    /** {@return the ignore index parameter} */
    public DoubleParam ignoreIndex() {
        return ignoreIndex;
    }

    /**
     * Evaluates logits (BCEWithLogitsLoss) from this column, and clears the probabilities column.
     *
     * @param value a numeric column, or an array column for multi-label rows
     * @return this evaluator
     */
    public BceEvaluator setRawPredictionCol(String value) {
        clear(probabilityCol);
        set(rawPredictionCol, value);
        return this;
    }

    /**
     * Evaluates probabilities (BCELoss) from this column, and clears the logits column.
     *
     * @param value a numeric column, an array column, or a binary classifier's probability vector
     * @return this evaluator
     */
    public BceEvaluator setProbabilityCol(String value) {
        clear(rawPredictionCol);
        set(probabilityCol, value);
        return this;
    }

    /**
     * @param value the label column ({@code "label"} by default)
     * @return this evaluator
     */
    public BceEvaluator setLabelCol(String value) {
        set(labelCol, value);
        return this;
    }

    /**
     * @param value the weight column; each row's weight multiplies the loss of each of its elements
     * @return this evaluator
     */
    public BceEvaluator setWeightCol(String value) {
        set(weightCol, value);
        return this;
    }

    /**
     * The positive class's weight for every element (logits only).
     *
     * @param value pos_weight
     * @return this evaluator
     */
    public BceEvaluator setPosWeight(double value) {
        set(posWeight, new double[] {value});
        return this;
    }

    /**
     * The positive class's weight per class (logits only): the array rows must have {@code values.length} elements
     * (one value weighs every element, as {@link #setPosWeight(double)}).
     *
     * @param values pos_weight per class
     * @return this evaluator
     */
    public BceEvaluator setPosWeight(double[] values) {
        set(posWeight, values.clone());
        return this;
    }

    /**
     * @param value {@code mean} (the default), {@code sum}, {@code mean_by_weight}, {@code mean_by_nonzero_weight}
     *     or {@code mean_valid}
     * @return this evaluator
     * @throws IllegalArgumentException for another name, naming the ones it takes
     */
    public BceEvaluator setReduction(String value) {
        set(reduction, value);
        return this;
    }

    /**
     * @param value label smoothing epsilon in [0, 1]: targets become {@code y*(1-epsilon) + epsilon/2}
     * @return this evaluator
     */
    public BceEvaluator setLabelSmoothing(double value) {
        set(labelSmoothing, value);
        return this;
    }

    /**
     * @param value the label value whose elements get loss 0 (Paddle's ignore_index, -100 there by default)
     * @return this evaluator
     */
    public BceEvaluator setIgnoreIndex(double value) {
        set(ignoreIndex, value);
        return this;
    }

    /** {@return the logits column; throws if unset} */
    public String getRawPredictionCol() {
        return getOrDefault(rawPredictionCol);
    }

    /** {@return the probabilities column; throws if unset} */
    public String getProbabilityCol() {
        return getOrDefault(probabilityCol);
    }

    /** {@return the label column} */
    public String getLabelCol() {
        return getOrDefault(labelCol);
    }

    /** {@return the weight column; throws if unset} */
    public String getWeightCol() {
        return getOrDefault(weightCol);
    }

    /** {@return pos_weight (one value, or one per class); throws if unset} */
    public double[] getPosWeight() {
        return getOrDefault(posWeight).clone();
    }

    /** {@return the reduction's name} */
    public String getReduction() {
        return getOrDefault(reduction);
    }

    /** {@return the label smoothing epsilon} */
    public double getLabelSmoothing() {
        return (Double) getOrDefault(labelSmoothing);
    }

    /** {@return the ignored label value; throws if unset} */
    public double getIgnoreIndex() {
        return (Double) getOrDefault(ignoreIndex);
    }

    /** {@return false: a smaller loss is better} */
    @Override
    public boolean isLargerBetter() {
        return false;
    }

    @Override
    public BceEvaluator copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /**
     * The loss of {@code dataset}'s predictions, reduced as {@link #setReduction} says.
     *
     * @param dataset the predictions, labels and (optionally) weights
     * @return the loss
     * @throws IllegalArgumentException if a column is missing or of a type this evaluator cannot read, the
     *     parameters do not fit together, or a row does not fit (each message names the parameter or column)
     */
    @Override
    public double evaluate(Dataset<?> dataset) {
        return run(dataset).value;
    }

    /** The evaluation with its partitions' results (for the benchmark's breakdown). */
    Evaluation run(Dataset<?> dataset) {
        Plan plan = plan(dataset.schema());
        // The options checked here, by the library's own checks, before any task runs.
        plan.spec.newLoss().close();
        Dataset<?> selected = plan.weighted ? dataset.select(plan.prediction, plan.label, plan.weight)
                : dataset.select(plan.prediction, plan.label);
        SparkPlan columnar = plan.columnar == null ? null : columnarSource(selected.queryExecution().executedPlan());
        List<PartitionResult> results;
        try {
            results = columnar != null ? columnar.executeColumnar().toJavaRDD().mapPartitions(plan.columnar).collect()
                    : selected.queryExecution().toRdd().toJavaRDD().mapPartitions(plan.layout).collect();
        } catch (Exception e) { // SparkException, checked in Java's eyes, thrown by Scala code that declares none
            throw taskError(e);
        }
        long start = System.nanoTime();
        Partial total = Partial.empty();
        for (PartitionResult result : results) {
            total = total.merge(Partial.fromBytes(result.partial));
        }
        double value = total.finish(plan.reduction);
        return new Evaluation(value, total, results, System.nanoTime() - start, columnar != null);
    }

    /**
     * The plan that produces {@code plan}'s rows as column batches, where {@code plan} only turns them into rows
     * (a cached dataset's or a Parquet scan's columns, selected as they are); null otherwise.
     */
    private static SparkPlan columnarSource(SparkPlan plan) {
        SparkPlan rows = plan instanceof WholeStageCodegenExec stage ? stage.child() : plan;
        SparkPlan source = rows instanceof ColumnarToRowExec toRows ? toRows.child() : rows;
        return source.supportsColumnar() ? source : null;
    }

    /**
     * An evaluation: the value, the merged partial, the partitions' results, the driver's merge time and whether the
     * tasks read column batches.
     */
    record Evaluation(double value, Partial partial, List<PartitionResult> partitions, long mergeNanos,
            boolean columnar) {}

    /** What evaluate reads and computes, checked against the schema. */
    private record Plan(LossSpec spec, Reduction reduction, Column prediction, Column label, Column weight,
            boolean weighted, RowLayout layout, ColumnarLayout columnar) {}

    private Plan plan(StructType schema) {
        boolean logits = isDefined(rawPredictionCol);
        if (logits == isDefined(probabilityCol)) {
            throw new IllegalArgumentException(logits
                    ? "rawPredictionCol and probabilityCol are both set; set one (logits or probabilities)"
                    : "neither rawPredictionCol (logits) nor probabilityCol (probabilities) is set; set one");
        }
        Param<String> predictionParam = logits ? rawPredictionCol : probabilityCol;
        String predictionName = describe(predictionParam);
        DataType predictionType = columnType(schema, predictionParam);
        RowLayout.Kind kind;
        if (isNumeric(predictionType)) {
            kind = RowLayout.Kind.SCALAR;
        } else if (isNumericArray(predictionType)) {
            kind = RowLayout.Kind.ARRAY;
        } else if (!logits && predictionType instanceof VectorUDT) {
            kind = RowLayout.Kind.VECTOR;
        } else {
            throw new IllegalArgumentException(predictionName + " has type " + predictionType.simpleString()
                    + "; expected " + (logits ? "a numeric column of logits, or an array of numbers"
                            : "a numeric column of probabilities, an array of numbers, or a probability vector"));
        }
        DataType labelType = columnType(schema, labelCol);
        boolean labelFits = kind == RowLayout.Kind.ARRAY ? isNumericArray(labelType)
                : isNumeric(labelType) || labelType instanceof BooleanType;
        if (!labelFits) {
            throw new IllegalArgumentException(describe(labelCol) + " has type " + labelType.simpleString()
                    + "; expected " + (kind == RowLayout.Kind.ARRAY ? "an array of numbers, as " + predictionName
                            + " is" : "a numeric or boolean column"));
        }
        boolean weighted = isDefined(weightCol);
        if (weighted) {
            DataType weightType = columnType(schema, weightCol);
            if (!isNumeric(weightType)) {
                throw new IllegalArgumentException(describe(weightCol) + " has type " + weightType.simpleString()
                        + "; expected a numeric column");
            }
        }
        double[] posWeights = isDefined(posWeight) ? getPosWeight() : null;
        if (posWeights != null && !logits) {
            throw new IllegalArgumentException("posWeight is for logits (rawPredictionCol); BCELoss on "
                    + "probabilities (probabilityCol) has none");
        }
        if (posWeights != null && posWeights.length > 1 && kind != RowLayout.Kind.ARRAY) {
            throw new IllegalArgumentException("posWeight has " + posWeights.length + " values (one per class), but "
                    + predictionName + " is not an array column; give one value for scalar rows");
        }
        LossSpec spec = new LossSpec(logits, posWeights, getLabelSmoothing(), isDefined(ignoreIndex)
                ? getIgnoreIndex() : null);
        DataType elementType = kind == RowLayout.Kind.ARRAY ? DataTypes.createArrayType(DataTypes.DoubleType)
                : DataTypes.DoubleType;
        Column prediction = column(predictionParam);
        if (kind != RowLayout.Kind.VECTOR) {
            prediction = prediction.cast(elementType);
        }
        Column label = column(labelCol).cast(elementType);
        Column weight = weighted ? column(weightCol).cast(DataTypes.DoubleType) : null;
        RowLayout layout = new RowLayout(spec, kind, weighted, predictionName, describe(labelCol));
        // Double columns selected as they are may come as column batches (a cache, a Parquet scan).
        boolean doubles = predictionType instanceof DoubleType && labelType instanceof DoubleType && (!weighted
                || schema.apply(getWeightCol()).dataType() instanceof DoubleType);
        ColumnarLayout columnar = doubles ? new ColumnarLayout(spec, weighted, predictionName + " and " + describe(
                labelCol)) : null;
        return new Plan(spec, reductionOf(getReduction()), prediction, label, weight, weighted, layout, columnar);
    }

    private String describe(Param<String> param) {
        return param.name() + " '" + getOrDefault(param) + "'";
    }

    private DataType columnType(StructType schema, Param<String> param) {
        String name = getOrDefault(param);
        if (!Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(describe(param) + " is not a column of the dataset; its columns are "
                    + String.join(", ", schema.fieldNames()));
        }
        return schema.apply(name).dataType();
    }

    private Column column(Param<String> param) {
        return new Column("`" + getOrDefault(param).replace("`", "``") + "`");
    }

    private static boolean isNumeric(DataType type) {
        return type instanceof NumericType;
    }

    private static boolean isNumericArray(DataType type) {
        return type instanceof ArrayType array && array.elementType() instanceof NumericType;
    }

    /**
     * A failed job as the IllegalArgumentException a task threw on a row that does not fit, with its message;
     * any other failure as it is (wrapped if checked).
     */
    private static RuntimeException taskError(Exception e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof IllegalArgumentException) {
                return new IllegalArgumentException(cause.getMessage(), e);
            }
        }
        return e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getMessage(), e);
    }

    /** The reduction named as {@code compute --reduction} names it. */
    static Reduction reductionOf(String name) {
        checkReduction(name);
        return Reduction.valueOf(name.toUpperCase(Locale.ROOT));
    }

    private static void checkReduction(String name) {
        if (!REDUCTIONS.contains(name)) {
            throw new IllegalArgumentException("reduction is '" + name + "'; expected " + String.join(", ",
                    REDUCTIONS.subList(0, REDUCTIONS.size() - 1)) + " or " + REDUCTIONS.get(REDUCTIONS.size() - 1)
                    + ("none".equals(name) ? " (none gives a loss per element, not one value)" : ""));
        }
    }

    private static void checkPosWeight(double[] values) {
        if (values == null || values.length == 0) {
            throw new IllegalArgumentException("posWeight is empty; expected one value, or one per class");
        }
    }

    private static void checkLabelSmoothing(Double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException("labelSmoothing is " + value + "; expected 0 to 1");
        }
    }

    private static void checkIgnoreIndex(Double value) {
        if (Double.isNaN(value)) {
            throw new IllegalArgumentException("ignoreIndex is NaN, which no label equals; expected a number");
        }
    }

    /** A Spark parameter validator that throws {@code check}'s own message instead of returning false. */
    private static <T> Function1<T, Object> validator(java.util.function.Consumer<T> check) {
        return (Function1<T, Object> & java.io.Serializable) value -> {
            check.accept(value);
            return Boolean.TRUE;
        };
    }
}
