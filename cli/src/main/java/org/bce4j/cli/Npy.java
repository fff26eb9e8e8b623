package org.bce4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.bce4j.Tensor;

/**
 * Reads and writes NumPy {@code .npy} files of float16, float32 or float64 data.
 *
 * <p>Read: format versions 1.0 and 2.0, descr {@code '<f2'}, {@code '<f4'} or {@code '<f8'} (little-endian, as NumPy
 * writes them),
 * C order, any number of dimensions (0-d and empty included). The data lands in a direct buffer of the native
 * byte order, so it goes to the loss with no further copy. Anything else is rejected with a {@link NpyException}
 * whose message names the file and the problem.
 *
 * <p>Write: format version 1.0 with the header padded to a multiple of 64 bytes, as NumPy does (2.0 only if the
 * header would not fit, which at most 32 dimensions never reach).
 *
 * <p>This class holds the array type and the entry points; {@link NpyReader} reads files and {@link NpyHeader} parses
 * and writes the header.
 */
public final class Npy {
    private Npy() {}

    /** A problem with a .npy file; the message starts with the file name. */
    public static final class NpyException extends IOException {
        private static final long serialVersionUID = 1L;

        NpyException(Path file, String problem) {
            super(file + ": " + problem);
        }

        NpyException(Path file, String problem, Throwable cause) {
            super(file + ": " + problem, cause);
        }
    }

    /** An array: dtype, shape, and its data in a direct native-order buffer positioned at 0. */
    public static final class Array {
        /** The element type: {@link DType#FLOAT16}, {@link DType#FLOAT32} or {@link DType#FLOAT64}. */
        public final DType dtype;
        private final long[] shape;
        /** The elements in C order and native byte order, {@link #count()} times the element size in bytes. */
        public final ByteBuffer data;

        /**
         * An array over {@code data}, which is kept, not copied.
         *
         * @param dtype the element type: {@link DType#FLOAT16}, {@link DType#FLOAT32} or {@link DType#FLOAT64}
         * @param shape the dimensions, C order ({@code {}} for 0-d); copied
         * @param data the elements in native byte order; its capacity must be exactly the shape's element count
         *     times the element size
         * @throws NullPointerException if an argument is null
         * @throws IllegalArgumentException if {@code dtype} is {@link DType#BFLOAT16} (NumPy has no such type) or
         *     {@code data}'s capacity does not match the shape
         */
        public Array(DType dtype, long[] shape, ByteBuffer data) {
            descr(dtype); // rejects bfloat16, which NumPy lacks
            this.dtype = dtype;
            this.shape = shape.clone();
            this.data = data;
            if (data.capacity() != Npy.count(shape) * bytes(dtype)) {
                throw new IllegalArgumentException("data holds " + data.capacity() + " bytes but shape "
                        + Arrays.toString(shape) + " of " + descr(dtype) + " needs " + Npy.count(shape) * bytes(dtype));
            }
        }

        /**
         * A zero-filled array in a new direct buffer of the native byte order.
         *
         * @param dtype the element type: {@link DType#FLOAT16}, {@link DType#FLOAT32} or {@link DType#FLOAT64}
         * @param shape the dimensions, C order ({@code {}} for 0-d)
         * @return the new array
         * @throws IllegalArgumentException if the data would take more than 2 GiB, or {@code dtype} is
         *     {@link DType#BFLOAT16}
         */
        public static Array allocate(DType dtype, long[] shape) {
            long bytes = Npy.count(shape) * bytes(dtype);
            if (bytes > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("an array of shape " + Arrays.toString(shape) + " is over 2 GiB");
            }
            return new Array(dtype, shape, ByteBuffer.allocateDirect((int) bytes).order(ByteOrder.nativeOrder()));
        }

        /** {@return the dimensions, C order ({@code []} for 0-d); a new copy} */
        public long[] shape() {
            return shape.clone();
        }

        /** {@return the element count: the product of the dimensions (1 for 0-d)} */
        public long count() {
            return Npy.count(shape);
        }

        /**
         * {@return the data as float32 values (a view of {@link #data})}
         *
         * @throws IllegalStateException if the dtype is not {@link DType#FLOAT32}
         */
        public FloatBuffer floats() {
            if (dtype != DType.FLOAT32) throw new IllegalStateException("dtype is " + dtype);
            return data.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer();
        }

