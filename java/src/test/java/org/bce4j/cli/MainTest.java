package org.bce4j.cli;

import static org.bce4j.BceTestSupport.assertClose;
import static org.bce4j.BceTestSupport.expand;
import static org.bce4j.BceTestSupport.expected;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bce4j.Reduction;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The command line, through the package-private Main.run(args, out, err). */
class MainTest {

    /** Runs the CLI; returns {exit code, stdout, stderr}. */
    private static Object[] cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Main.run(args, o, e);
        }
        return new Object[] {code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
    }

    @Test
    @DisplayName("demo returns 0 and prints the seed mean 0.45618813")
    void demo() {
        Object[] r = cli("demo");
        assertEquals(0, r[0], "exit code; stderr: " + r[2]);
        String out = (String) r[1];
        assertTrue(out.contains("0.45618813"), out);
        assertTrue(out.contains("bce4j 0.1.0"), out);
        assertEquals("", r[2]);
    }

    @Test
    @DisplayName("no arguments runs the demo")
    void defaultIsDemo() {
        Object[] r = cli();
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("0.45618813"));
    }

    @Test
    @DisplayName("the demo's multi-label mean agrees with the float64 reference")
    void demoMultiLabelLoss() {
        String out = (String) cli("demo")[1];
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
        Object[] r = cli("--help");
        assertEquals(0, r[0]);
        assertTrue(((String) r[1]).contains("usage"), (String) r[1]);
    }

    @Test
    @DisplayName("an unknown command returns 2 and names it on stderr; demo with arguments returns 2")
    void unknownCommand() {
        Object[] r = cli("frobnicate");
        assertEquals(2, r[0]);
        assertTrue(((String) r[2]).contains("frobnicate"), (String) r[2]);
        assertEquals("", r[1]);
        assertEquals(2, cli("demo", "extra")[0]);
    }
}
