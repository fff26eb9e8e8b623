package org.bce4j.spark;

import java.io.Serializable;
import java.util.Iterator;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/**
 * How the evaluator's selected columns (prediction, label, optional weight, in that order, cast to double or
 * array&lt;double&gt;) become elements, and the per-partition pass that feeds them to the natives: rows are read as
 * Spark's internal rows (no Row objects, no boxing), staged in this thread's {@link NativeBatch} and added to the
 * partition's {@link org.bce4j.Partial}, which travels to the driver as its bytes.
 *
 * <p>A row with a null anywhere in it (prediction, label, weight, or an element of an array) is skipped. NaN is
 * data: it goes to the natives and makes the result NaN.
 */
final class RowLayout implements FlatMapFunction<Iterator<InternalRow>, PartitionResult>, Serializable {
    private static final long serialVersionUID = 1L;

    /** What a prediction cell holds. */
    enum Kind {
        /** One double per row. */
        SCALAR,
        /** An array of doubles per row (multi-label), with an array label of the same length. */
        ARRAY,
        /** Spark's binary probability vector [P(0), P(1)]: element 1 is the probability. */
        VECTOR
    }

    private final LossSpec spec;
    private final Kind prediction;
    private final boolean weighted;
    private final String predictionName; // for messages: "rawPredictionCol 'x'"
    private final String labelName;

    RowLayout(LossSpec spec, Kind prediction, boolean weighted, String predictionName, String labelName) {
        this.spec = spec;
        this.prediction = prediction;
        this.weighted = weighted;
        this.predictionName = predictionName;
        this.labelName = labelName;
    }

    @Override
    public Iterator<PartitionResult> call(Iterator<InternalRow> rows) {
        int rowLength = prediction == Kind.ARRAY ? spec.classes() : 0;
        return NativeBatch.partition(spec, predictionName + " and " + labelName, weighted, rowLength, batch -> {
            VectorUDT vectors = prediction == Kind.VECTOR ? new VectorUDT() : null;
            long count = 0;
            while (rows.hasNext()) {
                InternalRow row = rows.next();
                count++;
                if (row.isNullAt(0) || row.isNullAt(1) || weighted && row.isNullAt(2)) {
                    continue;
                }
                double w = weighted ? row.getDouble(2) : 1;
                switch (prediction) {
                    case SCALAR -> batch.add(row.getDouble(0), row.getDouble(1), w);
                    case VECTOR -> batch.add(probabilityOfOne(vectors.deserialize(row.getStruct(0, 4))), row
                            .getDouble(1), w);
                    case ARRAY -> addArrays(batch, row.getArray(0), row.getArray(1), w);
                }
            }
            return count;
        });
    }

    private void addArrays(NativeBatch batch, ArrayData xs, ArrayData ys, double w) {
        int n = xs.numElements();
        if (ys.numElements() != n) {
            throw new IllegalArgumentException("a row's " + predictionName + " has " + n + " elements and its "
                    + labelName + " " + ys.numElements() + "; expected as many");
        }
        int classes = spec.classes();
        if (classes > 0 && n != classes) {
            throw new IllegalArgumentException("a row's " + predictionName + " has " + n + " elements; posWeight has "
                    + classes + " (one per class), so every row must have " + classes);
        }
        for (int i = 0; i < n; i++) {
            if (xs.isNullAt(i) || ys.isNullAt(i)) {
                return; // a null element skips the row
            }
        }
        batch.reserve(n);
        for (int i = 0; i < n; i++) {
            batch.add(xs.getDouble(i), ys.getDouble(i), w);
        }
    }

    private double probabilityOfOne(Vector v) {
        if (v.size() != 2) {
            throw new IllegalArgumentException("a row's " + predictionName + " is a vector of " + v.size()
                    + " elements; expected 2, a binary classifier's [P(label = 0), P(label = 1)]");
        }
        return v.apply(1);
    }
}