        /**
         * {@return the data as float16 bits (a view of {@link #data})}
         *
         * @throws IllegalStateException if the dtype is not {@link DType#FLOAT16}
         */
        public ShortBuffer shorts() {
            if (dtype != DType.FLOAT16) throw new IllegalStateException("dtype is " + dtype);
            return data.duplicate().order(ByteOrder.nativeOrder()).asShortBuffer();
        }

        /**
         * {@return the data as float64 values (a view of {@link #data})}
         *
         * @throws IllegalStateException if the dtype is not {@link DType#FLOAT64}
         */
        public DoubleBuffer doubles() {
            if (dtype != DType.FLOAT64) throw new IllegalStateException("dtype is " + dtype);
            return data.duplicate().order(ByteOrder.nativeOrder()).asDoubleBuffer();
        }

        /** {@return a view of {@link #data} for the loss: no copy; the view keeps the buffer reachable} */
        public Tensor tensor() {
            switch (dtype) {
                case FLOAT32:
                    return Tensor.of(floats(), shape);
                case FLOAT16:
                    return Tensor.of(DType.FLOAT16, shorts(), shape);
                default:
                    return Tensor.of(doubles(), shape);
            }
        }

        /** {@return every value widened to double, in C order (a copy)} */
        public double[] toDoubleArray() {
            double[] out = new double[Math.toIntExact(count())];
            if (dtype == DType.FLOAT32) {
                FloatBuffer f = floats();
                for (int i = 0; i < out.length; i++) out[i] = f.get(i);
            } else if (dtype == DType.FLOAT16) {
                ShortBuffer h = shorts();
                for (int i = 0; i < out.length; i++) out[i] = HalfPrecision.toFloat(DType.FLOAT16, h.get(i));
            } else {
                doubles().get(out);
            }
            return out;
        }
    }

    /** The element count of a shape (1 for 0-d). */
    static long count(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    static int bytes(DType dtype) {
        return dtype == DType.FLOAT16 ? 2 : dtype == DType.FLOAT32 ? 4 : 8;
    }

    /**
     * {@return NumPy's little-endian descr of {@code dtype}: {@code <f2}, {@code <f4} or {@code <f8}}
     *
     * @param dtype {@link DType#FLOAT16}, {@link DType#FLOAT32} or {@link DType#FLOAT64}
     * @throws IllegalArgumentException if {@code dtype} is {@link DType#BFLOAT16}, which NumPy lacks
     */
    public static String descr(DType dtype) {
        switch (dtype) {
            case FLOAT16:
                return "<f2";
            case FLOAT32:
                return "<f4";
            case FLOAT64:
                return "<f8";
            default:
                throw new IllegalArgumentException("NumPy has no dtype for " + dtype);
        }
    }

    /**
     * Reads a .npy file; every failure, including a missing or unreadable file, is an {@link NpyException}.
     *
     * @param file the file to read
     * @return the array, its data in a new direct buffer of the native byte order
     * @throws NpyException if the file is missing, unreadable, or not a supported .npy file (see the class
     *     description); the message names the file and the problem
     */
    public static Array read(Path file) throws NpyException {
        return NpyReader.read(file);
    }

    /**
     * Writes an array as a .npy file (version 1.0, little-endian), creating or replacing the file. The whole of
     * {@code array.data} is written, whatever its position and limit.
     *
     * @param file the file to write
     * @param array the array to write
     * @throws IOException if the file cannot be written
     */
    public static void write(Path file, Array array) throws IOException {
        ByteBuffer data = array.data.duplicate().order(array.data.order());
        data.clear();
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer le = ByteBuffer.allocate(data.capacity()).order(ByteOrder.LITTLE_ENDIAN);
            if (array.dtype == DType.FLOAT32) {
                le.asFloatBuffer().put(data.order(ByteOrder.nativeOrder()).asFloatBuffer());
            } else if (array.dtype == DType.FLOAT16) {
                le.asShortBuffer().put(data.order(ByteOrder.nativeOrder()).asShortBuffer());
            } else {
                le.asDoubleBuffer().put(data.order(ByteOrder.nativeOrder()).asDoubleBuffer());
            }
            data = le;
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer head = ByteBuffer.wrap(NpyHeader.encode(array.dtype, array.shape));
            while (head.hasRemaining()) ch.write(head);
            while (data.hasRemaining()) ch.write(data);
        }
    }
}
