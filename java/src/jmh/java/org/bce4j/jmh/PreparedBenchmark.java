package org.bce4j.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.PreparedCall;
import org.bce4j.Reduction;
import org.bce4j.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
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
 * Prepared calls against the unprepared raw-address call: float32, reduction mean, loss and grad_input, one thread
 * (issue 14's targets: prepared n=1 25 ns, n=64 45 ns, n=1024 450 ns; computeAt n=64 80 ns):
 *
 * <pre>
 * mvn -B -f java -Pjmh -DskipTests test-compile exec:exec@jmh -Djmh.args="PreparedBenchmark -prof gc"
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class PreparedBenchmark {
    private static final long SEED = 0x5eed_bce4L;

    @Param({"1", "64", "1024"})
    public int size;

    private BCEWithLogitsLoss loss;
    private PreparedCall prepared;
    private long[] shape;
    private Tensor input;
    private Tensor target;
    private Outputs outputs;

    @Setup(Level.Trial)
    public void setUp() {
        loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(1).build();
        shape = new long[] {size};
        prepared = loss.prepare(DType.FLOAT32, shape);
        SplittableRandom random = new SplittableRandom(SEED);
        float[] logits = new float[size];
        float[] labels = new float[size];
        for (int i = 0; i < size; i++) {
            logits[i] = (float) random.nextDouble(-6, 6);
            labels[i] = random.nextInt(2);
        }
        input = Tensor.copyOf(logits, shape);
        target = Tensor.copyOf(labels, shape);
        outputs = new Outputs().gradInput(Tensor.allocate(DType.FLOAT32, shape));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        prepared.close();
        loss.close();
    }

    /** A prepared call on reused views. */
    @Benchmark
    public double preparedViews() {
        return prepared.run(input, target, outputs);
    }

    /** A prepared call on raw addresses. */
    @Benchmark
    public double preparedAddresses() {
        return prepared.runAt(size, input.address(), target.address(), 0, 0, outputs.gradInput().address(), 0);
    }

    /** The unprepared call on raw addresses. */
    @Benchmark
    public double computeAt() {
        return loss.computeAt(DType.FLOAT32, shape, input.address(), target.address(), 0, 0,
                outputs.gradInput().address(), 0);
    }

    /** A prepared run of batch 0: the JNI crossing and the run's argument checks, no element computed. */
    @Benchmark
    public double emptyRun() {
        return prepared.runAt(0, input.address(), target.address(), 0, 0, outputs.gradInput().address(), 0);
    }
}
