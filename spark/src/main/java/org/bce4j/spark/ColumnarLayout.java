package org.bce4j.spark;

import java.io.Serializable;
import java.util.Iterator;

import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.vectorized.ColumnVector;
import org.apache.spark.sql.vectorized.ColumnarBatch;

/**
 * The per-partition pass of {@link RowLayout} for scalar double columns that Spark can hand over as column batches
 * (a cached dataset, a Parquet scan): values are read from the column vectors straight into this thread's
 * {@link NativeBatch}, without Spark's conversion of each batch into rows. Nulls and NaN as in {@link RowLayout}.
 */
final class ColumnarLayout implements FlatMapFunction<Iterator<ColumnarBatch>, PartitionResult>, Serializable {
    private static final long serialVersionUID = 1L;

    private final LossSpec spec;
    private final boolean weighted;
    private final String columns; // for messages

    ColumnarLayout(LossSpec spec, boolean weighted, String columns) {
        this.spec = spec;
        this.weighted = weighted;
        this.columns = columns;
    }

    @Override
    public Iterator<PartitionResult> call(Iterator<ColumnarBatch> batches) {
        return NativeBatch.partition(spec, columns, weighted, 0, batch -> {
            long count = 0;
            while (batches.hasNext()) {
                ColumnarBatch columnar = batches.next();
                int rows = columnar.numRows();
                count += rows;
                ColumnVector x = columnar.column(0);
                ColumnVector y = columnar.column(1);
                ColumnVector w = weighted ? columnar.column(2) : null;
                if (x.hasNull() || y.hasNull() || weighted && w.hasNull()) {
                    for (int r = 0; r < rows; r++) {
                        if (!(x.isNullAt(r) || y.isNullAt(r) || weighted && w.isNullAt(r))) {
                            batch.add(x.getDouble(r), y.getDouble(r), weighted ? w.getDouble(r) : 1);
                        }
                    }
                } else {
                    // No nulls: whole runs of values, copied in bulk.
                    for (int r = 0; r < rows;) {
                        int n = Math.min(rows - r, batch.room());
                        batch.addAll(x.getDoubles(r, n), y.getDoubles(r, n), weighted ? w.getDoubles(r, n) : null);
                        r += n;
                    }
                }
            }
            return count;
        });
    }
}
