package org.bce4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.regex.Pattern;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The bench command: its one output line and its argument checks. Timings are never asserted on. */
class BenchTest {

    /** Asserts that a run succeeded and printed exactly the result line, with these n and threads (address, plain). */
    private static void assertLine(CliRun r, long n, int threads) {
        assertLine(r, n, threads, "address", "plain");
    }

    /** Asserts that a run succeeded and printed exactly the result line, with these n, threads, path and variant. */
    private static void assertLine(CliRun r, long n, int threads, String path, String variant) {
        assertEquals(0, r.exitCode(), "exit code; stderr: " + r.err());
        assertEquals("", r.err());
        String line = "bce4j n=" + n + " threads=" + threads + " isa=" + Pattern.quote(Bce4j.cpuIsa()) + " path="
                + path + " variant=" + variant + " fwd_ns=[0-9]+ fwdbwd_ns=[0-9]+"
                + Pattern.quote(System.lineSeparator());
        assertTrue(Pattern.matches(line, r.out()), "stdout is not one result line: " + r.out());
    }

    @Test
    @DisplayName("float32 prints exactly one line with the given n and threads and the kernels' ISA")
    void float32Line() {
        assertLine(CliRun.of("bench", "--n", "64", "--threads", "1"), 64, 1);
    }

    @Test
    @DisplayName("float64 works, with the --flag=value form and a K suffix")
    void float64Line() {
        assertLine(CliRun.of("bench", "--n=1K", "--threads=2", "--dtype=float64"), 1024, 2);
    }

    @Test
    @DisplayName("float16 and bfloat16 work (16-bit storage), and --dtype names them")
    void sixteenBitLines() throws UsageException {
        assertLine(CliRun.of("bench", "--n", "100", "--dtype", "float16"), 100, 1);
        assertLine(CliRun.of("bench", "--n=40K", "--dtype=bfloat16"), 40 << 10, 1);
        assertEquals(DType.FLOAT16, Bench.parse(new String[] {"--dtype", "float16"}).dtype());
        assertEquals(DType.BFLOAT16, Bench.parse(new String[] {"--dtype", "bfloat16"}).dtype());
    }

    @ParameterizedTest(name = "--path {0}")
    @CsvSource({"pointer", "buffer", "address", "prepared"})
    @DisplayName("every path runs (plain, float32 and float16) and names itself in the line")
    void paths(String path) {
        assertLine(CliRun.of("bench", "--n", "64", "--path", path), 64, 1, path, "plain");
        assertLine(CliRun.of("bench", "--n=48", "--dtype=float16", "--path=" + path), 48, 1, path, "plain");
    }

    @ParameterizedTest(name = "--variant {0} --path {1}")
    @CsvSource({
        "plain, address", "focal, address", "paddle-legacy, address", "smoothing, address", "ignore, address",
        "weight-grads, pointer", "weight-grads, buffer", "focal, pointer", "ignore, buffer",
        "plain, prepared", "focal, prepared", "weight-grads, prepared", "paddle-legacy, prepared",
        "smoothing, prepared", "ignore, prepared",
    })
    @DisplayName("every variant runs and names itself in the line; weight-grads on the view and prepared paths")
    void variants(String variant, String path) {
        assertLine(CliRun.of("bench", "--n", "64", "--variant", variant, "--path", path), 64, 1, path, variant);
        assertLine(CliRun.of("bench", "--n", "32", "--dtype", "float64", "--variant", variant, "--path", path), 32,
                1, path, variant);
    }

    @ParameterizedTest(name = "--path {0} --variant {1}")
    @CsvSource({"pointer, plain", "buffer, plain", "address, plain", "pointer, weight-grads", "buffer, ignore",
        "prepared, plain", "prepared, weight-grads"})
    @DisplayName("the timed calls allocate nothing on the Java heap once warm")
    void callsAllocateNothing(String path, String variant) throws UsageException {
        Bench.Options o = Bench.parse(new String[] {"--n", "64", "--path", path, "--variant", variant});
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        try (BCEWithLogitsLoss loss = BenchCalls.loss(o); PointerScope scope = new PointerScope()) {
            BenchCalls.Calls calls = BenchCalls.calls(o, loss);
            for (Runnable call : List.of(calls.fwd(), calls.fwdBwd())) {
                for (int i = 0; i < 20_000; i++) call.run(); // warm-up: the JIT's escape analysis
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 10_000; i++) call.run();
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                // Far below one object per call; the bean's own bookkeeping may account a few bytes.
                assertTrue(allocated < 10_000, allocated + " bytes allocated in 10000 calls");
            }
        }
    }

    @Test
    @DisplayName("--threads 0 reports the library's default thread count")
    void defaultThreads() {
        assertLine(CliRun.of("bench", "--n", "100", "--threads", "0"), 100, Bce4j.defaultNumThreads());
    }

    @Test
    @DisplayName("defaults: n = 1M, one thread, float32, address, plain; K, M and G suffixes are powers of 1024")
    void parsing() throws UsageException {
        assertEquals(new Bench.Options(1 << 20, 1, DType.FLOAT32, Bench.Path.ADDRESS, Bench.Variant.PLAIN),
                Bench.parse(new String[0]));
        assertEquals(Bench.Path.BUFFER, Bench.parse(new String[] {"--path", "buffer"}).path());
        assertEquals(Bench.Variant.PADDLE_LEGACY, Bench.parse(new String[] {"--variant", "paddle-legacy"}).variant());
        assertEquals(64L << 10, Bench.parse(new String[] {"--n", "64K"}).n());
        assertEquals(16L << 20, Bench.parse(new String[] {"--n", "16M"}).n());
        assertEquals(3L << 30, Bench.parse(new String[] {"--n", "3g"}).n());
        assertEquals(7, Bench.parse(new String[] {"--n", "7"}).n());
    }

    @ParameterizedTest(name = "{0} -> exit 2 naming {1}")
    @CsvSource(delimiter = '|', value = {
        "--n 0           | --n",
        "--n -5          | --n",
        "--n abc         | --n",
        "--n 12X         | --n",
        "--n 99999999999G | --n",
        "--n             | --n",
        "--n 1 --n 2     | --n",
        "--threads -1    | --threads",
        "--threads 1025  | --threads",
        "--threads two   | --threads",
        "--dtype int8    | --dtype",
        "--path heap     | --path",
        "--path          | --path",
        "--path buffer --path pointer | --path",
        "--variant fancy | --variant",
        "--variant focal --variant plain | --variant",
        "--variant weight-grads | --variant weight-grads",
        "--variant weight-grads --path address | --variant weight-grads",
        "--variant weight-grads --path pointer --n 100 | --n",
        "--variant paddle-legacy --n 40 | --n",
        "--path buffer --n 1G | --n",
        "--bogus 1       | --bogus",
        "extra           | extra",
    })
    @DisplayName("bad arguments exit with code 2 and a message naming the argument, and print nothing on stdout")
    void badArguments(String args, String named) {
        String[] command = ("bench " + args).split(" +");
        CliRun r = CliRun.of(command);
        assertEquals(2, r.exitCode(), "exit code for " + args);
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("bce4j bench: ") && r.err().contains(named), r.err());
    }

    @Test
    @DisplayName("bench --help exits 0 with the usage; the main usage lists bench")
    void help() {
        CliRun r = CliRun.of("bench", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().startsWith("usage: java -jar bce4j.jar bench"), r.out());
        assertTrue(CliRun.of("--help").out().contains("bench"));
    }
}
