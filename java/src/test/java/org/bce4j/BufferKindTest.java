package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.bce4j.BceTestSupport.BufferKind;
import org.bce4j.BceTestSupport.Outcome;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The same multi-label properties through every buffer kind (JavaCPP pointers, direct NIO buffers, Java arrays,
 * raw addresses), read from the buffers' positions, with padding around each buffer that must stay untouched.
 */
class BufferKindTest {

    static Stream<Arguments> kindsReductionsOffsets() {
        List<Arguments> list = new ArrayList<>();
        for (BufferKind kind : BufferKind.values()) {
            for (Reduction r : Reduction.values()) {
                list.add(Arguments.of(kind, r, 0));
                if (kind.hasPosition()) list.add(Arguments.of(kind, r, 5));
            }
        }
        return list.stream();
    }

    @ParameterizedTest(name = "{0} {1} position {2}")
    @MethodSource("kindsReductionsOffsets")
    @DisplayName("[4,7] with weight[7] and pos_weight[7] through each buffer kind, from the buffer's position")
    void multiLabelThroughEachKind(BufferKind kind, Reduction reduction, int offset) {
        double[] gradOutput = reduction == Reduction.NONE ? floatValues(28, 3, -1, 1) : new double[] {0.5};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLossTest.multiLoss(reduction)) {
            Outcome o = run(kind, loss, BCEWithLogitsLossTest.MULTI_SHAPE, BCEWithLogitsLossTest.multiLogits(),
                    BCEWithLogitsLossTest.multiLabels(), gradOutput, offset);
            assertOutcome(BCEWithLogitsLossTest.multiExpected(reduction, gradOutput), o, kind.dtype,
                    kind + " " + reduction + " @" + offset);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(BufferKind.class)
    @DisplayName("BCELoss with a [C] weight through each buffer kind, position 3")
    void probabilitiesThroughEachKind(BufferKind kind) {
        long[] shape = {5, 6};
        double[] x = floatValues(30, 31, 0.01, 0.99);
        double[] y = floatValues(30, 32, 0, 1);
        double[] w = floatValues(6, 33, 0.5, 2);
        try (BCELoss loss = BCELoss.builder().reduction(Reduction.NONE).weight(w, 6).build()) {
            Outcome o = run(kind, loss, shape, x, y, null, 3);
            assertOutcome(expected(false, Reduction.NONE, x, y, expand(w, new long[] {6}, shape), null, null), o,
                    kind.dtype, "BCELoss " + kind);
        }
    }

    @Test
    @DisplayName("a FloatBuffer view starting inside a ByteBuffer, with its own position, is read from there")
    void floatBufferViewWithOffsetAndPosition() {
        double[] x = {0.5, -1, 2};
        double[] y = {1, 0, 1};
        ByteBuffer bytes = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        bytes.position(8);
        FloatBuffer view = bytes.slice().order(ByteOrder.nativeOrder()).asFloatBuffer();
        view.put(new float[] {Float.NaN, Float.NaN}).put(toFloats(x)).position(2);
        FloatBuffer target = directFloats(new double[] {Double.NaN, 1, 0, 1}).position(1);
        FloatBuffer grad = directFloats(5).position(2);
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.SUM)) {
            double sum = loss.compute(Tensor.of(view, 3), Tensor.of(target, 3),
                    new Outputs().gradInput(Tensor.of(grad, 3)));
            var e = expected(true, Reduction.SUM, x, y, null, null, null);
            assertClose(e.returned, sum, reducedRel(DType.FLOAT32), ABS64, "sum");
            assertAllClose(e.gradInput, e.gradInputTerms, read(grad, 2, 3), DType.FLOAT32, "gradInput");
        }
    }

    @Test
    @DisplayName("a read-only direct buffer is accepted as an input")
    void readOnlyInputAccepted() {
        double[] x = {0.25, -3};
        double[] y = {0, 1};
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.MEAN)) {
            double mean = loss.compute(Tensor.of(directFloats(x).asReadOnlyBuffer(), 2),
                    Tensor.of(directFloats(y).asReadOnlyBuffer(), 2));
            double want = expected(true, Reduction.MEAN, x, y, null, null, null).returned;
            assertClose(want, mean, reducedRel(DType.FLOAT32), ABS64, "mean");
        }
    }

    @Test
    @DisplayName("pointers made by getPointer(i) (address + position) work like positioned pointers")
    void pointerFromGetPointer() {
        double[] x = {1, 2, 3, 4, 5, 6};
        double[] y = {0, 1, 0, 1, 0, 1};
        try (BCEWithLogitsLoss loss = new BCEWithLogitsLoss(Reduction.SUM); PointerScope scope = new PointerScope()) {
            FloatPointer in = new FloatPointer(toFloats(x));
            FloatPointer tg = new FloatPointer(toFloats(y));
            double tail = loss.compute(Tensor.of(in.getPointer(2), 4), Tensor.of(tg.getPointer(2), 4));
            double[] xs = {3, 4, 5, 6};
            double[] ys = {0, 1, 0, 1};
            assertClose(expected(true, Reduction.SUM, xs, ys, null, null, null).returned, tail,
                    reducedRel(DType.FLOAT32), ABS64,
                    "sum over elements 2..5");
            assertEquals(0, in.position(), "the caller's pointer is not moved");
        }
    }
}
