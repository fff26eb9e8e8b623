package org.bce4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The .npy reader and writer: round trips, NumPy's exact header bytes, header variants and every rejection. */
class NpyTest {
    @TempDir
    Path dir;

    /** The bytes of a .npy file with the given version, header text (padded with spaces + newline) and data. */
    static byte[] npy(int major, String header, byte[] data) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x93);
        b.writeBytes("NUMPY".getBytes(StandardCharsets.ISO_8859_1));
        b.write(major);
        b.write(0);
        int preamble = major == 1 ? 10 : 12;
        int total = (preamble + header.length() + 1 + 63) / 64 * 64;
        int len = total - preamble;
        ByteBuffer l = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) l.putShort((short) len);
        else l.putInt(len);
        b.writeBytes(l.array());
        b.writeBytes((header + " ".repeat(len - header.length() - 1) + "\n").getBytes(StandardCharsets.ISO_8859_1));
        b.writeBytes(data);
        return b.toByteArray();
    }

    @Test
    @DisplayName("'<f2' files hold IEEE binary16 bits, read as float16 and written back with descr '<f2'")
    void float16() throws IOException {
        ByteBuffer bits = ByteBuffer.allocate(10).order(ByteOrder.LITTLE_ENDIAN);
        for (int b : new int[] {0x3c00, 0xc000, 0x7bff, 0x0001, 0xfc00}) bits.putShort((short) b);
        Path p = file("h.npy", npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (5,), }", bits.array()));
        Npy.Array a = Npy.read(p);
        assertEquals(DType.FLOAT16, a.dtype);
        assertArrayEquals(new double[] {1, -2, 65504, 0x1p-24, Double.NEGATIVE_INFINITY}, a.toDoubleArray());
        Path copy = dir.resolve("copy.npy");
        Npy.write(copy, a);
        assertArrayEquals(Files.readAllBytes(p), Files.readAllBytes(copy));
        assertThrows(IllegalArgumentException.class, () -> Npy.Array.allocate(DType.BFLOAT16, new long[] {1}));
    }

    static byte[] floatsLE(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    @DisplayName("float16, float32 and float64 round trip through write and read for 0-d, empty, 1-d and 3-d shapes")
    void roundTrip() throws IOException {
        long[][] shapes = {{}, {0}, {0, 3}, {5}, {2, 3, 4}, {1, 1, 1, 1}};
        for (DType dtype : new DType[] {DType.FLOAT16, DType.FLOAT32, DType.FLOAT64}) {
            for (long[] shape : shapes) {
                Npy.Array a = Npy.Array.allocate(dtype, shape);
                int n = (int) a.count();
                for (int i = 0; i < n; i++) {
                    switch (dtype) {
                        case FLOAT16 -> a.shorts().put(i, HalfPrecision.fromFloat(DType.FLOAT16, i * 0.5f - 1e-7f));
                        case FLOAT32 -> a.floats().put(i, i * 0.5f - 1e-7f);
                        default -> a.doubles().put(i, i / 3.0);
                    }
                }
                Path p = dir.resolve("a.npy");
                Npy.write(p, a);
                int elementBytes = dtype == DType.FLOAT16 ? 2 : dtype == DType.FLOAT32 ? 4 : 8;
                assertEquals(0, (Files.size(p) - n * elementBytes) % 64, "header is 64-aligned");
                Npy.Array b = Npy.read(p);
                assertEquals(dtype, b.dtype);
                assertArrayEquals(shape, b.shape());
                assertArrayEquals(a.toDoubleArray(), b.toDoubleArray());
                assertTrue(b.data.isDirect());
                assertEquals(ByteOrder.nativeOrder(), b.data.order());
            }
        }
    }

    @Test
    @DisplayName("the header is byte for byte what numpy.save writes")
    void headerMatchesNumpy() {
        String expected = "\u0093NUMPY\u0001\u0000v\u0000{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                + " ".repeat(58) + "\n";
        assertEquals(expected,
                new String(NpyHeader.encode(DType.FLOAT32, new long[] {2, 3}), StandardCharsets.ISO_8859_1));
        String oneD = new String(NpyHeader.encode(DType.FLOAT64, new long[] {7}), StandardCharsets.ISO_8859_1);
        assertTrue(oneD.contains("{'descr': '<f8', 'fortran_order': False, 'shape': (7,), }"), oneD);
        String zeroD = new String(NpyHeader.encode(DType.FLOAT64, new long[0]), StandardCharsets.ISO_8859_1);
        assertTrue(zeroD.contains("'shape': (), }"), zeroD);
        assertEquals(128, oneD.length());
    }

    @Test
    @DisplayName("version 2.0, key order, double quotes, no trailing comma, whitespace and 3L dimensions are read")
    void headerVariants() throws IOException {
        byte[] data = floatsLE(1f, 2f, 3f);
        String[] headers = {
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }",
            "{'shape': (3,), 'fortran_order': False, 'descr': '<f4'}",
            "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (3,)}",
            "{ 'descr' :'<f4' ,'fortran_order':False,'shape':( 3 , ) , }",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (3L,), }",
        };
        for (int major : new int[] {1, 2}) {
            for (String h : headers) {
                Npy.Array a = Npy.read(file("v.npy", npy(major, h, data)));
                assertArrayEquals(new long[] {3}, a.shape(), h);
                assertArrayEquals(new double[] {1, 2, 3}, a.toDoubleArray(), h);
            }
        }
        Npy.Array scalar = Npy.read(file("s.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': ()}",
                floatsLE(7f))));
        assertEquals(0, scalar.shape().length);
        assertEquals(7.0, scalar.toDoubleArray()[0]);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', quoteCharacter = '"', value = {
        "unsupported .npy format version 3.0 # 3 # {'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
        "Fortran-order # 1 # {'descr': '<f4', 'fortran_order': True, 'shape': (1,), }",
        "big-endian # 1 # {'descr': '>f4', 'fortran_order': False, 'shape': (1,), }",
        "unsupported dtype '<i4' # 1 # {'descr': '<i4', 'fortran_order': False, 'shape': (1,), }",
        "unsupported dtype '<f16' # 1 # {'descr': '<f16', 'fortran_order': False, 'shape': (1,), }",
        "big-endian # 1 # {'descr': '>f2', 'fortran_order': False, 'shape': (1,), }",
        "unsupported dtype '|u1' # 1 # {'descr': '|u1', 'fortran_order': False, 'shape': (1,), }",
        "unsupported dtype 'f4' # 1 # {'descr': 'f4', 'fortran_order': False, 'shape': (1,), }",
        "unsupported structured dtype # 1 # {'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        "has no 'shape' # 1 # {'descr': '<f4', 'fortran_order': False, }",
        "unexpected keys # 1 # {'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}",
        "malformed .npy header # 1 # {'descr': '<f4', 'fortran_order': False, 'shape': (1), }",
        "malformed .npy header # 1 # {'descr': '<f4' 'fortran_order': False, 'shape': (1,), }",
        "malformed .npy header # 1 # not a dict",
        "malformed .npy header # 1 # {'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }",
        "truncated data # 1 # {'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
        "unexpected bytes after the data # 1 # {'descr': '<f4', 'fortran_order': False, 'shape': (), }",
    })
    @DisplayName("each bad header is rejected with a message naming the file and the problem")
    void rejectsHeader(String problem, int major, String header) throws IOException {
        byte[] data = problem.startsWith("unexpected bytes") ? floatsLE(1f, 2f) : floatsLE(1f);
        Path p = file("bad.npy", npy(major, header, data));
        Npy.NpyException e = assertThrows(Npy.NpyException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }

    @Test
    @DisplayName("a missing file, a directory, a non-.npy file, a short file and a truncated header are rejected")
    void rejectsFiles() throws IOException {
        Path missing = dir.resolve("missing.npy");
        assertMessage(missing, "no such file");
        assertMessage(dir, "is a directory");
        assertMessage(file("text.npy", "hello, this is not numpy data".getBytes(StandardCharsets.UTF_8)),
                "not an .npy file");
        assertMessage(file("short.npy", new byte[] {(byte) 0x93, 'N', 'U'}), "not an .npy file");
        assertMessage(file("empty.npy", new byte[0]), "not an .npy file");
        byte[] full = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floatsLE(1f));
        assertMessage(file("cut.npy", java.util.Arrays.copyOf(full, 40)), "truncated .npy header");
        byte[] v11 = full.clone();
        v11[7] = 1;
        assertMessage(file("v11.npy", v11), "unsupported .npy format version 1.1");
    }

    private static void assertMessage(Path p, String problem) {
        Npy.NpyException e = assertThrows(Npy.NpyException.class, () -> Npy.read(p));
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
