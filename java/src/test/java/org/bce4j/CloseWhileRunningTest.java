package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link BinaryCrossEntropy#close()} while another thread's call is inside the native kernel (issue 13): the call
 * must finish on memory that stays allocated and return the right value, and close() must free the memory after it.
 * Before close() waited for running calls, it freed the weights under the kernel and the JVM died with SIGSEGV, so
 * the scenario runs in a JVM of its own ({@link ChildJvm}), and this test asserts that it ended normally.
 */
class CloseWhileRunningTest {
    /**
     * Elements of the input and of the weight: a float32 weight of 64 MiB, which malloc maps and free unmaps (above
     * glibc's largest mmap threshold, 32 MiB), so that a read after the free faults rather than reading stale data.
     */
    static final int ELEMENTS = 16 << 20;
    static final int ROUNDS = 12; // 0.7 to 1.5 s each, most of it building the loss

    @TempDir
    Path work;

    @Test
    @DisplayName("close() during a running call: the call returns the right value, close() waits, later calls throw")
    void closeWhileACallRuns() throws Exception {
        List<String> jvmOptions = List.of("-Xmx1g", "-XX:ErrorFile=" + work.resolve("hs_err_pid%p.log"),
                "-XX:-CreateCoredumpOnCrash");
        ChildJvm.Result r = ChildJvm.run(work, jvmOptions,
                List.of(ChildJvm.codeSource(NativeLibrary.class), ChildJvm.nativesSource()), Child.class,
                String.valueOf(ELEMENTS), String.valueOf(ROUNDS));
        System.out.println(r.output().strip());
        assertEquals(0, r.exitCode(), "the child JVM's exit code (134: it crashed)" + crashReport() + "\noutput:\n"
                + r.output());
        String result = r.section("result");
        assertTrue(result.startsWith("OK"), result + "\noutput:\n" + r.output());
    }

    /** The head of the JVM's crash report, where the child wrote one. */
    private String crashReport() throws IOException {
        try (Stream<Path> files = Files.list(work)) {
            List<Path> reports = files.filter(f -> f.getFileName().toString().startsWith("hs_err")).toList();
            StringBuilder s = new StringBuilder();
            for (Path report : reports) {
                s.append("\n").append(report.getFileName()).append(":\n").append(Files.readAllLines(report,
                        StandardCharsets.UTF_8).stream().limit(20).collect(Collectors.joining("\n")));
            }
            return s.toString();
        }
    }

    /**
     * The child: arguments are the element count and the number of rounds. Each round builds a loss with a weight
     * of the input's size, starts a call on another thread (each round the next of the call forms), closes the loss
     * from this thread (and from a third one) a few milliseconds into that call, and checks the outcome. Prints a
     * {@code result} section, {@code OK ...} or what went wrong (exit code 1).
     */
    public static final class Child {
        private static final long[] DELAYS_MICROS = {0, 1_000, 2_000, 5_000, 10_000};

        /** One call on the whole input, returning the reduced loss. */
        private interface Form {
            double call(BCEWithLogitsLoss loss, long[] shape, FloatPointer input, FloatPointer target);
        }

        // Made once, before any loss, so that a call does not change the native memory the rounds measure.
        private static Outputs weightGradientOutputs;
        private static final String[] FORM_NAMES = {"compute(Tensor of FloatPointer)", "compute(Tensor of FloatBuffer)",
            "computeAt", "compute with gradWeight"};
        private static final Form[] FORMS = {
            (loss, shape, x, y) -> loss.compute(Tensor.of(x, shape), Tensor.of(y, shape)),
            (loss, shape, x, y) -> loss.compute(Tensor.of(x.asBuffer(), shape), Tensor.of(y.asBuffer(), shape)),
            (loss, shape, x, y) -> loss.computeAt(DType.FLOAT32, shape, x.address(), y.address(), 0, 0, 0, 0),
            (loss, shape, x, y) -> loss.compute(Tensor.of(x, shape), Tensor.of(y, shape), weightGradientOutputs),
        };

