package org.bce4j.cli;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bce4j.DType;
import org.bce4j.cli.Npy.NpyException;

/**
 * The header of a .npy file: its dict of dtype, memory order and shape, parsed on reading and written in NumPy's exact
 * bytes.
 *
 * @param dtype the element type
 * @param shape the dimensions, C order ({@code {}} for 0-d)
 */
record NpyHeader(DType dtype, long[] shape) {
    /** The first bytes of every .npy file. */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** NumPy pads the whole header to a multiple of this many bytes. */
    private static final int ALIGN = 64;

    /** Parses the header dict, e.g. {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }}. */
    static NpyHeader parse(Path file, String header) throws NpyException {
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
        return new NpyHeader(dtype, shape);
    }

    /** The complete header (magic to newline) for an array, version 1.0 padded to 64 bytes as NumPy pads it. */
    static byte[] encode(DType dtype, long[] shape) {
        StringBuilder shapeText = new StringBuilder("(");
        for (int d = 0; d < shape.length; d++) {
            shapeText.append(d == 0 ? "" : ", ").append(shape[d]);
        }
        if (shape.length == 1) shapeText.append(',');
        shapeText.append(')');
        String dict = "{'descr': '" + Npy.descr(dtype) + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
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
}
