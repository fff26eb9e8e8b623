package org.bce4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.bce4j.BCELoss;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.CudaAvailability;
import org.bce4j.CudaUnavailableException;
import org.bce4j.DType;
import org.bce4j.HalfPrecision;
import org.bce4j.Device;
import org.bce4j.PosWeightMode;
import org.bce4j.Reduction;
import org.bce4j.WeightGradients;

/**
 * The {@code compute} command: loss and gradients of .npy inputs, written as .npy files. Every output is first
 * written to a temporary file in the output directory and moved into place only when all of them succeeded.
 */
final class Compute {
    static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar compute --input X.npy --target Y.npy [--weight W.npy] [--pos-weight P.npy]",
            "           [--reduction R] [--grad-output G.npy] [--loss logits|probabilities]",
            "           [--pos-weight-mode torch|paddle-legacy] [--size-average true|false] [--reduce true|false]",
            "           [--ignore-index V] [--label-smoothing E [--smoothing-classes K]] [--validate-targets true|false]",
            "           [--focal-gamma G [--focal-alpha A]] [--grad-weights] [--threads T] [--device cpu|cuda]",
            "           --out DIR",
            "",
            "Computes the binary cross-entropy of X against Y (PyTorch BCEWithLogitsLoss, or BCELoss with",
            "--loss probabilities) and writes DIR/loss.npy, DIR/grad_input.npy and, for logits, DIR/grad_target.npy.",
            "",
            "  --input X.npy        the logits or probabilities (any shape, 0-d and empty included)",
            "  --target Y.npy       the targets, of the input's shape",
            "  --weight W.npy       per-element weight; broadcasts to the input's shape (e.g. [C] or [N,1])",
            "  --pos-weight P.npy   positive-class weight, logits only; broadcasts like --weight",
            "  --pos-weight-mode M  torch (the default: PyTorch, Paddle 2.6+) or paddle-legacy (Paddle up to 2.5,",
            "                       where pos_weight scales the whole loss; same as torch on hard labels)",
            "  --validate-targets B logits: true makes a target outside [0, 1] (not an ignored one) bad input,",
            "                       naming its index; false by default (probabilities are always checked)",
            "  --reduction R        none, mean (the default), sum, or a mean that gives 0 (never NaN) for a zero",
            "                       denominator: mean_by_weight (sum / sum of the weights broadcast to the input),",
            "                       mean_by_nonzero_weight (sum / count of elements with a non-zero weight) or",
            "                       mean_valid (sum / count of elements not ignored, Paddle's normalize=True)",
            "  --size-average B     PyTorch's deprecated size_average and reduce: true or false. When either is",
            "  --reduce B           given they override --reduction, as torch.nn._reduction.legacy_get_string:",
            "                       a missing one counts as true; reduce false gives none, both true give mean,",
            "                       reduce true and size-average false give sum. A warning goes to stderr.",
            "  --ignore-index V     elements whose target equals V exactly (Paddle's default: -100) get loss 0 and",
            "                       gradients 0; they still count in mean, not in mean_valid",
            "  --label-smoothing E  targets become y*(1-E) + E/K before the loss, E in [0, 1]; grad_target stays",
            "                       the gradient with respect to y",
            "  --smoothing-classes K",
            "                       K for --label-smoothing, 1 or more: 2 (the default, Keras' binary form) or the",
            "                       class count (timm's form)",
            "  --focal-gamma G      logits: sigmoid focal loss (torchvision's sigmoid_focal_loss): each element's loss",
            "                       is multiplied by alpha_t * (1-p_t)^G, p_t = sigmoid(x)*y + sigmoid(-x)*(1-y);",
            "                       G finite, 0 or more (torchvision's default: 2)",
            "  --focal-alpha A      with --focal-gamma: alpha_t = A*y + (1-A)*(1-y), A in [0, 1] (torchvision's",
            "                       default: 0.25); without it alpha_t = 1",
            "  --grad-output G.npy  the upstream gradient: the input's shape for none, 0-d for the other reductions;",
            "                       1 by default",
            "  --loss L             logits (the default) or probabilities",
            "  --grad-weights       also write DIR/grad_weight.npy and, for logits, DIR/grad_pos_weight.npy: the",
            "                       gradients of the result (the reduced loss times grad_output; for none, the sum of",
            "                       grad_output*loss) with respect to weight and pos_weight, summed to each one's own",
            "                       shape; 0-d (the derivative for an implicit scalar weight of 1) when not given",
            "  --threads T          OpenMP threads, 0 (the library default) to 1024",
            "  --device D           cpu (the default) or cuda: the optional GPU path (see `info`); float32 and",
            "                       float64 only. Where CUDA cannot run, exit code 2 with the reason",
            "  --out DIR            the output directory (created if missing)",
            "",
            ".npy files: format 1.0 or 2.0, little-endian float16 '<f2', float32 '<f4' or float64 '<f8', C order.",
            "All inputs share one dtype, and the outputs have it too (float16 is computed in float32 and rounded).",
            "loss.npy is the input's shape for none, 0-d otherwise.",
            "Bad input: one line on stderr naming the file and the problem, exit code 2, no output written.");

    private static final List<String> FLAGS = List.of("--input", "--target", "--weight", "--pos-weight",
            "--pos-weight-mode", "--reduction", "--size-average", "--reduce", "--grad-output", "--loss", "--threads",
            "--ignore-index", "--label-smoothing", "--smoothing-classes", "--validate-targets", "--focal-gamma",
            "--focal-alpha", "--device", "--out");
    /** Flags that take no value. */
    private static final List<String> SWITCHES = List.of("--grad-weights");

    /** Bad input: reported as one line on stderr with exit code 2. */
    static final class UsageException extends Exception {
        private static final long serialVersionUID = 1L;

        UsageException(String message) {
            super(message);
        }
    }

    private Compute() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE);
                return 0;
            }
        }
        try {
            execute(parse(args), err);
            return 0;
        } catch (UsageException | Npy.NpyException e) {
            err.println("bce4j compute: " + e.getMessage());
            return 2;
        } catch (IOException | CudaUnavailableException e) {
            err.println("bce4j compute: " + e.getMessage());
            return 2;
        } catch (IllegalStateException e) { // a CUDA runtime failure: not the input's fault
            err.println("bce4j compute: " + e.getMessage());
            return 1;
        }
    }

    static Map<String, String> parse(String[] args) throws UsageException {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                name = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            if (SWITCHES.contains(name)) {
                if (value != null) throw new UsageException(name + " takes no value");
                if (flags.put(name, "true") != null) throw new UsageException(name + " is given twice");
                continue;
            }
            if (!FLAGS.contains(name)) {
                throw new UsageException((a.startsWith("-") ? "unknown flag: " : "unexpected argument: ") + a
                        + " (see compute --help)");
            }
            if (value == null) {
                if (i + 1 >= args.length) throw new UsageException(name + " needs a value");
                value = args[++i];
            }
            if (flags.put(name, value) != null) throw new UsageException(name + " is given twice");
        }
        for (String required : new String[] {"--input", "--target", "--out"}) {
            if (!flags.containsKey(required)) throw new UsageException("missing " + required + " (see compute --help)");
        }
        return flags;
    }

    private static Path path(Map<String, String> flags, String flag) throws UsageException {
        String value = flags.get(flag);
        if (value == null) return null;
        try {
            return Paths.get(value);
        } catch (InvalidPathException e) {
            throw new UsageException(flag + ": invalid path " + value);
        }
    }

    private static Npy.Array read(Map<String, String> flags, String flag) throws UsageException, Npy.NpyException {
        Path p = path(flags, flag);
        return p == null ? null : Npy.read(p);
    }

    static void execute(Map<String, String> flags, PrintStream err) throws UsageException, IOException {
        Reduction reduction = reduction(flags.getOrDefault("--reduction", "mean"));
        Boolean sizeAverage = booleanFlag(flags, "--size-average");
        Boolean reduce = booleanFlag(flags, "--reduce");
        boolean legacy = sizeAverage != null || reduce != null;
        if (legacy) reduction = Reduction.fromLegacyFlags(sizeAverage, reduce);
        String lossKind = flags.getOrDefault("--loss", "logits");
        if (!lossKind.equals("logits") && !lossKind.equals("probabilities")) {
            throw new UsageException("--loss is '" + lossKind + "'; expected logits or probabilities");
        }
        boolean logits = lossKind.equals("logits");
        int threads = threads(flags.getOrDefault("--threads", "0"));
        if (!logits && flags.containsKey("--pos-weight")) {
            throw new UsageException("--pos-weight applies to --loss logits only (BCELoss has no pos_weight)");
        }
        PosWeightMode posWeightMode = posWeightMode(flags.getOrDefault("--pos-weight-mode", "torch"));
        Boolean validateTargets = booleanFlag(flags, "--validate-targets");
        if (!logits && validateTargets != null) {
            throw new UsageException("--validate-targets applies to --loss logits only (BCELoss always validates)");
        }
        if (!logits && flags.containsKey("--pos-weight-mode")) {
            throw new UsageException("--pos-weight-mode applies to --loss logits only (BCELoss has no pos_weight)");
        }
        Device device = device(flags.getOrDefault("--device", "cpu"));
        FocalOptions focal = focalOptions(flags, logits);
        TargetOptions targetOptions = targetOptions(flags);
        Path outDir = path(flags, "--out");
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new UsageException("--out " + outDir + " exists and is not a directory");
        }

        Path inputFile = path(flags, "--input");
        Path targetFile = path(flags, "--target");
        Npy.Array input = Npy.read(inputFile);
        Npy.Array target = Npy.read(targetFile);
        Npy.Array weight = read(flags, "--weight");
        Npy.Array posWeight = read(flags, "--pos-weight");
        Npy.Array gradOutput = read(flags, "--grad-output");

        long[] shape = input.shape();
        sameDtype(input, inputFile, target, targetFile);
        if (!Arrays.equals(target.shape(), shape)) {
            throw new UsageException(targetFile + ": shape " + Arrays.toString(target.shape())
                    + " differs from the input's " + Arrays.toString(shape) + " (" + inputFile + ")");
        }
        // Broadcasting is checked by the native call (one rule, in one place); its error names the operand.
        if (weight != null) sameDtype(input, inputFile, weight, path(flags, "--weight"));
        if (posWeight != null) sameDtype(input, inputFile, posWeight, path(flags, "--pos-weight"));
        if (gradOutput != null) {
            Path g = path(flags, "--grad-output");
            sameDtype(input, inputFile, gradOutput, g);
            if (reduction == Reduction.NONE ? !Arrays.equals(gradOutput.shape(), shape) : gradOutput.count() != 1) {
                throw new UsageException(g + ": shape " + Arrays.toString(gradOutput.shape()) + "; expected "
                        + (reduction == Reduction.NONE ? "the input's shape " + Arrays.toString(shape)
                                : "a 0-d array (one element) for reduction " + name(reduction)));
            }
        }

        DType dtype = input.dtype;
        Npy.Array loss = Npy.Array.allocate(dtype, reduction == Reduction.NONE ? shape : new long[0]);
        Npy.Array gradInput = Npy.Array.allocate(dtype, shape);
        Npy.Array gradTarget = logits ? Npy.Array.allocate(dtype, shape) : null;
        boolean gradWeights = flags.containsKey("--grad-weights");
        if (gradWeights && device == Device.CUDA) {
            throw new UsageException("--grad-weights is not supported with --device cuda yet (it runs on the CPU)");
        }
        WeightGradients weightGradients = null;

        try (BinaryCrossEntropy bce = build(logits, reduction, threads, device, weight, posWeight, posWeightMode,
                validateTargets != null && validateTargets, focal, targetOptions)) {
            if (gradWeights && dtype == DType.FLOAT32) {
                weightGradients = bce.computeWeightGradients(shape, input.floats(), target.floats(),
                        gradOutput == null ? null : gradOutput.floats(), loss.floats(), gradInput.floats(),
                        gradTarget == null ? null : gradTarget.floats());
            } else if (gradWeights && dtype == DType.FLOAT16) {
                weightGradients = bce.computeWeightGradients(dtype, shape, input.shorts(), target.shorts(),
                        gradOutput == null ? null : gradOutput.shorts(), loss.shorts(), gradInput.shorts(),
                        gradTarget == null ? null : gradTarget.shorts());
            } else if (gradWeights) {
                weightGradients = bce.computeWeightGradients(shape, input.doubles(), target.doubles(),
                        gradOutput == null ? null : gradOutput.doubles(), loss.doubles(), gradInput.doubles(),
                        gradTarget == null ? null : gradTarget.doubles());
            } else if (dtype == DType.FLOAT32) {
                bce.compute(shape, input.floats(), target.floats(), gradOutput == null ? null : gradOutput.floats(),
                        loss.floats(), gradInput.floats(), gradTarget == null ? null : gradTarget.floats());
            } else if (dtype == DType.FLOAT16) {
                bce.compute(dtype, shape, input.shorts(), target.shorts(),
                        gradOutput == null ? null : gradOutput.shorts(), loss.shorts(), gradInput.shorts(),
                        gradTarget == null ? null : gradTarget.shorts());
            } else {
                bce.compute(shape, input.doubles(), target.doubles(),
                        gradOutput == null ? null : gradOutput.doubles(), loss.doubles(), gradInput.doubles(),
                        gradTarget == null ? null : gradTarget.doubles());
            }
        } catch (IllegalArgumentException e) {
            // The native checks name the argument first ("input element 3 ...", "target ...", "weight shape ...").
            String m = e.getMessage();
            Path file = m.startsWith("target") ? targetFile
                    : m.startsWith("pos_weight") || m.startsWith("posWeight") ? path(flags, "--pos-weight")
                    : m.startsWith("weight") ? path(flags, "--weight")
                    : m.startsWith("gradOutput") ? path(flags, "--grad-output") : inputFile;
            throw new UsageException(file + ": " + m);
        }

        Map<String, Npy.Array> outputs = new LinkedHashMap<>();
        outputs.put("loss.npy", loss);
        outputs.put("grad_input.npy", gradInput);
        if (gradTarget != null) outputs.put("grad_target.npy", gradTarget);
        if (weightGradients != null) {
            outputs.put("grad_weight.npy", array(dtype, weightGradients.weightShape(), weightGradients.weight()));
            if (weightGradients.hasPosWeight()) {
                outputs.put("grad_pos_weight.npy",
                        array(dtype, weightGradients.posWeightShape(), weightGradients.posWeight()));
            }
        }
        writeAll(outDir, outputs);
        if (legacy) {
            // Only once the run succeeded: a failing run prints its one error line and nothing else.
            err.println("bce4j compute: warning: --size-average and --reduce are deprecated (as in PyTorch) and "
                    + "override --reduction: using --reduction " + name(reduction));
        }
    }

    /** An output of {@code dtype} holding {@code values}, which came from a call of that dtype (exact in it). */
    private static Npy.Array array(DType dtype, long[] shape, double[] values) {
        Npy.Array a = Npy.Array.allocate(dtype, shape);
        if (dtype == DType.FLOAT32) {
            java.nio.FloatBuffer floats = a.floats();
            for (int i = 0; i < values.length; i++) floats.put(i, (float) values[i]);
        } else if (dtype == DType.FLOAT16) {
            // The values were float16 already (widened exactly): rounding them again changes nothing.
            java.nio.ShortBuffer shorts = a.shorts();
            for (int i = 0; i < values.length; i++) shorts.put(i, HalfPrecision.fromDouble(dtype, values[i]));
        } else {
            a.doubles().put(values);
        }
        return a;
    }

    /** Writes every output to a temporary file in {@code dir}, then moves them into place; on failure removes them. */
    static void writeAll(Path dir, Map<String, Npy.Array> outputs) throws IOException {
        List<Path> temps = new ArrayList<>();
        boolean done = false;
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, Npy.Array> e : outputs.entrySet()) {
                // Not Files.createTempFile: its files are owner-only (0600), and the outputs keep the umask's mode.
                Path tmp = dir.resolve("." + e.getKey() + "." + java.util.UUID.randomUUID() + ".tmp");
                Files.createFile(tmp);
                temps.add(tmp);
                Npy.write(tmp, e.getValue());
            }
            int i = 0;
            for (String name : outputs.keySet()) {
                Path tmp = temps.get(i++);
                try {
                    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.ATOMIC_MOVE);
                } catch (java.nio.file.AtomicMoveNotSupportedException ex) {
                    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            done = true;
        } catch (IOException e) {
            throw new IOException(dir + ": cannot write the outputs: " + e, e);
        } finally {
            if (!done) {
                for (Path tmp : temps) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // best effort: the original failure is what gets reported
                    }
                }
            }
        }
    }

    /** --device, checked; cuda only where it can run. */
    private static Device device(String value) throws UsageException {
        switch (value) {
            case "cpu":
                return Device.CPU;
            case "cuda":
                CudaAvailability cuda = Bce4j.cuda();
                if (!cuda.available()) throw new UsageException("--device cuda: CUDA is " + cuda.description());
                return Device.CUDA;
            default:
                throw new UsageException("--device is '" + value + "'; expected cpu or cuda");
        }
    }

    private static PosWeightMode posWeightMode(String value) throws UsageException {
        switch (value) {
            case "torch":
                return PosWeightMode.TORCH;
            case "paddle-legacy":
                return PosWeightMode.PADDLE_LEGACY;
            default:
                throw new UsageException("--pos-weight-mode is '" + value + "'; expected torch or paddle-legacy");
        }
    }

    private static BinaryCrossEntropy build(boolean logits, Reduction reduction, int threads, Device device,
            Npy.Array weight, Npy.Array posWeight, PosWeightMode posWeightMode, boolean validateTargets,
            FocalOptions focal, TargetOptions targetOptions) {
        if (logits) {
            BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().reduction(reduction).numThreads(threads)
                    .device(device).posWeightMode(posWeightMode).validateTargets(validateTargets);
            if (weight != null) b.weight(weight.toDoubleArray(), weight.shape());
            if (posWeight != null) b.posWeight(posWeight.toDoubleArray(), posWeight.shape());
            if (focal != null) b.focal(focal.gamma(), focal.alpha());
            return targetOptions.applyTo(b).build();
        }
        BCELoss.Builder b = BCELoss.builder().reduction(reduction).numThreads(threads).device(device);
        if (weight != null) b.weight(weight.toDoubleArray(), weight.shape());
        return targetOptions.applyTo(b).build();
    }

    /** --focal-gamma and --focal-alpha, checked; alpha negative: none. */
    record FocalOptions(double gamma, double alpha) {}

    /** The focal options, or null when --focal-gamma is not given. */
    private static FocalOptions focalOptions(Map<String, String> flags, boolean logits) throws UsageException {
        String gammaValue = flags.get("--focal-gamma");
        String alphaValue = flags.get("--focal-alpha");
        if (gammaValue == null && alphaValue == null) return null;
        if (!logits) {
            throw new UsageException((gammaValue != null ? "--focal-gamma" : "--focal-alpha")
                    + " applies to --loss logits only (sigmoid focal loss is on logits)");
        }
        if (gammaValue == null) throw new UsageException("--focal-alpha applies with --focal-gamma only");
        Double gamma = number(gammaValue);
        if (gamma == null || !(gamma >= 0) || gamma.isInfinite()) {
            throw new UsageException("--focal-gamma is '" + gammaValue + "'; expected a finite number, 0 or more");
        }
        double alpha = -1;
        if (alphaValue != null) {
            Double a = number(alphaValue);
            if (a == null || !(a >= 0 && a <= 1)) {
                throw new UsageException("--focal-alpha is '" + alphaValue + "'; expected a number in [0, 1]");
            }
            alpha = a;
        }
        return new FocalOptions(gamma, alpha);
    }

    /** --ignore-index (null: not given), --label-smoothing and --smoothing-classes, checked. */
    record TargetOptions(Double ignoreIndex, double labelSmoothing, int smoothingClasses) {
        <B extends BinaryCrossEntropy.Builder<B>> B applyTo(B builder) {
            if (ignoreIndex != null) builder.ignoreIndex(ignoreIndex);
            return builder.labelSmoothing(labelSmoothing, smoothingClasses);
        }
    }

    private static TargetOptions targetOptions(Map<String, String> flags) throws UsageException {
        Double ignoreIndex = null;
        String value = flags.get("--ignore-index");
        if (value != null) {
            ignoreIndex = number(value);
            // NaN equals no target, so it would ignore nothing: surely not what was meant.
            if (ignoreIndex == null || ignoreIndex.isNaN()) {
                throw new UsageException("--ignore-index is '" + value + "'; expected a number");
            }
        }
        value = flags.getOrDefault("--label-smoothing", "0");
        Double epsilon = number(value);
        if (epsilon == null || !(epsilon >= 0 && epsilon <= 1)) {
            throw new UsageException("--label-smoothing is '" + value + "'; expected a number in [0, 1]");
        }
        int classes = 2;
        value = flags.get("--smoothing-classes");
        if (value != null) {
            if (!flags.containsKey("--label-smoothing")) {
                throw new UsageException("--smoothing-classes applies with --label-smoothing only");
            }
            try {
                classes = Integer.parseInt(value);
            } catch (NumberFormatException e) {
                classes = 0; // reported below
            }
            if (classes < 1) {
                throw new UsageException("--smoothing-classes is '" + value + "'; expected an integer, 1 or more");
            }
        }
        return new TargetOptions(ignoreIndex, epsilon, classes);
    }

    /** A decimal number, or null if {@code value} is not one. */
    private static Double number(String value) {
        try {
            return Double.valueOf(value);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static void sameDtype(Npy.Array input, Path inputFile, Npy.Array other, Path otherFile)
            throws UsageException {
        if (other.dtype != input.dtype) {
            throw new UsageException(otherFile + ": dtype " + Npy.descr(other.dtype) + " differs from the input's "
                    + Npy.descr(input.dtype) + " (" + inputFile + "); all inputs must share one dtype");
        }
    }

    private static Reduction reduction(String value) throws UsageException {
        switch (value) {
            case "none":
                return Reduction.NONE;
            case "mean":
                return Reduction.MEAN;
            case "sum":
                return Reduction.SUM;
            case "mean_by_weight":
                return Reduction.MEAN_BY_WEIGHT;
            case "mean_by_nonzero_weight":
                return Reduction.MEAN_BY_NONZERO_WEIGHT;
            case "mean_valid":
                return Reduction.MEAN_VALID;
            default:
                throw new UsageException("--reduction is '" + value + "'; expected none, mean, sum, mean_by_weight, "
                        + "mean_by_nonzero_weight or mean_valid");
        }
    }

    /** A legacy flag's value: null when the flag is not given. */
    /** A true|false flag's value; null when it is not given. */
    private static Boolean booleanFlag(Map<String, String> flags, String flag) throws UsageException {
        String value = flags.get(flag);
        if (value == null) return null;
        switch (value) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                throw new UsageException(flag + " is '" + value + "'; expected true or false");
        }
    }

    private static String name(Reduction r) {
        return r.name().toLowerCase(java.util.Locale.ROOT);
    }

    private static int threads(String value) throws UsageException {
        try {
            int t = Integer.parseInt(value);
            if (t >= 0 && t <= 1024) return t;
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--threads is '" + value + "'; expected an integer from 0 (the default) to 1024");
    }
}
