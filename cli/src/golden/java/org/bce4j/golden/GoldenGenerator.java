package org.bce4j.golden;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.bce4j.DType;
import org.bce4j.cli.Npy;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRefOptional;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Writes the libtorch golden cases under {@code java/src/test/resources/golden/<case>/}. Run with
 * {@code mvn -B -Pgolden compile exec:java@golden} (the profile adds libtorch; the default build never sees it).
 *
 * <p>Each case's inputs are built deterministically and rounded to the case's dtype; those exact values are
 * written ({@code input.npy}, {@code target.npy}, and as the case needs {@code weight.npy}, {@code pos_weight.npy},
 * {@code grad_output.npy}). The truth is libtorch in float64 on those values, with autograd for the gradients
 * ({@code torch::binary_cross_entropy_with_logits} or {@code torch::binary_cross_entropy}, then
 * {@code backward(grad_output)}): {@code expected_loss.npy}, {@code expected_grad_input.npy},
 * {@code expected_grad_target.npy}, always float64. For float32 cases libtorch also runs in float32, and
 * {@code case.properties} records its own error against the truth per output as
 * {@code torch32.<output>.max_scaled_error}: the largest {@code |torch32 - truth| / (2e-6 + 2e-6*|truth|)} over
 * the finite elements. A float32 result of bce4j passes where its error, scaled the same way, is at most
 * {@code max(1, 2 * max_scaled_error)}.
 */
public final class GoldenGenerator {
    // The dtypes the golden files cover (float16 and bfloat16 are checked against float64 in the unit tests).
    private static final DType[] GOLDEN_DTYPES = {DType.FLOAT32, DType.FLOAT64};

    private GoldenGenerator() {}

    /** One golden case: inputs (before rounding to the dtype) and the call's options. */
    static final class Case {
        final String name;
        final DType dtype;
        final boolean logits;
        final int reduction; // 0 none, 1 mean, 2 sum (PyTorch's codes)
        final long[] shape;
        double[] x;
        double[] y;
        long[] weightShape;
        double[] weight;
        long[] posWeightShape;
        double[] posWeight;
        double[] gradOutput; // null = 1
        String note = "";

        Case(String name, DType dtype, boolean logits, int reduction, long[] shape) {
            this.name = name;
            this.dtype = dtype;
            this.logits = logits;
            this.reduction = reduction;
            this.shape = shape;
        }

        Case data(double[] x, double[] y) {
            this.x = x;
            this.y = y;
            return this;
        }

        Case weight(long[] shape, double[] values) {
            this.weightShape = shape;
            this.weight = values;
            return this;
        }

        Case posWeight(long[] shape, double[] values) {
            this.posWeightShape = shape;
            this.posWeight = values;
            return this;
        }

        Case gradOutput(double[] g) {
            this.gradOutput = g;
            return this;
        }

        Case note(String note) {
            this.note = note;
            return this;
        }

        long[] lossShape() {
            return reduction == 0 ? shape : new long[0];
        }
    }

    static final String[] REDUCTIONS = {"none", "mean", "sum"};

    static int count(long[] shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return Math.toIntExact(n);
    }

