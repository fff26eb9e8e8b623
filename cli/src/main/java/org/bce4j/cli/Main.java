package org.bce4j.cli;

import java.io.PrintStream;
import java.util.Locale;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Reduction;
import org.bce4j.Tensor;

/** The command line: {@code java -jar bce4j.jar [demo | compute ... | bench ... | --help]}. */
public final class Main {
    private static final String USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar [command] [--help]",
            "",
            "commands:",
            "  demo      the seed examples: inputs, loss and gradients (the default)",
            "  compute   loss and gradients of .npy files, written as .npy files",
            "  bench     the time of one loss call, without and with grad_input, as one line",
            "  info      the version, the CPU kernels, the thread count and whether CUDA can run",
            "  --help    this text; <command> --help describes a command");

    private static final String DEMO_USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar demo",
            "",
            "Runs the seed examples (BCEWithLogitsLoss on [3] logits, and on [4, 7] logits with weight and",
            "pos_weight) through the float32 path and prints their inputs, loss and gradients.");

    private static final String INFO_USAGE = String.join(System.lineSeparator(),
            "usage: java -jar bce4j.jar info",
            "",
            "Prints what the native side is and where each of its files was loaded from, one fact per line:",
            "  bce4j VERSION",
            "  platform: PLATFORM (glibc baseline X.Y, COMPILER)",
            "  library: FILE                 libbce4j",
            "  jni: FILE                     the JNI glue",
            "  cpu: ISA (available: ISA, ...; REASON)",
            "  openmp: FILE                  the OpenMP runtime",
            "  threads: N                    the default OpenMP thread count",
            "  cuda library: FILE            the CUDA library in use, or the one that could not be loaded",
            "  cuda: available (N devices: names) | unavailable (reason)",
            "PLATFORM is the JVM's; the glibc baseline (the oldest glibc the natives run on) and the compiler are",
            "the natives'. The cpu line starts with the instruction set of the kernels in use, then lists those",
            "this CPU can run (BCE4J_ISA forces one) and says why these. A path not found prints as 'unknown'.");

    private Main() {}

    /**
     * Runs a command and exits the JVM with its status: 0 on success, 2 on bad arguments or input, 1 on other
     * failures.
     *
     * @param args the command and its arguments; none runs {@code demo}
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args.length == 0 ? "demo" : args[0];
        switch (command) {
            case "demo":
                if (args.length == 2 && (args[1].equals("--help") || args[1].equals("-h"))) {
                    out.println(DEMO_USAGE);
                    return 0;
                }
                if (args.length > 1) {
                    err.println("demo takes no arguments, got: " + args[1]);
                    return 2;
                }
                demo(out);
                return 0;
            case "info":
                if (args.length == 2 && (args[1].equals("--help") || args[1].equals("-h"))) {
                    out.println(INFO_USAGE);
                    return 0;
                }
                if (args.length > 1) {
                    err.println("info takes no arguments, got: " + args[1]);
                    return 2;
                }
                info(out);
                return 0;
            case "compute":
                return Compute.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
            case "bench":
                return Bench.run(java.util.Arrays.copyOfRange(args, 1, args.length), out, err);
            case "--help":
            case "-h":
            case "help":
                out.println(USAGE);
                return 0;
            default:
                err.println("unknown command: " + command);
                err.println(USAGE);
                return 2;
        }
    }

    /** What the library runs on here, and where its files were loaded from. */
    static void info(PrintStream out) {
        for (String line : Bce4j.nativeInfo().lines()) {
            out.println(line);
        }
    }

    /** Runs the two seed examples on float32 views of native copies of the arrays, and prints them. */
    static void demo(PrintStream out) {
        out.printf(Locale.ROOT, "bce4j %s (kernels: %s, threads: %d)%n%n", Bce4j.version(), Bce4j.cpuIsa(),
                Bce4j.defaultNumThreads());

        float[] logits = {5f, 1f, 3f};
        float[] labels = {1f, 0f, 1f};
        out.println("BCEWithLogitsLoss(reduction=mean), logits [3] against labels [3]");
        runCase(out, new long[] {3}, logits, labels, BCEWithLogitsLoss.builder().build());
        out.println("  (Paddle's documented value, in float32: 0.45618808)");
        out.println();

        int rows = 4;
        int classes = 7;
        float[] multiLogits = new float[rows * classes];
        float[] multiLabels = new float[rows * classes];
        for (int i = 0; i < multiLogits.length; i++) {
            multiLogits[i] = (i % 5 - 2) * 0.75f + (i / classes) * 0.25f;
            multiLabels[i] = (i * 3 + 1) % 4 == 0 ? 1f : 0f;
        }
        float[] weight = {1f, 0.5f, 2f, 1f, 1.5f, 0.25f, 1f};
        float[] posWeight = {3f, 1f, 0.5f, 2f, 1f, 4f, 1f};
        out.println("BCEWithLogitsLoss(weight[7], pos_weight[7], reduction=mean), multi-label logits [4, 7]");
        out.println("  weight     " + format(weight, 0, classes));
        out.println("  pos_weight " + format(posWeight, 0, classes));
        runCase(out, new long[] {rows, classes}, multiLogits, multiLabels, BCEWithLogitsLoss.builder()
                .weight(weight, classes).posWeight(posWeight, classes).reduction(Reduction.MEAN).build());
    }

    private static void runCase(PrintStream out, long[] shape, float[] logits, float[] labels,
            BCEWithLogitsLoss configured) {
        int columns = (int) shape[shape.length - 1];
        try (BCEWithLogitsLoss loss = configured) {
            Tensor gradInput = Tensor.allocate(DType.FLOAT32, shape);
            Tensor gradTarget = Tensor.allocate(DType.FLOAT32, shape);
            double mean = loss.compute(Tensor.copyOf(logits, shape), Tensor.copyOf(labels, shape),
                    new Outputs().gradInput(gradInput).gradTarget(gradTarget));
            printRows(out, "logits     ", logits, columns);
            printRows(out, "labels     ", labels, columns);
            out.printf(Locale.ROOT, "  loss        %.8f%n", mean);
            printRows(out, "grad_input ", gradInput.toFloatArray(), columns);
            printRows(out, "grad_target", gradTarget.toFloatArray(), columns);
        }
    }

    private static void printRows(PrintStream out, String label, float[] values, int columns) {
        for (int start = 0; start < values.length; start += columns) {
            out.println(
                    "  " + (start == 0 ? label : " ".repeat(label.length())) + " " + format(values, start, columns));
        }
    }

    private static String format(float[] values, int start, int count) {
        StringBuilder s = new StringBuilder("[");
        for (int i = start; i < start + count; i++) {
            s.append(String.format(Locale.ROOT, "%s%9.5f", i == start ? "" : ", ", values[i]));
        }
        return s.append(']').toString();
    }
}
