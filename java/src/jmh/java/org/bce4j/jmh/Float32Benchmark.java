package org.bce4j.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Tensor;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;

/**
 * Float32 mean loss and grad_input through each form of the API: {@link Tensor} views over JavaCPP pointers and over
 * direct NIO buffers, built once and reused with one {@link Outputs}, and raw addresses through {@code computeAt}.
 */
public class Float32Benchmark extends LossBenchmark {
    private FloatPointer inputPointer;
    private FloatPointer targetPointer;
    private FloatPointer gradInputPointer;
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
        float[] input = toFloats(logits);
        float[] target = toFloats(labels);
        inputPointer = new FloatPointer(input);
        targetPointer = new FloatPointer(target);
        gradInputPointer = new FloatPointer(size);
        inputOnPointer = Tensor.of(inputPointer, shape);
        targetOnPointer = Tensor.of(targetPointer, shape);
        outputsOnPointer = new Outputs().gradInput(Tensor.of(gradInputPointer, shape));
        inputOnBuffer = Tensor.of(direct(size).put(input).flip(), shape);
        targetOnBuffer = Tensor.of(direct(size).put(target).flip(), shape);
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

    private static float[] toFloats(double[] values) {
        float[] floats = new float[values.length];
        for (int i = 0; i < values.length; i++) floats[i] = (float) values[i];
        return floats;
    }

    private static FloatBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
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
        return loss.computeAt(DType.FLOAT32, shape, inputAddress, targetAddress, 0, 0, gradInputAddress, 0);
    }
}
