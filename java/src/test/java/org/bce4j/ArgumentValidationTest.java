package org.bce4j;

import static org.bce4j.BceTestSupport.*;
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

    // ---- nulls ----------------------------------------------------------------------------------------------

    @Test
    @DisplayName("null shape: NullPointerException naming shape, on every path")
    void nullShape() {
        assertNamed(NullPointerException.class, "shape", () -> mean.compute(null, fp(N), fp(N), null, null, null));
        assertNamed(NullPointerException.class, "shape",
                () -> mean.compute(null, directFloats(N), directFloats(N), null, null, null));
        assertNamed(NullPointerException.class, "shape",
                () -> mean.compute(null, new double[N], new double[N], null, null, null));
        assertNamed(NullPointerException.class, "shape",
                () -> mean.computeAt(DType.FLOAT32, null, fp(N).address(), fp(N).address(), 0, 0, 0, 0));
    }

    @Test
    @DisplayName("null input or target: NullPointerException naming it, on every path")
    void nullInputOrTarget() {
        assertNamed(NullPointerException.class, "input",
                () -> mean.compute(SHAPE, (FloatPointer) null, fp(N), null, null, null));
        assertNamed(NullPointerException.class, "target",
                () -> mean.compute(SHAPE, fp(N), (FloatPointer) null, null, null, null));
        assertNamed(NullPointerException.class, "input",
                () -> mean.compute(SHAPE, (DoubleBuffer) null, directDoubles(N), null, null, null));
        assertNamed(NullPointerException.class, "target",
                () -> mean.compute(SHAPE, directFloats(N), (FloatBuffer) null, null, null, null));
        assertNamed(NullPointerException.class, "input",
                () -> mean.compute(SHAPE, (float[]) null, new float[N], null, null, null));
        assertNamed(NullPointerException.class, "target",
                () -> mean.compute(SHAPE, new double[N], (double[]) null, null, null, null));
        assertNamed(NullPointerException.class, "dtype",
                () -> mean.computeAt(null, SHAPE, fp(N).address(), fp(N).address(), 0, 0, 0, 0));
    }

    @Test
    @DisplayName("null loss buffer with Reduction.NONE: NullPointerException naming loss")
    void nullLossWithNone() {
        assertNamed(NullPointerException.class, "loss", () -> none.compute(SHAPE, fp(N), fp(N), null, fp(N), null));
        assertNamed(NullPointerException.class, "loss",
                () -> none.compute(SHAPE, directDoubles(N), directDoubles(N), null, directDoubles(N), null));
        assertNamed(NullPointerException.class, "loss",
                () -> none.compute(SHAPE, new float[N], new float[N], null, null, null));
    }

    @Test
    @DisplayName("raw address 0 for input, target, or loss with NONE: NullPointerException naming it")
    void zeroAddresses() {
        long a = fp(N).address();
        long b = fp(N).address();
        assertNamed(NullPointerException.class, "input", () -> mean.computeAt(DType.FLOAT32, SHAPE, 0, a, 0, 0, 0, 0));
        assertNamed(NullPointerException.class, "target", () -> mean.computeAt(DType.FLOAT32, SHAPE, a, 0, 0, 0, 0, 0));
        assertNamed(NullPointerException.class, "loss", () -> none.computeAt(DType.FLOAT32, SHAPE, a, b, 0, 0, 0, 0));
    }

    // ---- short buffers --------------------------------------------------------------------------------------

    static final String[] ARGUMENTS = {"input", "target", "gradOutput", "loss", "gradInput", "gradTarget"};

    static Stream<Arguments> shortBufferCases() {
        List<Arguments> list = new ArrayList<>();
        for (String kind : new String[] {"FloatPointer", "DoublePointer", "FloatBuffer", "DoubleBuffer", "float[]"}) {
            for (String argument : ARGUMENTS) list.add(Arguments.of(kind, argument));
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("shortBufferCases")
    @DisplayName("a buffer shorter than the shape needs: IllegalArgumentException naming the argument")
    void shortBuffer(String kind, String argument) {
        // NONE: every argument needs N elements; the short one has N - 1
        int[] sizes = new int[6];
        for (int i = 0; i < 6; i++) sizes[i] = ARGUMENTS[i].equals(argument) ? N - 1 : N;
        Executable call = switch (kind) {
            case "FloatPointer" -> {
                FloatPointer[] p = new FloatPointer[6];
                for (int i = 0; i < 6; i++) p[i] = fp(sizes[i]);
                yield () -> none.compute(SHAPE, p[0], p[1], p[2], p[3], p[4], p[5]);
            }
            case "DoublePointer" -> {
                DoublePointer[] p = new DoublePointer[6];
                for (int i = 0; i < 6; i++) p[i] = new DoublePointer(sizes[i]).zero();
                yield () -> none.compute(SHAPE, p[0], p[1], p[2], p[3], p[4], p[5]);
            }
            case "FloatBuffer" -> {
                FloatBuffer[] b = new FloatBuffer[6];
                for (int i = 0; i < 6; i++) b[i] = directFloats(sizes[i]);
                yield () -> none.compute(SHAPE, b[0], b[1], b[2], b[3], b[4], b[5]);
            }
            case "DoubleBuffer" -> {
                DoubleBuffer[] b = new DoubleBuffer[6];
                for (int i = 0; i < 6; i++) b[i] = directDoubles(sizes[i]);
                yield () -> none.compute(SHAPE, b[0], b[1], b[2], b[3], b[4], b[5]);
            }
            default -> {
                float[][] a = new float[6][];
                for (int i = 0; i < 6; i++) a[i] = new float[sizes[i]];
                yield () -> none.compute(SHAPE, a[0], a[1], a[2], a[3], a[4], a[5]);
            }
        };
        assertNamed(IllegalArgumentException.class, argument, call);
    }

    @Test
    @DisplayName("the length check counts from the position: 10 elements at position 5 hold 5")
    void shortFromPosition() {
        FloatPointer in = fp(10).position(5);
        assertNamed(IllegalArgumentException.class, "input",
                () -> mean.compute(new long[] {7}, in, fp(7), null, null, null));
        FloatBuffer target = directFloats(10).position(5);
        assertNamed(IllegalArgumentException.class, "target",
                () -> mean.compute(new long[] {7}, directFloats(7), target, null, null, null));
        FloatBuffer limited = directFloats(10).limit(6);
        assertNamed(IllegalArgumentException.class, "gradInput",
                () -> mean.compute(new long[] {7}, directFloats(7), directFloats(7), null, limited, null));
    }

    @Test
    @DisplayName("MEAN/SUM need one gradOutput/loss element; an empty one is rejected")
    void reducedArgumentsNeedOneElement() {
        assertNamed(IllegalArgumentException.class, "gradOutput",
                () -> mean.compute(SHAPE, directFloats(N), directFloats(N), directFloats(0), null, null, null));
        assertNamed(IllegalArgumentException.class, "loss",
                () -> mean.compute(SHAPE, directDoubles(N), directDoubles(N), null, directDoubles(0), null, null));
        assertDoesNotThrow(() -> mean.compute(SHAPE, fp(N), fp(N), fp(1), fp(1), null, null));
    }

    // ---- NIO buffer kinds -----------------------------------------------------------------------------------

    @Test
    @DisplayName("a heap FloatBuffer/DoubleBuffer: IllegalArgumentException naming the argument")
    void heapBuffer() {
        assertNamed(IllegalArgumentException.class, "input",
                () -> mean.compute(SHAPE, FloatBuffer.allocate(N), directFloats(N), null, null, null));
        assertNamed(IllegalArgumentException.class, "gradTarget",
                () -> mean.compute(SHAPE, directDoubles(N), directDoubles(N), null, null, DoubleBuffer.allocate(N)));
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, "target",
                () -> mean.compute(SHAPE, directFloats(N), FloatBuffer.wrap(new float[N]), null, null, null));
        assertTrue(e.getMessage().contains("direct"), e.getMessage());
    }

    @Test
    @DisplayName("a big-endian direct buffer: IllegalArgumentException naming the argument and the byte order")
    void bigEndianBuffer() {
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(N * 4).asFloatBuffer();
        IllegalArgumentException e = assertNamed(IllegalArgumentException.class, "target",
                () -> mean.compute(SHAPE, directFloats(N), bigEndian, null, null, null));
        assertTrue(e.getMessage().contains("BIG_ENDIAN"), e.getMessage());
        DoubleBuffer bigEndianOut = ByteBuffer.allocateDirect(N * 8).asDoubleBuffer();
        assertNamed(IllegalArgumentException.class, "gradInput",
                () -> mean.compute(SHAPE, directDoubles(N), directDoubles(N), null, bigEndianOut, null));
    }

    @Test
    @DisplayName("a read-only output buffer: IllegalArgumentException naming the argument")
    void readOnlyOutput() {
        assertNamed(IllegalArgumentException.class, "gradInput", () -> mean.compute(SHAPE, directFloats(N),
                directFloats(N), null, directFloats(N).asReadOnlyBuffer(), null));
        assertNamed(IllegalArgumentException.class, "loss", () -> none.compute(SHAPE, directDoubles(N),
                directDoubles(N), directDoubles(N).asReadOnlyBuffer(), null, null));
        assertNamed(IllegalArgumentException.class, "gradTarget", () -> mean.compute(SHAPE, directFloats(N),
                directFloats(N), null, null, directFloats(N).asReadOnlyBuffer()));
    }

    @Test
    @DisplayName("a deallocated FloatPointer (after close()): IllegalArgumentException naming it")
    void deallocatedPointer() {
        FloatPointer closed = new FloatPointer(N);
        closed.close();
        assertNamed(IllegalArgumentException.class, "input", () -> mean.compute(SHAPE, closed, fp(N), null, null, null));
        DoublePointer closedOut = new DoublePointer(N);
        closedOut.close();
        assertNamed(IllegalArgumentException.class, "gradInput", () -> mean.compute(SHAPE, new DoublePointer(N).zero(),
                new DoublePointer(N).zero(), null, closedOut, null));
    }

    // ---- shapes ---------------------------------------------------------------------------------------------

    @Test
    @DisplayName("a negative dimension: IllegalArgumentException naming the shape")
    void negativeDimension() {
        assertNamed(IllegalArgumentException.class, "shape",
                () -> mean.compute(new long[] {2, -3}, fp(N), fp(N), null, null, null));
        assertNamed(IllegalArgumentException.class, "shape",
                () -> mean.computeAt(DType.FLOAT64, new long[] {-1}, 0, 0, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("33 dimensions: IllegalArgumentException naming the shape; 32 dimensions work")
    void tooManyDimensions() {
        long[] many = new long[33];
        java.util.Arrays.fill(many, 1);
        assertNamed(IllegalArgumentException.class, "shape", () -> mean.compute(many, fp(1), fp(1), null, null, null));
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
        assertNamed(IllegalArgumentException.class, "shape",
                () -> mean.computeAt(DType.FLOAT32, new long[] {big, big}, 8, 8, 0, 0, 0, 0));
    }

    @Test
    @DisplayName("huge dimensions beside a 0 are an empty input, whatever their order")
    void hugeDimensionsBesideZeroAreEmpty() {
        long huge = 1L << 62;
        try (BCEWithLogitsLoss sum = new BCEWithLogitsLoss(Reduction.SUM)) {
            assertEquals(0.0, sum.computeAt(DType.FLOAT32, new long[] {huge, 4, 0}, 8, 8, 0, 0, 0, 0));
            assertEquals(0.0, sum.computeAt(DType.FLOAT32, new long[] {0, huge, 4}, 8, 8, 0, 0, 0, 0));
        }
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
        assertNamed(IllegalArgumentException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, 2, -1));
        assertNamed(NullPointerException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight((double[]) null, 1));
        assertNamed(NullPointerException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, (long[]) null));
        long[] tooMany = new long[33];
        java.util.Arrays.fill(tooMany, 1);
        assertNamed(IllegalArgumentException.class, "weight",
                () -> BCEWithLogitsLoss.builder().weight(new double[] {1}, tooMany));
    }

    @ParameterizedTest(name = "numThreads({0})")
    @ValueSource(ints = {-1, Integer.MIN_VALUE})
    @DisplayName("negative numThreads: IllegalArgumentException naming numThreads")
    void negativeNumThreads(int threads) {
        assertNamed(IllegalArgumentException.class, "numThreads", () -> BCEWithLogitsLoss.builder().numThreads(threads));
        assertNamed(IllegalArgumentException.class, "numThreads", () -> BCELoss.builder().numThreads(threads));
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
        assertThrows(IllegalStateException.class, () -> loss.compute(SHAPE, fp(N), fp(N), null, null, null));
        assertThrows(IllegalStateException.class,
                () -> loss.compute(SHAPE, directDoubles(N), directDoubles(N), null, null, null));
        assertThrows(IllegalStateException.class,
                () -> loss.compute(SHAPE, new float[N], new float[N], null, null, null));
        assertThrows(IllegalStateException.class,
                () -> loss.computeAt(DType.FLOAT64, SHAPE, fp(12).address(), fp(12).address(), 0, 0, 0, 0));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> loss.compute(SHAPE, new double[N], new double[N], null, null, null));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        BCELoss probabilities = new BCELoss(Reduction.SUM);
        probabilities.close();
        probabilities.close();
        assertThrows(IllegalStateException.class, () -> probabilities.compute(SHAPE, fp(N), fp(N), null, null, null));
    }
}
