package org.bce4j;

import static org.bce4j.BceTestSupport.ABS64;
import static org.bce4j.BceTestSupport.REL64;
import static org.bce4j.BceTestSupport.assertAllClose;
import static org.bce4j.BceTestSupport.assertClose;
import static org.bce4j.BceTestSupport.expected;
import static org.bce4j.BceTestSupport.floatValues;
import static org.bce4j.BceTestSupport.labels;
import static org.bce4j.Reduction.MEAN;
import static org.bce4j.Reduction.NONE;
import static org.bce4j.Reduction.SUM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PyTorch's legacy size_average/reduce flags: Reduction.fromLegacyFlags and the builders' legacyReduction. */
class ReductionTest {

    /**
     * Every (size_average, reduce) pair, null meaning not given, with the reduction PyTorch's losses end up with,
     * written out by hand from torch.nn._reduction.legacy_get_string; null when neither flag is given (the loss
     * keeps its reduction).
     */
    static Stream<Arguments> legacyTable() {
        return Stream.of(
                arguments(null, null, null),
                arguments(null, true, MEAN),
                arguments(null, false, NONE),
                arguments(true, null, MEAN),
                arguments(true, true, MEAN),
                arguments(true, false, NONE),
                arguments(false, null, SUM),
                arguments(false, true, SUM),
                arguments(false, false, NONE));
    }

    @ParameterizedTest(name = "size_average={0}, reduce={1} -> {2}")
    @MethodSource("legacyTable")
    @DisplayName("fromLegacyFlags maps as legacy_get_string, and refuses two absent flags")
    void fromLegacyFlags(Boolean sizeAverage, Boolean reduce, Reduction expected) {
        if (expected == null) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Reduction.fromLegacyFlags(sizeAverage, reduce));
            assertTrue(e.getMessage().contains("sizeAverage") && e.getMessage().contains("reduce"), e.getMessage());
        } else {
            assertEquals(expected, Reduction.fromLegacyFlags(sizeAverage, reduce));
        }
    }

    @ParameterizedTest(name = "size_average={0}, reduce={1} -> {2}")
    @MethodSource("legacyTable")
    @DisplayName("legacyReduction overrides reduction(...) in either call order, on both losses; two nulls keep it")
    void builderLegacyReduction(Boolean sizeAverage, Boolean reduce, Reduction expected) {
        for (Reduction chosen : Reduction.values()) {
            Reduction want = expected == null ? chosen : expected;
            String label = "reduction " + chosen;
            List<BinaryCrossEntropy> losses = List.of(
                    BCEWithLogitsLoss.builder().reduction(chosen).legacyReduction(sizeAverage, reduce).build(),
                    BCEWithLogitsLoss.builder().legacyReduction(sizeAverage, reduce).reduction(chosen).build(),
                    BCELoss.builder().reduction(chosen).legacyReduction(sizeAverage, reduce).build(),
                    BCELoss.builder().legacyReduction(sizeAverage, reduce).reduction(chosen).build());
            for (BinaryCrossEntropy loss : losses) {
                try (loss) {
                    assertEquals(want, loss.reduction(), label + ", " + loss.getClass().getSimpleName());
                }
            }
        }
    }

    @Test
    @DisplayName("legacyReduction(null, null) withdraws an earlier legacy choice; the default without flags is mean")
    void builderWithdrawAndDefault() {
        try (BCELoss withdrawn = BCELoss.builder().reduction(NONE).legacyReduction(false, true)
                .legacyReduction(null, null).build();
                BCELoss legacyOnly = BCELoss.builder().legacyReduction(false, null).build();
                BCELoss plain = BCELoss.builder().legacyReduction(null, null).build()) {
            assertEquals(NONE, withdrawn.reduction());
            assertEquals(SUM, legacyOnly.reduction());
            assertEquals(MEAN, plain.reduction());
        }
    }

    @Test
    @DisplayName("the native call reduces as the legacy flags say, not as the overridden reduction(...)")
    void builderReductionReachesNativeCall() {
        long[] shape = {3, 4};
        double[] x = floatValues(12, 1, -6, 6);
        double[] y = labels(12, 2);
        // reduction(NONE) would need a 12-element loss buffer and return NaN; the legacy sum needs one element.
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(NONE).legacyReduction(false, true)
                .build()) {
            Tensor reducedView = Tensor.allocate(DType.FLOAT64);
            Tensor gradInputView = Tensor.allocate(DType.FLOAT64, shape);
            double returned = loss.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                    new Outputs().loss(reducedView).gradInput(gradInputView));
            double[] reduced = reducedView.toDoubleArray();
            double[] gradInput = gradInputView.toDoubleArray();
            BceTestSupport.Expected e = expected(true, SUM, x, y, null, null, null);
            assertClose(e.returned, returned, REL64, ABS64, "returned sum");
            assertClose(e.returned, reduced[0], REL64, ABS64, "loss buffer");
            assertAllClose(e.gradInput, gradInput, DType.FLOAT64, "gradInput");
        }
    }
}
