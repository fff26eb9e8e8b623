package org.bce4j.cli;

import static org.bce4j.BceTestSupport.expand;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.Reader;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.bce4j.BCELoss;
import org.bce4j.BceTestSupport;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Reduction;
import org.bce4j.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conformance against libtorch: every case under {@code src/test/resources/golden/} (written by
 * {@code org.bce4j.golden.GoldenGenerator}, see the README) runs through the Java API on direct NIO buffers and
 * through the {@code compute} command, and each output is compared with libtorch's float64 result:
 * <ul>
 *   <li>float64: within 1e-12 absolute + 1e-10 relative;</li>
 *   <li>float32: {@code |bce4j - truth| / (2e-6 + 2e-6*|truth|)} at most {@code max(1, 2 * e)}, where {@code e} is
 *       the same measure of libtorch float32's own error (case.properties);</li>
 *   <li>NaN and infinities exactly, except for bce4j's documented differences (README, "Where bce4j differs from
 *       libtorch"), where bce4j's documented value is asserted instead: the logits loss at an infinite logit is the
 *       true limit where libtorch gives NaN, and so is its grad_target (a factor of exactly 0 contributes 0),
 *       and the BCELoss grad_target is the derivative of the clamped loss where
 *       a log is clamped at -100 (libtorch's -logit(x) there).</li>
 * </ul>
 */
class GoldenConformanceTest {
    @TempDir
    Path tmp;

    static Path goldenRoot() {
        try {
            return Paths.get(GoldenConformanceTest.class.getResource("/golden").toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("no golden/ test resources", e);
        }
    }

    static List<Path> caseDirs() throws IOException {
        try (Stream<Path> s = Files.list(goldenRoot())) {
            return s.filter(Files::isDirectory).sorted().collect(Collectors.toList());
        }
    }

    /** One golden case as read from its directory. */
    static final class GoldenCase {
        final String name;
        final Path dir;
        final Properties props = new Properties();
        final DType dtype;
        final boolean logits;
        final Reduction reduction;
        final Npy.Array input;
        final Npy.Array target;
        final Npy.Array weight;
        final Npy.Array posWeight;
        final Npy.Array gradOutput;
        final double[][] truth = new double[3][];
        final long[] shape;
        /** x, y, w, p, g per element (w, p, g expanded; g scaled by 1/n for mean). */
        final double[] x;
        final double[] y;
        final double[] w;
        final double[] p;
        final double[] g;

        GoldenCase(Path dir) throws IOException {
            this.dir = dir;
            this.name = dir.getFileName().toString();
            try (Reader r = Files.newBufferedReader(dir.resolve("case.properties"))) {
                props.load(r);
            }
            dtype = props.getProperty("dtype").equals("float32") ? DType.FLOAT32 : DType.FLOAT64;
            logits = props.getProperty("loss").equals("logits");
            reduction = Reduction.valueOf(props.getProperty("reduction").toUpperCase());
            input = Npy.read(dir.resolve("input.npy"));
            target = Npy.read(dir.resolve("target.npy"));
            weight = optional("weight.npy");
            posWeight = optional("pos_weight.npy");
            gradOutput = optional("grad_output.npy");
            for (int k = 0; k < 3; k++)
                truth[k] = Npy.read(dir.resolve("expected_" + OUTPUTS[k] + ".npy")).toDoubleArray();
            shape = input.shape();
            x = input.toDoubleArray();
            y = target.toDoubleArray();
            int n = x.length;
            w = weight == null ? filled(n, 1) : expand(weight.toDoubleArray(), weight.shape(), shape);
            p = posWeight == null ? filled(n, 1) : expand(posWeight.toDoubleArray(), posWeight.shape(), shape);
            double[] gv = gradOutput == null ? null : gradOutput.toDoubleArray();
            if (reduction == Reduction.NONE) {
                g = gv == null ? filled(n, 1) : gv;
            } else {
                double scale = (gv == null ? 1 : gv[0]) / (reduction == Reduction.MEAN ? n : 1);
                g = filled(n, scale);
            }
        }

        private Npy.Array optional(String file) throws IOException {
            Path f = dir.resolve(file);
            return Files.exists(f) ? Npy.read(f) : null;
        }

        /** A generous bound on the absolute error of libtorch's float64 result (cancellation at large |x|). */
        double truthError(int output) {
            if (truthBound < 0) {
                truthBound = 1e-15 * (1 + maxAbs(x)) * (1 + maxAbs(w)) * (1 + maxAbs(p)) * (1 + maxAbs(g));
            }
            return output == 0 && reduction == Reduction.SUM ? truthBound * x.length : truthBound;
        }

        private double truthBound = -1;

        private static double maxAbs(double[] v) {
            double m = 0;
            for (double d : v) if (Double.isFinite(d)) m = Math.max(m, Math.abs(d));
            return m;
        }

        double allowedScaledError(int output) {
            String e = props.getProperty("torch32." + OUTPUTS[output] + ".max_scaled_error");
            return Math.max(1.0, 2 * Double.parseDouble(e));
        }
    }

    static final String[] OUTPUTS = {"loss", "grad_input", "grad_target"};

    static double[] filled(int n, double v) {
        double[] a = new double[n];
        java.util.Arrays.fill(a, v);
        return a;
    }

    /**
     * bce4j's documented value where it differs from libtorch on purpose, or null where it must match libtorch:
     * at an infinite logit, the true limit of the logits loss and grad_target where libtorch gives NaN (a factor
     * of exactly 0 contributing 0); and the derivative of the clamped BCELoss with respect to the target where a
     * log is clamped at -100 (libtorch: -logit(x), unclamped).
     */
    static Double documented(GoldenCase c, int output, int i) {
        double x = c.x[i];
        double y = c.y[i];
        double w = c.w[i];
        double p = c.p[i];
        if (c.logits && Double.isInfinite(x) && Double.isNaN(c.truth[output][i]) && !Double.isNaN(y)
                && !Double.isNaN(w) && !Double.isNaN(p) && !Double.isNaN(c.g[i])) {
            // The true limit, where a factor that is exactly 0 (weight, pos_weight, upstream gradient or the
            // coefficient of the infinite term) contributes 0 instead of libtorch's 0 * inf = NaN.
            if (output == 0 && c.reduction == Reduction.NONE) {
                // x -> +inf: (1-y)*x (softplus(-x) -> 0); x -> -inf: p*y*|x| (log1p(e^-|x|) -> 0).
                return infiniteTerm(w, x > 0 ? 1 - y : p * y);
            }
            if (output == 2) {
                // -x + (p-1)*softplus(-x): -x at +inf; -p*x + (p-1)*log1p(e^x) at -inf.
                return infiniteTerm(w * c.g[i], x > 0 ? -1 : p);
            }
        }
        if (!c.logits && output == 2 && (Math.log(x) < -100 || Math.log1p(-x) < -100)) {
            return c.g[i] * w * (Math.max(Math.log1p(-x), -100) - Math.max(Math.log(x), -100));
        }
        return null;
    }

    /** {@code factor * coefficient * inf}, or 0 where either is 0. */
    static double infiniteTerm(double factor, double coefficient) {
        return factor == 0 || coefficient == 0 ? 0.0 : factor * coefficient * Double.POSITIVE_INFINITY;
    }

    /** Compares one output of bce4j with the truth; returns the number of documented differences asserted. */
    static int compare(GoldenCase c, int output, double[] actual, String how) {
        double[] truth = c.truth[output];
        assertEquals(truth.length, actual.length, c.name + " " + how + " " + OUTPUTS[output] + ": length");
        int documented = 0;
        for (int i = 0; i < truth.length; i++) {
            String what = c.name + " " + how + " " + OUTPUTS[output] + "[" + i + "]";
            double expected = truth[i];
            Double doc = truth.length == c.x.length ? documented(c, output, i) : null;
            if (doc != null) {
                documented++;
                expected = doc;
                what += " (documented difference; libtorch gives " + truth[i] + ")";
            }
            double a = actual[i];
            if (Double.isNaN(expected) || Double.isInfinite(expected)) {
                if (!(Double.isNaN(expected) ? Double.isNaN(a) : a == expected)) {
                    fail(what + ": expected " + expected + " but was " + a);
                }
                continue;
            }
            if (!Double.isFinite(a)) fail(what + ": expected " + expected + " but was " + a);
            double diff = Math.abs(a - expected);
            if (c.dtype == DType.FLOAT64) {
                if (diff > 1e-12 + 1e-10 * Math.abs(expected)) {
                    fail(what + ": expected " + expected + " but was " + a + " (float64 tolerance)");
                }
            } else {
                double scaled = diff / (2e-6 + 2e-6 * Math.abs(expected));
                if (scaled > c.allowedScaledError(output)) {
                    fail(what + ": expected " + expected + " but was " + a + " (scaled error " + scaled + " > "
                            + c.allowedScaledError(output) + ")");
                }
                // Stricter than the contract, which allows 2e-6 absolute even for gradients of 1e-5 (a mean over
                // 100 003 elements): the scalar kernels compute in double and round once, so they are within one
                // float ulp of the truth, up to the float64 truth's own error (libtorch cancels: at x = -89, y = 0
                // its loss is 0 where the exact value is e^-89 = 2.2e-39, which bce4j returns). The SIMD kernels
                // compute in float32 and are held to the contract alone.
                double allowed = Math.ulp((float) expected) + c.truthError(output);
                if (BceTestSupport.FLOAT32_ROUNDED_ONCE && diff > allowed) {
                    fail(what + ": expected " + expected + " but was " + a + " (more than one float32 ulp + "
                            + c.truthError(output) + ")");
                }
            }
        }
        return documented;
    }

    static BinaryCrossEntropy build(GoldenCase c) {
        if (c.logits) {
            BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(c.reduction);
            if (c.weight != null) b.weight(c.weight.toDoubleArray(), c.weight.shape());
            if (c.posWeight != null) b.posWeight(c.posWeight.toDoubleArray(), c.posWeight.shape());
            return b.build();
        }
        BCELoss.Builder b = BCELoss.builder().reduction(c.reduction);
        if (c.weight != null) b.weight(c.weight.toDoubleArray(), c.weight.shape());
        return b.build();
    }

    /** The Java API on views of the .npy reader's direct NIO buffers; grad_target for both losses. */
    static int viaJavaApi(GoldenCase c) {
        Npy.Array loss = Npy.Array.allocate(c.dtype, c.reduction == Reduction.NONE ? c.shape : new long[0]);
        Npy.Array gradInput = Npy.Array.allocate(c.dtype, c.shape);
        Npy.Array gradTarget = Npy.Array.allocate(c.dtype, c.shape);
        double returned;
        try (BinaryCrossEntropy bce = build(c)) {
            Tensor upstream = c.gradOutput == null ? null : c.gradOutput.tensor();
            returned = bce.compute(c.input.tensor(), c.target.tensor(), upstream,
                    new Outputs().loss(loss.tensor()).gradInput(gradInput.tensor()).gradTarget(gradTarget.tensor()));
        }
        int documented = compare(c, 0, loss.toDoubleArray(), "api");
        if (c.reduction != Reduction.NONE) compare(c, 0, new double[] {returned}, "api (returned)");
        documented += compare(c, 1, gradInput.toDoubleArray(), "api");
        documented += compare(c, 2, gradTarget.toDoubleArray(), "api");
        return documented;
    }

    /** The compute command on the case's files. */
    int viaCommand(GoldenCase c) throws IOException {
        Path out = tmp.resolve(c.name);
        List<String> args = new ArrayList<>(List.of("compute", "--input", c.dir.resolve("input.npy").toString(),
                "--target", c.dir.resolve("target.npy").toString(), "--reduction", c.reduction.name().toLowerCase(),
                "--loss", c.logits ? "logits" : "probabilities", "--out", out.toString()));
        if (c.weight != null) args.addAll(List.of("--weight", c.dir.resolve("weight.npy").toString()));
        if (c.posWeight != null) args.addAll(List.of("--pos-weight", c.dir.resolve("pos_weight.npy").toString()));
        if (c.gradOutput != null) args.addAll(List.of("--grad-output", c.dir.resolve("grad_output.npy").toString()));
        CliRun run = CliRun.of(args.toArray(new String[0]));
        assertEquals(0, run.exitCode(), c.name + ": " + run.err());
        int documented = 0;
        for (int k = 0; k < 3; k++) {
            Path f = out.resolve(OUTPUTS[k] + ".npy");
            if (k == 2 && !c.logits) {
                assertFalse(Files.exists(f), "no grad_target.npy for probabilities");
                continue;
            }
            Npy.Array a = Npy.read(f);
            assertEquals(c.dtype, a.dtype, c.name + " " + f);
            assertArrayEquals(k == 0 && c.reduction != Reduction.NONE ? new long[0] : c.shape, a.shape(),
                    c.name + " " + f);
            documented += compare(c, k, a.toDoubleArray(), "compute");
        }
        return documented;
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenCase() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path dir : caseDirs()) {
            String name = dir.getFileName().toString();
            tests.add(DynamicTest.dynamicTest(name + " via the Java API", () -> {
                GoldenCase c = new GoldenCase(dir);
                int documented = viaJavaApi(c);
                checkDocumentedCount(c, documented);
            }));
            tests.add(DynamicTest.dynamicTest(name + " via compute", () -> viaCommand(new GoldenCase(dir))));
        }
        return tests.stream();
    }

    /** The documented differences appear exactly where expected: never in ordinary cases. */
    static void checkDocumentedCount(GoldenCase c, int documented) {
        if (c.name.startsWith("nan_inf") || c.name.startsWith("inf_zero_coefficients")
                || (c.name.startsWith("probabilities_") && !c.name.contains("random"))) {
            assertTrue(documented > 0, c.name + ": expected documented differences");
        } else {
            assertEquals(0, documented, c.name + ": documented differences in an ordinary case");
        }
    }

    @Test
    void goldenSetIsComplete() throws IOException {
        List<String> names = caseDirs().stream().map(d -> d.getFileName().toString()).collect(Collectors.toList());
        assertTrue(names.size() >= 40, "golden cases: " + names);
        for (String prefix : new String[] {"seed_mean_f32", "seed_multilabel_f32", "basic_f32_none", "basic_f64_sum",
            "weights_", "soft_labels_", "three_d_", "extreme_logits_", "odd_size_100003", "scalar_0d_", "empty_",
            "nan_inf_", "inf_zero_coefficients_", "probabilities_"}) {
            assertTrue(names.stream().anyMatch(n -> n.startsWith(prefix)), "missing case " + prefix + "*");
        }
    }
}
