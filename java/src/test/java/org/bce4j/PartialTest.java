package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Partial losses: values against a float64 reference, split invariance, the bytes, bad arguments, closing. */
class PartialTest {
    private static final int ROWS = 40;
    private static final int COLUMNS = 1000; // 40000 elements: several blocks, several threads
    private static final double IGNORED = -100;
    private static final Reduction[] REDUCTIONS = {Reduction.MEAN, Reduction.SUM, Reduction.MEAN_BY_WEIGHT,
        Reduction.MEAN_BY_NONZERO_WEIGHT, Reduction.MEAN_VALID};

    /** Logits in [-8, 8] or probabilities in (0, 1), targets soft, hard or ignored, a weight per row with zeros. */
    private record Data(double[] input, double[] target, double[] rowWeight, double[] posWeight) {
        static Data random(boolean logits, long seed) {
            Random r = new Random(seed);
            double[] x = new double[ROWS * COLUMNS];
            double[] y = new double[x.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = logits ? 16 * r.nextDouble() - 8 : 0.001 + 0.998 * r.nextDouble();
                double u = r.nextDouble();
                y[i] = u < 0.3 ? 0 : u < 0.6 ? 1 : u < 0.65 ? IGNORED : r.nextDouble();
            }
            double[] w = new double[ROWS];
            for (int i = 0; i < ROWS; i++) {
                w[i] = i % 5 == 3 ? 0 : 0.25 + 2 * r.nextDouble();
            }
            double[] p = new double[COLUMNS];
            for (int i = 0; i < COLUMNS; i++) {
                p[i] = 0.5 + 3 * r.nextDouble();
            }
            return new Data(x, y, w, p);
        }

        Tensor input(int from, int to) {
            return Tensor.copyOf(Arrays.copyOfRange(input, from * COLUMNS, to * COLUMNS), to - from, COLUMNS);
        }

        Tensor target(int from, int to) {
            return Tensor.copyOf(Arrays.copyOfRange(target, from * COLUMNS, to * COLUMNS), to - from, COLUMNS);
        }

        Tensor weight(int from, int to) {
            return Tensor.copyOf(Arrays.copyOfRange(rowWeight, from, to), to - from, 1);
        }
    }

    private static double softplus(double z) {
        return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
    }

    /** The float64 reference: loss sum, weight sum, valid and nonzero-weight counts, from the formulas. */
    private static double[] reference(Data d, boolean logits) {
        double loss = 0, weights = 0, valid = 0, nonzero = 0;
        for (int i = 0; i < d.input.length; i++) {
            double w = d.rowWeight[i / COLUMNS];
            weights += w;
            nonzero += w != 0 ? 1 : 0;
            double x = d.input[i], y = d.target[i];
            if (y == IGNORED) {
                continue;
            }
            valid++;
            double l;
            if (logits) {
                double p = d.posWeight[i % COLUMNS];
                l = p * y * softplus(-x) + (1 - y) * softplus(x);
            } else {
                l = -(y * Math.max(Math.log(x), -100) + (1 - y) * Math.max(Math.log1p(-x), -100));
            }
            loss += w * l;
        }
        return new double[] {loss, weights, valid, nonzero};
    }

    private static BinaryCrossEntropy loss(boolean logits, Data d, int threads) {
        if (logits) {
            return BCEWithLogitsLoss.builder().posWeight(d.posWeight, COLUMNS).ignoreIndex(IGNORED)
                    .numThreads(threads).build();
        }
        return BCELoss.builder().ignoreIndex(IGNORED).numThreads(threads).build();
    }

