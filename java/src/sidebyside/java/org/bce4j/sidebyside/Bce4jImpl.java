package org.bce4j.sidebyside;

import java.util.HashMap;
import java.util.Map;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;
import org.bce4j.Reduction;
import org.bytedeco.javacpp.FloatPointer;

/**
 * bce4j: {@link BCEWithLogitsLoss} (mean, {@code numThreads(T)}), one fused {@code computeAt} call on the raw
 * addresses of the shared off-heap input and target and of a grad_input buffer allocated once.
 */
final class Bce4jImpl implements Impl {
    private final DataSet data;
    private final FloatPointer grad;
    private final Map<Integer, BCEWithLogitsLoss> losses = new HashMap<>();
    private BCEWithLogitsLoss loss;
    private long[] shape;
    private int n;

    Bce4jImpl(DataSet data) {
        this.data = data;
        this.grad = new FloatPointer(data.maxN);
    }

    @Override
    public String name() {
        return "bce4j";
    }

    @Override
    public void prepare(int n) {
        this.n = n;
        this.shape = new long[] {n};
    }

    @Override
    public void threads(int t) {
        loss = losses.computeIfAbsent(t,
                k -> BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(k).build());
    }

    @Override
    public double call() {
        return loss.computeAt(DType.FLOAT32, shape, data.input.address(), data.target.address(), 0, 0,
                grad.address(), 0);
    }

    @Override
    public float[] gradInput() {
        float[] g = new float[n];
        grad.get(g);
        return g;
    }

    @Override
    public void close() {
        losses.values().forEach(BCEWithLogitsLoss::close);
        grad.close();
    }
}
