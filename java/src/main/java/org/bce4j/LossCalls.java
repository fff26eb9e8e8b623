package org.bce4j;

import java.lang.ref.Reference;

/**
 * The calls of one loss on its native options: the checks of a call's operands that only Java can make, the
 * per-thread scratch, the native entry point of the loss' kind, and the gate that {@code close()} shuts. A call holds
 * the gate open, and this object reachable, until the native code returns.
 */
final class LossCalls {
    private final LossKind kind;
    private final NativeOptions options;
    private final Reduction reduction;
    private final boolean onCuda; // the CUDA entry points on host memory
    private final long[] weightShape; // null: no weight
    private final long weightCount; // the elements of the weight, 1 for none (an implicit scalar)
    private final CallGate gate;

    LossCalls(LossKind kind, NativeOptions options, Reduction reduction, boolean onCuda, long[] weightShape,
            String ownerName) {
        this.kind = kind;
        this.options = options;
        this.reduction = reduction;
        this.onCuda = onCuda;
        this.weightShape = weightShape;
        long count = 1;
        for (long d : weightShape == null ? new long[0] : weightShape) {
            count *= d; // checked by the native library at build: no overflow
        }
        this.weightCount = count;
        this.gate = new CallGate(ownerName);
    }

    /** {@link BinaryCrossEntropy#compute(Tensor, Tensor, Tensor, Outputs)}. */
    double compute(Tensor input, Tensor target, Tensor gradOutput, Outputs outputs) {
        // Read once: another thread may change the outputs object while this call runs (not allowed, but harmless).
        Tensor loss = outputs == null ? null : outputs.loss();
        Tensor gradInput = outputs == null ? null : outputs.gradInput();
        Tensor gradTarget = outputs == null ? null : outputs.gradTarget();
        Tensor gradWeight = outputs == null ? null : outputs.gradWeight();
        Tensor gradPosWeight = outputs == null ? null : outputs.gradPosWeight();
        gate.acquire();
        try {
            Checks.notNull(input, "input");
            DType dtype = input.dtype();
            long count = input.count();
            long perResult = reduction == Reduction.NONE ? count : 1;
            Checks.operand(input, "input", dtype, count, true, false);
            Checks.operand(target, "target", dtype, count, true, false);
            Checks.operand(gradOutput, "gradOutput", dtype, perResult, false, false);
            Checks.operand(loss, "loss", dtype, perResult, reduction == Reduction.NONE, true);
            Checks.operand(gradInput, "gradInput", dtype, count, false, true);
            Checks.operand(gradTarget, "gradTarget", dtype, count, false, true);
            Checks.operand(gradWeight, "gradWeight", dtype, weightCount, false, true);
            long posWeightCount = kind.posWeightGradientCount();
            if (posWeightCount >= 0) { // else the native library rejects a gradPosWeight: BCELoss has no pos_weight
                Checks.operand(gradPosWeight, "gradPosWeight", dtype, posWeightCount, false, true);
            }
            CallScratch scratch = CallScratch.current();
            scratch.putShape(input.dims());
            long callOptions = gradWeight == null && gradPosWeight == null ? options.address(dtype)
                    : scratch.optionsWithGradients(options, dtype, addressOf(gradWeight), addressOf(gradPosWeight));
            int status = kind.compute(onCuda, callOptions, dtype.code, input.rank(),
                    scratch.shapeAddress, input.address(), target.address(), addressOf(gradOutput),
                    addressOf(loss), scratch.reducedLossAddress, addressOf(gradInput), addressOf(gradTarget));
            return result(status, scratch);
        } finally {
            release();
            // The views keep their memory reachable; until here, then, after the native call.
            Reference.reachabilityFence(input);
            Reference.reachabilityFence(target);
            Reference.reachabilityFence(gradOutput);
            Reference.reachabilityFence(loss);
            Reference.reachabilityFence(gradInput);
            Reference.reachabilityFence(gradTarget);
            Reference.reachabilityFence(gradWeight);
            Reference.reachabilityFence(gradPosWeight);
        }
    }

