package org.bce4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Per-thread native scratch memory through which a call passes its shape and receives its reduced loss, so that a
 * call allocates nothing and crosses JNI with primitives only. Written and read through a direct buffer, which
 * the JIT compiles to plain memory accesses.
 */
final class CallScratch {
    private static final ThreadLocal<CallScratch> CURRENT = ThreadLocal.withInitial(CallScratch::new);
    private static final int REDUCED_LOSS_OFFSET = 0;
    private static final int SHAPE_OFFSET = Long.BYTES;

    private final ByteBuffer memory; // kept reachable: the native side reads it through the address below
    final long reducedLossAddress;
    final long shapeAddress;

    private CallScratch() {
        memory = ByteBuffer.allocateDirect(SHAPE_OFFSET + NativeLibrary.MAX_DIMS * Long.BYTES)
                .order(ByteOrder.nativeOrder());
        long base = new Pointer(memory).address(); // a view: owns nothing, so nothing to close
        reducedLossAddress = base + REDUCED_LOSS_OFFSET;
        shapeAddress = base + SHAPE_OFFSET;
    }

    static CallScratch current() {
        return CURRENT.get();
    }

    /** Checks {@code shape}, copies it into the scratch and returns its element count. */
    long putShape(long[] shape) {
        Checks.notNull(shape, "shape");
        if (shape.length > NativeLibrary.MAX_DIMS) {
            throw new IllegalArgumentException(
                    "shape has " + shape.length + " dimensions; at most " + NativeLibrary.MAX_DIMS + " are supported");
        }
        boolean empty = false;
        for (int i = 0; i < shape.length; i++) {
            long d = shape[i];
            if (d < 0) {
                throw new IllegalArgumentException("shape " + Checks.format(shape) + " has a negative dimension");
            }
            empty |= d == 0;
            memory.putLong(SHAPE_OFFSET + i * Long.BYTES, d);
        }
        long count = 1;
        for (int i = 0; i < shape.length && !empty; i++) {
            if (count > Long.MAX_VALUE / shape[i]) {
                throw new IllegalArgumentException("shape " + Checks.format(shape) + " has more than 2^63-1 elements");
            }
            count *= shape[i];
        }
        return empty ? 0 : count;
    }

    double reducedLoss() {
        return memory.getDouble(REDUCED_LOSS_OFFSET);
    }
}
