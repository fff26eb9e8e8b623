package org.bce4j.cli;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bce4j.BCELoss;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.CudaAvailability;
import org.bce4j.Device;
import org.bce4j.PosWeightMode;
import org.bce4j.Reduction;

/**
 * The {@code compute} command's flags: the command line split into flags and values, each value read as what its
 * flag takes (a path, a name from a list, a number, true or false). The ranges of the loss options are the
 * library's to check: {@link #libraryError} puts the flag (or the file) that its message is about in front of it.
 */
final class ComputeFlags {
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
            "  --device D           cpu (the default) or cuda: the optional GPU path (see `info`). Where CUDA",
            "                       cannot run, exit code 2 with the reason",
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
    /** The flags that BCELoss has no option for, each with the reason. */
    private static final Map<String, String> LOGITS_ONLY = Map.of(
            "--pos-weight", "BCELoss has no pos_weight",
            "--pos-weight-mode", "BCELoss has no pos_weight",
            "--validate-targets", "BCELoss always validates",
            "--focal-gamma", "sigmoid focal loss is on logits",
            "--focal-alpha", "sigmoid focal loss is on logits");

    /** The flag that sets each library option, by the option's name in the library's messages. */
    private static final Map<String, String> FLAG_OF_OPTION = Map.of(
            "options.num_threads", "--threads",
            "options.label_smoothing", "--label-smoothing",
            "options.smoothing_classes", "--smoothing-classes",
            "options.focal_gamma", "--focal-gamma",
            "options.focal_alpha", "--focal-alpha",
            "options.grad_weight", "--grad-weights",
            "options.grad_pos_weight", "--grad-weights",
            "options.ignore_index", "--ignore-index");

    /** Each flag given and its value as written ("true" for a switch), in command-line order. */
    private final Map<String, String> given;
    final Path input;
    final Path target;
    /** Null when not given, as for the other optional files. */
    final Path weight;
    final Path posWeight;
    final Path gradOutput;
    final Path out;
    final boolean logits;
    /** --reduction, or what --size-average and --reduce select when either is given. */
    final Reduction reduction;
    /** Whether --size-average or --reduce is given. */
    final boolean legacyReduction;
    final int threads;
    final Device device;
    final PosWeightMode posWeightMode;
    final boolean validateTargets;
    /** Null without --focal-gamma. */
    final Focal focal;
    /** Null without --ignore-index. */
    final Double ignoreIndex;
    final double labelSmoothing;
    final int smoothingClasses;
    final boolean gradWeights;

    /** --focal-gamma and --focal-alpha; alpha negative: none. */
    record Focal(double gamma, double alpha) {}

    private ComputeFlags(Map<String, String> given) throws UsageException {
        this.given = given;
        Reduction named = reduction(given.getOrDefault("--reduction", "mean"));
        Boolean sizeAverage = booleanFlag("--size-average");
        Boolean reduce = booleanFlag("--reduce");
        legacyReduction = sizeAverage != null || reduce != null;
        reduction = legacyReduction ? Reduction.fromLegacyFlags(sizeAverage, reduce) : named;
        String lossKind = given.getOrDefault("--loss", "logits");
        if (!lossKind.equals("logits") && !lossKind.equals("probabilities")) {
            throw new UsageException("--loss is '" + lossKind + "'; expected logits or probabilities");
        }
        logits = lossKind.equals("logits");
        threads = threads(given.getOrDefault("--threads", "0"));
        if (!logits) {
            for (String flag : given.keySet()) {
                if (LOGITS_ONLY.containsKey(flag)) {
                    throw new UsageException(flag + " applies to --loss logits only (" + LOGITS_ONLY.get(flag) + ")");
                }
            }
        }
        posWeightMode = posWeightMode(given.getOrDefault("--pos-weight-mode", "torch"));
        Boolean validate = booleanFlag("--validate-targets");
        validateTargets = validate != null && validate;
        device = device(given.getOrDefault("--device", "cpu"));
        focal = focal();
        ignoreIndex = ignoreIndex();
        labelSmoothing = labelSmoothing();
        smoothingClasses = smoothingClasses();
        gradWeights = given.containsKey("--grad-weights");
        out = path("--out");
        input = path("--input");
        target = path("--target");
        weight = path("--weight");
        posWeight = path("--pos-weight");
        gradOutput = path("--grad-output");
    }

    /**
     * Parses the command line (flags after {@code compute}, as {@code --flag value} or {@code --flag=value}).
     *
     * @throws UsageException naming the flag: unknown, given twice, missing a value or a required flag, or a value
     *     that is not what the flag takes
     */
    static ComputeFlags parse(String[] args) throws UsageException {
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
        return new ComputeFlags(flags);
    }

    /** {@return the reduction's name as --reduction takes it} */
    static String name(Reduction r) {
        return r.name().toLowerCase(Locale.ROOT);
    }

    /** The loss these flags describe, with the weights read from their files (each flag is applied here). */
    BinaryCrossEntropy buildLoss(Npy.Array weight, Npy.Array posWeight) {
        if (logits) {
            BCEWithLogitsLoss.Builder b = BCEWithLogitsLoss.builder().posWeightMode(posWeightMode)
                    .validateTargets(validateTargets);
            if (posWeight != null) b.posWeight(posWeight.toDoubleArray(), posWeight.shape());
            if (focal != null) b.focal(focal.gamma(), focal.alpha());
            return configure(b, weight).build();
        }
        return configure(BCELoss.builder(), weight).build();
    }

