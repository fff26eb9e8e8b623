package org.bce4j.sidebyside;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.DynamicCustomOp;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Environment;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ND4J 1.0.0-M2.1 (nd4j-native, CPU): libnd4j's custom op {@code sigm_cross_entropy_loss_grad} (the backprop op of
 * SameDiff's {@code sigmoidCrossEntropy} loss, {@code SigmoidCrossEntropyLossBp}), run directly on a reused
 * {@link OpContext}. Inputs: logits, a scalar weight 1 and the labels; reduction mode 3
 * ({@code MEAN_BY_NONZERO_WEIGHT_COUNT}, with a scalar weight 1 the mean over all elements); label smoothing 0.
 * One op call computes the per-element losses and, as its three outputs, dL/dlogits (grad_input), dL/dweight
 * (for a scalar weight of 1: the mean loss itself) and dL/dlabels (an extra output it always writes). That is the
 * closest ND4J has to a fused loss + gradient; {@link #prepare} checks once per N that dL/dweight equals the
 * forward op {@code sigm_cross_entropy_loss}'s mean loss.
 *
 * <p>The logits and labels are ND4J arrays over the shared off-heap memory (no copy); the outputs are allocated once
 * per N. Threads: {@code Nd4j.getEnvironment().setMaxMasterThreads(T)} at run time (libnd4j's thread pool is sized
 * at start-up from OMP_NUM_THREADS or the core count; {@code setMaxThreads} has no effect in this version).
 */
final class Nd4jImpl implements Impl {
    private final DataSet data;
    private final Environment environment = Nd4j.getEnvironment();
    private INDArray gradInput;
    private INDArray lossOut; // dL/dweight = mean loss
    private DynamicCustomOp op;
    private OpContext context;
    private int n;

    Nd4jImpl(DataSet data) {
        this.data = data;
        Nd4j.getMemoryManager().togglePeriodicGc(false); // no System.gc() from ND4J during the other timings
    }

    /** libnd4j's thread-pool size, fixed at start-up. */
    int poolThreads() {
        return environment.maxThreads();
    }

    @Override
    public String name() {
        return "ND4J";
    }

    private static INDArray view(FloatPointer p, int n) {
        return Nd4j.create(Nd4j.createBuffer(p, DataType.FLOAT, n, FloatIndexer.create(p)), new long[] {n},
                new long[] {1}, 0, 'c', DataType.FLOAT);
    }

    @Override
    public void prepare(int n) {
        this.n = n;
        closeContext();
        INDArray logits = view(data.input, n);
        INDArray labels = view(data.target, n);
        INDArray weight = Nd4j.scalar(DataType.FLOAT, 1f);
        gradInput = Nd4j.create(DataType.FLOAT, n);
        lossOut = Nd4j.scalar(DataType.FLOAT, 0f);
        INDArray gradLabels = Nd4j.create(DataType.FLOAT, n);
        op = DynamicCustomOp.builder("sigm_cross_entropy_loss_grad").addInputs(logits, weight, labels)
                .addOutputs(gradInput, lossOut, gradLabels).addFloatingPointArguments(0.0).addIntegerArguments(3)
                .build();
        context = Nd4j.getExecutioner().buildContext();
        context.setInputArrays(logits, weight, labels);
        context.setOutputArrays(gradInput, lossOut, gradLabels);
        context.setTArguments(0.0);
        context.setIArguments(3);

        INDArray forward = Nd4j.scalar(DataType.FLOAT, 0f);
        Nd4j.exec(DynamicCustomOp.builder("sigm_cross_entropy_loss").addInputs(logits, weight, labels)
                .addOutputs(forward).addFloatingPointArguments(0.0).addIntegerArguments(3).build());
        double viaGrad = call();
        double viaForward = forward.getDouble(0);
        if (Math.abs(viaGrad - viaForward) > 1e-6 * Math.abs(viaForward)) {
            System.out.printf("WARNING: ND4J N=%d: dL/dweight %.9g differs from the forward loss %.9g%n", n, viaGrad,
                    viaForward);
        }
    }

    @Override
    public void threads(int t) {
        environment.setMaxMasterThreads(t);
    }

    @Override
    public double call() {
        Nd4j.getExecutioner().exec(op, context);
        return lossOut.getDouble(0);
    }

    @Override
    public float[] gradInput() {
        return gradInput.toFloatVector();
    }

    private void closeContext() {
        if (context == null) return;
        try {
            context.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        closeContext();
    }
}
