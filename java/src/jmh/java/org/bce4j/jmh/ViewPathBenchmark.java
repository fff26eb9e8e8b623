package org.bce4j.jmh;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;
import org.bce4j.Outputs;
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
 * The view path's allocation and overhead: one float32 call (reduction mean) computing the loss, grad_input and
 * grad_target, through reused {@link Tensor} views and {@link Outputs}, beside the same call through
 * {@code computeAt} on the views' addresses. Meant for JMH's GC profiler, whose {@code gc.alloc.rate.norm} is to read
 * 0 B/op for both:
 *
 * <pre>
 * mvn -B -f java -Pjmh -DskipTests test-compile exec:exec@jmh -Djmh.args="ViewPathBenchmark -prof gc"
 * </pre>
 *
 * <p>Small sizes, on the calling thread, so that the Java side's cost per call shows against the kernel's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ViewPathBenchmark {
    private static final long SEED = 0x5eed_bce4L;

    @Param({"64", "4096"})
    public int size;

    private BCEWithLogitsLoss loss;
    private long[] shape;
    private Tensor input;
    private Tensor target;
    private Outputs outputs;

    @Setup(Level.Trial)
    public void setUp() {
        loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(1).build();
        shape = new long[] {size};
        SplittableRandom random = new SplittableRandom(SEED);
        float[] logits = new float[size];
        float[] labels = new float[size];
        for (int i = 0; i < size; i++) {
            logits[i] = (float) random.nextDouble(-6, 6);
            labels[i] = random.nextInt(2);
        }
        input = Tensor.copyOf(logits, shape);
        target = Tensor.copyOf(labels, shape);
        outputs = new Outputs().gradInput(Tensor.allocate(DType.FLOAT32, shape))
                .gradTarget(Tensor.allocate(DType.FLOAT32, shape));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loss.close();
    }

    /** The API 1.0 form: views and outputs built once, reused by every call. */
    @Benchmark
    public double views() {
        return loss.compute(input, target, outputs);
    }

    /** The same call on the same memory through raw addresses: the floor the view path is measured against. */
    @Benchmark
    public double addresses() {
        return loss.computeAt(DType.FLOAT32, shape, input.address(), target.address(), 0, 0,
                outputs.gradInput().address(), outputs.gradTarget().address());
    }
}
