package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.function.Executable;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Every bad argument: the exception type, and a message that names the argument. */
class ArgumentValidationTest {
    static final long[] SHAPE = {2, 3};
    static final int N = 6;

    private PointerScope scope;
    private BCEWithLogitsLoss mean;
    private BCEWithLogitsLoss none;

    @BeforeEach
    void open() {
        scope = new PointerScope();
        mean = new BCEWithLogitsLoss(Reduction.MEAN);
        none = new BCEWithLogitsLoss(Reduction.NONE);
    }

    @AfterEach
    void closeAll() {
        mean.close();
        none.close();
        scope.close();
    }

    static <T extends Throwable> T assertNamed(Class<T> type, String name, Executable call) {
        T e = assertThrows(type, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(name),
                "message should name '" + name + "': " + e.getMessage());
        return e;
    }

    static FloatPointer fp(int n) {
        return new FloatPointer(n).zero();
    }

    static Tensor view(int n) {
        return Tensor.of(fp(n), n == N ? SHAPE : new long[] {n});
    }

    // ---- nulls ----------------------------------------------------------------------------------------------

    @Test
    @DisplayName("null shape: NullPointerException naming shape, for every view and computeAt")
    void nullShape() {
        assertNamed(NullPointerException.class, "shape", () -> Tensor.of(fp(N), (long[]) null));
        assertNamed(NullPointerException.class, "shape", () -> Tensor.of(directFloats(N), (long[]) null));
        assertNamed(NullPointerException.class, "shape", () -> Tensor.copyOf(new double[N], (long[]) null));
        assertNamed(NullPointerException.class, "shape", () -> Tensor.allocate(DType.FLOAT32, (long[]) null));
        assertNamed(NullPointerException.class, "shape",
                () -> Tensor.ofAddress(DType.FLOAT32, fp(N).address(), (long[]) null));
        assertNamed(NullPointerException.class, "shape",
                () -> mean.computeAt(DType.FLOAT32, null, fp(N).address(), fp(N).address(), 0, 0, 0, 0));
    }

    @Test
    @DisplayName("null input, target or memory: NullPointerException naming it")
    void nullInputOrTarget() {
        assertNamed(NullPointerException.class, "input", () -> mean.compute(null, view(N)));
        assertNamed(NullPointerException.class, "target", () -> mean.compute(view(N), null));
        assertNamed(NullPointerException.class, "input", () -> mean.compute(null, view(N), new Outputs()));
        assertNamed(NullPointerException.class, "data", () -> Tensor.of((FloatPointer) null, SHAPE));
        assertNamed(NullPointerException.class, "data", () -> Tensor.of((DoubleBuffer) null, SHAPE));
        assertNamed(NullPointerException.class, "values", () -> Tensor.copyOf((float[]) null, SHAPE));
        assertNamed(NullPointerException.class, "values", () -> Tensor.copyOf((double[]) null, SHAPE));
        assertNamed(NullPointerException.class, "dtype", () -> Tensor.allocate(null, SHAPE));
        assertNamed(NullPointerException.class, "dtype",
                () -> mean.computeAt(null, SHAPE, fp(N).address(), fp(N).address(), 0, 0, 0, 0));
    }

    @Test
    @DisplayName("no loss output with Reduction.NONE: NullPointerException naming loss")
    void nullLossWithNone() {
        assertNamed(NullPointerException.class, "loss", () -> none.compute(view(N), view(N)));
        assertNamed(NullPointerException.class, "loss",
                () -> none.compute(view(N), view(N), new Outputs().gradInput(view(N))));
        Tensor x = Tensor.of(directDoubles(N), SHAPE);
        assertNamed(NullPointerException.class, "loss",
                () -> none.compute(x, x, Tensor.of(directDoubles(N), SHAPE), new Outputs()));
        assertNamed(NullPointerException.class, "loss", () -> none.compute(x, x, null));
    }

