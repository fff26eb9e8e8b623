package org.bce4j.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Reduction;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the benchmarks share: the sizes and thread counts, and a BCEWithLogitsLoss with reduction mean. Each
 * benchmark is one call computing the mean loss and grad_input of random logits, uniform in [-6, 6], against 0/1
 * labels (the data of the CLI's bench command), through one form of the API.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public abstract class LossBenchmark {
    private static final long SEED = 0x5eed_bce4L;

    @Param({"64", "1024", "65536", "1048576", "16777216"})
    public int size;

    /** Calls under 32768 elements run on the calling thread whatever this says. */
    @Param({"1", "2"})
    public int threads;

    protected BCEWithLogitsLoss loss;
    protected long[] shape;

    // One @Setup and one @TearDown, calling the subclass's: JMH runs several of them in no defined order.
    @Setup(Level.Trial)
    public void setUp() {
        loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(threads).build();
        shape = new long[] {size};
        SplittableRandom random = new SplittableRandom(SEED);
        allocate(random.doubles(size, -6, 6).toArray(), random.ints(size, 0, 2).asDoubleStream().toArray());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        free();
        loss.close();
    }

    /** Allocates the buffers of every kind and fills the inputs with these logits and labels. */
    protected abstract void allocate(double[] logits, double[] labels);

    /** Frees the native memory that {@link #allocate} took. */
    protected abstract void free();
}