    /** {@link BinaryCrossEntropy#partial(Tensor, Tensor, Tensor)}; {@code weight} null: the loss' own. */
    Partial partial(Tensor input, Tensor target, Tensor weight) {
        gate.acquire();
        try {
            Checks.notNull(input, "input");
            DType dtype = input.dtype();
            long count = input.count();
            Checks.operand(input, "input", dtype, count, true, false);
            Checks.operand(target, "target", dtype, count, true, false);
            if (weight != null && weight.dtype() != dtype) {
                throw new IllegalArgumentException("weight is " + weight.dtype() + " but input is " + dtype);
            }
            CallScratch shape = CallScratch.current();
            shape.putShape(input.dims());
            PartialScratch scratch = PartialScratch.current();
            long callOptions = weight == null ? options.address(dtype)
                    : scratch.optionsWithWeight(options, dtype, weight);
            NativeLibrary.bce4j_partial_init(scratch.first);
            int status = kind.logitsFlag() != 0
                    ? NativeLibrary.bce4j_bce_with_logits_partial(callOptions, dtype.code, input.rank(),
                            shape.shapeAddress, input.address(), target.address(), scratch.first)
                    : NativeLibrary.bce4j_bce_partial(callOptions, dtype.code, input.rank(), shape.shapeAddress,
                            input.address(), target.address(), scratch.first);
            NativeStatus.check(status);
            return Partial.of(scratch, scratch.first);
        } finally {
            release();
            Reference.reachabilityFence(input);
            Reference.reachabilityFence(target);
            Reference.reachabilityFence(weight);
        }
    }

    private static long addressOf(Tensor t) {
        return t == null ? 0 : t.address();
    }

    /** Runs {@code action} with the gate open: it throws {@link IllegalStateException} once this loss is closed. */
    <R> R whileOpen(java.util.function.Supplier<R> action) {
        gate.acquire();
        try {
            return action.get();
        } finally {
            release();
        }
    }

    /** The elements of a gradWeight output: the weight's, 1 without one. */
    long weightCount() {
        return weightCount;
    }

    /** The shape of a gradWeight output: the weight's, {@code []} without one. */
    long[] weightGradientShape() {
        return weightShape == null ? new long[0] : weightShape.clone();
    }

    /** The shape of a gradPosWeight output, {@code []} without a posWeight; null for BCELoss, which has none. */
    long[] posWeightGradientShape() {
        return kind.posWeightGradientShape();
    }

    /** {@link BinaryCrossEntropy#computeAt}. */
    double computeAt(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget) {
        Checks.notNull(dtype, "dtype");
        gate.acquire();
        try {
            CallScratch scratch = CallScratch.current();
            if (scratch.putShape(shape)) {
                Checks.address(loss, "loss", reduction == Reduction.NONE);
            }
            int status = kind.compute(onCuda, options.address(dtype), dtype.code, shape.length,
                    scratch.shapeAddress, input, target, gradOutput, loss, scratch.reducedLossAddress, gradInput,
                    gradTarget);
            return result(status, scratch);
        } finally {
            release();
        }
    }

    /** {@link BinaryCrossEntropy#computeOnCuda}. */
    double computeOnCuda(DType dtype, long[] shape, long input, long target, long gradOutput, long loss,
            long gradInput, long gradTarget, long stream) {
        Checks.notNull(dtype, "dtype");
        gate.acquire();
        try {
            CallScratch scratch = CallScratch.current();
            if (weightShape != null || kind.hasPosWeight()) {
                throw new IllegalStateException("computeOnCuda takes device memory, but this loss holds its weight or "
                        + "posWeight in host memory; build it with device(Device.CUDA) and pass host buffers instead");
            }
            if (scratch.putShape(shape)) {
                Checks.address(loss, "loss", reduction == Reduction.NONE);
            }
            NativeLibrary.CudaLibraryFile.ensureNamed();
            int status = kind.computeOnCuda(options.address(dtype), dtype.code, shape.length, scratch.shapeAddress,
                    input, target, gradOutput, loss, scratch.reducedLossAddress, gradInput, gradTarget, stream);
            return result(status, scratch);
        } finally {
            release();
        }
    }

    private double result(int status, CallScratch scratch) {
        NativeStatus.check(status);
        return reduction == Reduction.NONE ? Double.NaN : scratch.reducedLoss();
    }

    private void release() {
        gate.release();
        // Until here, after the native call: were this object (and so the options it holds) unreachable during the
        // call, the garbage collector could free the native memory (JavaCPP's deallocators) under it.
        Reference.reachabilityFence(this);
    }

    /** Shuts the gate, waits for the calls inside, and frees the options once. */
    void close() {
        gate.close(options::close);
    }
}
