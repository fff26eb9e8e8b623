package org.bce4j;

import static org.bce4j.BceTestSupport.filled;
import static org.bce4j.BceTestSupport.floatValues;
import static org.bce4j.BceTestSupport.labels;
import static org.bce4j.BceTestSupport.toFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Prepared calls through the Java API: the bits of compute(), batches, errors, closing, and threads. */
class PreparedCallTest {
    private static final long ROWS = 6;
    private static final long COLUMNS = 9;

    private static Tensor floats(double[] values, long... shape) {
        return Tensor.copyOf(toFloats(values), shape);
    }

    /** compute() on the first {@code batch} rows, with a weight of [rows, 1] cut to as many rows. */
    private static float[][] computed(Reduction reduction, Tensor input, Tensor target, long batch, double[] rowWeight,
            double[] result) {
        double[] cut = java.util.Arrays.copyOf(rowWeight, (int) batch);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction).weight(cut, batch, 1)
                .posWeight(filled((int) COLUMNS, 1.5), COLUMNS).build()) {
            long[] shape = {batch, COLUMNS};
            Tensor x = Tensor.ofAddress(DType.FLOAT32, input.address(), shape);
            Tensor y = Tensor.ofAddress(DType.FLOAT32, target.address(), shape);
            Tensor lossOut = Tensor.allocate(DType.FLOAT32, reduction == Reduction.NONE ? shape : new long[0]);
            Tensor gradInput = Tensor.allocate(DType.FLOAT32, shape);
            Tensor gradWeight = Tensor.allocate(DType.FLOAT32, batch, 1);
            result[0] = loss.compute(x, y, new Outputs().loss(lossOut).gradInput(gradInput).gradWeight(gradWeight));
            return new float[][] {lossOut.toFloatArray(), gradInput.toFloatArray(), gradWeight.toFloatArray()};
        }
    }

    @Test
    @DisplayName("runs give compute()'s bits for every batch, with a weight spanning dimension 0")
    void runsMatchCompute() {
        double[] x = floatValues((int) (ROWS * COLUMNS), 1, -4, 4);
        double[] y = labels((int) (ROWS * COLUMNS), 2);
        double[] rowWeight = floatValues((int) ROWS, 3, 0, 2);
        Tensor input = floats(x, ROWS, COLUMNS);
        Tensor target = floats(y, ROWS, COLUMNS);
        for (Reduction reduction : new Reduction[] {Reduction.MEAN, Reduction.MEAN_BY_WEIGHT, Reduction.NONE}) {
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(reduction)
                    .weight(rowWeight, ROWS, 1).posWeight(filled((int) COLUMNS, 1.5), COLUMNS).build();
                    PreparedCall call = loss.prepare(DType.FLOAT32, ROWS, COLUMNS)) {
                for (long batch : new long[] {0, 1, 4, ROWS}) {
                    long[] shape = {batch, COLUMNS};
                    double[] expectedResult = new double[1];
                    float[][] expected = computed(reduction, input, target, batch, rowWeight, expectedResult);
                    Tensor lossOut = Tensor.allocate(DType.FLOAT32, reduction == Reduction.NONE ? shape : new long[0]);
                    Tensor gradInput = Tensor.allocate(DType.FLOAT32, shape);
                    Tensor gradWeight = Tensor.allocate(DType.FLOAT32, ROWS, 1);
                    double result = call.run(Tensor.ofAddress(DType.FLOAT32, input.address(), shape),
                            Tensor.ofAddress(DType.FLOAT32, target.address(), shape),
                            new Outputs().loss(lossOut).gradInput(gradInput).gradWeight(gradWeight));
                    String where = reduction + " batch " + batch;
                    assertEquals(Double.doubleToRawLongBits(expectedResult[0]), Double.doubleToRawLongBits(result),
                            where);
                    assertArrayEquals(expected[0], lossOut.toFloatArray(), where);
                    assertArrayEquals(expected[1], gradInput.toFloatArray(), where);
                    float[] widened = java.util.Arrays.copyOf(expected[2], (int) ROWS); // unread rows: 0
                    assertArrayEquals(widened, gradWeight.toFloatArray(), where);
                }
            }
        }
    }

    @Test
    @DisplayName("runAt gives run()'s bits")
    void runAtMatchesRun() {
        Tensor input = floats(floatValues(54, 4, -4, 4), ROWS, COLUMNS);
        Tensor target = floats(labels(54, 5), ROWS, COLUMNS);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build();
                PreparedCall call = loss.prepare(DType.FLOAT32, ROWS, COLUMNS)) {
            Tensor a = Tensor.allocate(DType.FLOAT32, 3, COLUMNS);
            Tensor b = Tensor.allocate(DType.FLOAT32, 3, COLUMNS);
            double viaViews = call.run(Tensor.ofAddress(DType.FLOAT32, input.address(), 3, COLUMNS),
                    Tensor.ofAddress(DType.FLOAT32, target.address(), 3, COLUMNS), new Outputs().gradInput(a));
            double viaAddresses = call.runAt(3, input.address(), target.address(), 0, 0, b.address(), 0);
            assertEquals(viaViews, viaAddresses);
            assertArrayEquals(a.toFloatArray(), b.toFloatArray());
            assertEquals(loss.compute(Tensor.ofAddress(DType.FLOAT32, input.address(), 3, COLUMNS),
                    Tensor.ofAddress(DType.FLOAT32, target.address(), 3, COLUMNS)), viaAddresses);
        }
    }

    @Test
    @DisplayName("bad arguments throw, the message naming the argument")
    void badArguments() {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).build();
                PreparedCall call = loss.prepare(DType.FLOAT32, ROWS, COLUMNS)) {
            Tensor x = Tensor.allocate(DType.FLOAT32, ROWS, COLUMNS);
            Tensor out = Tensor.allocate(DType.FLOAT32, ROWS, COLUMNS);
            Outputs outputs = new Outputs().loss(out);
            IllegalArgumentException tooMany = assertThrows(IllegalArgumentException.class,
                    () -> call.run(Tensor.allocate(DType.FLOAT32, ROWS + 1, COLUMNS), x, outputs));
            assertTrue(tooMany.getMessage().startsWith("input shape [7, 9] does not fit the prepared shape [6, 9]"),
                    tooMany.getMessage());
            assertThrows(IllegalArgumentException.class,
                    () -> call.run(Tensor.allocate(DType.FLOAT32, ROWS, COLUMNS, 1), x, outputs));
            IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                    () -> call.run(Tensor.allocate(DType.FLOAT64, ROWS, COLUMNS), x, outputs));
            assertTrue(dtype.getMessage().startsWith("input is FLOAT64"), dtype.getMessage());
            IllegalArgumentException target = assertThrows(IllegalArgumentException.class,
                    () -> call.run(x, Tensor.allocate(DType.FLOAT32, 2, COLUMNS), outputs));
            assertTrue(target.getMessage().startsWith("target has 18 elements"), target.getMessage());
            NullPointerException lossMissing = assertThrows(NullPointerException.class, () -> call.run(x, x, null));
            assertTrue(lossMissing.getMessage().startsWith("loss"), lossMissing.getMessage());
            IllegalArgumentException batch = assertThrows(IllegalArgumentException.class,
                    () -> call.runAt(7, x.address(), x.address(), 0, out.address(), 0, 0));
            assertEquals("batch is 7; expected 0 to 6 (dimension 0 of the prepared shape [6, 9])", batch.getMessage());
            NullPointerException input = assertThrows(NullPointerException.class,
                    () -> call.runAt(2, 0, x.address(), 0, out.address(), 0, 0));
            assertEquals("input is NULL", input.getMessage());
            assertThrows(NullPointerException.class, () -> call.runAt(2, x.address(), x.address(), 0, 0, 0, 0));
        }
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(filled(4, 1), 4).build()) {
            IllegalArgumentException broadcast = assertThrows(IllegalArgumentException.class,
                    () -> loss.prepare(DType.FLOAT32, 2, 5));
            assertTrue(broadcast.getMessage().startsWith("weight shape [4] does not broadcast to input shape [2, 5]"),
                    broadcast.getMessage());
            IllegalArgumentException negative = assertThrows(IllegalArgumentException.class,
                    () -> loss.prepare(DType.FLOAT32, -1, 4));
            assertTrue(negative.getMessage().contains("input shape [-1, 4] has a negative dimension"),
                    negative.getMessage());
            assertThrows(NullPointerException.class, () -> loss.prepare(null, 2, 4));
        }
    }

    @Test
    @DisplayName("close: runs after it throw; closing the loss leaves prepared calls working; a closed loss prepares nothing")
    void closing() {
        Tensor x = floats(floatValues(54, 6, -4, 4), ROWS, COLUMNS);
        Tensor y = floats(labels(54, 7), ROWS, COLUMNS);
        BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(filled((int) COLUMNS, 0.5), COLUMNS).build();
        double expected = loss.compute(x, y);
        PreparedCall call = loss.prepare(DType.FLOAT32, ROWS, COLUMNS);
        loss.close();
        assertThrows(IllegalStateException.class, () -> loss.prepare(DType.FLOAT32, ROWS, COLUMNS));
        System.gc(); // the loss' native memory is freed; the prepared call has copies of its own
        assertEquals(expected, call.run(x, y, null));
        call.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> call.run(x, y, null));
        assertEquals("PreparedCall is closed", closed.getMessage());
        assertThrows(IllegalStateException.class, () -> call.runAt(1, x.address(), y.address(), 0, 0, 0, 0));
        call.close(); // again: nothing
    }

    @Test
    @DisplayName("4 threads running one prepared call at once get the bits of sequential runs")
    void concurrentRuns() throws Exception {
        int threads = 4;
        long rows = 64;
        long columns = 33;
        int n = (int) (rows * columns);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN_BY_WEIGHT)
                .weight(floatValues((int) columns, 8, 0, 2), columns).build();
                PreparedCall call = loss.prepare(DType.FLOAT32, rows, columns)) {
            List<Tensor> inputs = new ArrayList<>();
            List<Tensor> targets = new ArrayList<>();
            List<float[]> sequentialGrads = new ArrayList<>();
            double[] sequentialResults = new double[threads];
            for (int t = 0; t < threads; t++) {
                long batch = rows - t;
                inputs.add(floats(floatValues(n, 10 + t, -5, 5), rows, columns));
                targets.add(floats(labels(n, 20 + t), rows, columns));
                Tensor grad = Tensor.allocate(DType.FLOAT32, batch, columns);
                sequentialResults[t] = call.runAt(batch, inputs.get(t).address(), targets.get(t).address(), 0, 0,
                        grad.address(), 0);
                sequentialGrads.add(grad.toFloatArray());
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<Integer>> mismatches = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    int thread = t;
                    mismatches.add(pool.submit(() -> {
                        long batch = rows - thread;
                        Tensor input = Tensor.ofAddress(DType.FLOAT32, inputs.get(thread).address(), batch, columns);
                        Tensor target = Tensor.ofAddress(DType.FLOAT32, targets.get(thread).address(), batch,
                                columns);
                        Tensor grad = Tensor.allocate(DType.FLOAT32, batch, columns);
                        Outputs outputs = new Outputs().gradInput(grad);
                        int wrong = 0;
                        for (int i = 0; i < 2000; i++) {
                            double result = call.run(input, target, outputs);
                            boolean same = Double.doubleToRawLongBits(result) == Double
                                    .doubleToRawLongBits(sequentialResults[thread])
                                    && java.util.Arrays.equals(grad.toFloatArray(), sequentialGrads.get(thread));
                            wrong += same ? 0 : 1;
                        }
                        return wrong;
                    }));
                }
                for (int t = 0; t < threads; t++) {
                    assertEquals(0, mismatches.get(t).get(), "thread " + t);
                }
            } finally {
                pool.shutdown();
            }
        }
    }
}
