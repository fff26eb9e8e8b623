package org.bce4j.cli;

import static org.bce4j.BceTestSupport.assertClose;
import static org.bce4j.BceTestSupport.expand;
import static org.bce4j.BceTestSupport.expected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bce4j.Bce4j;
import org.bce4j.NativeInfo;
import org.bce4j.Reduction;
import org.bytedeco.javacpp.Loader;
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
    @DisplayName("info prints the version, platform, native files, CPU kernels, thread count and CUDA state")
    void info() {
        CliRun r = CliRun.of("info");
        assertEquals(0, r.exitCode(), "exit code; stderr: " + r.err());
        assertEquals("", r.err());
        NativeInfo info = Bce4j.nativeInfo();
        List<String> lines = List.of(r.out().strip().split("\\R"));
        assertEquals(info.lines(), lines, r.out());
        assertEquals(9, lines.size(), r.out());
        assertEquals("bce4j " + Bce4j.version(), lines.get(0));
        assertEquals("platform: " + Loader.getPlatform() + " (glibc baseline " + info.glibcBaseline() + ", "
                + info.compiler() + ")", lines.get(1));
        assertFile("library: ", "libbce4j", lines.get(2));
        assertFile("jni: ", "libjnibce4j", lines.get(3));
        // Users read the instruction set in use as the first word after "cpu: ".
        assertEquals(Bce4j.cpuIsa(), lines.get(4).substring("cpu: ".length()).split(" ")[0], lines.get(4));
        assertEquals("cpu: " + Bce4j.cpuIsa() + " (available: " + String.join(", ", info.availableCpuIsas()) + "; "
                + info.cpuIsaReason() + ")", lines.get(4));
        assertTrue(info.availableCpuIsas().contains(Bce4j.cpuIsa()), lines.get(4));
        assertFile("openmp: ", "omp", lines.get(5));
        assertEquals("threads: " + Bce4j.defaultNumThreads(), lines.get(6));
        assertEquals("cuda library: " + info.cudaLibraryPath(), lines.get(7));
        assertTrue(lines.get(8).matches("cuda: (available \\(\\d+ devices?: .+\\)|unavailable \\(.+\\))"),
                lines.get(8));
        assertEquals("cuda: " + Bce4j.cuda().description(), lines.get(8));
        assertEquals(2, CliRun.of("info", "extra").exitCode());
        assertTrue(CliRun.of("info", "--help").out().contains("usage: java -jar bce4j.jar info"));
    }

    /** A line "prefix" + the path of an existing file whose name contains {@code name}. */
    private static void assertFile(String prefix, String name, String line) {
        assertTrue(line.startsWith(prefix), line);
        Path file = Path.of(line.substring(prefix.length()));
        assertTrue(file.isAbsolute() && Files.isRegularFile(file), line);
        assertTrue(file.getFileName().toString().contains(name), line);
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