    @Test
    @DisplayName("every reduction finished from a partial matches the float64 reference, both losses")
    void valuesMatchTheReference() {
        for (boolean logits : new boolean[] {true, false}) {
            Data d = Data.random(logits, 1);
            double[] ref = reference(d, logits);
            try (BinaryCrossEntropy loss = loss(logits, d, 0)) {
                Partial p = loss.partial(d.input(0, ROWS), d.target(0, ROWS), d.weight(0, ROWS));
                assertEquals(ROWS * COLUMNS, p.count());
                assertEquals((long) ref[2], p.validCount());
                assertEquals((long) ref[3], p.nonzeroWeightCount());
                assertEquals(ref[0], p.lossSum(), 1e-12 * ref[0]);
                assertEquals(ref[1], p.weightSum(), 1e-12 * ref[1]);
                double[] want = {ref[0] / (ROWS * COLUMNS), ref[0], ref[0] / ref[1], ref[0] / ref[3], ref[0] / ref[2]};
                for (int k = 0; k < REDUCTIONS.length; k++) {
                    assertEquals(want[k], p.finish(REDUCTIONS[k]), 1e-12 * want[k], REDUCTIONS[k] + " " + logits);
                }
            }
        }
    }

    @Test
    @DisplayName("the loss' own weight applies without a call weight, and a call weight replaces it")
    void callWeightReplacesTheLossWeight() {
        Data d = Data.random(true, 2);
        double[] columnWeight = new double[COLUMNS];
        Arrays.fill(columnWeight, 3);
        try (BCEWithLogitsLoss unweighted = BCEWithLogitsLoss.builder().posWeight(d.posWeight, COLUMNS)
                .ignoreIndex(IGNORED).build();
                BCEWithLogitsLoss weighted = BCEWithLogitsLoss.builder().posWeight(d.posWeight, COLUMNS)
                        .ignoreIndex(IGNORED).weight(columnWeight, COLUMNS).build()) {
            Tensor x = d.input(0, ROWS), y = d.target(0, ROWS);
            Partial plain = unweighted.partial(x, y);
            Partial own = weighted.partial(x, y);
            assertEquals(3 * plain.lossSum(), own.lossSum(), 1e-12 * own.lossSum());
            assertEquals(3.0 * ROWS * COLUMNS, own.weightSum());
            assertEquals(ROWS * COLUMNS, plain.weightSum());
            assertEquals(unweighted.partial(x, y, d.weight(0, ROWS)), weighted.partial(x, y, d.weight(0, ROWS)));
        }
    }

    @Test
    @DisplayName("rows split into calls, merged in any order, on any thread count: the same partial, bit for bit")
    void splitInvariance() {
        Random r = new Random(3);
        for (boolean logits : new boolean[] {true, false}) {
            Data d = Data.random(logits, 4);
            Partial whole;
            try (BinaryCrossEntropy loss = loss(logits, d, 1)) {
                whole = loss.partial(d.input(0, ROWS), d.target(0, ROWS), d.weight(0, ROWS));
            }
            for (int trial = 0; trial < 4; trial++) {
                List<Integer> cuts = new ArrayList<>(List.of(0, ROWS));
                for (int k = r.nextInt(8); k > 0; k--) {
                    cuts.add(r.nextInt(ROWS + 1));
                }
                Collections.sort(cuts);
                List<Partial> parts = new ArrayList<>();
                try (BinaryCrossEntropy loss = loss(logits, d, 1 + trial % 3)) {
                    for (int k = 0; k + 1 < cuts.size(); k++) {
                        int from = cuts.get(k), to = cuts.get(k + 1);
                        parts.add(loss.partial(d.input(from, to), d.target(from, to), d.weight(from, to)));
                    }
                }
                Collections.shuffle(parts, r);
                Partial merged = parts.stream().reduce(Partial.empty(), Partial::merge);
                assertEquals(whole, merged, "trial " + trial);
                assertEquals(whole.hashCode(), merged.hashCode());
                for (Reduction reduction : REDUCTIONS) {
                    assertEquals(Double.doubleToRawLongBits(whole.finish(reduction)),
                            Double.doubleToRawLongBits(merged.finish(reduction)), reduction.toString());
                }
            }
        }
    }

