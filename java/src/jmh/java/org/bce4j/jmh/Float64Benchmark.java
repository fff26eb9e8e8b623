package org.bce4j.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Tensor;
import org.bytedeco.javacpp.DoublePointer;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * Float64 mean loss and grad_input through each form of the API: {@link Tensor} views over JavaCPP pointers and over
 * direct NIO buffers, built once and reused with one {@link Outputs}, and raw addresses through {@code computeAt}.
 */
public class Float64Benchmark extends LossBenchmark {
    private DoublePointer inputPointer;
    private DoublePointer targetPointer;
    private DoublePointer gradInputPointer;
    private Tensor inputOnPointer;
    private Tensor targetOnPointer;
    private Outputs outputsOnPointer;
    private Tensor inputOnBuffer;
    private Tensor targetOnBuffer;
    private Outputs outputsOnBuffer;
    private long inputAddress;
    private long targetAddress;
    private long gradInputAddress;

    @Override
    protected void allocate(double[] logits, double[] labels) {
        inputPointer = new DoublePointer(logits);
        targetPointer = new DoublePointer(labels);
        gradInputPointer = new DoublePointer(size);
        inputOnPointer = Tensor.of(inputPointer, shape);
        targetOnPointer = Tensor.of(targetPointer, shape);
        outputsOnPointer = new Outputs().gradInput(Tensor.of(gradInputPointer, shape));
        inputOnBuffer = Tensor.of(direct(size).put(logits).flip(), shape);
        targetOnBuffer = Tensor.of(direct(size).put(labels).flip(), shape);
        outputsOnBuffer = new Outputs().gradInput(Tensor.of(direct(size), shape));
        inputAddress = inputPointer.address();
        targetAddress = targetPointer.address();
        gradInputAddress = gradInputPointer.address();
    }

    @Override
    protected void free() {
        inputPointer.close();
        targetPointer.close();
        gradInputPointer.close();
    }

    private static DoubleBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
    }

    /** Views over JavaCPP pointers, checked (dtype, count, read-only) at each call. */
    @Benchmark
    public double pointerViews() {
        return loss.compute(inputOnPointer, targetOnPointer, outputsOnPointer);
    }

    /** Views over direct, native-order NIO buffers, checked at each call. */
    @Benchmark
    public double bufferViews() {
        return loss.compute(inputOnBuffer, targetOnBuffer, outputsOnBuffer);
    }

    /** Raw addresses through computeAt: no checks but the shape's, the lowest-overhead path. */
    @Benchmark
    public double address() {
        return loss.computeAt(DType.FLOAT64, shape, inputAddress, targetAddress, 0, 0, gradInputAddress, 0);
    }
}
