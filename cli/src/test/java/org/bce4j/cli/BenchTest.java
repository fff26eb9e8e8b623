package org.bce4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Pattern;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The bench command: its one output line and its argument checks. Timings are never asserted on. */
class BenchTest {

    /** Asserts that a run succeeded and printed exactly the result line, with these n and threads. */
    private static void assertLine(CliRun r, long n, int threads) {
        assertEquals(0, r.exitCode(), "exit code; stderr: " + r.err());
        assertEquals("", r.err());
        String line = "bce4j n=" + n + " threads=" + threads + " isa=" + Pattern.quote(Bce4j.cpuIsa())
                + " fwd_ns=[0-9]+ fwdbwd_ns=[0-9]+" + Pattern.quote(System.lineSeparator());
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

    @Test
    @DisplayName("--threads 0 reports the library's default thread count")
    void defaultThreads() {
        assertLine(CliRun.of("bench", "--n", "100", "--threads", "0"), 100, Bce4j.defaultNumThreads());
    }

    @Test
    @DisplayName("defaults: n = 1M, one thread, float32; K, M and G suffixes are powers of 1024")
    void parsing() throws UsageException {
        assertEquals(new Bench.Options(1 << 20, 1, DType.FLOAT32), Bench.parse(new String[0]));
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
