package org.bce4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bce4j.BinaryCrossEntropy;
import org.bce4j.CudaUnavailableException;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.Reduction;
import org.bce4j.Tensor;

/**
 * The {@code compute} command: loss and gradients of .npy inputs, written as .npy files. Every output is first
 * written to a temporary file in the output directory and moved into place only when all of them succeeded.
 */
final class Compute {
    private Compute() {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                out.println(ComputeFlags.USAGE);
                return 0;
            }
        }
        try {
            execute(ComputeFlags.parse(args), err);
            return 0;
        } catch (UsageException | IOException | CudaUnavailableException e) {
            err.println("bce4j compute: " + e.getMessage());
            return 2;
        } catch (IllegalStateException e) { // a CUDA runtime failure: not the input's fault
            err.println("bce4j compute: " + e.getMessage());
            return 1;
        }
    }

    static void execute(ComputeFlags flags, PrintStream err) throws UsageException, IOException {
        if (Files.exists(flags.out) && !Files.isDirectory(flags.out)) {
            throw new UsageException("--out " + flags.out + " exists and is not a directory");
        }
        Npy.Array input = Npy.read(flags.input);
        Npy.Array target = Npy.read(flags.target);
        Npy.Array weight = flags.weight == null ? null : Npy.read(flags.weight);
        Npy.Array posWeight = flags.posWeight == null ? null : Npy.read(flags.posWeight);
        Npy.Array gradOutput = flags.gradOutput == null ? null : Npy.read(flags.gradOutput);

        long[] shape = input.shape();
        Reduction reduction = flags.reduction;
        sameDtype(input, flags.input, target, flags.target);
        if (!Arrays.equals(target.shape(), shape)) {
            throw new UsageException(flags.target + ": shape " + Arrays.toString(target.shape())
                    + " differs from the input's " + Arrays.toString(shape) + " (" + flags.input + ")");
        }
        // Broadcasting is checked by the native call (one rule, in one place); its error names the operand.
        if (weight != null) sameDtype(input, flags.input, weight, flags.weight);
        if (posWeight != null) sameDtype(input, flags.input, posWeight, flags.posWeight);
        if (gradOutput != null) {
            sameDtype(input, flags.input, gradOutput, flags.gradOutput);
            if (reduction == Reduction.NONE ? !Arrays.equals(gradOutput.shape(), shape) : gradOutput.count() != 1) {
                throw new UsageException(flags.gradOutput + ": shape " + Arrays.toString(gradOutput.shape())
                        + "; expected " + (reduction == Reduction.NONE ? "the input's shape " + Arrays.toString(shape)
                                : "a 0-d array (one element) for reduction " + ComputeFlags.name(reduction)));
            }
        }

        DType dtype = input.dtype;
        Npy.Array loss = Npy.Array.allocate(dtype, reduction == Reduction.NONE ? shape : new long[0]);
        Npy.Array gradInput = Npy.Array.allocate(dtype, shape);
        Npy.Array gradTarget = flags.logits ? Npy.Array.allocate(dtype, shape) : null;
        // Each weight gradient has its operand's shape; 0-d (one element) for an operand not given, the
        // derivative for an implicit scalar weight of 1. BCELoss has no pos_weight, so no gradient for it.
        Npy.Array gradWeight = flags.gradWeights ? Npy.Array.allocate(dtype, shapeOf(weight)) : null;
        Npy.Array gradPosWeight = flags.gradWeights && flags.logits
                ? Npy.Array.allocate(dtype, shapeOf(posWeight)) : null;
        Outputs wanted = new Outputs().loss(view(loss)).gradInput(view(gradInput)).gradTarget(view(gradTarget))
                .gradWeight(view(gradWeight)).gradPosWeight(view(gradPosWeight));
        try (BinaryCrossEntropy bce = flags.buildLoss(weight, posWeight)) {
            bce.compute(view(input), view(target), view(gradOutput), wanted);
        } catch (IllegalArgumentException e) {
            throw flags.libraryError(e.getMessage());
        }

        Map<String, Npy.Array> outputs = new LinkedHashMap<>();
        outputs.put("loss.npy", loss);
        outputs.put("grad_input.npy", gradInput);
        if (gradTarget != null) outputs.put("grad_target.npy", gradTarget);
        if (gradWeight != null) outputs.put("grad_weight.npy", gradWeight);
        if (gradPosWeight != null) outputs.put("grad_pos_weight.npy", gradPosWeight);
        OutputFiles.writeAll(flags.out, outputs);
        if (flags.legacyReduction) {
            // Only once the run succeeded: a failing run prints its one error line and nothing else.
            err.println("bce4j compute: warning: --size-average and --reduce are deprecated (as in PyTorch) and "
                    + "override --reduction: using --reduction " + ComputeFlags.name(reduction));
        }
    }

    /** {@return a view of the array's data for the loss, or null for no array} */
    private static Tensor view(Npy.Array array) {
        return array == null ? null : array.tensor();
    }

    /** {@return the array's shape, or 0-d for no array} */
    private static long[] shapeOf(Npy.Array array) {
        return array == null ? new long[0] : array.shape();
    }

    private static void sameDtype(Npy.Array input, Path inputFile, Npy.Array other, Path otherFile)
            throws UsageException {
        if (other.dtype != input.dtype) {
            throw new UsageException(otherFile + ": dtype " + Npy.descr(other.dtype) + " differs from the input's "
                    + Npy.descr(input.dtype) + " (" + inputFile + "); all inputs must share one dtype");
        }
    }
}
