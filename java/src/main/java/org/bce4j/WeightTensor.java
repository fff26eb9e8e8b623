package org.bce4j;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.ShortPointer;

/** A weight or pos_weight as configured: its values (kept in double) and its shape, checked to agree. */
final class WeightTensor {
    final double[] values;
    final long[] shape;

    private WeightTensor(double[] values, long[] shape, String name) {
        Checks.notNull(shape, name + " shape");
        // The dimensions themselves (count, signs) are the native library's to check, at build(); a shape it will
        // reject is kept as it is.
        boolean checkable = shape.length <= NativeLibrary.MAX_DIMS;
        final long beyondArrays = Integer.MAX_VALUE + 1L; // saturates the count: no Java array is larger
        long count = 1;
        for (long d : shape) {
            checkable &= d >= 0;
            count = d > 0 && count > beyondArrays / d ? beyondArrays : count * d;
        }
        if (checkable && count != values.length) {
            throw new IllegalArgumentException(name + " has " + values.length + " values but its shape "
                    + Checks.format(shape) + " holds " + (count == beyondArrays ? "more than 2^31-1" : count));
        }
        this.values = values;
        this.shape = shape.clone();
    }

    static WeightTensor of(float[] values, long[] shape, String name) {
        Checks.notNull(values, name);
        double[] widened = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            widened[i] = values[i];
        }
        return new WeightTensor(widened, shape, name);
    }

    static WeightTensor of(double[] values, long[] shape, String name) {
        Checks.notNull(values, name);
        return new WeightTensor(values.clone(), shape, name);
    }

    /** A new native copy of the values in {@code dtype}, each rounded once to nearest (even). */
    Pointer toNative(DType dtype) {
        if (dtype == DType.FLOAT64) {
            return new DoublePointer(values);
        }
        if (dtype.is16Bit()) {
            short[] rounded = new short[values.length];
            for (int i = 0; i < values.length; i++) {
                rounded[i] = HalfPrecision.fromDouble(dtype, values[i]);
            }
            return new ShortPointer(rounded);
        }
        float[] rounded = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            rounded[i] = (float) values[i];
        }
        return new FloatPointer(rounded);
    }
}
