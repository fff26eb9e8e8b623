package org.bce4j;

/** The element type of a call's buffers; input, target, gradients and weights share it. */
public enum DType {
    /** 32-bit IEEE float; reductions are still accumulated in double. */
    FLOAT32(0, Float.BYTES),
    /** 64-bit IEEE float. */
    FLOAT64(1, Double.BYTES);

    final int code;
    final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }
}
