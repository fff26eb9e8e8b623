package org.bce4j.jmh;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Tensor;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Param;

/**
 * Mean loss and grad_input in float32 and float64 through each form of the API: {@link Tensor} views over JavaCPP
 * pointers and over direct NIO buffers, built once and reused with one {@link Outputs}, and raw addresses through
 * {@code computeAt}.
 */
public class ApiPathBenchmark extends LossBenchmark {
    @Param({"FLOAT32", "FLOAT64"})
    public DType dtype;

    private final List<Pointer> pointers = new ArrayList<>();
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
        inputOnPointer = onPointer(logits);
        inputAddress = lastPointer().address();
        targetOnPointer = onPointer(labels);
        targetAddress = lastPointer().address();
        outputsOnPointer = new Outputs().gradInput(onPointer(new double[size]));
        gradInputAddress = lastPointer().address();
        inputOnBuffer = onBuffer(logits);
        targetOnBuffer = onBuffer(labels);
        outputsOnBuffer = new Outputs().gradInput(onBuffer(new double[size]));
    }

    @Override
    protected void free() {
        pointers.forEach(Pointer::close);
        pointers.clear();
    }

    /** A view over a new JavaCPP pointer of this dtype holding the values (rounded once for float32). */
    private Tensor onPointer(double[] values) {
        if (dtype == DType.FLOAT64) {
            DoublePointer pointer = new DoublePointer(values);
            pointers.add(pointer);
            return Tensor.of(pointer, shape);
        }
        FloatPointer pointer = new FloatPointer(values.length);
        for (int i = 0; i < values.length; i++) pointer.put(i, (float) values[i]);
        pointers.add(pointer);
        return Tensor.of(pointer, shape);
    }

    private Pointer lastPointer() {
        return pointers.get(pointers.size() - 1);
    }

    /** A view over a new direct, native-order NIO buffer of this dtype holding the values. */
    private Tensor onBuffer(double[] values) {
        ByteBuffer bytes = ByteBuffer
                .allocateDirect(values.length * (dtype == DType.FLOAT64 ? Double.BYTES : Float.BYTES))
                .order(ByteOrder.nativeOrder());
        if (dtype == DType.FLOAT64) {
            return Tensor.of(bytes.asDoubleBuffer().put(values).flip(), shape);
        }
        var floats = bytes.asFloatBuffer();
        for (double value : values) floats.put((float) value);
        return Tensor.of(floats.flip(), shape);
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
        return loss.computeAt(dtype, shape, inputAddress, targetAddress, 0, 0, gradInputAddress, 0);
    }
}
