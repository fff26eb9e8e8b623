package org.bce4j.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import org.bce4j.DType;
import org.bytedeco.javacpp.DoublePointer;
import org.openjdk.jmh.annotations.Benchmark;

/** Float64 mean loss and grad_input, through each kind of buffer the API takes. */
public class Float64Benchmark extends LossBenchmark {
    private DoublePointer inputPointer;
    private DoublePointer targetPointer;
    private DoublePointer gradInputPointer;
    private DoubleBuffer inputBuffer;
    private DoubleBuffer targetBuffer;
    private DoubleBuffer gradInputBuffer;
    private double[] inputArray;
    private double[] targetArray;
    private double[] gradInputArray;
    private long inputAddress;
    private long targetAddress;
    private long gradInputAddress;

    @Override
    protected void allocate(double[] logits, double[] labels) {
        inputArray = logits;
        targetArray = labels;
        gradInputArray = new double[size];
        inputPointer = new DoublePointer(inputArray);
        targetPointer = new DoublePointer(targetArray);
        gradInputPointer = new DoublePointer(size);
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

    private static DoubleBuffer direct(int size) {
        return ByteBuffer.allocateDirect(size * Double.BYTES).order(ByteOrder.nativeOrder()).asDoubleBuffer();
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
        return loss.computeAt(DType.FLOAT64, shape, inputAddress, targetAddress, 0, 0, gradInputAddress, 0);
    }

    /** Copies the arrays to native memory and grad_input back: the convenience form's cost. */
    @Benchmark
    public double array() {
        return loss.compute(shape, inputArray, targetArray, null, gradInputArray, null);
    }
}