        public static void main(String[] args) throws Exception {
            int n = Integer.parseInt(args[0]);
            int rounds = Integer.parseInt(args[1]);
            long[] shape = {n};
            weightGradientOutputs = new Outputs().gradWeight(Tensor.allocate(DType.FLOAT32, shape));
            float[] weight = new float[n];
            FloatPointer input = new FloatPointer(n);
            FloatPointer target = new FloatPointer(n);
            FloatBuffer x = input.asBuffer();
            FloatBuffer y = target.asBuffer();
            for (int i = 0; i < n; i++) {
                x.put(i, (float) ((i * 2654435761L) % 1000 / 100.0 - 5));
                y.put(i, i % 3 == 0 ? 1 : 0);
                weight[i] = 0.5f + (i % 13) / 8f;
            }
            // Every native copy of the weight: float32, float64, float16 and bfloat16.
            long weightBytes = (long) n * (Float.BYTES + Double.BYTES + 2 * Short.BYTES);

            double[] references = new double[FORMS.length];
            try (BCEWithLogitsLoss loss = build(weight)) {
                for (int f = 0; f < FORMS.length; f++) {
                    references[f] = FORMS[f].call(loss, shape, input, target);
                    long start = System.nanoTime();
                    double again = FORMS[f].call(loss, shape, input, target);
                    long callNanos = System.nanoTime() - start;
                    check(Double.doubleToRawLongBits(again) == Double.doubleToRawLongBits(references[f]),
                            FORM_NAMES[f] + " is not reproducible: " + references[f] + " then " + again);
                    System.out.printf("one %s call on %d elements: %.1f ms; loss %s%n", FORM_NAMES[f], n,
                            callNanos / 1e6, references[f]);
                }
            }

            int ran = 0;
            int refused = 0;
            for (int round = 0; round < rounds; round++) {
                long delayMicros = DELAYS_MICROS[round % DELAYS_MICROS.length];
                int form = round % FORMS.length;
                double reference = references[form];
                BCEWithLogitsLoss loss = build(weight);
                long held = Pointer.totalBytes();
                CountDownLatch started = new CountDownLatch(1);
                AtomicReference<Object> outcome = new AtomicReference<>();
                Thread caller = new Thread(() -> {
                    started.countDown();
                    try {
                        outcome.set(FORMS[form].call(loss, shape, input, target));
                    } catch (Throwable t) {
                        outcome.set(t);
                    }
                }, "caller-" + round);
                caller.start();
                started.await();
                if (delayMicros > 0) {
                    TimeUnit.MICROSECONDS.sleep(delayMicros);
                }
                AtomicLong freedBySecond = new AtomicLong(-1);
                Thread secondCloser = new Thread(() -> {
                    loss.close();
                    freedBySecond.set(held - Pointer.totalBytes());
                }, "closer-" + round);
                secondCloser.start();
                long closeStart = System.nanoTime();
                loss.close();
                long closeNanos = System.nanoTime() - closeStart;
                long freed = held - Pointer.totalBytes();
                secondCloser.join(60_000);
                caller.join(60_000);
                check(!caller.isAlive() && !secondCloser.isAlive(), "round " + round + ": a thread hangs");
                check(freed >= weightBytes, "round " + round + ": close() returned with " + freed
                        + " bytes freed; the weights hold " + weightBytes);
                check(freedBySecond.get() >= weightBytes, "round " + round + ": the second close() returned with "
                        + freedBySecond.get() + " bytes freed; the weights hold " + weightBytes);

                Object result = outcome.get();
                if (result instanceof Double value) {
                    check(Double.doubleToRawLongBits(value) == Double.doubleToRawLongBits(reference), "round "
                            + round + ": " + FORM_NAMES[form] + " during close() returned " + value + ", expected "
                            + reference);
                    ran++;
                } else {
                    checkClosed((Throwable) result, "round " + round + ": the call during close()");
                    refused++;
                }
                System.out.printf("round %d: %s, close() after %d us took %.1f ms; the call %s%n", round,
                        FORM_NAMES[form], delayMicros, closeNanos / 1e6,
                        result instanceof Double ? "ran" : "was refused");

                Throwable after = null;
                try {
                    FORMS[form].call(loss, shape, input, target);
                } catch (Throwable t) {
                    after = t;
                }
                checkClosed(after, "round " + round + ": a call after close()");
                loss.close();
            }
            // A call that had not entered the loss when close() began is refused; most must have entered, or this
            // test did not test what it is for.
            check(ran >= rounds / 2, ran + " of " + rounds + " calls ran during close(); expected most");
            ChildJvm.printSection("result", "OK: of " + rounds + " calls during close(), " + ran
                    + " ran and returned the right value, " + refused + " were refused");
        }

        private static BCEWithLogitsLoss build(float[] weight) {
            return BCEWithLogitsLoss.builder().reduction(Reduction.SUM).numThreads(1).weight(weight, weight.length)
                    .build();
        }

        private static void checkClosed(Throwable t, String what) {
            check(t instanceof IllegalStateException && "BCEWithLogitsLoss is closed".equals(t.getMessage()),
                    what + " threw " + t + "; expected IllegalStateException: BCEWithLogitsLoss is closed");
        }

        private static void check(boolean condition, String problem) {
            if (!condition) {
                ChildJvm.printSection("result", problem);
                System.out.flush();
                System.exit(1);
            }
        }
    }
}
