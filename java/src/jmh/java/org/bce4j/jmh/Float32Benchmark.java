package org.bce4j.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bce4j.DType;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;

/** Float32 mean loss and grad_input, through each kind of buffer the API takes. */
public class Float32Benchmark extends LossBenchmark {
    private FloatPointer inputPointer;
    private FloatPointer targetPointer;
    private FloatPointer gradInputPointer;
    private FloatBuffer inputBuffer;
    private FloatBuffer targetBuffer;
    private FloatBuffer gradInputBuffer;
    private float[] inputArray;
    private float[] targetArray;
    private float[] gradInputArray;
    private long inputAddress;
    private long targetAddress;
    private long gradInputAddress;

    @Override
    protected void allocate(double[] logits, double[] labels) {
        inputArray = toFloats(logits);
        targetArray = toFloats(labels);
        gradInputArray = new float[size];
        inputPointer = new FloatPointer(inputArray);
        targetPointer = new FloatPointer(targetArray);
        gradInputPointer = new FloatPointer(size);
        inputAddress = inputPointer.address();
        targetAddress = targetPointer.address();
        gradInputAddress = gradInputPointer.address();
        inputBuffer = direct(size).put(inputArray).flip();
        targetBuffer = direct(size).put(targetArray).flip();
        gradInputBuffer = direct(size);
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

    /** JavaCPP pointers, checked for null and length at each call. */
    @Benchmark
    public double pointer() {
        return loss.compute(shape, inputPointer, targetPointer, null, gradInputPointer, null);
    }

    /** Direct, native-order NIO buffers, checked at each call. */
    @Benchmark
    public double nioBuffer() {
        return loss.compute(shape, inputBuffer, targetBuffer, null, gradInputBuffer, null);
    }

    /** Raw addresses through computeAt: no checks but the shape's, the lowest-overhead path. */
    @Benchmark
    public double address() {
        return loss.computeAt(DType.FLOAT32, shape, inputAddress, targetAddress, 0, 0, gradInputAddress, 0);
    }

    /** Copies the arrays to native memory and grad_input back: the convenience form's cost. */
    @Benchmark
    public double array() {
        return loss.compute(shape, inputArray, targetArray, null, gradInputArray, null);
    }
}
