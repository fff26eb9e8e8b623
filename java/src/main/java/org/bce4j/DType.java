package org.bce4j;

/** The element type of a call's buffers; input, target, gradients and weights share it. */
public enum DType {
    /** 32-bit IEEE float; reductions are still accumulated in double. */
    FLOAT32(0, Float.BYTES),
    /** 64-bit IEEE float. */
    FLOAT64(1, Double.BYTES),
    /**
     * IEEE binary16 storage ({@code short} bits; see {@link HalfPrecision}): computed in float32, results rounded to
     * nearest even; reductions accumulated in double.
     */
    FLOAT16(2, Short.BYTES),
    /** bfloat16 storage (the upper 16 bits of a float32), computed and rounded as {@link #FLOAT16}. */
    BFLOAT16(3, Short.BYTES);

    final int code;
    final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** True for the 16-bit storage types, whose buffers hold {@code short} bits. */
    boolean is16Bit() {
        return bytes == Short.BYTES;
    }
}