    static double[] uniform(int n, long seed, double lo, double hi) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return v;
    }

    static double[] hard(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextBoolean() ? 1 : 0;
        return v;
    }

    /** An upstream gradient for a case: one scalar for mean/sum, input-shaped for none. */
    static double[] upstream(int reduction, int n, long seed) {
        return reduction == 0 ? uniform(n, seed, -2, 2) : new double[] {uniform(1, seed, 0.5, 2)[0]};
    }

    static List<Case> cases() {
        List<Case> cases = new ArrayList<>();
        // The seed examples.
        cases.add(new Case("seed_mean_f32", DType.FLOAT32, true, 1, new long[] {3})
                .data(new double[] {5, 1, 3}, new double[] {1, 0, 1}).note("Paddle's documented 0.45618808"));
        {
            double[] x = new double[28];
            double[] y = new double[28];
            for (int i = 0; i < 28; i++) {
                x[i] = (float) ((i % 5 - 2) * 0.75f + (i / 7) * 0.25f);
                y[i] = (i * 3 + 1) % 4 == 0 ? 1 : 0;
            }
            cases.add(new Case("seed_multilabel_f32", DType.FLOAT32, true, 1, new long[] {4, 7}).data(x, y)
                    .weight(new long[] {7}, new double[] {1, 0.5, 2, 1, 1.5, 0.25, 1})
                    .posWeight(new long[] {7}, new double[] {3, 1, 0.5, 2, 1, 4, 1}).note("the demo's second case"));
        }
        // float32 and float64 x none/mean/sum, hard labels, an upstream gradient.
        long seed = 100;
        for (DType dtype : GOLDEN_DTYPES) {
            for (int red = 0; red < 3; red++) {
                long[] shape = {8, 5};
                int n = count(shape);
                cases.add(new Case("basic_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, true, red, shape)
                        .data(uniform(n, seed++, -6, 6), hard(n, seed++)).gradOutput(upstream(red, n, seed++)));
            }
        }
        // weight and pos_weight of shapes full, [C], [N,1] and [1], each shape for each, in both dtypes.
        long[] shape = {6, 5};
        long[][] wShapes = {{6, 5}, {5}, {6, 1}, {1}};
        String[] wNames = {"full", "C", "N1", "1"};
        for (DType dtype : GOLDEN_DTYPES) {
            for (int k = 0; k < 4; k++) {
                int pk = (k + 1) % 4;
                int red = dtype == DType.FLOAT32 ? k % 3 : (k + 1) % 3;
                cases.add(new Case("weights_" + tag(dtype) + "_w" + wNames[k] + "_pw" + wNames[pk] + "_"
                        + REDUCTIONS[red], dtype, true, red, shape)
                        .data(uniform(30, seed++, -5, 5), hard(30, seed++))
                        .weight(wShapes[k], uniform(count(wShapes[k]), seed++, 0.1, 3))
                        .posWeight(wShapes[pk], uniform(count(wShapes[pk]), seed++, 0.2, 5))
                        .gradOutput(upstream(red, 30, seed++)));
            }
        }
        // Soft labels.
        for (DType dtype : GOLDEN_DTYPES) {
            int red = dtype == DType.FLOAT32 ? 1 : 0;
            cases.add(
                    new Case("soft_labels_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, true, red, new long[] {10, 4})
                            .data(uniform(40, seed++, -8, 8), uniform(40, seed++, 0, 1))
                            .posWeight(new long[] {4}, uniform(4, seed++, 0.3, 4))
                            .gradOutput(upstream(red, 40, seed++)));
        }
        // 3-D inputs.
        for (DType dtype : GOLDEN_DTYPES) {
            int red = dtype == DType.FLOAT32 ? 2 : 0;
            cases.add(new Case("three_d_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, true, red, new long[] {3, 4, 5})
                    .data(uniform(60, seed++, -4, 4), uniform(60, seed++, 0, 1))
                    .weight(new long[] {4, 1}, uniform(4, seed++, 0.5, 2))
                    .posWeight(new long[] {5}, uniform(5, seed++, 0.5, 3)).gradOutput(upstream(red, 60, seed++)));
        }
        // Extreme logits, |x| up to 1e4, against hard and soft labels.
        {
            double[] xs = {1e4, -1e4, 3000, -3000, 1000, -1000, 200, -200, 104, -104, 89, -89, 88, -88, 40, -40, 20,
                -20, 17, -17, 1e-4, -1e-4, 0};
            double[] ys = {0, 1, 0.25};
            int n = xs.length * ys.length;
            double[][] pairs = grid(xs, ys);
            double[] x = pairs[0];
            double[] y = pairs[1];
            for (DType dtype : GOLDEN_DTYPES) {
                for (int red : new int[] {0, 2}) {
                    cases.add(new Case("extreme_logits_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, true, red,
                            new long[] {xs.length, ys.length}).data(x, y)
                            .posWeight(new long[] {ys.length}, new double[] {2.5, 0.5, 1})
                            .gradOutput(upstream(red, n, seed++)));
                }
            }
        }
        // An odd size past the threading threshold (float32 only, to keep the files small).
        cases.add(new Case("odd_size_100003_f32_mean", DType.FLOAT32, true, 1, new long[] {100_003})
                .data(uniform(100_003, seed++, -10, 10), hard(100_003, seed++))
                .posWeight(new long[] {1}, new double[] {1.75}));
        // 0-d.
        for (DType dtype : GOLDEN_DTYPES) {
            for (int red : new int[] {0, 1}) {
                cases.add(new Case("scalar_0d_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, true, red, new long[0])
                        .data(new double[] {-1.25}, new double[] {0.75}).weight(new long[0], new double[] {1.5})
                        .gradOutput(new double[] {0.5}));
            }
        }
        // Empty.
        for (int red = 0; red < 3; red++) {
            cases.add(new Case("empty_f32_" + REDUCTIONS[red], DType.FLOAT32, true, red, new long[] {0, 5})
                    .data(new double[0], new double[0]).weight(new long[] {5}, uniform(5, seed++, 0.5, 2)));
        }
        // NaN and infinities in input, target and weight.
        {
            double nan = Double.NaN;
            double inf = Double.POSITIVE_INFINITY;
            double[] xs = {nan, inf, -inf, 2, 2, -3};
            double[] ys = {0, 1, 0.5, nan, 2};
            int n = xs.length * ys.length;
            double[][] pairs = grid(xs, ys);
            double[] x = pairs[0];
            double[] y = pairs[1];
            double[] w = {1, 2, 0.5, 1, 1.5, 1, 1, 0.5, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, nan, 1, 1, 1,
                1, inf, 1};
            for (DType dtype : GOLDEN_DTYPES) {
                cases.add(new Case("nan_inf_" + tag(dtype) + "_none", dtype, true, 0, new long[] {xs.length, ys.length})
                        .data(x, y).weight(new long[] {xs.length, ys.length}, w)
                        .gradOutput(upstream(0, n, seed++)));
                cases.add(new Case("nan_inf_pos_weight_" + tag(dtype) + "_none", dtype, true, 0,
                        new long[] {xs.length, ys.length}).data(x, y)
                        .posWeight(new long[] {ys.length}, new double[] {3, 0.5, 2, 1, 0.25}));
            }
        }
        // Infinite logits against zero coefficients: weight 0, pos_weight 0 and an upstream gradient of 0.
        {
            double inf = Double.POSITIVE_INFINITY;
            double[] xs = {inf, -inf};
            double[] ys = {0, 0.5, 1};
            double[] ws = {0, 1.5};
            double[] ps = {0, 1, 2};
            double[] gs = {0, -1.5};
            int n = xs.length * ys.length * ws.length * ps.length * gs.length;
            double[] x = new double[n];
            double[] y = new double[n];
            double[] w = new double[n];
            double[] p = new double[n];
            double[] g = new double[n];
            int i = 0;
            for (double xv : xs) for (double yv : ys) for (double wv : ws) for (double pv : ps) for (double gv : gs) {
                x[i] = xv;
                y[i] = yv;
                w[i] = wv;
                p[i] = pv;
                g[i++] = gv;
            }
            for (DType dtype : GOLDEN_DTYPES) {
                cases.add(new Case("inf_zero_coefficients_" + tag(dtype) + "_none", dtype, true, 0, new long[] {n})
                        .data(x, y).weight(new long[] {n}, w).posWeight(new long[] {n}, p).gradOutput(g));
            }
        }
        // BCELoss on probabilities, exact 0 and 1 included.
        {
            double[] xs = {0, 1, 0.5, 1e-7, 1 - 1e-7, 1e-30, 1e-45, 0.25, 0.9, 0.999, 1e-3};
            double[] ys = {0, 1, 0.3};
            int n = xs.length * ys.length;
            double[][] pairs = grid(xs, ys);
            double[] x = pairs[0];
            double[] y = pairs[1];
            for (DType dtype : GOLDEN_DTYPES) {
                for (int red = 0; red < 3; red++) {
                    cases.add(new Case("probabilities_" + tag(dtype) + "_" + REDUCTIONS[red], dtype, false, red,
                            new long[] {xs.length, ys.length}).data(x, y)
                            .weight(new long[] {ys.length}, new double[] {1, 0.5, 2})
                            .gradOutput(upstream(red, n, seed++)));
                }
                int m = 64;
                cases.add(new Case("probabilities_random_" + tag(dtype) + "_mean", dtype, false, 1, new long[] {8, 8})
                        .data(uniform(m, seed++, 0, 1), uniform(m, seed++, 0, 1)));
            }
        }
        return cases;
    }

    /** Every x paired with every y, x-major: {x values, y values}, each of xs.length * ys.length elements. */
    static double[][] grid(double[] xs, double[] ys) {
        double[] x = new double[xs.length * ys.length];
        double[] y = new double[x.length];
        for (int i = 0; i < xs.length; i++) {
            for (int j = 0; j < ys.length; j++) {
                x[i * ys.length + j] = xs[i];
                y[i * ys.length + j] = ys[j];
            }
        }
        return new double[][] {x, y};
    }

    static String tag(DType dtype) {
        return dtype == DType.FLOAT32 ? "f32" : "f64";
    }

    /** The values rounded to the dtype (float32: to nearest float). */
    static double[] round(double[] v, DType dtype) {
        if (v == null || dtype == DType.FLOAT64) return v;
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) r[i] = (float) v[i];
        return r;
    }

    static Tensor tensor(double[] values, long[] shape, boolean float64) {
        if (float64) {
            DoublePointer p = new DoublePointer(Math.max(1, values.length));
            p.put(values, 0, values.length);
            return torch.from_blob(p, shape, new TensorOptions(ScalarType.Double)).clone();
        }
        FloatPointer p = new FloatPointer(Math.max(1, values.length));
        for (int i = 0; i < values.length; i++) p.put(i, (float) values[i]);
        return torch.from_blob(p, shape, new TensorOptions(ScalarType.Float)).clone();
    }

    static double[] values(Tensor t, int n) {
        double[] out = new double[n];
        if (t == null || !t.defined()) {
            throw new IllegalStateException("libtorch returned no gradient");
        }
        if (n == 0) return out;
        Tensor d = t.detach().to(ScalarType.Double).contiguous();
        d.data_ptr_double().get(out);
        return out;
    }

    /** {loss, grad_input, grad_target} from libtorch in float64 or float32, the latter widened exactly. */
    static double[][] torchRun(Case c, double[] x, double[] y, double[] w, double[] p, double[] g, boolean f64) {
        try (PointerScope scope = new PointerScope()) {
            Tensor input = tensor(x, c.shape, f64);
            Tensor target = tensor(y, c.shape, f64);
            input.requires_grad_(true);
            target.requires_grad_(true);
            TensorOptional weight = w == null ? new TensorOptional()
                    : new TensorOptional(tensor(w, c.weightShape, f64));
            Tensor loss;
            if (c.logits) {
                TensorOptional posWeight = p == null ? new TensorOptional()
                        : new TensorOptional(tensor(p, c.posWeightShape, f64));
                loss = torch.binary_cross_entropy_with_logits(input, target, weight, posWeight, c.reduction);
            } else {
                loss = torch.binary_cross_entropy(input, target, weight, c.reduction);
            }
            long[] lossShape = c.lossShape();
            int n = count(c.shape);
            Tensor upstream = tensor(g == null ? ones(count(lossShape)) : g, lossShape, f64);
            loss.backward(upstream, new BoolOptional(), false, new TensorArrayRefOptional());
            return new double[][] {values(loss, count(lossShape)), values(input.grad(), n), values(target.grad(), n)};
        }
    }

    static double[] ones(int n) {
        double[] v = new double[n];
        Arrays.fill(v, 1);
        return v;
    }

    static void write(Path file, DType dtype, long[] shape, double[] values) throws IOException {
        Npy.Array a = Npy.Array.allocate(dtype, shape);
        for (int i = 0; i < values.length; i++) {
            if (dtype == DType.FLOAT32) a.floats().put(i, (float) values[i]);
            else a.doubles().put(i, values[i]);
        }
        Npy.write(file, a);
    }

    /** The largest |a - truth| / (2e-6 + 2e-6*|truth|) over the elements where both are finite. */
    static double maxScaledError(double[] a, double[] truth) {
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            if (Double.isFinite(a[i]) && Double.isFinite(truth[i])) {
                worst = Math.max(worst, Math.abs(a[i] - truth[i]) / (2e-6 + 2e-6 * Math.abs(truth[i])));
            }
        }
        return worst;
    }

    public static void main(String[] args) throws IOException {
        Path root = Paths.get(args.length > 0 ? args[0] : "java/src/test/resources/golden");
        torch.set_num_threads(1);
        Files.createDirectories(root);
        try (java.util.stream.Stream<Path> old = Files.list(root)) {
            for (Path d : (Iterable<Path>) old::iterator) {
                if (Files.isDirectory(d)) {
                    try (java.util.stream.Stream<Path> files = Files.list(d)) {
                        for (Path f : (Iterable<Path>) files::iterator) Files.delete(f);
                    }
                    Files.delete(d);
                }
            }
        }
        List<Case> cases = cases();
        for (Case c : cases) {
            DType dt = c.dtype;
            double[] x = round(c.x, dt);
            double[] y = round(c.y, dt);
            double[] w = round(c.weight, dt);
            double[] p = round(c.posWeight, dt);
            double[] g = round(c.gradOutput, dt);
            Path dir = root.resolve(c.name);
            Files.createDirectories(dir);
            write(dir.resolve("input.npy"), dt, c.shape, x);
            write(dir.resolve("target.npy"), dt, c.shape, y);
            if (w != null) write(dir.resolve("weight.npy"), dt, c.weightShape, w);
            if (p != null) write(dir.resolve("pos_weight.npy"), dt, c.posWeightShape, p);
            if (g != null) write(dir.resolve("grad_output.npy"), dt, c.lossShape(), g);

            double[][] truth = torchRun(c, x, y, w, p, g, true);
            String[] outputs = {"loss", "grad_input", "grad_target"};
            for (int k = 0; k < 3; k++) {
                write(dir.resolve("expected_" + outputs[k] + ".npy"), DType.FLOAT64, k == 0 ? c.lossShape() : c.shape,
                        truth[k]);
            }
            TreeMap<String, String> props = new TreeMap<>();
            props.put("dtype", dt == DType.FLOAT32 ? "float32" : "float64");
            props.put("loss", c.logits ? "logits" : "probabilities");
            props.put("reduction", REDUCTIONS[c.reduction]);
            props.put("note", c.note);
            if (dt == DType.FLOAT32) {
                double[][] t32 = torchRun(c, x, y, w, p, g, false);
                for (int k = 0; k < 3; k++) {
                    props.put("torch32." + outputs[k] + ".max_scaled_error",
                            String.format(Locale.ROOT, "%.6g", maxScaledError(t32[k], truth[k])));
                }
            }
            try (Writer out = Files.newBufferedWriter(dir.resolve("case.properties"))) {
                out.write("# Generated by org.bce4j.golden.GoldenGenerator (libtorch " + torchVersion() + ")\n");
                for (var e : props.entrySet()) out.write(e.getKey() + "=" + e.getValue() + "\n");
            }
            System.out.println("golden " + c.name + ": " + props);
        }
        System.out.println(cases.size() + " cases written under " + root);
    }

    static String torchVersion() {
        return "2.10.0 (org.bytedeco:pytorch:2.10.0-1.5.13)";
    }
}