    @Test
    @DisplayName("raw address 0 for input, target (the native library's words), or loss with NONE: "
            + "NullPointerException naming it")
    void zeroAddresses() {
        long a = fp(N).address();
        long b = fp(N).address();
        NullPointerException input = assertThrows(NullPointerException.class,
                () -> mean.computeAt(DType.FLOAT32, SHAPE, 0, a, 0, 0, 0, 0));
        assertEquals("input is NULL", input.getMessage());
        NullPointerException target = assertThrows(NullPointerException.class,
                () -> mean.computeAt(DType.FLOAT32, SHAPE, a, 0, 0, 0, 0, 0));
        assertEquals("target is NULL", target.getMessage());
        assertNamed(NullPointerException.class, "loss", () -> none.computeAt(DType.FLOAT32, SHAPE, a, b, 0, 0, 0, 0));
        NullPointerException view = assertThrows(NullPointerException.class,
                () -> Tensor.ofAddress(DType.FLOAT32, 0, SHAPE));
        assertEquals("address is 0 (NULL)", view.getMessage());
        assertEquals(0, Tensor.ofAddress(DType.FLOAT32, 0, 2, 0).count(), "an empty view may have address 0");
    }

    // ---- memory shorter than the shape; operands of another size or dtype -----------------------------------

    static final String[] ARGUMENTS = {"input", "target", "gradOutput", "loss", "gradInput", "gradTarget"};
    static final String[] KINDS = {"FloatPointer", "DoublePointer", "FloatBuffer", "DoubleBuffer", "float[]"};

    /** A view of {@code n} zeros made through {@code kind}. */
    static Tensor viewOf(String kind, int n, long... shape) {
        return switch (kind) {
            case "FloatPointer" -> Tensor.of(fp(n), shape);
            case "DoublePointer" -> Tensor.of(new DoublePointer(n).<DoublePointer>zero(), shape);
            case "FloatBuffer" -> Tensor.of(directFloats(n), shape);
            case "DoubleBuffer" -> Tensor.of(directDoubles(n), shape);
            default -> Tensor.copyOf(new float[n], shape);
        };
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    @DisplayName("memory shorter than the view's shape needs: IllegalArgumentException naming data (or values)")
    void shortMemory(String kind) {
        String name = kind.equals("float[]") ? "values" : "data";
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, name,
                () -> viewOf(kind, N - 1, SHAPE));
        assertTrue(e.getMessage().contains(String.valueOf(N - 1)) && e.getMessage().contains(String.valueOf(N)),
                e.getMessage());
    }

    static Stream<String> kinds() {
        return Stream.of(KINDS);
    }

    static Stream<Arguments> wrongCountCases() {
        List<Arguments> list = new ArrayList<>();
        for (String kind : KINDS) {
            for (String argument : ARGUMENTS) list.add(Arguments.of(kind, argument));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("wrongCountCases")
    @DisplayName("an operand view of another element count than the call needs: IllegalArgumentException naming it")
    void wrongCount(String kind, String argument) {
        // NONE: every argument needs N elements; the odd one out has N - 1 (the input then decides the count, so
        // every other argument is the odd one)
        Tensor[] v = new Tensor[6];
        for (int i = 0; i < 6; i++) {
            boolean odd = argument.equals("input") ? i != 0 : ARGUMENTS[i].equals(argument);
            v[i] = odd ? viewOf(kind, N - 1, N - 1) : viewOf(kind, N, SHAPE);
        }
        String named = argument.equals("input") ? "target" : argument;
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, named,
                () -> none.compute(v[0], v[1], v[2], new Outputs().loss(v[3]).gradInput(v[4]).gradTarget(v[5])));
        assertEquals(named + " has " + (N - 1) + " elements (shape [" + (N - 1) + "]) but " + N + " are needed",
                e.getMessage());
    }

    @Test
    @DisplayName("an operand of another dtype than the input: IllegalArgumentException naming it")
    void wrongDType() {
        Tensor doubles = Tensor.of(directDoubles(N), SHAPE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mean.compute(view(N), doubles));
        assertEquals("target is FLOAT64 but input is FLOAT32", e.getMessage());
        assertNamed(IllegalArgumentException.class, "gradInput",
                () -> mean.compute(view(N), view(N), new Outputs().gradInput(doubles)));
        assertNamed(IllegalArgumentException.class, "gradOutput",
                () -> mean.compute(doubles, doubles, view(1), new Outputs()));
    }

    @Test
    @DisplayName("weight-gradient outputs of another size than the weights: IllegalArgumentException naming them")
    void wrongWeightGradientCount() {
        try (BCEWithLogitsLoss weighted = BCEWithLogitsLoss.builder().weight(new double[] {1, 2, 3}, 3)
                .posWeight(new double[] {1, 2}, 2, 1).build()) {
            Tensor x = Tensor.of(fp(N), SHAPE);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> weighted.compute(x, x, new Outputs().gradWeight(view(1))));
            assertEquals("gradWeight has 1 elements (shape [1]) but 3 are needed", e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> weighted.compute(x, x, new Outputs().gradPosWeight(view(3))));
            assertEquals("gradPosWeight has 3 elements (shape [3]) but 2 are needed", e.getMessage());
        }
        // Without a weight: the gradient of an implicit scalar 1, one element.
        assertNamed(IllegalArgumentException.class, "gradWeight",
                () -> mean.compute(view(N), view(N), new Outputs().gradWeight(view(3))));
        assertNamed(IllegalArgumentException.class, "gradPosWeight",
                () -> mean.compute(view(N), view(N), new Outputs().gradPosWeight(view(2))));
    }

