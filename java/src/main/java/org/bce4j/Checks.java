package org.bce4j;

import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/**
 * The checks only Java can make (null, capacity, heap vs direct, read-only, byte order, an operand's dtype and
 * element count against the input's); each message names the argument. The rules on option values and shapes are
 * the native library's ({@code bce4j_check_options} and each call).
 */
final class Checks {
    private Checks() {}

    static <T> T notNull(T value, String name) {
        if (value == null) {
            throw new NullPointerException(name + " must not be null");
        }
        return value;
    }

    static String format(long[] shape) {
        return Arrays.toString(shape);
    }

    /**
     * The element count of a view's shape, which Java needs to check the memory's capacity (the words are the
     * native library's for the same rule on a call's input shape).
     */
    static long shapeCount(long[] shape) {
        notNull(shape, "shape");
        if (shape.length > NativeLibrary.MAX_DIMS) {
            throw new IllegalArgumentException(
                    "shape has " + shape.length + " dimensions; expected 0 to " + NativeLibrary.MAX_DIMS);
        }
        boolean empty = false;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("shape " + format(shape) + " has a negative dimension");
            }
            empty |= d == 0;
        }
        if (empty) {
            return 0; // huge dimensions beside a 0 hold nothing, whatever their product
        }
        long count = 1;
        for (long d : shape) {
            if (count > Long.MAX_VALUE / d) {
                throw new IllegalArgumentException("shape " + format(shape) + " has more than 2^63-1 elements");
            }
            count *= d;
        }
        return count;
    }

    static void arrayLength(int length, long count) {
        if (length != count) {
            throw new IllegalArgumentException(
                    "values has length " + length + " but the shape holds " + count + " elements");
        }
    }

    /**
     * The address of the element at a JavaCPP pointer's position, after checking that it holds {@code needed}
     * elements between its position and its limit.
     */
    static long address(Pointer p, String name, int elementBytes, long needed) {
        if (needed == 0) {
            return p.address(); // an empty tensor reads nothing, whatever the pointer holds
        }
        if (p.isNull()) {
            throw new IllegalArgumentException(name + " points to NULL (deallocated or never allocated)");
        }
        long available = p.limit() - p.position();
        if (available < needed) {
            String hint = p.limit() == 0 ? "; a limit of 0 means unknown size: set it with limit(n), or use "
                    + "Tensor.ofAddress" : "";
            throw new IllegalArgumentException(name + " holds " + available + " elements (limit " + p.limit()
                    + " - position " + p.position() + ") but " + needed + " are needed" + hint);
        }
        return p.address() + p.position() * elementBytes;
    }

    /** Checks a direct NIO buffer that the native code will read or write from its position on. */
    static void buffer(Buffer b, String name, long needed) {
        if (!b.isDirect()) {
            String view = b instanceof ShortBuffer ? "asShortBuffer()"
                    : b instanceof DoubleBuffer ? "asDoubleBuffer()" : "asFloatBuffer()";
            throw new IllegalArgumentException(name + " is a heap buffer; pass a direct buffer, e.g. "
                    + "ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder())." + view);
        }
        ByteOrder order = b instanceof FloatBuffer ? ((FloatBuffer) b).order()
                : b instanceof ShortBuffer ? ((ShortBuffer) b).order() : ((DoubleBuffer) b).order();
        if (order != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(name + " has byte order " + order + "; the native order "
                    + ByteOrder.nativeOrder() + " is required");
        }
        if (b.remaining() < needed) {
            throw new IllegalArgumentException(name + " has " + b.remaining() + " elements remaining but " + needed
                    + " are needed");
        }
    }

    /** Checks the dtype of a view of {@code short} memory, which holds either 16-bit type. */
    static DType storage16(DType dtype) {
        notNull(dtype, "dtype");
        if (!dtype.is16Bit()) {
            throw new IllegalArgumentException("dtype is " + dtype + "; 16-bit (short) buffers hold FLOAT16 or "
                    + "BFLOAT16");
        }
        return dtype;
    }

    /**
     * Checks a call's operand view: its dtype is the input's, it holds {@code needed} elements, and an output is
     * writable and its memory not freed since the view was made. Null passes where the operand is optional.
     */
    static void operand(Tensor t, String name, DType dtype, long needed, boolean required, boolean output) {
        if (t == null) {
            if (required) {
                throw new NullPointerException(name + " must not be null");
            }
            return;
        }
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(name + " is " + t.dtype() + " but input is " + dtype);
        }
        if (t.count() != needed) {
            throw new IllegalArgumentException(name + " has " + t.count() + " elements (shape "
                    + format(t.dims()) + ") but " + needed + " are needed");
        }
        if (output && t.isReadOnly()) {
            throw new IllegalArgumentException(name + " is read-only but receives output");
        }
        Pointer p = t.pointer();
        if (needed > 0 && p != null && p.isNull()) {
            throw new IllegalArgumentException(name + " points to NULL (deallocated since its view was made)");
        }
    }

    static void address(long address, String name, boolean required) {
        if (required && address == 0) {
            throw new NullPointerException(name + " address is 0 (NULL)");
        }
    }
}
