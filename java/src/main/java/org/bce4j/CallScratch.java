package org.bce4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Per-thread native scratch memory through which a call passes its shape and receives its reduced loss, and the
 * thread's copy of a loss' options for calls that write weight gradients (the loss' own options are shared by
 * every thread), so that a call allocates nothing and crosses JNI with primitives only. The shape and the reduced
 * loss are written and read through a direct buffer, which the JIT compiles to plain memory accesses.
 */
final class CallScratch {
    private static final ThreadLocal<CallScratch> CURRENT = ThreadLocal.withInitial(CallScratch::new);
    private static final int REDUCED_LOSS_OFFSET = 0;
    private static final int SHAPE_OFFSET = Long.BYTES;

    private final ByteBuffer memory; // kept reachable: the native side reads it through the address below
    final long reducedLossAddress;
    final long shapeAddress;
    private NativeLibrary.Options gradientOptions; // made on this thread's first weight-gradient call

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

    /**
     * Copies a shape into the scratch and returns whether it holds elements (no dimension is 0). Only its length is
     * checked here, against the scratch's room; the native library checks the dimensions.
     */
    boolean putShape(long[] shape) {
        Checks.notNull(shape, "shape");
        if (shape.length > NativeLibrary.MAX_DIMS) {
            throw new IllegalArgumentException(
                    "shape has " + shape.length + " dimensions; expected 0 to " + NativeLibrary.MAX_DIMS);
        }
        boolean hasElements = true;
        for (int i = 0; i < shape.length; i++) {
            memory.putLong(SHAPE_OFFSET + i * Long.BYTES, shape[i]);
            hasElements &= shape[i] != 0;
        }
        return hasElements;
    }

    /**
     * The address of this thread's copy of {@code options} for {@code dtype}, with the given weight-gradient
     * outputs (0 for none). Valid until this thread's next call; it points at the loss' weights, so the caller
     * holds the loss open while it is used.
     */
    long optionsWithGradients(NativeOptions options, DType dtype, long gradWeight, long gradPosWeight) {
        if (gradientOptions == null) {
            gradientOptions = new NativeLibrary.Options();
            gradientOptions.retainReference(); // a PointerScope open on this thread must not free it
        }
        options.copyInto(dtype, gradientOptions);
        gradientOptions.grad_weight(gradWeight).grad_pos_weight(gradPosWeight);
        return gradientOptions.address();
    }

    double reducedLoss() {
        return memory.getDouble(REDUCED_LOSS_OFFSET);
    }
}
