package org.bce4j.sidebyside;

import java.util.HashMap;
import java.util.Map;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.DType;
import org.bce4j.Outputs;
import org.bce4j.PreparedCall;
import org.bce4j.Reduction;
import org.bce4j.Tensor;
import org.bytedeco.javacpp.FloatPointer;

/**
 * bce4j's prepared path: per N and thread count, {@link BCEWithLogitsLoss#prepare} once, then each call one
 * {@link PreparedCall#run} on {@link Tensor} views (made once per N) over the shared off-heap data and a grad_input
 * buffer.
 */
final class Bce4jPreparedImpl implements Impl {
    static final String NAME = "bce4j prepared";

    private final DataSet data;
    private final FloatPointer grad;
    private final Map<Integer, BCEWithLogitsLoss> losses = new HashMap<>();
    private final Map<Long, PreparedCall> prepared = new HashMap<>();
    private PreparedCall call;
    private Tensor input;
    private Tensor target;
    private Outputs outputs;
    private int n;

    Bce4jPreparedImpl(DataSet data) {
        this.data = data;
        this.grad = new FloatPointer(data.maxN);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void prepare(int n) {
        this.n = n;
        input = Tensor.ofAddress(DType.FLOAT32, data.input.address(), n);
        target = Tensor.ofAddress(DType.FLOAT32, data.target.address(), n);
        outputs = new Outputs().gradInput(Tensor.ofAddress(DType.FLOAT32, grad.address(), n));
    }

    @Override
    public void threads(int t) {
        BCEWithLogitsLoss loss = losses.computeIfAbsent(t,
                k -> BCEWithLogitsLoss.builder().reduction(Reduction.MEAN).numThreads(k).build());
        call = prepared.computeIfAbsent(((long) n << 16) | t, k -> loss.prepare(DType.FLOAT32, n));
    }

    @Override
    public double call() {
        return call.run(input, target, outputs);
    }

    @Override
    public float[] gradInput() {
        float[] g = new float[n];
        grad.get(g);
        return g;
    }

    @Override
    public void close() {
        prepared.values().forEach(PreparedCall::close);
        losses.values().forEach(BCEWithLogitsLoss::close);
        grad.close();
    }
}
