package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.OptionalDouble;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The builders keep their scalar options in one native {@code bce4j_options} each, which {@code build()} copies:
 * the defaults are the native library's, a built loss is independent of its builder, and neither a PointerScope nor
 * {@code close()} takes the options a builder or a loss reads.
 */
class BuilderOptionsTest {
    private static final long[] SHAPE = {4};
    private static final double[] X = {-3, -0.5, 0.25, 6};
    private static final double[] Y = {0, 1, 1, 0};

    private static double sum(BinaryCrossEntropy loss) {
        return loss.compute(Tensor.copyOf(X, SHAPE), Tensor.copyOf(Y, SHAPE));
    }

    @Test
    @DisplayName("an unset builder gives bce4j_options_init's defaults")
    void defaults() {
        try (BCEWithLogitsLoss logits = BCEWithLogitsLoss.builder().build();
                BCELoss probabilities = BCELoss.builder().build()) {
            for (BinaryCrossEntropy loss : new BinaryCrossEntropy[] {logits, probabilities}) {
                assertEquals(Reduction.MEAN, loss.reduction());
                assertEquals(0, loss.numThreads());
                assertEquals(OptionalDouble.empty(), loss.ignoreIndex());
                assertEquals(0, loss.labelSmoothing());
                assertEquals(2, loss.smoothingClasses());
                assertEquals(Device.CPU, loss.device());
            }
            assertEquals(PosWeightMode.TORCH, logits.posWeightMode());
            assertFalse(logits.validatesTargets());
            assertEquals(OptionalDouble.empty(), logits.focalGamma());
            assertEquals(OptionalDouble.empty(), logits.focalAlpha());
        }
    }

    @Test
    @DisplayName("collectable options span the whole struct")
    void collectableOptionsSpanTheStruct() {
        NativeLibrary.Options options = NativeLibrary.Options.collectable();
        assertTrue(options.sizeof() >= 100, "sizeof(bce4j_options): " + options.sizeof());
        assertEquals(options.sizeof(), options.limit(), "the direct buffer's bytes");
    }

    @Test
    @DisplayName("build() twice gives two independent losses; a setter after build() changes no built loss")
    void builtLossesAreIndependentOfTheirBuilder() {
        BCEWithLogitsLoss.Builder builder = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).numThreads(3)
                .ignoreIndex(-1).labelSmoothing(0.1, 4).posWeightMode(PosWeightMode.PADDLE_LEGACY)
                .validateTargets(true).focal(1.5, 0.25).weight(new double[] {0.5, 1, 2, 4}, 4);
        try (BCEWithLogitsLoss first = builder.build(); BCEWithLogitsLoss second = builder.build()) {
            double firstSum = sum(first);
            assertEquals(firstSum, sum(second));
            builder.reduction(Reduction.NONE).numThreads(5).ignoreIndex(7).labelSmoothing(0.2, 3)
                    .posWeightMode(PosWeightMode.TORCH).validateTargets(false).focal(2).weight(new double[] {9}, 1);
            try (BCEWithLogitsLoss third = builder.reduction(Reduction.SUM).build()) {
                assertNotEquals(firstSum, sum(third));
                assertEquals(OptionalDouble.of(2), third.focalGamma());
                assertEquals(OptionalDouble.empty(), third.focalAlpha());
            }
            for (BCEWithLogitsLoss loss : new BCEWithLogitsLoss[] {first, second}) {
                assertEquals(firstSum, sum(loss));
                assertEquals(Reduction.SUM, loss.reduction());
                assertEquals(3, loss.numThreads());
                assertEquals(OptionalDouble.of(-1), loss.ignoreIndex());
                assertEquals(0.1, loss.labelSmoothing());
                assertEquals(4, loss.smoothingClasses());
                assertEquals(PosWeightMode.PADDLE_LEGACY, loss.posWeightMode());
                assertTrue(loss.validatesTargets());
                assertEquals(OptionalDouble.of(1.5), loss.focalGamma());
                assertEquals(OptionalDouble.of(0.25), loss.focalAlpha());
            }
        }
    }

    @Test
    @DisplayName("a rejected option leaves the builder usable once it is corrected")
    void rejectedOptionThenCorrected() {
        BCELoss.Builder builder = BCELoss.builder().labelSmoothing(2);
        assertThrows(IllegalArgumentException.class, builder::build);
        try (BCELoss loss = builder.labelSmoothing(0).reduction(Reduction.SUM).build()) {
            assertEquals(0, loss.labelSmoothing());
        }
    }

    @Test
    @DisplayName("the getters read the options after close()")
    void gettersAfterClose() {
        BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).numThreads(2).focal(3).build();
        loss.close();
        assertThrows(IllegalStateException.class, () -> sum(loss));
        assertEquals(Reduction.SUM, loss.reduction());
        assertEquals(2, loss.numThreads());
        assertEquals(OptionalDouble.of(3), loss.focalGamma());
    }

    @Test
    @DisplayName("a builder made inside a PointerScope builds after the scope closed; it holds no JavaCPP memory")
    void builderOutlivesItsPointerScope() {
        double expected;
        try (BCEWithLogitsLoss outside = BCEWithLogitsLoss.builder().reduction(Reduction.SUM).focal(2, 0.5).build()) {
            expected = sum(outside);
        }
        long before = Pointer.totalBytes();
        BCEWithLogitsLoss.Builder builder;
        try (PointerScope scope = new PointerScope()) {
            builder = BCEWithLogitsLoss.builder().reduction(Reduction.SUM);
            assertEquals(before, Pointer.totalBytes(), "a builder's options are not JavaCPP allocations");
        }
        System.gc(); // were the options the scope's, their memory could be reused now
        try (BCEWithLogitsLoss loss = builder.focal(2, 0.5).build()) {
            assertEquals(expected, sum(loss));
            assertEquals(OptionalDouble.of(0.5), loss.focalAlpha());
        }
    }
}
