package org.bce4j;

import static org.bce4j.BceTestSupport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.Reference;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.bce4j.BceTestSupport.BufferKind;
import org.bce4j.BceTestSupport.Expected;
import org.bce4j.BceTestSupport.Outcome;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Library facts, native memory over many calls and objects, and concurrent use of one loss. */
class NativeResourceTest {
    static final long MAX_RSS_GROWTH = 32L << 20;

    @Test
    @DisplayName("Bce4j.version() is 0.1.0, cpuIsa() non-empty, defaultNumThreads() >= 1")
    void libraryFacts() {
        assertTrue(Bce4j.version().matches("\\d+\\.\\d+\\.\\d+"), Bce4j.version());
        assertEquals("0.1.0", Bce4j.version());
        assertFalse(Bce4j.cpuIsa().isBlank());
        assertTrue(Bce4j.defaultNumThreads() >= 1, "threads " + Bce4j.defaultNumThreads());
    }

    @Test
    @DisplayName("100 000 raw-address calls: Pointer.totalBytes() unchanged, RSS growth < 32 MB")
    void rawAddressLoopDoesNotLeak() {
        int n = 64;
        double[] x = floatValues(n, 91, -5, 5);
        double[] y = labels(n, 92);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN)
                .posWeight(filled(n, 2), n).build(); PointerScope scope = new PointerScope()) {
            FloatPointer in = new FloatPointer(toFloats(x));
            FloatPointer tg = new FloatPointer(toFloats(y));
            FloatPointer gi = new FloatPointer(n);
            FloatPointer gt = new FloatPointer(n);
            FloatPointer reduced = new FloatPointer(1);
            double expectedMean = expected(true, Reduction.MEAN, x, y, null, filled(n, 2), null).returned;
            long[] shape = {n};
            for (int i = 0; i < 10_000; i++) { // warm up (JIT, thread-local scratch)
                loss.computeAt(DType.FLOAT32, shape, in.address(), tg.address(), 0, reduced.address(), gi.address(),
                        gt.address());
            }
            long totalBefore = Pointer.totalBytes();
            long rssBefore = Pointer.physicalBytes();
            double last = 0;
            for (int i = 0; i < 100_000; i++) {
                last = loss.computeAt(DType.FLOAT32, shape, in.address(), tg.address(), 0, reduced.address(),
                        gi.address(), gt.address());
            }
            long totalAfter = Pointer.totalBytes();
            long rssAfter = Pointer.physicalBytes();
            assertEquals(totalBefore, totalAfter, "Pointer.totalBytes() after 100 000 calls");
            assertTrue(rssAfter - rssBefore < MAX_RSS_GROWTH, "RSS grew by " + (rssAfter - rssBefore) + " bytes");
            assertClose(expectedMean, last, reducedRel(DType.FLOAT32), ABS64, "result of the last call");
        }
    }

    @Test
    @DisplayName("100 000 pointer and direct-buffer calls (RSS < 32 MB), 10 000 copied-array calls: totalBytes unchanged")
    void pointerBufferAndArrayLoopsDoNotLeak() {
        int n = 64;
        double[] x = floatValues(n, 93, -5, 5);
        double[] y = labels(n, 94);
        long[] shape = {8, 8};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.NONE)
                .weight(filled(8, 0.5), 8).build(); PointerScope scope = new PointerScope()) {
            FloatPointer in = new FloatPointer(toFloats(x));
            FloatPointer tg = new FloatPointer(toFloats(y));
            FloatPointer out = new FloatPointer(n);
            FloatPointer gi = new FloatPointer(n);
            FloatBuffer inB = directFloats(x);
            FloatBuffer tgB = directFloats(y);
            FloatBuffer outB = directFloats(n);
            // Views made once and reused, as the API intends: the calls allocate nothing.
            Tensor inP = Tensor.of(in, shape);
            Tensor tgP = Tensor.of(tg, shape);
            Outputs pointerOutputs = new Outputs().loss(Tensor.of(out, shape)).gradInput(Tensor.of(gi, shape));
            Tensor inV = Tensor.of(inB, shape);
            Tensor tgV = Tensor.of(tgB, shape);
            Outputs bufferOutputs = new Outputs().loss(Tensor.of(outB, shape));
            Tensor inA = Tensor.copyOf(toFloats(x), shape);
            Tensor tgA = Tensor.copyOf(toFloats(y), shape);
            Tensor outA = Tensor.allocate(DType.FLOAT32, shape);
            Outputs arrayOutputs = new Outputs().loss(outA);
            for (int i = 0; i < 5_000; i++) {
                loss.compute(inP, tgP, pointerOutputs);
                loss.compute(inV, tgV, bufferOutputs);
                loss.compute(inA, tgA, arrayOutputs);
            }
            long totalBefore = Pointer.totalBytes();
            long rssBefore = Pointer.physicalBytes();
            for (int i = 0; i < 100_000; i++) {
                loss.compute(inP, tgP, pointerOutputs);
                loss.compute(inV, tgV, bufferOutputs);
            }
            long growth = Pointer.physicalBytes() - rssBefore; // these loops allocate nothing, not even on the heap
            assertTrue(growth < MAX_RSS_GROWTH, "RSS grew by " + growth + " bytes");
            assertEquals(totalBefore, Pointer.totalBytes(), "Pointer.totalBytes() after the pointer/buffer loops");
            for (int i = 0; i < 10_000; i++) loss.compute(inA, tgA, arrayOutputs);
            assertEquals(totalBefore, Pointer.totalBytes(), "Pointer.totalBytes() after the copied-array loop");
            Expected e = expected(true, Reduction.NONE, x, y, filled(n, 0.5), null, null);
            assertAllClose(e.loss, e.lossTerms, read(out, n), DType.FLOAT32, "pointer loss");
            assertAllClose(e.loss, e.lossTerms, read(outB, 0, n), DType.FLOAT32, "buffer loss");
            assertAllClose(e.loss, e.lossTerms, toDoubles(outA.toFloatArray()), DType.FLOAT32, "array loss");
        }
    }

    @Test
    @DisplayName("calls with reused views and outputs allocate nothing on the Java heap, weight gradients included")
    void reusedViewsAllocateNothing() throws ReflectiveOperationException {
        AllocationCounter counter = new AllocationCounter();
        long[] shape = {4, 8};
        int n = 32;
        double[] x = floatValues(n, 95, -5, 5);
        double[] y = labels(n, 96);
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.MEAN)
                .weight(filled(8, 0.5), 8).posWeight(filled(4, 2), 4, 1).build();
                PointerScope scope = new PointerScope()) {
            Tensor input = Tensor.of(new FloatPointer(toFloats(x)), shape);
            Tensor target = Tensor.of(directFloats(y), shape);
            Tensor gradOutput = Tensor.copyOf(new float[] {0.5f});
            Tensor half = Tensor.allocate(DType.BFLOAT16, shape);
            Outputs all = new Outputs().loss(Tensor.allocate(DType.FLOAT32))
                    .gradInput(Tensor.allocate(DType.FLOAT32, shape))
                    .gradTarget(Tensor.allocate(DType.FLOAT32, shape)).gradWeight(Tensor.allocate(DType.FLOAT32, 8))
                    .gradPosWeight(Tensor.allocate(DType.FLOAT32, 4, 1));
            Outputs halfOutputs = new Outputs().gradInput(Tensor.allocate(DType.BFLOAT16, shape));
            FloatPointer raw = new FloatPointer(n);
            Runnable calls = () -> {
                loss.compute(input, target);
                loss.compute(input, target, all);
                loss.compute(input, target, gradOutput, all);
                loss.compute(half, half, halfOutputs);
                loss.computeAt(DType.FLOAT32, shape, input.address(), target.address(), 0, 0, raw.address(), 0);
            };
            for (int i = 0; i < 20_000; i++) calls.run(); // the JIT compiles the calls first
            counter.ofThisThread(); // its own first-call costs before the measurement
            long before = counter.ofThisThread();
            for (int i = 0; i < 10_000; i++) calls.run();
            long allocated = counter.ofThisThread() - before;
            // 50 000 calls: any per-call allocation (16 bytes at least) would show as 800 000 bytes or more; the
            // slack covers the measurement itself.
            assertTrue(allocated < 4096, "50 000 calls allocated " + allocated + " bytes on the heap");
        }
    }

    @Test
    @DisplayName("prepared runs with reused views allocate nothing on the Java heap")
    void preparedRunsAllocateNothing() throws ReflectiveOperationException {
        AllocationCounter counter = new AllocationCounter();
        long[] shape = {4, 8};
        int n = 32;
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(filled(8, 0.5), 8).build();
                PreparedCall call = loss.prepare(DType.FLOAT32, shape);
                PointerScope scope = new PointerScope()) {
            Tensor input = Tensor.of(new FloatPointer(toFloats(floatValues(n, 97, -5, 5))), shape);
            Tensor target = Tensor.of(directFloats(labels(n, 98)), shape);
            Tensor fewerRows = Tensor.ofAddress(DType.FLOAT32, input.address(), 2, 8);
            Outputs all = new Outputs().loss(Tensor.allocate(DType.FLOAT32))
                    .gradInput(Tensor.allocate(DType.FLOAT32, shape)).gradWeight(Tensor.allocate(DType.FLOAT32, 8));
            Outputs half = new Outputs().gradInput(Tensor.allocate(DType.FLOAT32, 2, 8));
            FloatPointer raw = new FloatPointer(n);
            Runnable runs = () -> {
                call.run(input, target, all);
                call.run(fewerRows, fewerRows, half);
                call.runAt(3, input.address(), target.address(), 0, 0, raw.address(), 0);
            };
            for (int i = 0; i < 20_000; i++) runs.run(); // the JIT compiles the runs first
            counter.ofThisThread();
            long before = counter.ofThisThread();
            for (int i = 0; i < 10_000; i++) runs.run();
            long allocated = counter.ofThisThread() - before;
            assertTrue(allocated < 4096, "30 000 prepared runs allocated " + allocated + " bytes on the heap");
        }
    }

    /**
     * Reads how many bytes a thread has allocated on the heap, from com.sun.management.ThreadMXBean. Through
     * reflection: the tests compile inside module org.bce4j, which does not read jdk.management (they run on the
     * class path). Looked up once, so that a reading allocates only its boxed result and argument array.
     */
    private static final class AllocationCounter {
        private final Object bean;
        private final java.lang.reflect.Method allocatedBytes;

        AllocationCounter() throws ReflectiveOperationException {
            bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            allocatedBytes = Class.forName("com.sun.management.ThreadMXBean")
                    .getMethod("getThreadAllocatedBytes", long.class);
        }

        long ofThisThread() throws ReflectiveOperationException {
            return (long) allocatedBytes.invoke(bean, Thread.currentThread().getId());
        }
    }

    @Test
    @DisplayName("creating and closing 10 000 losses with weights returns Pointer.totalBytes() to the baseline")
    void lossObjectsFreeTheirMemory() {
        double[] w = filled(100, 1.5);
        double[] x = {0.5};
        double[] y = {1};
        try (BCEWithLogitsLoss warm = BCEWithLogitsLoss.builder().build()) {
            run(BufferKind.FLOAT_ADDRESS, warm, new long[] {1}, x, y, null, 0);
        }
        long totalBefore = Pointer.totalBytes();
        for (int i = 0; i < 10_000; i++) {
            if (i % 2 == 0) {
                try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().weight(w, 100).posWeight(w, 10, 10)
                        .build()) {
                    assertTrue(Pointer.totalBytes() > totalBefore, "a loss with weights holds native memory");
                }
            } else {
                BCELoss loss = BCELoss.builder().weight(w, 4, 25).reduction(Reduction.SUM).build();
                loss.close();
                loss.close();
            }
        }
        // Only totalBytes: RSS here is dominated by the Java heap warming up (the garbage of 10 000 builders).
        assertEquals(totalBefore, Pointer.totalBytes(), "Pointer.totalBytes() after 10 000 losses");
    }

    @Test
    @DisplayName("a loss built inside a PointerScope keeps its native memory after the scope closes, until close()")
    void lossOutlivesThePointerScopeItWasBuiltIn() {
        double[] w = {0.5, 1, 2, 4};
        double[] x = {-3, -0.5, 0.25, 6};
        double[] y = {0, 1, 1, 0};
        long[] shape = {4};
        double expected;
        try (BCEWithLogitsLoss outside = BCEWithLogitsLoss.builder().weight(w, 4).posWeight(w, 4)
                .reduction(Reduction.SUM).build()) {
            expected = outside.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape));
        }
        long before = Pointer.totalBytes();
        BCEWithLogitsLoss loss;
        try (PointerScope scope = new PointerScope()) {
            loss = BCEWithLogitsLoss.builder().weight(w, 4).posWeight(w, 4).reduction(Reduction.SUM).build();
        }
        long held = Pointer.totalBytes() - before;
        assertTrue(held > 0, "the loss's native memory after its PointerScope closed: " + held + " bytes");
        Tensor xView = Tensor.copyOf(x, shape);
        Tensor yView = Tensor.copyOf(y, shape);
        long views = Pointer.totalBytes() - before - held;
        assertEquals(expected, loss.compute(xView, yView));
        loss.close();
        assertEquals(before + views, Pointer.totalBytes(), "Pointer.totalBytes() after close() (the views remain)");
        try (PointerScope scope = new PointerScope()) {
            BCEWithLogitsLoss inScope = BCEWithLogitsLoss.builder().weight(w, 4).build();
            inScope.close(); // frees the memory, though the open scope holds references to it
            assertEquals(before + views, Pointer.totalBytes(), "Pointer.totalBytes() after close() inside the scope");
        } // the scope's release of what close() freed does nothing
        assertEquals(before + views, Pointer.totalBytes(), "Pointer.totalBytes() after the scope closed");
        Reference.reachabilityFence(xView); // the views own their memory until they are unreachable
        Reference.reachabilityFence(yView);
    }

    @Test
    @DisplayName("one loss used from 4 threads at once gives the same results as sequential calls")
    void concurrentUseMatchesSequential() throws Exception {
        int threads = 4;
        int rounds = 50;
        // a small input (calling thread only) and a large one (OpenMP inside each call)
        long[][] shapes = {{16, 7}, {6000, 7}};
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().reduction(Reduction.SUM)
                .weight(BCEWithLogitsLossTest.MULTI_WEIGHT, 7).posWeight(BCEWithLogitsLossTest.MULTI_POS_WEIGHT, 7)
                .build()) {
            List<double[][]> data = new ArrayList<>();
            List<Outcome> sequential = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long[] shape = shapes[t % 2];
                int n = count(shape);
                double[][] xy = {floatValues(n, 100 + t, -6, 6), floatValues(n, 200 + t, 0, 1)};
                data.add(xy);
                sequential.add(run(BufferKind.FLOAT_POINTER, loss, shape, xy[0], xy[1], null, 0));
            }
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<List<Outcome>>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    final int id = t;
                    Callable<List<Outcome>> task = () -> {
                        start.await();
                        List<Outcome> results = new ArrayList<>();
                        BufferKind kind = id % 2 == 0 ? BufferKind.FLOAT_POINTER : BufferKind.FLOAT_ADDRESS;
                        for (int r = 0; r < rounds; r++) {
                            results.add(run(kind, loss, shapes[id % 2], data.get(id)[0], data.get(id)[1], null, 0));
                        }
                        return results;
                    };
                    futures.add(pool.submit(task));
                }
                for (int t = 0; t < threads; t++) {
                    Outcome expected = sequential.get(t);
                    for (Outcome o : futures.get(t).get(60, TimeUnit.SECONDS)) {
                        assertEquals(expected.returned, o.returned, 0.0, "thread " + t);
                        assertArrayEquals(expected.gradInput, o.gradInput, 0.0, "thread " + t);
                        assertArrayEquals(expected.gradTarget, o.gradTarget, 0.0, "thread " + t);
                    }
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    @DisplayName("error messages are per thread: concurrent failures each report their own index")
    void concurrentErrorsReportTheirOwnIndex() throws Exception {
        int threads = 4;
        try (BCELoss loss = new BCELoss(Reduction.MEAN)) {
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CyclicBarrier start = new CyclicBarrier(threads);
                List<Future<?>> futures = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    final int bad = 10 + t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        double[] x = filled(64, 0.5);
                        double[] y = filled(64, 1);
                        x[bad] = 3;
                        for (int r = 0; r < 200; r++) {
                            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                                    () -> run(BufferKind.DOUBLE_ADDRESS, loss, new long[] {64}, x, y, null, 0));
                            assertTrue(e.getMessage().contains("input") && e.getMessage().contains(String.valueOf(bad)),
                                    e.getMessage());
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) f.get(60, TimeUnit.SECONDS);
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /**
     * libgomp cannot report failure: when it cannot allocate a team ("Out of memory allocating 481036338272 bytes"
     * for Integer.MAX_VALUE threads) or create its threads ("Thread creation failed"), it exits the whole process.
     * A huge numThreads must therefore never reach it. Run in a child JVM (address space limited to 8 GB, so that
     * nothing large is ever really allocated): the child must survive, whether the call succeeds or the value is
     * rejected.
     */
    @Test
    @DisplayName("a huge numThreads must not kill the JVM (child process with an 8 GB address-space limit)")
    void hugeThreadCountDoesNotKillTheProcess(@TempDir Path work) throws Exception {
        String javaBin = System.getProperty("java.home") + "/bin/java";
        String classPath = System.getProperty("java.class.path");
        String command = "ulimit -v 8000000 && exec '" + javaBin + "' -Xmx256m -XX:CompressedClassSpaceSize=64m"
                + " -XX:ReservedCodeCacheSize=64m -cp '" + classPath + "' '" + HugeThreadCountChild.class.getName()
                + "'";
        // Output to a file and a time limit: a child that hangs fails the test (with what it printed), not the build.
        ChildJvm.Result child = ChildJvm.runProcess(new ProcessBuilder("/bin/sh", "-c", command), work, 60);
        String output = child.output();
        assertEquals(0, child.exitCode(), "the child JVM died with exit code " + child.exitCode() + "; output: "
                + output.strip());
        assertTrue(output.contains("CHILD OK"), output);
    }

    @Test
    @DisplayName("numThreads: above 1024 rejected by build(); 1024 on a few blocks runs with no more threads than blocks")
    void threadCountBounds() {
        assertThrows(IllegalArgumentException.class, () -> BCEWithLogitsLoss.builder().numThreads(1025).build());
        int n = 40_000; // 5 blocks of 8192, above the parallel threshold
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().numThreads(1024).reduction(Reduction.SUM).build()) {
            double sum = loss.compute(Tensor.allocate(DType.FLOAT64, n), Tensor.allocate(DType.FLOAT64, n));
            assertEquals(n * Math.log(2), sum, 1e-9 * n);
        }
    }

    /** The child of {@link #hugeThreadCountDoesNotKillTheProcess()}. */
    public static final class HugeThreadCountChild {
        public static void main(String[] args) {
            int n = 40_000; // above the parallel threshold
            try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().numThreads(Integer.MAX_VALUE)
                    .reduction(Reduction.SUM).build()) {
                double sum = loss.compute(Tensor.allocate(DType.FLOAT64, n), Tensor.allocate(DType.FLOAT64, n));
                System.out.println(Math.abs(sum - n * Math.log(2)) < 1e-6 ? "CHILD OK" : "CHILD WRONG " + sum);
            } catch (IllegalArgumentException e) {
                System.out.println("CHILD OK (rejected: " + e.getMessage() + ")");
            }
        }
    }
}
