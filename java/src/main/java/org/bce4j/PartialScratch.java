package org.bce4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.Pointer;

/**
 * Per-thread native scratch memory for {@link Partial}: two {@code bce4j_partial} structs, room for one serialised
 * partial and for a double result, the shape of a call's own weight, and the thread's copy of a loss' options for
 * calls with such a weight. A {@link Partial} lives on the Java heap as its serialised bytes; each native operation
 * reads them into a struct here ({@code bce4j_partial_deserialize}, which checks them), and writes its result back
 * the same way.
 */
final class PartialScratch {
    private static final ThreadLocal<PartialScratch> CURRENT = ThreadLocal.withInitial(PartialScratch::new);
    private static final int STRUCT_BYTES = 160; // sizeof(bce4j_partial), = BCE4J_PARTIAL_BYTES (static_assert)
    private static final int FIRST = 0;
    private static final int SECOND = FIRST + STRUCT_BYTES;
    private static final int BYTES = SECOND + STRUCT_BYTES;
    private static final int VALUE = BYTES + NativeLibrary.PARTIAL_BYTES;
    private static final int WEIGHT_SHAPE = VALUE + Double.BYTES;
    private static final int SIZE = WEIGHT_SHAPE + NativeLibrary.MAX_DIMS * Long.BYTES;

    private final ByteBuffer memory; // kept reachable: the native side reads it through the addresses below
    private final long start; // the address of memory's index 0
    final long first;
    final long second;
    private final long bytes;
    final long value;
    private final long weightShape;
    private NativeLibrary.Options weightOptions; // made on this thread's first call with a weight of its own

    private PartialScratch() {
        memory = ByteBuffer.allocateDirect(SIZE + 8).order(ByteOrder.nativeOrder());
        start = new Pointer(memory).address(); // a view: owns nothing, so nothing to close
        long base = start;
        int align = (int) ((8 - (base & 7)) & 7); // the structs hold int64 fields
        base += align;
        first = base + FIRST;
        second = base + SECOND;
        bytes = base + BYTES;
        value = base + VALUE;
        weightShape = base + WEIGHT_SHAPE;
    }

    static PartialScratch current() {
        return CURRENT.get();
    }

    private int offset(long address) {
        return (int) (address - start);
    }

    /** Reads serialised bytes into the struct at {@code address}; throws with the native message if they are bad. */
    void read(byte[] serialised, long address) {
        // The native check reads the version, then refuses any length but BCE4J_PARTIAL_BYTES before reading on:
        // longer bytes need no more room here than their first BCE4J_PARTIAL_BYTES.
        memory.put(offset(bytes), serialised, 0, Math.min(serialised.length, NativeLibrary.PARTIAL_BYTES));
        NativeStatus.check(NativeLibrary.bce4j_partial_deserialize(bytes, serialised.length, address));
    }

    /** The serialised bytes of the struct at {@code address}. */
    byte[] write(long address) {
        NativeStatus.check(NativeLibrary.bce4j_partial_serialize(address, bytes, NativeLibrary.PARTIAL_BYTES));
        byte[] out = new byte[NativeLibrary.PARTIAL_BYTES];
        memory.get(offset(bytes), out);
        return out;
    }

    double value() {
        return memory.getDouble(offset(value));
    }

    /**
     * The address of this thread's copy of {@code options} for {@code dtype} with {@code weight} as its weight.
     * Valid until this thread's next such call; the caller holds the loss open while it is used.
     */
    long optionsWithWeight(NativeOptions options, DType dtype, Tensor weight) {
        long[] shape = weight.dims();
        if (shape.length > NativeLibrary.MAX_DIMS) {
            throw new IllegalArgumentException(
                    "weight has " + shape.length + " dimensions; expected 0 to " + NativeLibrary.MAX_DIMS);
        }
        for (int i = 0; i < shape.length; i++) {
            memory.putLong(offset(weightShape) + i * Long.BYTES, shape[i]);
        }
        if (weightOptions == null) {
            weightOptions = new NativeLibrary.Options();
            weightOptions.retainReference(); // a PointerScope open on this thread must not free it
        }
        options.copyInto(dtype, weightOptions);
        weightOptions.weightAddress(weight.address()).weight_ndim(shape.length).weightShapeAddress(weightShape);
        return weightOptions.address();
    }
}
