package org.bce4j.spark;

import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.expressions.Aggregator;

import scala.Tuple2;
import scala.Tuple3;

/**
 * The SQL aggregates {@code bce_with_logits(x, y[, w])} and {@code bce(p, y[, w])} as Spark {@link Aggregator}s
 * over a {@link StagedPartial}: the mean loss (the weighted sum over the row count, as the evaluator's
 * {@code mean}) of the rows whose arguments are all non-null; NULL where there is no such row, as {@code avg}.
 *
 * @param <IN> the argument tuple
 */
abstract class BceAggregator<IN> extends Aggregator<IN, StagedPartial, Double> {
    private static final long serialVersionUID = 1L;

    final boolean logits;

    BceAggregator(boolean logits) {
        this.logits = logits;
    }

    /** {@code f(x, y)}. */
    static final class Unweighted extends BceAggregator<Tuple2<Double, Double>> {
        private static final long serialVersionUID = 1L;

        Unweighted(boolean logits) {
            super(logits);
        }

        @Override
        public StagedPartial zero() {
            return new StagedPartial(logits, false);
        }

        @Override
        public StagedPartial reduce(StagedPartial buffer, Tuple2<Double, Double> row) {
            if (row != null && row._1() != null && row._2() != null) {
                buffer.add(row._1(), row._2(), 1);
            }
            return buffer;
        }

        static Encoder<Tuple2<Double, Double>> input() {
            return Encoders.tuple(Encoders.DOUBLE(), Encoders.DOUBLE());
        }
    }

    /** {@code f(x, y, w)}. */
    static final class Weighted extends BceAggregator<Tuple3<Double, Double, Double>> {
        private static final long serialVersionUID = 1L;

        Weighted(boolean logits) {
            super(logits);
        }

        @Override
        public StagedPartial zero() {
            return new StagedPartial(logits, true);
        }

        @Override
        public StagedPartial reduce(StagedPartial buffer, Tuple3<Double, Double, Double> row) {
            if (row != null && row._1() != null && row._2() != null && row._3() != null) {
                buffer.add(row._1(), row._2(), row._3());
            }
            return buffer;
        }

        static Encoder<Tuple3<Double, Double, Double>> input() {
            return Encoders.tuple(Encoders.DOUBLE(), Encoders.DOUBLE(), Encoders.DOUBLE());
        }
    }

    @Override
    public StagedPartial merge(StagedPartial into, StagedPartial other) {
        return into.merge(other);
    }

    @Override
    public Double finish(StagedPartial buffer) {
        org.bce4j.Partial partial = buffer.partial();
        return partial.count() == 0 ? null : partial.finish(org.bce4j.Reduction.MEAN);
    }

    @Override
    public Encoder<StagedPartial> bufferEncoder() {
        return Encoders.javaSerialization(StagedPartial.class);
    }

    @Override
    public Encoder<Double> outputEncoder() {
        return Encoders.DOUBLE();
    }
}
