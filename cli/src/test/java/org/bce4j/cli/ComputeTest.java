package org.bce4j.cli;

import static org.bce4j.BceTestSupport.assertAllClose;
import static org.bce4j.BceTestSupport.assertRounded16;
import static org.bce4j.BceTestSupport.expand;
import static org.bce4j.BceTestSupport.expected;
import static org.bce4j.BceTestSupport.floatValues;
import static org.bce4j.BceTestSupport.labels;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bce4j.BCELoss;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.BceTestSupport;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.bce4j.Outputs;
import org.bce4j.Reduction;
import org.bce4j.Tensor;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The compute command through Main.run: results against the float64 reference, and every error path. */
class ComputeTest {
    @TempDir
    Path dir;

    /** Writes values of a dtype and shape as a .npy file in the temp dir. */
    Path npy(String name, DType dtype, long[] shape, double[] values) throws IOException {
        Npy.Array a = Npy.Array.allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case FLOAT16 -> a.shorts().put(i, HalfPrecision.fromDouble(DType.FLOAT16, values[i]));
                case FLOAT32 -> a.floats().put(i, (float) values[i]);
                default -> a.doubles().put(i, values[i]);
            }
        }
        Path p = dir.resolve(name);
        Npy.write(p, a);
        return p;
    }

    /** The Java API's loss, grad_input and grad_target on float64 copies of {@code x} and {@code y}. */
    static double[][] viaApi(BinaryCrossEntropy api, long[] shape, double[] x, double[] y) {
        Tensor loss = Tensor.allocate(DType.FLOAT64, api.reduction() == Reduction.NONE ? shape : new long[0]);
        Tensor gradInput = Tensor.allocate(DType.FLOAT64, shape);
        Tensor gradTarget = Tensor.allocate(DType.FLOAT64, shape);
        api.compute(Tensor.copyOf(x, shape), Tensor.copyOf(y, shape),
                new Outputs().loss(loss).gradInput(gradInput).gradTarget(gradTarget));
        return new double[][] {loss.toDoubleArray(), gradInput.toDoubleArray(), gradTarget.toDoubleArray()};
    }

    /** values rounded to float16 and widened back: what a float16 file holds. */
    static double[] float16(double[] values) {
        double[] r = new double[values.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = HalfPrecision.toFloat(DType.FLOAT16, HalfPrecision.fromDouble(DType.FLOAT16, values[i]));
        }
        return r;
    }

    @Test
    @DisplayName("float16 ('<f2') files: computed in float32, written as '<f2', against the float64 reference")
    void float16Files() throws IOException {
        long[] shape = {6, 5};
        long[] c = {5};
        int n = 30;
        for (Reduction reduction : new Reduction[] {Reduction.NONE, Reduction.MEAN_BY_WEIGHT}) {
            double[] x = float16(floatValues(n, 1, -8, 8));
            double[] y = float16(floatValues(n, 2, 0, 1));
            double[] w = float16(floatValues(5, 3, 0.25, 2));
            double[] g = float16(reduction == Reduction.NONE ? floatValues(n, 5, -2, 2) : new double[] {0.75});
            CliRun r = CliRun.of("compute", "--input", npy("x.npy", DType.FLOAT16, shape, x).toString(),
                    "--target", npy("y.npy", DType.FLOAT16, shape, y).toString(),
                    "--weight", npy("w.npy", DType.FLOAT16, c, w).toString(),
                    "--grad-output", npy("g.npy", DType.FLOAT16, reduction == Reduction.NONE ? shape : new long[0], g)
                            .toString(),
                    "--reduction", reduction.name().toLowerCase(), "--out", dir.resolve("h").toString());
            assertEquals(0, r.exitCode(), r.err());
            double[] wide = expand(w, c, shape);
            BceTestSupport.Expected e = expected(true, reduction, x, y, wide, null, g);
            Path out = dir.resolve("h");
            Npy.Array loss = Npy.read(out.resolve("loss.npy"));
            Npy.Array gi = Npy.read(out.resolve("grad_input.npy"));
            Npy.Array gt = Npy.read(out.resolve("grad_target.npy"));
            assertEquals(DType.FLOAT16, loss.dtype);
            assertEquals(DType.FLOAT16, gi.dtype);
            double scale = reduction == Reduction.NONE ? 1 : 0.75 / Arrays.stream(wide).sum();
            for (int i = 0; i < n; i++) {
                double terms = wide[i] * (1 + Math.abs(x[i])) * 2;
                double gScale = reduction == Reduction.NONE ? Math.abs(g[i]) : scale;
                assertRounded16(DType.FLOAT16, e.gradInput[i], gi.toDoubleArray()[i], terms * gScale,
                        "grad_input " + i);
                assertRounded16(DType.FLOAT16, e.gradTarget[i], gt.toDoubleArray()[i], terms * gScale,
                        "grad_target " + i);
                if (reduction == Reduction.NONE) {
                    assertRounded16(DType.FLOAT16, e.loss[i], loss.toDoubleArray()[i], terms, "loss " + i);
                }
            }
            if (reduction != Reduction.NONE) {
                assertRounded16(DType.FLOAT16, e.returned, loss.toDoubleArray()[0], Math.abs(e.returned), "loss");
            }
        }
        // Every input shares the input's dtype.
        CliRun mixed = CliRun.of("compute", "--input", npy("x16.npy", DType.FLOAT16, shape, new double[n]).toString(),
                "--target", npy("y32.npy", DType.FLOAT32, shape, new double[n]).toString(),
                "--out", dir.resolve("mixed").toString());
        assertEquals(2, mixed.exitCode());
        assertTrue(mixed.err().contains("y32.npy: dtype <f4 differs from the input's <f2"), mixed.err());
        assertFalse(Files.exists(dir.resolve("mixed")));
    }

    private static List<String> listing(Path d) throws IOException {
        if (!Files.exists(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    @DisplayName("logits and probabilities x float32/float64 x none/mean/sum, with weights and grad-output, "
            + "agree with the float64 reference")
    void matchesReference() throws IOException {
        long[] shape = {6, 5};
        long[] c = {5};
        long[] n1 = {6, 1};
        int n = 30;
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (Reduction reduction : Reduction.values()) {
                for (boolean logits : new boolean[] {true, false}) {
                    double[] x = logits ? floatValues(n, 1, -8, 8) : floatValues(n, 1, 0, 1);
                    double[] y = floatValues(n, 2, 0, 1);
                    y[0] = 0;
                    y[1] = 1;
                    double[] w = floatValues(5, 3, 0.25, 2);
                    double[] p = floatValues(6, 4, 0.5, 3);
                    double[] g = reduction == Reduction.NONE ? floatValues(n, 5, -2, 2) : new double[] {0.75};
                    long[] gShape = reduction == Reduction.NONE ? shape : new long[0];
                    List<String> args = new ArrayList<>(List.of("compute",
                            "--input", npy("x.npy", dtype, shape, x).toString(),
                            "--target", npy("y.npy", dtype, shape, y).toString(),
                            "--weight", npy("w.npy", dtype, c, w).toString(),
                            "--grad-output", npy("g.npy", dtype, gShape, g).toString(),
                            "--reduction", reduction.name().toLowerCase(),
                            "--loss", logits ? "logits" : "probabilities",
                            "--out", dir.resolve("out").toString()));
                    if (logits) args.addAll(List.of("--pos-weight", npy("p.npy", dtype, n1, p).toString()));
                    String label = dtype + " " + reduction + (logits ? " logits" : " probabilities");
                    CliRun r = CliRun.of(args.toArray(new String[0]));
                    assertEquals(0, r.exitCode(), label + ": " + r.err());
                    assertEquals("", r.err());

                    BceTestSupport.Expected e = expected(logits, reduction, x, y, expand(w, c, shape),
                            logits ? expand(p, n1, shape) : null, g);
                    Path out = dir.resolve("out");
                    Npy.Array loss = Npy.read(out.resolve("loss.npy"));
                    Npy.Array gi = Npy.read(out.resolve("grad_input.npy"));
                    assertEquals(dtype, loss.dtype);
                    assertArrayEquals(reduction == Reduction.NONE ? shape : new long[0], loss.shape(), label);
                    assertArrayEquals(shape, gi.shape(), label);
                    assertAllClose(e.loss, loss.toDoubleArray(), dtype, label + " loss");
                    assertAllClose(e.gradInput, gi.toDoubleArray(), dtype, label + " grad_input");
                    if (logits) {
                        assertAllClose(e.gradTarget, Npy.read(out.resolve("grad_target.npy")).toDoubleArray(), dtype,
                                label + " grad_target");
                        assertEquals(List.of("grad_input.npy", "grad_target.npy", "loss.npy"), listing(out));
                    } else {
                        assertEquals(List.of("grad_input.npy", "loss.npy"), listing(out));
                    }
                    deleteTree(out);
                }
            }
        }
    }

    @Test
    @DisplayName("defaults: mean, logits, grad-output 1; 0-d, empty and threaded inputs; --flag=value form")
    void defaultsAndShapes() throws IOException {
        Path out = dir.resolve("o");
        double[] x = {5, 1, 3};
        double[] y = {1, 0, 1};
        CliRun r = CliRun.of("compute", "--input", npy("x.npy", DType.FLOAT32, new long[] {3}, x).toString(),
                "--target=" + npy("y.npy", DType.FLOAT32, new long[] {3}, y), "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        Npy.Array loss = Npy.read(out.resolve("loss.npy"));
        assertEquals(0, loss.shape().length);
        assertEquals(0.45618808, loss.toDoubleArray()[0], 1e-7);

        // 0-d, float64, sum
        r = CliRun.of("compute", "--input", npy("s.npy", DType.FLOAT64, new long[0], new double[] {-2}).toString(),
                "--target", npy("t.npy", DType.FLOAT64, new long[0], new double[] {0.25}).toString(),
                "--reduction", "sum", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertAllClose(
                expected(true, Reduction.SUM, new double[] {-2}, new double[] {0.25}, null, null, null).gradInput,
                Npy.read(out.resolve("grad_input.npy")).toDoubleArray(), DType.FLOAT64, "0-d");
        assertEquals(0, Npy.read(out.resolve("grad_input.npy")).shape().length);

        // empty: sum is 0, mean is NaN, none is empty
        for (String red : new String[] {"none", "mean", "sum"}) {
            r = CliRun.of("compute", "--input",
                    npy("e.npy", DType.FLOAT32, new long[] {0, 4}, new double[0]).toString(),
                    "--target", dir.resolve("e.npy").toString(), "--reduction", red, "--out", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            double[] l = Npy.read(out.resolve("loss.npy")).toDoubleArray();
            assertArrayEquals(new long[] {0, 4}, Npy.read(out.resolve("grad_input.npy")).shape());
            if (red.equals("none")) assertEquals(0, l.length);
            if (red.equals("sum")) assertEquals(0.0, l[0]);
            if (red.equals("mean")) assertTrue(Double.isNaN(l[0]));
        }

        // threads: 2 threads give the same bytes as 1
        int n = 70_001;
        double[] bx = floatValues(n, 9, -20, 20);
        double[] by = labels(n, 10);
        npy("bx.npy", DType.FLOAT32, new long[] {n}, bx);
        npy("by.npy", DType.FLOAT32, new long[] {n}, by);
        for (String t : new String[] {"1", "2"}) {
            r = CliRun.of("compute", "--input", dir.resolve("bx.npy").toString(), "--target",
                    dir.resolve("by.npy").toString(),
                    "--threads", t, "--out", dir.resolve("t" + t).toString());
            assertEquals(0, r.exitCode(), r.err());
        }
        for (String f : new String[] {"loss.npy", "grad_input.npy", "grad_target.npy"}) {
            assertArrayEquals(Files.readAllBytes(dir.resolve("t1").resolve(f)),
                    Files.readAllBytes(dir.resolve("t2").resolve(f)), f);
        }
        assertAllClose(expected(true, Reduction.MEAN, bx, by, null, null, null).gradInput,
                Npy.read(dir.resolve("t2").resolve("grad_input.npy")).toDoubleArray(), DType.FLOAT32, "threads");
    }

    @Test
    @DisplayName("--help, compute --help and demo --help print usage and exit 0")
    void help() {
        CliRun r = CliRun.of("--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("compute"), r.out());
        r = CliRun.of("compute", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("--pos-weight"), r.out());
        assertTrue(r.out().contains("--grad-output"), r.out());
        for (String flag : new String[] {"--ignore-index", "--label-smoothing", "--smoothing-classes", "mean_valid",
            "mean_by_weight", "mean_by_nonzero_weight"}) {
            assertTrue(r.out().contains(flag), flag + " in: " + r.out());
        }
        r = CliRun.of("compute", "--input", "x.npy", "--help");
        assertEquals(0, r.exitCode());
        r = CliRun.of("demo", "--help");
        assertEquals(0, r.exitCode());
        assertTrue(r.out().contains("usage"), r.out());
    }

    /** Runs compute expecting exit 2, one stderr line containing every {@code expected} text, no outputs. */
    private void assertFails(String[] args, String... expectedText) throws IOException {
        Path out = dir.resolve("out");
        List<String> before = listing(out);
        CliRun r = CliRun.of(args);
        String err = r.err();
        assertEquals(2, r.exitCode(), Arrays.toString(args) + " stderr: " + err);
        assertEquals("", r.out());
        assertEquals(1, err.lines().count(), "one line: " + err);
        for (String t : expectedText) assertTrue(err.contains(t), "expected '" + t + "' in: " + err);
        assertEquals(before, listing(out), "output directory unchanged");
    }

    @Test
    @DisplayName("every bad input exits 2 with one stderr line naming the file and the problem, and writes nothing")
    void errors() throws IOException {
        long[] shape = {2, 3};
        String x = npy("x.npy", DType.FLOAT32, shape, floatValues(6, 1, -3, 3)).toString();
        String y = npy("y.npy", DType.FLOAT32, shape, labels(6, 2)).toString();
        String x64 = npy("x64.npy", DType.FLOAT64, shape, floatValues(6, 1, -3, 3)).toString();
        String p = npy("p.npy", DType.FLOAT32, shape, floatValues(6, 1, 0, 1)).toString();
        String out = dir.resolve("out").toString();
        Files.createDirectories(dir.resolve("out"));
        Files.writeString(dir.resolve("out").resolve("loss.npy"), "an earlier result");
        String[] base = {"compute", "--input", x, "--target", y, "--out", out};

        String missing = dir.resolve("nope.npy").toString();
        assertFails(new String[] {"compute", "--input", missing, "--target", y, "--out", out}, missing, "no such file");
        Path text = dir.resolve("text.npy");
        Files.writeString(text, "not numpy at all");
        assertFails(new String[] {"compute", "--input", x, "--target", text.toString(), "--out", out},
                text.toString(), "not an .npy file");
        Path fortran = dir.resolve("f.npy");
        Files.write(fortran, NpyTest.npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                new byte[24]));
        assertFails(new String[] {"compute", "--input", fortran.toString(), "--target", y, "--out", out},
                fortran.toString(), "Fortran");
        Path big = dir.resolve("b.npy");
        Files.write(big, NpyTest.npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[24]));
        assertFails(new String[] {"compute", "--input", x, "--target", big.toString(), "--out", out},
                big.toString(), "big-endian");
        Path ints = dir.resolve("i.npy");
        Files.write(ints, NpyTest.npy(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 3), }",
                new byte[48]));
        assertFails(new String[] {"compute", "--input", ints.toString(), "--target", y, "--out", out},
                ints.toString(), "unsupported dtype '<i8'");

        String y4 = npy("y4.npy", DType.FLOAT32, new long[] {3, 2}, labels(6, 2)).toString();
        assertFails(new String[] {"compute", "--input", x, "--target", y4, "--out", out}, y4, "[3, 2]", "[2, 3]");
        assertFails(new String[] {"compute", "--input", x64, "--target", y, "--out", out}, y, "dtype");
        String w2 = npy("w2.npy", DType.FLOAT32, new long[] {2}, new double[] {1, 2}).toString();
        assertFails(concat(base, "--weight", w2), w2, "does not broadcast");
        String w3 = npy("w3.npy", DType.FLOAT32, new long[] {1, 2, 3}, new double[6]).toString();
        assertFails(concat(base, "--pos-weight", w3), w3, "does not broadcast");
        String w64 = npy("w64.npy", DType.FLOAT64, new long[] {3}, new double[] {1, 2, 3}).toString();
        assertFails(concat(base, "--weight", w64), w64, "dtype");
        String g = npy("g.npy", DType.FLOAT32, new long[] {3}, new double[] {1, 2, 3}).toString();
        assertFails(concat(base, "--grad-output", g), g, "0-d");
        assertFails(concat(base, "--grad-output", g, "--reduction", "none"), g, "[2, 3]");

        // probabilities out of range: input, then target
        assertFails(new String[] {"compute", "--input", x, "--target", y, "--loss", "probabilities", "--out", out},
                x, "input element", "[0, 1]");
        String yBad = npy("yb.npy", DType.FLOAT32, shape, new double[] {0, 1, 0.5, 1.5, 0, 0}).toString();
        assertFails(new String[] {"compute", "--input", p, "--target", yBad, "--loss", "probabilities", "--out", out},
                yBad, "target element 3", "1.5");
        assertFails(new String[] {"compute", "--input", p, "--target", y, "--loss", "probabilities",
            "--pos-weight", p, "--out", out}, "--pos-weight");

        // the command line itself
        assertFails(concat(base, "--frobnicate", "1"), "unknown flag: --frobnicate");
        assertFails(concat(base, "stray"), "unexpected argument: stray");
        assertFails(new String[] {"compute", "--input", x, "--out", out}, "missing --target");
        assertFails(new String[] {"compute", "--input", x, "--target", y}, "missing --out");
        assertFails(concat(base, "--input", x), "--input is given twice");
        assertFails(concat(base, "--reduction"), "--reduction needs a value");
        assertFails(concat(base, "--reduction", "avg"), "--reduction", "avg");
        assertFails(concat(base, "--loss", "probs"), "--loss", "probs");
        // A range the library checks: its message, after the flag.
        assertFails(concat(base, "--threads", "-1"),
                "--threads: options.num_threads is -1; expected 0 (default) to 1024");
        assertFails(concat(base, "--threads", "1025"),
                "--threads: options.num_threads is 1025; expected 0 (default) to 1024");
        assertFails(concat(base, "--threads", "many"), "--threads is 'many'; expected an integer");
        assertFails(new String[] {"compute", "--input", x, "--target", y, "--out", x}, "not a directory");

        assertEquals("an earlier result", Files.readString(dir.resolve("out").resolve("loss.npy")));
        assertEquals(List.of("loss.npy"), listing(dir.resolve("out")));
        assertFalse(Files.exists(dir.resolve("never")));
        assertFails(
                new String[] {"compute", "--input", missing, "--target", y, "--out", dir.resolve("never").toString()},
                "no such file");
        assertFalse(Files.exists(dir.resolve("never")), "a failed run creates no output directory");
    }

    @Test
    @DisplayName("--size-average/--reduce override --reduction as legacy_get_string, with one warning line on stderr")
    void legacyFlags() throws IOException {
        long[] shape = {2, 3};
        String x = npy("x.npy", DType.FLOAT32, shape, floatValues(6, 1, -3, 3)).toString();
        String y = npy("y.npy", DType.FLOAT32, shape, labels(6, 2)).toString();
        // {--size-average, --reduce, the reduction they select}; null: flag not given. Written out from
        // torch.nn._reduction.legacy_get_string (a missing flag counts as true).
        String[][] table = {
            {null, "true", "mean"}, {null, "false", "none"},
            {"true", null, "mean"}, {"true", "true", "mean"}, {"true", "false", "none"},
            {"false", null, "sum"}, {"false", "true", "sum"}, {"false", "false", "none"},
        };
        for (String[] row : table) {
            String label = "--size-average " + row[0] + " --reduce " + row[1];
            String selected = row[2];
            // A --reduction other than the selected one, so that the override shows.
            String overridden = selected.equals("sum") ? "none" : "sum";
            List<String> args = new ArrayList<>(List.of("compute", "--input", x, "--target", y,
                    "--reduction", overridden, "--out", dir.resolve("legacy").toString()));
            if (row[0] != null) args.addAll(List.of("--size-average", row[0]));
            if (row[1] != null) args.addAll(List.of("--reduce", row[1]));
            CliRun legacy = CliRun.of(args.toArray(new String[0]));
            assertEquals(0, legacy.exitCode(), label + ": " + legacy.err());
            assertEquals("bce4j compute: warning: --size-average and --reduce are deprecated (as in PyTorch) and "
                    + "override --reduction: using --reduction " + selected + System.lineSeparator(), legacy.err(),
                    label);

            CliRun plain = CliRun.of("compute", "--input", x, "--target", y, "--reduction", selected,
                    "--out", dir.resolve("plain").toString());
            assertEquals(0, plain.exitCode(), label + ": " + plain.err());
            assertEquals("", plain.err(), label);

            Npy.Array loss = Npy.read(dir.resolve("legacy").resolve("loss.npy"));
            assertArrayEquals(selected.equals("none") ? shape : new long[0], loss.shape(), label);
            assertEquals(List.of("grad_input.npy", "grad_target.npy", "loss.npy"), listing(dir.resolve("legacy")));
            for (String f : listing(dir.resolve("plain"))) {
                assertArrayEquals(Files.readAllBytes(dir.resolve("plain").resolve(f)),
                        Files.readAllBytes(dir.resolve("legacy").resolve(f)), label + ": " + f);
            }
            deleteTree(dir.resolve("legacy"));
            deleteTree(dir.resolve("plain"));
        }

        // The override applies before --grad-output is checked: sum wants a 0-d gradient, whatever --reduction says.
        String g = npy("g.npy", DType.FLOAT32, shape, floatValues(6, 3, -1, 1)).toString();
        String out = dir.resolve("out").toString();
        String[] base = {"compute", "--input", x, "--target", y, "--out", out};
        assertFails(concat(base, "--reduction", "none", "--size-average", "false", "--grad-output", g), g, "0-d",
                "sum");

        // Bad values and a failing run: one error line, no warning, nothing written.
        assertFails(concat(base, "--reduce", "maybe"), "--reduce is 'maybe'; expected true or false");
        assertFails(concat(base, "--size-average", "True"), "--size-average is 'True'; expected true or false");
        assertFails(concat(base, "--reduce"), "--reduce needs a value");
        assertFails(concat(base, "--reduce", "true", "--reduce=false"), "--reduce is given twice");
        assertFails(new String[] {"compute", "--input", dir.resolve("nope.npy").toString(), "--target", y,
            "--reduce", "false", "--out", out}, "no such file");

        CliRun help = CliRun.of("compute", "--help");
        assertTrue(help.out().contains("--size-average true|false") && help.out().contains("--reduce true|false"),
                help.out());
    }

    private static void deleteTree(Path d) throws IOException {
        for (String f : listing(d)) Files.delete(d.resolve(f));
        Files.delete(d);
    }

    private static String[] concat(String[] a, String... b) {
        String[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    @DisplayName("--pos-weight-mode paddle-legacy computes Paddle's legacy formula; bad values and BCELoss exit 2")
    void posWeightMode() throws IOException {
        long[] shape = {3, 4};
        double[] x = floatValues(12, 21, -5, 5);
        double[] y = floatValues(12, 22, 0, 1);
        double[] p = {0.5, 2, 3, 1};
        String in = npy("pm_x.npy", DType.FLOAT64, shape, x).toString();
        String tg = npy("pm_y.npy", DType.FLOAT64, shape, y).toString();
        String pw = npy("pm_p.npy", DType.FLOAT64, new long[] {4}, p).toString();
        Path out = dir.resolve("pm_out");
        CliRun r = CliRun.of("compute", "--input", in, "--target", tg, "--pos-weight", pw, "--pos-weight-mode",
                "paddle-legacy", "--reduction", "none", "--out", out.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertEquals("", r.err());
        double[] loss = Npy.read(out.resolve("loss.npy")).toDoubleArray();
        double[] gi = Npy.read(out.resolve("grad_input.npy")).toDoubleArray();
        for (int i = 0; i < 12; i++) {
            double pi = p[i % 4];
            BceTestSupport.assertClose(PosWeightModeTestValues.loss(x[i], y[i], pi), loss[i], 1e-12, 1e-14,
                    "loss " + i);
            BceTestSupport.assertClose(PosWeightModeTestValues.gradInput(x[i], y[i], pi), gi[i], 1e-12, 1e-14,
                    "grad_input " + i);
        }

        r = CliRun.of("compute", "--input", in, "--target", tg, "--pos-weight-mode", "paddle", "--out",
                dir.resolve("pm_bad").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--pos-weight-mode is 'paddle'"), r.err());
        assertFalse(Files.exists(dir.resolve("pm_bad")));
        r = CliRun.of("compute", "--input", in, "--target", tg, "--loss", "probabilities", "--pos-weight-mode",
                "torch", "--out", dir.resolve("pm_bce").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--pos-weight-mode applies to --loss logits only"), r.err());
    }

    @Test
    @DisplayName("--ignore-index, --label-smoothing, --smoothing-classes and the normalised means give what the API "
            + "gives for the same options")
    void targetConventions() throws IOException {
        long[] shape = {4, 5};
        long[] c = {5};
        double[] w = {1, 0, 2.5, 0.5, 0};
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            for (boolean logits : new boolean[] {true, false}) {
                double[] x = logits ? floatValues(20, 81, -5, 5) : floatValues(20, 81, 0.02, 0.98);
                double[] y = floatValues(20, 82, 0, 1);
                y[3] = -1; // ignored in every case below (BCELoss would reject it otherwise)
                y[11] = -1;
                String in = npy("tc_x.npy", dtype, shape, x).toString();
                String tg = npy("tc_y.npy", dtype, shape, y).toString();
                String wf = npy("tc_w.npy", dtype, c, w).toString();
                String loss = logits ? "logits" : "probabilities";
                List<TargetCase> cases = List.of(
                        new TargetCase(List.of("--reduction", "mean_valid", "--ignore-index", "-1"),
                                Reduction.MEAN_VALID, null, -1.0, 0, 2),
                        new TargetCase(List.of("--reduction", "none", "--ignore-index", "-1", "--label-smoothing",
                                "0.1"), Reduction.NONE, null, -1.0, 0.1, 2),
                        new TargetCase(List.of("--reduction", "mean_by_weight", "--weight", wf, "--ignore-index", "-1",
                                "--label-smoothing", "0.2", "--smoothing-classes", "5"),
                                Reduction.MEAN_BY_WEIGHT, w, -1.0, 0.2, 5),
                        new TargetCase(List.of("--reduction", "mean_by_nonzero_weight", "--weight", wf,
                                "--ignore-index", "-1"), Reduction.MEAN_BY_NONZERO_WEIGHT, w, -1.0, 0, 2));
                for (TargetCase k : cases) {
                    String label = dtype + " " + loss + " " + k.flags();
                    Path out = dir.resolve("tc_out");
                    List<String> args = new ArrayList<>(List.of("compute", "--input", in, "--target", tg, "--loss",
                            loss, "--out", out.toString()));
                    args.addAll(k.flags());
                    CliRun r = CliRun.of(args.toArray(new String[0]));
                    assertEquals(0, r.exitCode(), label + ": " + r.err());
                    assertEquals("", r.err());

                    try (BinaryCrossEntropy api = logits ? k.configure(BCEWithLogitsLoss.builder()).build()
                            : k.configure(BCELoss.builder()).build()) {
                        boolean none = api.reduction() == Reduction.NONE;
                        double[][] expected = viaApi(api, shape, x, y);
                        double[] apiLoss = expected[0];
                        double[] apiGradInput = expected[1];
                        double[] apiGradTarget = expected[2];
                        Npy.Array l = Npy.read(out.resolve("loss.npy"));
                        assertArrayEquals(none ? shape : new long[0], l.shape(), label);
                        assertAllClose(apiLoss, l.toDoubleArray(), dtype, label + " loss");
                        assertAllClose(apiGradInput, Npy.read(out.resolve("grad_input.npy")).toDoubleArray(), dtype,
                                label + " grad_input");
                        if (logits) {
                            assertAllClose(apiGradTarget, Npy.read(out.resolve("grad_target.npy")).toDoubleArray(),
                                    dtype, label + " grad_target");
                        }
                    }
                    deleteTree(out);
                }
            }
        }
    }

    /** compute flags and the API options they amount to; a null weight (over [5]) or ignore index: none. */
    private record TargetCase(List<String> flags, Reduction reduction, double[] weight, Double ignoreIndex,
            double epsilon, int classes) {
        <B extends BinaryCrossEntropy.Builder<B>> B configure(B builder) {
            builder.reduction(reduction).labelSmoothing(epsilon, classes);
            if (weight != null) builder.weight(weight, 5);
            if (ignoreIndex != null) builder.ignoreIndex(ignoreIndex);
            return builder;
        }
    }

    @Test
    @DisplayName("bad --ignore-index, --label-smoothing, --smoothing-classes and --reduction values exit 2")
    void targetConventionErrors() throws IOException {
        long[] shape = {2, 3};
        String x = npy("x.npy", DType.FLOAT32, shape, floatValues(6, 1, -3, 3)).toString();
        String y = npy("y.npy", DType.FLOAT32, shape, labels(6, 2)).toString();
        String[] base = {"compute", "--input", x, "--target", y, "--out", dir.resolve("out").toString()};
        // Values that are no number are the command's to refuse; values out of range the library's, whose
        // message, after the flag, prints the value as C does.
        for (String v : new String[] {"abc", "nan", ""}) {
            assertFails(concat(base, "--ignore-index", v), "--ignore-index is '" + v + "'; expected a number");
        }
        assertFails(concat(base, "--ignore-index", "NaN"),
                "--ignore-index: options.ignore_index is nan; no target equals NaN");
        assertFails(concat(base, "--label-smoothing", "x"), "--label-smoothing is 'x'", "[0, 1]");
        for (String[] v : new String[][] {{"-0.1", "-0.1"}, {"1.5", "1.5"}, {"NaN", "nan"}, {"Infinity", "inf"}}) {
            assertFails(concat(base, "--label-smoothing", v[0]),
                    "--label-smoothing: options.label_smoothing is " + v[1] + "; expected a value in [0, 1]");
        }
        for (String v : new String[] {"2.5", "two"}) {
            assertFails(concat(base, "--label-smoothing", "0.1", "--smoothing-classes", v),
                    "--smoothing-classes is '" + v + "'");
        }
        for (String v : new String[] {"0", "-2"}) {
            assertFails(concat(base, "--label-smoothing", "0.1", "--smoothing-classes", v),
                    "--smoothing-classes: options.smoothing_classes is " + v + "; expected at least 1");
        }
        assertFails(concat(base, "--smoothing-classes", "3"), "--smoothing-classes applies with --label-smoothing");
        assertFails(concat(base, "--reduction", "mean-valid"), "--reduction is 'mean-valid'", "mean_valid");
        assertFalse(Files.exists(dir.resolve("out")), "a failed run creates no output directory");
    }

    /** Paddle's legacy formula in closed form (PosWeightModeTest checks the same against finite differences). */
    private static final class PosWeightModeTestValues {
        static double loss(double x, double y, double p) {
            return (1 + (p - 1) * y) * ((1 - y) * BceTestSupport.softplus(x) + y * BceTestSupport.softplus(-x));
        }

        static double gradInput(double x, double y, double p) {
            return (1 + (p - 1) * y) * (BceTestSupport.sigmoid(x) - y);
        }
    }

    @Test
    @DisplayName("--device cpu is the default; cuda runs where CUDA can and otherwise exits 2 with the reason")
    void device() throws IOException {
        long[] shape = {3, 4};
        double[] x = floatValues(12, 31, -6, 6);
        double[] y = labels(12, 32);
        String in = npy("dev_x.npy", DType.FLOAT64, shape, x).toString();
        String tg = npy("dev_y.npy", DType.FLOAT64, shape, y).toString();
        CliRun cpu = CliRun.of("compute", "--input", in, "--target", tg, "--device", "cpu", "--grad-weights", "--out",
                dir.resolve("dev_cpu").toString());
        assertEquals(0, cpu.exitCode(), cpu.err());
        assertFails(new String[] {"compute", "--input", in, "--target", tg, "--device", "gpu", "--out",
            dir.resolve("out").toString()}, "--device is 'gpu'; expected cpu or cuda");
        org.bce4j.CudaAvailability cuda = org.bce4j.Bce4j.cuda();
        if (!cuda.available()) {
            assertFails(new String[] {"compute", "--input", in, "--target", tg, "--device", "cuda", "--out",
                dir.resolve("out").toString()}, "--device cuda: CUDA is " + cuda.description());
            return;
        }
        CliRun gpu = CliRun.of("compute", "--input", in, "--target", tg, "--device", "cuda", "--grad-weights",
                "--out", dir.resolve("dev_cuda").toString());
        assertEquals(0, gpu.exitCode(), gpu.err());
        for (String name : new String[] {"loss.npy", "grad_input.npy", "grad_target.npy", "grad_weight.npy",
            "grad_pos_weight.npy"}) {
            double[] a = Npy.read(dir.resolve("dev_cpu").resolve(name)).toDoubleArray();
            double[] b = Npy.read(dir.resolve("dev_cuda").resolve(name)).toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], b[i], 1e-12 * Math.max(1, Math.abs(a[i])), name + "[" + i + "]");
            }
        }
    }

    @Test
    @DisplayName("--validate-targets true names the first target outside [0, 1]; BCELoss rejects the flag")
    void validateTargets() throws IOException {
        String in = npy("vt_x.npy", DType.FLOAT32, new long[] {5}, new double[] {1, -2, 0.5, 3, 0}).toString();
        String tg = npy("vt_y.npy", DType.FLOAT32, new long[] {5}, new double[] {1, 0, 1.5, 0, 7}).toString();
        CliRun ok = CliRun.of("compute", "--input", in, "--target", tg, "--out", dir.resolve("vt_ok").toString());
        assertEquals(0, ok.exitCode(), "off by default: " + ok.err());
        CliRun r = CliRun.of("compute", "--input", in, "--target", tg, "--validate-targets", "true", "--out",
                dir.resolve("vt_bad").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("target element 2 "), r.err());
        assertFalse(Files.exists(dir.resolve("vt_bad")));
        r = CliRun.of("compute", "--input", in, "--target", tg, "--validate-targets", "yes", "--out",
                dir.resolve("vt_value").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--validate-targets is 'yes'"), r.err());
        r = CliRun.of("compute", "--input", in, "--target", tg, "--loss", "probabilities", "--validate-targets",
                "true", "--out", dir.resolve("vt_bce").toString());
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("--validate-targets applies to --loss logits only"), r.err());
    }

    @Test
    @DisplayName("--focal-gamma 2 --focal-alpha 0.25 gives what the API gives; bad focal flags exit 2")
    void focal() throws IOException {
        long[] shape = {4, 5};
        double[] x = floatValues(20, 91, -6, 6);
        double[] y = floatValues(20, 92, 0, 1);
        for (int i = 0; i < 20; i += 3) y[i] = i % 2; // hard labels among the soft ones
        for (DType dtype : new DType[] {DType.FLOAT32, DType.FLOAT64}) {
            String in = npy("fo_x.npy", dtype, shape, x).toString();
            String tg = npy("fo_y.npy", dtype, shape, y).toString();
            Path out = dir.resolve("fo_out");
            CliRun r = CliRun.of("compute", "--input", in, "--target", tg, "--reduction", "none", "--focal-gamma",
                    "2", "--focal-alpha", "0.25", "--out", out.toString());
            assertEquals(0, r.exitCode(), dtype + ": " + r.err());
            assertEquals("", r.err());
            try (BCEWithLogitsLoss api = BCEWithLogitsLoss.builder().reduction(Reduction.NONE).focal(2, 0.25)
                    .build()) {
                double[] xs = Npy.read(Path.of(in)).toDoubleArray(); // float32: the rounded values the CLI saw
                double[] ys = Npy.read(Path.of(tg)).toDoubleArray();
                double[][] expected = viaApi(api, shape, xs, ys);
                double[] loss = expected[0];
                double[] gradInput = expected[1];
                double[] gradTarget = expected[2];
                assertAllClose(loss, Npy.read(out.resolve("loss.npy")).toDoubleArray(), dtype, dtype + " loss");
                assertAllClose(gradInput, Npy.read(out.resolve("grad_input.npy")).toDoubleArray(), dtype,
                        dtype + " grad_input");
                assertAllClose(gradTarget, Npy.read(out.resolve("grad_target.npy")).toDoubleArray(), dtype,
                        dtype + " grad_target");
            }
            deleteTree(out);
        }
        String in = npy("fo_x.npy", DType.FLOAT32, shape, x).toString();
        String tg = npy("fo_y.npy", DType.FLOAT32, shape, y).toString();
        String[] base = {"compute", "--input", in, "--target", tg, "--out", dir.resolve("out").toString()};
        assertFails(concat(base, "--focal-alpha", "0.25"), "--focal-alpha applies with --focal-gamma only");
        for (String v : new String[] {"two", ""}) {
            assertFails(concat(base, "--focal-gamma", v), "--focal-gamma is '" + v + "'");
        }
        for (String[] v : new String[][] {{"-1", "-1"}, {"NaN", "nan"}, {"Infinity", "inf"}}) {
            assertFails(concat(base, "--focal-gamma", v[0]),
                    "--focal-gamma: options.focal_gamma is " + v[1] + "; expected a finite value >= 0");
        }
        for (String v : new String[] {"-0.5", "1.5", "NaN", "x"}) {
            assertFails(concat(base, "--focal-gamma", "2", "--focal-alpha", v), "--focal-alpha is '" + v + "'",
                    "[0, 1]");
        }
        assertFails(concat(base, "--loss", "probabilities", "--focal-gamma", "2"),
                "--focal-gamma applies to --loss logits only");
        assertFails(concat(base, "--loss", "probabilities", "--focal-alpha", "0.25"),
                "--focal-alpha applies to --loss logits only");
        assertFalse(Files.exists(dir.resolve("out")), "a failed run creates no output directory");
    }

    @Test
    @DisplayName("--grad-weights writes grad_weight.npy and grad_pos_weight.npy of each operand's shape and dtype, "
            + "as the Java API computes them")
    void gradWeights() throws IOException {
        long[] shape = {6, 5};
        long[] c = {5};
        long[] n1 = {6, 1};
        int n = 30;
        double[] x = floatValues(n, 1, -4, 4);
        double[] y = labels(n, 2);
        double[] w = floatValues(5, 3, 0.25, 2);
        double[] p = floatValues(6, 4, 0.5, 3);
        Path out = dir.resolve("out");
        for (DType dtype : List.of(DType.FLOAT32, DType.FLOAT64, DType.FLOAT16)) {
            for (Reduction reduction : List.of(Reduction.MEAN, Reduction.NONE, Reduction.MEAN_BY_WEIGHT)) {
                String label = dtype + " " + reduction;
                double[] g = reduction == Reduction.NONE ? floatValues(n, 5, -2, 2) : new double[] {0.75};
                long[] gShape = reduction == Reduction.NONE ? shape : new long[0];
                CliRun r = CliRun.of("compute", "--input", npy("x.npy", dtype, shape, x).toString(),
                        "--target", npy("y.npy", dtype, shape, y).toString(),
                        "--weight", npy("w.npy", dtype, c, w).toString(),
                        "--pos-weight", npy("p.npy", dtype, n1, p).toString(),
                        "--grad-output", npy("g.npy", dtype, gShape, g).toString(),
                        "--reduction", reduction.name().toLowerCase(), "--grad-weights", "--out", out.toString());
                assertEquals(0, r.exitCode(), label + ": " + r.err());
                assertEquals(List.of("grad_input.npy", "grad_pos_weight.npy", "grad_target.npy", "grad_weight.npy",
                        "loss.npy"), listing(out), label);
                Npy.Array gradWeight = Npy.read(out.resolve("grad_weight.npy"));
                Npy.Array gradPosWeight = Npy.read(out.resolve("grad_pos_weight.npy"));
                assertEquals(dtype, gradWeight.dtype, label);
                assertEquals(dtype, gradPosWeight.dtype, label);
                assertArrayEquals(c, gradWeight.shape(), label);
                assertArrayEquals(n1, gradPosWeight.shape(), label);
                try (BCEWithLogitsLoss bce = BCEWithLogitsLoss.builder().reduction(reduction)
                        .weight(Npy.read(dir.resolve("w.npy")).toDoubleArray(), c)
                        .posWeight(Npy.read(dir.resolve("p.npy")).toDoubleArray(), n1).build()) {
                    // The files' own dtype, as the CLI read them; the loss output is required for NONE.
                    Tensor apiLoss = Tensor.allocate(dtype, reduction == Reduction.NONE ? shape : new long[0]);
                    Tensor apiGradWeight = Tensor.allocate(dtype, c);
                    Tensor apiGradPosWeight = Tensor.allocate(dtype, n1);
                    bce.compute(Npy.read(dir.resolve("x.npy")).tensor(), Npy.read(dir.resolve("y.npy")).tensor(),
                            Npy.read(dir.resolve("g.npy")).tensor(),
                            new Outputs().loss(apiLoss).gradWeight(apiGradWeight).gradPosWeight(apiGradPosWeight));
                    assertArrayEquals(apiGradWeight.toDoubleArray(), gradWeight.toDoubleArray(), label);
                    assertArrayEquals(apiGradPosWeight.toDoubleArray(), gradPosWeight.toDoubleArray(), label);
                }
                deleteTree(out);
            }
        }

        // Without the operands: 0-d gradients for the implicit scalar weights; BCELoss has no grad_pos_weight.npy.
        // With SUM and upstream 1 the scalar weight's gradient is the summed loss itself.
        double[] probabilities = floatValues(n, 6, 0.05, 0.95);
        for (boolean logits : new boolean[] {true, false}) {
            CliRun r = CliRun.of("compute",
                    "--input", npy("x.npy", DType.FLOAT64, shape, logits ? x : probabilities).toString(),
                    "--target", npy("y.npy", DType.FLOAT64, shape, y).toString(), "--reduction", "sum",
                    "--loss", logits ? "logits" : "probabilities", "--grad-weights", "--out", out.toString());
            assertEquals(0, r.exitCode(), r.err());
            Npy.Array gradWeight = Npy.read(out.resolve("grad_weight.npy"));
            assertArrayEquals(new long[0], gradWeight.shape());
            double loss = Npy.read(out.resolve("loss.npy")).toDoubleArray()[0];
            assertEquals(loss, gradWeight.toDoubleArray()[0], 1e-12 * Math.abs(loss));
            if (logits) {
                assertArrayEquals(new long[0], Npy.read(out.resolve("grad_pos_weight.npy")).shape());
            } else {
                assertEquals(List.of("grad_input.npy", "grad_weight.npy", "loss.npy"), listing(out));
            }
            deleteTree(out);
        }
    }

    @Test
    @DisplayName("--grad-weights takes no value and is given once")
    void gradWeightsErrors() throws IOException {
        String x = npy("x.npy", DType.FLOAT32, new long[] {3}, new double[] {1, 2, 3}).toString();
        String y = npy("y.npy", DType.FLOAT32, new long[] {3}, new double[] {0, 1, 0}).toString();
        String out = dir.resolve("out").toString();
        assertFails(new String[] {"compute", "--input", x, "--target", y, "--grad-weights=true", "--out", out},
                "--grad-weights takes no value");
        assertFails(new String[] {"compute", "--input", x, "--target", y, "--grad-weights", "--grad-weights",
            "--out", out}, "--grad-weights is given twice");
    }
}