    @Test
    @DisplayName("the capacity check counts from the position: 10 elements at position 5 hold 5")
    void shortFromPosition() {
        FloatPointer in = fp(10).position(5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(in, 7));
        assertEquals("data holds 5 elements (limit 10 - position 5) but 7 are needed", e.getMessage());
        FloatBuffer target = directFloats(10).position(5);
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(target, 7));
        assertEquals("data has 5 elements remaining but 7 are needed", e.getMessage());
        FloatBuffer limited = directFloats(10).limit(6);
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(limited, 7));
        assertEquals("data has 6 elements remaining but 7 are needed", e.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Tensor.of(new FloatPointer(fp(7)).<FloatPointer>limit(0), 7));
        assertTrue(unknown.getMessage().contains("a limit of 0 means unknown size"), unknown.getMessage());
    }

    @Test
    @DisplayName("a copied array must hold exactly the shape's elements")
    void copiedArrayLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Tensor.copyOf(new double[N + 1], SHAPE));
        assertEquals("values has length 7 but the shape holds 6 elements", e.getMessage());
    }

    @Test
    @DisplayName("MEAN/SUM need one gradOutput/loss element; an empty one is rejected")
    void reducedArgumentsNeedOneElement() {
        Tensor x = Tensor.of(directFloats(N), SHAPE);
        assertNamed(IllegalArgumentException.class, "gradOutput",
                () -> mean.compute(x, x, Tensor.of(directFloats(0), 0), new Outputs()));
        Tensor xd = Tensor.of(directDoubles(N), SHAPE);
        assertNamed(IllegalArgumentException.class, "loss",
                () -> mean.compute(xd, xd, new Outputs().loss(Tensor.of(directDoubles(0), 0))));
        assertDoesNotThrow(() -> mean.compute(view(N), view(N), view(1), new Outputs().loss(view(1))));
        assertDoesNotThrow(() -> mean.compute(view(N), view(N), Tensor.of(fp(1)), new Outputs().loss(Tensor.of(fp(1)))),
                "a 0-d view holds the one element");
    }

    // ---- NIO buffer kinds -----------------------------------------------------------------------------------

    @Test
    @DisplayName("a heap FloatBuffer/DoubleBuffer: IllegalArgumentException naming data, saying direct")
    void heapBuffer() {
        assertNamed(IllegalArgumentException.class, "data", () -> Tensor.of(FloatBuffer.allocate(N), SHAPE));
        assertNamed(IllegalArgumentException.class, "data", () -> Tensor.of(DoubleBuffer.allocate(N), SHAPE));
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, "data",
                () -> Tensor.of(FloatBuffer.wrap(new float[N]), SHAPE));
        assertTrue(e.getMessage().contains("direct"), e.getMessage());
    }

    @Test
    @DisplayName("a big-endian direct buffer: IllegalArgumentException naming data and the byte order")
    void bigEndianBuffer() {
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(N * 4).asFloatBuffer();
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, "data",
                () -> Tensor.of(bigEndian, SHAPE));
        assertTrue(e.getMessage().contains("BIG_ENDIAN"), e.getMessage());
        DoubleBuffer bigEndianOut = ByteBuffer.allocateDirect(N * 8).asDoubleBuffer();
        assertNamed(IllegalArgumentException.class, "data", () -> Tensor.of(bigEndianOut, SHAPE));
    }

    @Test
    @DisplayName("a read-only view as an output: IllegalArgumentException naming the argument")
    void readOnlyOutput() {
        Tensor readOnly = Tensor.of(directFloats(N).asReadOnlyBuffer(), SHAPE);
        assertTrue(readOnly.isReadOnly());
        assertNamed(IllegalArgumentException.class, "gradInput",
                () -> mean.compute(view(N), view(N), new Outputs().gradInput(readOnly)));
        Tensor x = Tensor.of(directDoubles(N), SHAPE);
        assertNamed(IllegalArgumentException.class, "loss", () -> none.compute(x, x,
                new Outputs().loss(Tensor.of(directDoubles(N).asReadOnlyBuffer(), SHAPE))));
        assertNamed(IllegalArgumentException.class, "gradTarget",
                () -> mean.compute(view(N), view(N), new Outputs().gradTarget(readOnly)));
    }

    @Test
    @DisplayName("a deallocated pointer: IllegalArgumentException naming data, or the argument once its view exists")
    void deallocatedPointer() {
        FloatPointer closed = new FloatPointer(N);
        closed.close();
        assertNamed(IllegalArgumentException.class, "data", () -> Tensor.of(closed, SHAPE));
        DoublePointer closedOut = new DoublePointer(N);
        Tensor closedView = Tensor.of(closedOut, SHAPE);
        closedOut.close();
        Tensor x = Tensor.of(new DoublePointer(N).<DoublePointer>zero(), SHAPE);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mean.compute(x, x, new Outputs().gradInput(closedView)));
        assertEquals("gradInput points to NULL (deallocated since its view was made)", e.getMessage());
    }

    // ---- shapes ---------------------------------------------------------------------------------------------

    @Test
    @DisplayName("a negative dimension: IllegalArgumentException naming the shape, in the native library's words")
    void negativeDimension() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(fp(N), 2, -3));
        assertEquals("shape [2, -3] has a negative dimension", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> mean.computeAt(DType.FLOAT64, new long[] {-1}, 0, 0, 0, 0, 0, 0));
        assertEquals("input shape [-1] has a negative dimension", e.getMessage());
    }

    @Test
    @DisplayName("33 dimensions: IllegalArgumentException naming the shape; 32 dimensions work")
    void tooManyDimensions() {
        long[] many = new long[33];
        java.util.Arrays.fill(many, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tensor.of(fp(1), many));
        assertEquals("shape has 33 dimensions; expected 0 to 32", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> mean.computeAt(DType.FLOAT32, many, fp(1).address(), fp(1).address(), 0, 0, 0, 0));
        assertEquals("shape has 33 dimensions; expected 0 to 32", e.getMessage());
        long[] max = new long[32];
        java.util.Arrays.fill(max, 1);
        double[] x = {0.75};
        double[] y = {1};
        double got = run(BufferKind.FLOAT_POINTER, mean, max, x, y, null, 0).returned;
        double want = expected(true, Reduction.MEAN, x, y, null, null, null).returned;
        assertClose(want, got, reducedRel(DType.FLOAT32), ABS64, "32 dims");
    }

    @Test
    @DisplayName("element count overflowing 2^63-1: IllegalArgumentException naming the shape")
    void countOverflow() {
        long big = 1L << 40;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> mean.computeAt(DType.FLOAT32, new long[] {big, big}, 8, 8, 0, 0, 0, 0));
        assertEquals("input shape [1099511627776, 1099511627776] has more than 2^63-1 elements", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofAddress(DType.FLOAT32, 8, big, big));
        assertEquals("shape [1099511627776, 1099511627776] has more than 2^63-1 elements", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(DType.FLOAT64, 1L << 61));
        assertEquals("shape [2305843009213693952] of FLOAT64 needs more than 2^63-1 bytes", e.getMessage());
    }

    @Test
    @DisplayName("huge dimensions beside a 0 are an empty input, whatever their order")
    void hugeDimensionsBesideZeroAreEmpty() {
        long huge = 1L << 62;
        try (BCEWithLogitsLoss sum = new BCEWithLogitsLoss(Reduction.SUM)) {
            assertEquals(0.0, sum.computeAt(DType.FLOAT32, new long[] {huge, 4, 0}, 8, 8, 0, 0, 0, 0));
            assertEquals(0.0, sum.computeAt(DType.FLOAT32, new long[] {0, huge, 4}, 8, 8, 0, 0, 0, 0));
            Tensor empty = Tensor.ofAddress(DType.FLOAT32, 8, huge, 4, 0);
            assertEquals(0, empty.count());
            assertEquals(0.0, sum.compute(empty, empty));
        }
    }

    @Test
    @DisplayName("a view describes itself: dtype, shape (a copy), rank, count, toString")
    void viewAccessors() {
        Tensor t = Tensor.allocate(DType.BFLOAT16, 2, 3);
        assertEquals(DType.BFLOAT16, t.dtype());
        assertArrayEquals(new long[] {2, 3}, t.shape());
        t.shape()[0] = 7;
        assertArrayEquals(new long[] {2, 3}, t.shape(), "shape() returns a copy");
        assertEquals(2, t.rank());
        assertEquals(6, t.count());
        assertEquals("Tensor[BFLOAT16, [2, 3]]", t.toString());
        assertArrayEquals(new float[6], t.toFloatArray(), "allocate() zeroes");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Tensor.allocate(DType.FLOAT64, 1).toFloatArray());
        assertTrue(e.getMessage().contains("toDoubleArray"), e.getMessage());
        assertArrayEquals(new double[] {1.5, -2}, Tensor.copyOf(new float[] {1.5f, -2f}, 2).toDoubleArray());
    }

    // ---- builders -------------------------------------------------------------------------------------------

    @Test
    @DisplayName("weight / posWeight values that do not match their shape: IllegalArgumentException naming them")
    void weightCountMismatch() {
        assertNamed(IllegalArgumentException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new float[] {1, 2, 3}, 7));
        assertNamed(IllegalArgumentException.class, "weight",
                () -> BCELoss.builder().weight(new double[] {1, 2}, 1));
        assertNamed(IllegalArgumentException.class, "posWeight",
                () -> BCEWithLogitsLoss.builder().posWeight(new double[] {1, 2}, 3));
        assertNamed(IllegalArgumentException.class, "posWeight",
                () -> BCEWithLogitsLoss.builder().posWeight(new float[] {1}, 2, 2));
        assertNamed(IllegalArgumentException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1, 2}));
        // The dimensions themselves are the native library's rule, checked by build() in its words.
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, 2, -1).build());
        assertEquals("weight shape [2, -1] has a negative dimension", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().posWeight(new double[] {1}, -1).build());
        assertEquals("pos_weight shape [-1] has a negative dimension", e.getMessage());
        assertNamed(NullPointerException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight((double[]) null, 1));
        assertNamed(NullPointerException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, (long[]) null));
        long[] tooMany = new long[33];
        java.util.Arrays.fill(tooMany, 1);
        e = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, tooMany).build());
        assertEquals("weight has 33 dimensions; expected 0 to 32", e.getMessage());
    }

    @ParameterizedTest(name = "numThreads({0})")
    @ValueSource(ints = {-1, Integer.MIN_VALUE})
    @DisplayName("negative numThreads: build() throws IllegalArgumentException with the native library's message")
    void negativeNumThreads(int threads) {
        String message = "options.num_threads is " + threads + "; expected 0 (default) to 1024";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BCEWithLogitsLoss.builder().numThreads(threads).build());
        assertEquals(message, e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> BCELoss.builder().numThreads(threads).build());
        assertEquals(message, e.getMessage());
    }

    @Test
    @DisplayName("null reduction: NullPointerException naming reduction")
    void nullReduction() {
        assertNamed(NullPointerException.class, "reduction", () -> BCEWithLogitsLoss.builder().reduction(null));
        assertNamed(NullPointerException.class, "reduction", () -> new BCELoss(null));
    }

    // ---- lifecycle ------------------------------------------------------------------------------------------

    @Test
    @DisplayName("a closed loss throws IllegalStateException on every path; close() twice is fine")
    void closedLoss() {
        BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(new double[] {1, 2, 3}, 3).build();
        loss.close();
        assertDoesNotThrow(loss::close);
        Tensor x = Tensor.of(fp(3), 3);
        assertThrows(IllegalStateException.class, () -> loss.compute(x, x));
        assertThrows(IllegalStateException.class,
                () -> loss.compute(x, x, new Outputs().gradWeight(Tensor.allocate(DType.FLOAT32, 3))));
        assertThrows(IllegalStateException.class, () -> loss.compute(x, x, Tensor.of(fp(1)), new Outputs()));
        assertThrows(IllegalStateException.class,
                () -> loss.computeAt(DType.FLOAT64, SHAPE, fp(12).address(), fp(12).address(), 0, 0, 0, 0));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> loss.compute(x, x, null));
        assertEquals("BCEWithLogitsLoss is closed", e.getMessage());
        BCELoss probabilities = new BCELoss(Reduction.SUM);
        probabilities.close();
        probabilities.close();
        assertThrows(IllegalStateException.class, () -> probabilities.compute(view(N), view(N)));
    }
}
