package org.bce4j.cli;

import static org.bce4j.BceTestSupport.assertClose;
import static org.bce4j.BceTestSupport.expand;
import static org.bce4j.BceTestSupport.expected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bce4j.Reduction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The command line, through the package-private Main.run(args, out, err). */
class MainTest {
    /** The demo's first loss line, within float32 precision of the exact 0.45618813 (see BceTestSupport). */
    private static void assertSeedMean(String out) {
        Matcher m = Pattern.compile("loss\\s+([0-9.]+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(0.45618813, Double.parseDouble(m.group(1)), 1e-6, out);
    }


    @Test
    @DisplayName("demo returns 0 and prints the seed mean 0.45618813")
    void demo() {
        CliRun r = CliRun.of("demo");
        assertEquals(0, r.exitCode(), "exit code; stderr: " + r.err());
        String out = r.out();
        assertSeedMean(out);
        assertTrue(out.contains("bce4j 0.1.0"), out);
        assertEquals("", r.err());
    }

    @Test
    @DisplayName("info prints the version, the CPU kernels, the thread count and the CUDA line")
    void info() {
        CliRun r = CliRun.of("info");
        assertEquals(0, r.exitCode(), "exit code; stderr: " + r.err());
        String[] lines = r.out().strip().split("\\R");
        assertEquals(4, lines.length, r.out());
        assertEquals("bce4j " + org.bce4j.Bce4j.version(), lines[0]);
        assertEquals("cpu: " + org.bce4j.Bce4j.cpuIsa(), lines[1]);
        assertEquals("threads: " + org.bce4j.Bce4j.defaultNumThreads(), lines[2]);
        assertTrue(lines[3].matches("cuda: (available \\(\\d+ devices?: .+\\)|unavailable \\(.+\\))"), lines[3]);
        assertEquals("cuda: " + org.bce4j.Bce4j.cuda().description(), lines[3]);
        assertEquals("", r.err());
        assertEquals(2, CliRun.of("info", "extra").exitCode());
        assertTrue(CliRun.of("info", "--help").out().contains("usage: java -jar bce4j.jar info"));
    }

    @Test
    @DisplayName("no arguments runs the demo")
    void defaultIsDemo() {
        CliRun r = CliRun.of();
        assertEquals(0, r.exitCode());
        assertSeedMean(r.out());
    }

    @Test
    @DisplayName("the demo's multi-label mean agrees with the float64 reference")
    void demoMultiLabelLoss() {
        String out = CliRun.of("demo").out();
        Matcher m = Pattern.compile("loss\\s+([0-9.]+)").matcher(out);
        List<Double> losses = new ArrayList<>();
        while (m.find()) losses.add(Double.parseDouble(m.group(1)));
        assertEquals(2, losses.size(), out);
        double[] x = new double[28];
        double[] y = new double[28];
        for (int i = 0; i < 28; i++) {
            x[i] = (float) ((i % 5 - 2) * 0.75f + (i / 7) * 0.25f);
            y[i] = (i * 3 + 1) % 4 == 0 ? 1 : 0;
        }
        long[] shape = {4, 7};
        long[] c = {7};
        double[] w = {1, 0.5, 2, 1, 1.5, 0.25, 1};
        double[] p = {3, 1, 0.5, 2, 1, 4, 1};
        double mean = expected(true, Reduction.MEAN, x, y, expand(w, c, shape), expand(p, c, shape), null).returned;
        assertClose(mean, losses.get(1), 0, 5.1e-9, "printed multi-label mean (8 decimals)");
    }

    @Test
    @DisplayName("--help returns 0 and prints the usage")
    void help() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("usage"), r.out());
    }

    @Test
    @DisplayName("an unknown command returns 2 and names it on stderr; demo with arguments returns 2")
    void unknownCommand() {
        CliRun r = CliRun.of("frobnicate");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("frobnicate"), r.err());
        assertEquals("", r.out());
        assertEquals(2, CliRun.of("demo", "extra").exitCode());
    }
}