    @Test
    @DisplayName("toBytes and fromBytes round-trip; bad bytes are refused with the problem named")
    void bytes() {
        Data d = Data.random(true, 5);
        Partial p;
        try (BinaryCrossEntropy loss = loss(true, d, 0)) {
            p = loss.partial(d.input(0, 3), d.target(0, 3));
        }
        byte[] bytes = p.toBytes();
        assertEquals(160, bytes.length);
        assertEquals(1, bytes[0], "the version, first, little-endian");
        Partial back = Partial.fromBytes(bytes);
        assertEquals(p, back);
        assertEquals(p.hashCode(), back.hashCode());
        assertEquals(p.toString(), back.toString());
        assertTrue(p.toString().contains("count=3000"), p.toString());
        bytes[0] = 2;
        assertMessage(IllegalArgumentException.class, "version 2", () -> Partial.fromBytes(bytes));
        assertMessage(IllegalArgumentException.class, "length is 159",
                () -> Partial.fromBytes(Arrays.copyOf(p.toBytes(), 159)));
        assertMessage(IllegalArgumentException.class, "length is 161",
                () -> Partial.fromBytes(Arrays.copyOf(p.toBytes(), 161)));
        byte[] corrupt = p.toBytes();
        corrupt[16] = (byte) 0xff; // valid_count past count
        assertMessage(IllegalArgumentException.class, "valid_count", () -> Partial.fromBytes(corrupt));
        assertThrows(NullPointerException.class, () -> Partial.fromBytes(null));
        bytes[0] = 1;
        assertArrayEquals(p.toBytes(), bytes);
        assertNotEquals(p, p.merge(p));
        assertEquals(2 * p.count(), p.merge(p).count());
    }

    @Test
    @DisplayName("the empty partial: the merge identity, and the empty call's reductions")
    void empty() {
        Partial e = Partial.empty();
        assertEquals(0, e.count());
        assertTrue(Double.isNaN(e.finish(Reduction.MEAN)));
        assertEquals(0.0, e.finish(Reduction.SUM));
        assertEquals(0.0, e.finish(Reduction.MEAN_VALID));
        Data d = Data.random(false, 6);
        try (BinaryCrossEntropy loss = loss(false, d, 0)) {
            Partial p = loss.partial(d.input(0, 2), d.target(0, 2));
            assertEquals(p, p.merge(e));
            assertEquals(p, e.merge(p));
            assertEquals(e, loss.partial(d.input(0, 0), d.target(0, 0)));
        }
    }

    @Test
    @DisplayName("bad arguments are named; a closed loss refuses partials")
    void badArgumentsAndClose() {
        Data d = Data.random(true, 7);
        BinaryCrossEntropy loss = loss(true, d, 0);
        Tensor x = d.input(0, 2), y = d.target(0, 2);
        assertMessage(NullPointerException.class, "input", () -> loss.partial(null, y));
        assertMessage(NullPointerException.class, "target", () -> loss.partial(x, null));
        assertMessage(NullPointerException.class, "weight", () -> loss.partial(x, y, null));
        assertMessage(IllegalArgumentException.class, "target has", () -> loss.partial(x, d.target(0, 1)));
        assertMessage(IllegalArgumentException.class, "weight is FLOAT32 but input is FLOAT64",
                () -> loss.partial(x, y, Tensor.copyOf(new float[] {1, 2}, 2, 1)));
        assertMessage(IllegalArgumentException.class, "weight shape [3]",
                () -> loss.partial(x, y, Tensor.copyOf(new double[] {1, 2, 3}, 3)));
        Partial p = loss.partial(x, y);
        assertMessage(IllegalArgumentException.class, "reduction is 0 (none)", () -> p.finish(Reduction.NONE));
        assertMessage(NullPointerException.class, "reduction", () -> p.finish(null));
        assertMessage(NullPointerException.class, "other", () -> p.merge(null));
        try (BCELoss probabilities = BCELoss.builder().build()) {
            assertMessage(IllegalArgumentException.class, "input element 1",
                    () -> probabilities.partial(Tensor.copyOf(new double[] {0.5, 1.5}, 2),
                            Tensor.copyOf(new double[] {1, 0}, 2)));
        }
        loss.close();
        assertMessage(IllegalStateException.class, "closed", () -> loss.partial(x, y));
        assertEquals(2 * COLUMNS, p.count(), "a partial outlives its loss");
    }

    private static void assertMessage(Class<? extends Throwable> type, String part,
            org.junit.jupiter.api.function.Executable call) {
        Throwable t = assertThrows(type, call);
        assertTrue(t.getMessage().contains(part), t.getMessage());
    }
}