    /** The options both losses have. */
    private <B extends BinaryCrossEntropy.Builder<B>> B configure(B builder, Npy.Array weight) {
        builder.reduction(reduction).numThreads(threads).device(device)
                .labelSmoothing(labelSmoothing, smoothingClasses);
        if (ignoreIndex != null) builder.ignoreIndex(ignoreIndex);
        if (weight != null) builder.weight(weight.toDoubleArray(), weight.shape());
        return builder;
    }

    /**
     * Bad input that the library found, as this command reports it: the library's message after the flag whose
     * value it is about ({@code --threads: options.num_threads is -1; ...}) or the file of the operand it names
     * ({@code input element 3 ...}, {@code target ...}, {@code weight shape ...}, {@code pos_weight ...}).
     *
     * @param message the message of the library's {@link IllegalArgumentException}
     * @return the error to report
     */
    UsageException libraryError(String message) {
        for (Map.Entry<String, String> option : FLAG_OF_OPTION.entrySet()) {
            if (message.startsWith(option.getKey() + " ")) {
                return new UsageException(option.getValue() + ": " + message);
            }
        }
        Path file = message.startsWith("target") ? target
                : message.startsWith("pos_weight") || message.startsWith("posWeight") ? posWeight
                : message.startsWith("weight") ? weight
                : message.startsWith("gradOutput") ? gradOutput : input;
        return new UsageException(file + ": " + message);
    }

    private Path path(String flag) throws UsageException {
        String value = given.get(flag);
        if (value == null) return null;
        try {
            return Paths.get(value);
        } catch (InvalidPathException e) {
            throw new UsageException(flag + ": invalid path " + value);
        }
    }

    /** --device, checked; cuda only where it can run. */
    private static Device device(String value) throws UsageException {
        return switch (value) {
            case "cpu" -> Device.CPU;
            case "cuda" -> {
                CudaAvailability cuda = Bce4j.cuda();
                if (!cuda.available()) throw new UsageException("--device cuda: CUDA is " + cuda.description());
                yield Device.CUDA;
            }
            default -> throw new UsageException("--device is '" + value + "'; expected cpu or cuda");
        };
    }

    private static PosWeightMode posWeightMode(String value) throws UsageException {
        return switch (value) {
            case "torch" -> PosWeightMode.TORCH;
            case "paddle-legacy" -> PosWeightMode.PADDLE_LEGACY;
            default ->
                throw new UsageException("--pos-weight-mode is '" + value + "'; expected torch or paddle-legacy");
        };
    }

    /** The focal options, or null when --focal-gamma is not given. */
    private Focal focal() throws UsageException {
        String gammaValue = given.get("--focal-gamma");
        String alphaValue = given.get("--focal-alpha");
        if (gammaValue == null && alphaValue == null) return null;
        if (gammaValue == null) throw new UsageException("--focal-alpha applies with --focal-gamma only");
        Double gamma = number(gammaValue);
        if (gamma == null) {
            throw new UsageException("--focal-gamma is '" + gammaValue + "'; expected a finite number, 0 or more");
        }
        double alpha = -1;
        if (alphaValue != null) {
            Double a = number(alphaValue);
            // Checked here, not left to the library, which reads a negative alpha as "no alpha": the flag
            // has no such value, and omitting it is how to ask for no alpha.
            if (a == null || !(a >= 0 && a <= 1)) {
                throw new UsageException("--focal-alpha is '" + alphaValue + "'; expected a number in [0, 1]");
            }
            alpha = a;
        }
        return new Focal(gamma, alpha);
    }

    private Double ignoreIndex() throws UsageException {
        String value = given.get("--ignore-index");
        if (value == null) return null;
        Double ignoreIndex = number(value);
        if (ignoreIndex == null) throw new UsageException("--ignore-index is '" + value + "'; expected a number");
        return ignoreIndex;
    }

    private double labelSmoothing() throws UsageException {
        String value = given.getOrDefault("--label-smoothing", "0");
        Double epsilon = number(value);
        if (epsilon == null) {
            throw new UsageException("--label-smoothing is '" + value + "'; expected a number in [0, 1]");
        }
        return epsilon;
    }

    private int smoothingClasses() throws UsageException {
        String value = given.get("--smoothing-classes");
        if (value == null) return 2;
        if (!given.containsKey("--label-smoothing")) {
            throw new UsageException("--smoothing-classes applies with --label-smoothing only");
        }
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--smoothing-classes is '" + value + "'; expected an integer, 1 or more");
        }
    }

    /** A decimal number, or null if {@code value} is not one. */
    private static Double number(String value) {
        try {
            return Double.valueOf(value);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static Reduction reduction(String value) throws UsageException {
        return switch (value) {
            case "none" -> Reduction.NONE;
            case "mean" -> Reduction.MEAN;
            case "sum" -> Reduction.SUM;
            case "mean_by_weight" -> Reduction.MEAN_BY_WEIGHT;
            case "mean_by_nonzero_weight" -> Reduction.MEAN_BY_NONZERO_WEIGHT;
            case "mean_valid" -> Reduction.MEAN_VALID;
            default ->
                throw new UsageException("--reduction is '" + value + "'; expected none, mean, sum, mean_by_weight, "
                        + "mean_by_nonzero_weight or mean_valid");
        };
    }

    /** A true|false flag's value; null when it is not given. */
    private Boolean booleanFlag(String flag) throws UsageException {
        String value = given.get(flag);
        if (value == null) return null;
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new UsageException(flag + " is '" + value + "'; expected true or false");
        };
    }

    private static int threads(String value) throws UsageException {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new UsageException("--threads is '" + value + "'; expected an integer from 0 (the default) to 1024");
        }
    }
}
