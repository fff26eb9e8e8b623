package org.bce4j.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;

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
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;

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

    // ---- Reading ----------------------------------------------------------------------------------------------

    /**
     * Reads a .npy file; every failure, including a missing or unreadable file, is an {@link NpyException}.
     *
     * @param file the file to read
     * @return the array, its data in a new direct buffer of the native byte order
     * @throws NpyException if the file is missing, unreadable, or not a supported .npy file (see the class
     *     description); the message names the file and the problem
     */
    public static Array read(Path file) throws NpyException {
        if (Files.isDirectory(file)) throw new NpyException(file, "is a directory, not an .npy file");
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            ByteBuffer prefix = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, prefix, 0);
            if (prefix.position() < 10 || !hasMagic(prefix)) {
                throw new NpyException(file, "not an .npy file (no \\x93NUMPY magic)");
            }
            int major = prefix.get(6) & 0xff;
            int minor = prefix.get(7) & 0xff;
            long headerLength;
            int headerStart;
            if (major == 1 && minor == 0) {
                headerLength = prefix.getShort(8) & 0xffff;
                headerStart = 10;
            } else if (major == 2 && minor == 0) {
                if (prefix.position() < 12) throw new NpyException(file, "truncated .npy header");
                headerLength = prefix.getInt(8) & 0xffffffffL;
                headerStart = 12;
            } else {
                throw new NpyException(file, "unsupported .npy format version " + major + "." + minor
                        + "; versions 1.0 and 2.0 are supported");
            }
            if (headerStart + headerLength > size) {
                throw new NpyException(file, "truncated .npy header: it declares " + headerLength
                        + " bytes but the file has " + (size - headerStart) + " after the preamble");
            }
            if (headerLength > 1 << 20) throw new NpyException(file, "the .npy header is implausibly large");
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(ch, headerBytes, headerStart);
            String header = new String(headerBytes.array(), StandardCharsets.ISO_8859_1);
            Header h = parseHeader(file, header);

            long dataStart = headerStart + headerLength;
            long dataBytes;
            try {
                dataBytes = Math.multiplyExact(count(h.shape), (long) bytes(h.dtype));
            } catch (ArithmeticException e) {
                throw new NpyException(file, "shape " + Arrays.toString(h.shape) + " has too many elements");
            }
            if (size - dataStart < dataBytes) {
                throw new NpyException(file, "truncated data: shape " + Arrays.toString(h.shape) + " needs "
                        + dataBytes + " bytes but the file holds " + (size - dataStart));
            }
            if (size - dataStart > dataBytes) {
                throw new NpyException(file, (size - dataStart - dataBytes) + " unexpected bytes after the data of shape "
                        + Arrays.toString(h.shape));
            }
            if (dataBytes > Integer.MAX_VALUE) {
                throw new NpyException(file, "data of " + dataBytes + " bytes is over the 2 GiB supported");
            }
            ByteBuffer data = ByteBuffer.allocateDirect((int) dataBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, data, dataStart);
            data.flip();
            return new Array(h.dtype, h.shape, toNativeOrder(data, h.dtype));
        } catch (NoSuchFileException e) {
            throw new NpyException(file, "no such file");
        } catch (NpyException e) {
            throw e;
        } catch (IOException e) {
            throw new NpyException(file, "cannot read: " + e, e);
        }
    }

    private static boolean hasMagic(ByteBuffer b) {
        for (int i = 0; i < MAGIC.length; i++) {
            if (b.get(i) != MAGIC[i]) return false;
        }
        return true;
    }

    private static void readFully(FileChannel ch, ByteBuffer into, long at) throws IOException {
        while (into.hasRemaining()) {
            int n = ch.read(into, at);
            if (n < 0) return;
            at += n;
        }
    }

    /** The little-endian file data as a native-order buffer (a no-op on little-endian machines). */
    private static ByteBuffer toNativeOrder(ByteBuffer le, DType dtype) {
        if (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN) {
            return le.order(ByteOrder.nativeOrder());
        }
        ByteBuffer out = ByteBuffer.allocateDirect(le.capacity()).order(ByteOrder.nativeOrder());
        if (dtype == DType.FLOAT32) {
            out.asFloatBuffer().put(le.asFloatBuffer());
        } else if (dtype == DType.FLOAT16) {
            out.asShortBuffer().put(le.asShortBuffer());
        } else {
            out.asDoubleBuffer().put(le.asDoubleBuffer());
        }
        return out;
    }

    private static final class Header {
        final DType dtype;
        final long[] shape;

        Header(DType dtype, long[] shape) {
            this.dtype = dtype;
            this.shape = shape;
        }
    }

    /** Parses the header dict, e.g. {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. */
    static Header parseHeader(Path file, String header) throws NpyException {
        Map<String, Object> dict;
        try {
            dict = new DictParser(header).parse();
        } catch (IllegalArgumentException e) {
            throw new NpyException(file, "malformed .npy header (" + e.getMessage() + "): " + header.strip());
        }
        for (String key : new String[] {"descr", "fortran_order", "shape"}) {
            if (!dict.containsKey(key)) throw new NpyException(file, "the .npy header has no '" + key + "'");
        }
        if (dict.size() != 3) {
            throw new NpyException(file, "the .npy header has unexpected keys: " + dict.keySet());
        }
        Object descr = dict.get("descr");
        if (!(descr instanceof String) && !(descr instanceof List)) {
            throw new NpyException(file, "malformed .npy header: descr is not a string");
        }
        if (descr instanceof List) {
            throw new NpyException(file, "unsupported structured dtype " + ((List<?>) descr).get(0)
                    + "; expected float16 '<f2', float32 '<f4' or float64 '<f8'");
        }
        DType dtype;
        switch ((String) descr) {
            case "<f2":
                dtype = DType.FLOAT16;
                break;
            case "<f4":
                dtype = DType.FLOAT32;
                break;
            case "<f8":
                dtype = DType.FLOAT64;
                break;
            case ">f2":
            case ">f4":
            case ">f8":
                throw new NpyException(file, "big-endian dtype '" + descr + "' is not supported; save it "
                        + "little-endian (e.g. arr.astype('<" + ((String) descr).substring(1) + "'))");
            default:
                throw new NpyException(file, "unsupported dtype '" + descr
                        + "'; expected float16 '<f2', float32 '<f4' or float64 '<f8'");
        }
        Object fortran = dict.get("fortran_order");
        if (!(fortran instanceof Boolean)) {
            throw new NpyException(file, "malformed .npy header: fortran_order is " + fortran);
        }
        if ((Boolean) fortran) {
            throw new NpyException(file, "Fortran-order arrays are not supported; save it in C order "
                    + "(e.g. np.ascontiguousarray(arr))");
        }
        Object shapeValue = dict.get("shape");
        if (!(shapeValue instanceof long[])) {
            throw new NpyException(file, "malformed .npy header: shape is " + shapeValue);
        }
        long[] shape = (long[]) shapeValue;
        for (long d : shape) {
            if (d < 0) throw new NpyException(file, "shape " + Arrays.toString(shape) + " has a negative dimension");
        }
        return new Header(dtype, shape);
    }

    /** A parser for the Python literal subset .npy headers use: a dict of str keys, str/bool/tuple-of-int values. */
    private static final class DictParser {
        private final String s;
        private int i;

        DictParser(String s) {
            this.s = s;
        }

        Map<String, Object> parse() {
            Map<String, Object> dict = new LinkedHashMap<>();
            expect('{');
            while (true) {
                skipSpace();
                if (peek() == '}') {
                    i++;
                    break;
                }
                String key = string();
                if (dict.containsKey(key)) throw new IllegalArgumentException("duplicate key '" + key + "'");
                expect(':');
                dict.put(key, value());
                skipSpace();
                if (peek() == ',') {
                    i++;
                } else if (peek() != '}') {
                    throw new IllegalArgumentException("expected ',' or '}' at offset " + i);
                }
            }
            skipSpace();
            if (i != s.length()) throw new IllegalArgumentException("text after the dict at offset " + i);
            return dict;
        }

        private Object value() {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') return string();
            if (c == '(') return tuple();
            if (c == '[') { // a structured dtype's descr: skipped here, reported as unsupported by the caller
                int start = i;
                int depth = 0;
                do {
                    char d = peek();
                    if (d == '[' || d == '(') depth++;
                    if (d == ']' || d == ')') depth--;
                    i++;
                } while (depth > 0);
                return List.of(s.substring(start, i));
            }
            if (s.startsWith("True", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            throw new IllegalArgumentException("unexpected value at offset " + i);
        }

        private long[] tuple() {
            expect('(');
            List<Long> dims = new ArrayList<>();
            boolean comma = false;
            while (true) {
                skipSpace();
                if (peek() == ')') {
                    i++;
                    break;
                }
                int start = i;
                while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
                if (i < s.length() && s.charAt(i) == 'L') i++; // Python 2's long suffix
                if (start == i) throw new IllegalArgumentException("expected a dimension at offset " + i);
                try {
                    dims.add(Long.parseLong(s.substring(start, i).replace("L", "")));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("dimension too large at offset " + start);
                }
                skipSpace();
                comma = peek() == ',';
                if (comma) {
                    i++;
                } else if (peek() != ')') {
                    throw new IllegalArgumentException("expected ',' or ')' at offset " + i);
                }
            }
            if (dims.size() == 1 && !comma) throw new IllegalArgumentException("(n) is not a tuple; expected (n,)");
            return dims.stream().mapToLong(Long::longValue).toArray();
        }

        private String string() {
            skipSpace();
            char quote = peek();
            if (quote != '\'' && quote != '"') throw new IllegalArgumentException("expected a string at offset " + i);
            int end = s.indexOf(quote, i + 1);
            if (end < 0) throw new IllegalArgumentException("unterminated string at offset " + i);
            String v = s.substring(i + 1, end);
            i = end + 1;
            return v;
        }

        private void expect(char c) {
            skipSpace();
            if (peek() != c) throw new IllegalArgumentException("expected '" + c + "' at offset " + i);
            i++;
        }

        private char peek() {
            if (i >= s.length()) throw new IllegalArgumentException("unexpected end");
            return s.charAt(i);
        }

        private void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
        }
    }

    // ---- Writing ----------------------------------------------------------------------------------------------

    /** The complete header (magic to newline) for an array, version 1.0 padded to 64 bytes as NumPy pads it. */
    static byte[] header(DType dtype, long[] shape) {
        StringBuilder shapeText = new StringBuilder("(");
        for (int d = 0; d < shape.length; d++) {
            shapeText.append(d == 0 ? "" : ", ").append(shape[d]);
        }
        if (shape.length == 1) shapeText.append(',');
        shapeText.append(')');
        String dict = "{'descr': '" + descr(dtype) + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        boolean v1 = (10 + dict.length() + 1 + ALIGN - 1) / ALIGN * ALIGN - 10 <= 0xffff;
        int preamble = v1 ? 10 : 12;
        int total = preamble + dict.length() + 1;
        int padded = (total + ALIGN - 1) / ALIGN * ALIGN;
        int headerLength = padded - preamble;
        ByteBuffer b = ByteBuffer.allocate(padded).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) (v1 ? 1 : 2)).put((byte) 0);
        if (v1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < padded - 1) b.put((byte) ' ');
        b.put((byte) '\n');
        return b.array();
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
            ByteBuffer head = ByteBuffer.wrap(header(array.dtype, array.shape));
            while (head.hasRemaining()) ch.write(head);
            while (data.hasRemaining()) ch.write(data);
        }
    }
}
