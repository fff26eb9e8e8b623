package org.bce4j;

import java.nio.Buffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.Pointer;

/** Argument checks shared by the loss classes; each message names the argument and the sizes involved. */
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
     * The address of the element at a JavaCPP pointer's position, after checking that it holds {@code needed}
     * elements between its position and its limit; 0 for an optional null pointer.
     */
    static long address(Pointer p, String name, int elementBytes, long needed, boolean required) {
        if (p == null) {
            if (required) {
                throw new NullPointerException(name + " must not be null");
            }
            return 0;
        }
        if (needed == 0) {
            return p.address(); // an empty tensor reads nothing, whatever the pointer holds
        }
        if (p.isNull()) {
            throw new IllegalArgumentException(name + " points to NULL (deallocated or never allocated)");
        }
        long available = p.limit() - p.position();
        if (available < needed) {
            String hint = p.limit() == 0 ? "; a limit of 0 means unknown size: set it with limit(n), or pass the "
                    + "address to computeAt" : "";
            throw new IllegalArgumentException(name + " holds " + available + " elements (limit " + p.limit()
                    + " - position " + p.position() + ") but " + needed + " are needed" + hint);
        }
        return p.address() + p.position() * elementBytes;
    }

    /** Checks a direct NIO buffer that the native code will read or write from its position on. */
    static void buffer(Buffer b, String name, long needed, boolean required, boolean written) {
        if (b == null) {
            if (required) {
                throw new NullPointerException(name + " must not be null");
            }
            return;
        }
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
        if (written && b.isReadOnly()) {
            throw new IllegalArgumentException(name + " is read-only but receives output");
        }
        if (b.remaining() < needed) {
            throw new IllegalArgumentException(name + " has " + b.remaining() + " elements remaining but " + needed
                    + " are needed");
        }
    }

    /** Checks the dtype of a call on {@code short} buffers, which hold either 16-bit type. */
    static DType storage16(DType dtype) {
        notNull(dtype, "dtype");
        if (!dtype.is16Bit()) {
            throw new IllegalArgumentException("dtype is " + dtype + "; 16-bit (short) buffers hold FLOAT16 or "
                    + "BFLOAT16");
        }
        return dtype;
    }

    static void length(int length, String name, long needed, boolean required, Object array) {
        if (array == null) {
            if (required) {
                throw new NullPointerException(name + " must not be null");
            }
            return;
        }
        if (length < needed) {
            throw new IllegalArgumentException(name + " has length " + length + " but " + needed + " are needed");
        }
    }

    static void address(long address, String name, boolean required) {
        if (required && address == 0) {
            throw new NullPointerException(name + " address is 0 (NULL)");
        }
    }
}
