package org.bce4j.sidebyside;

import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * libtorch 2.10 through org.bytedeco:pytorch: {@code binary_cross_entropy_with_logits(input, target, mean)}, then
 * autograd {@code backward()}. The input and target tensors are made once per N with {@code from_blob} on the shared
 * off-heap memory (no copy); the input is a leaf that requires grad. Each call first sets {@code input.grad} to
 * undefined (as {@code zero_grad(set_to_none=True)}), so backward writes a fresh grad_input instead of accumulating;
 * the call's own JavaCPP objects are freed by a {@link PointerScope}. Threads: {@code at::set_num_threads(T)}.
 */
final class TorchImpl implements Impl {
    private static final long MEAN = 1; // at::Reduction::Mean
    private final DataSet data;
    private final TensorOptional none = new TensorOptional();
    private final Tensor undefined = new Tensor();
    private Tensor input;
    private Tensor target;
    private int n;

    TorchImpl(DataSet data) {
        this.data = data;
    }

    @Override
    public String name() {
        return "libtorch";
    }

    @Override
    public void prepare(int n) {
        this.n = n;
        closeTensors();
        TensorOptions options = new TensorOptions(ScalarType.Float);
        input = torch.from_blob(data.input, new long[] {n}, options);
        target = torch.from_blob(data.target, new long[] {n}, options);
        input.requires_grad_(true);
    }

    @Override
    public void threads(int t) {
        torch.set_num_threads(t);
    }

    @Override
    public double call() {
        try (PointerScope scope = new PointerScope()) {
            input.mutable_grad().put(undefined);
            Tensor loss = torch.binary_cross_entropy_with_logits(input, target, none, none, MEAN);
            loss.backward();
            return loss.item_double();
        }
    }

    @Override
    public float[] gradInput() {
        float[] g = new float[n];
        try (PointerScope scope = new PointerScope()) {
            Tensor grad = input.grad().contiguous();
            new FloatPointer(grad.data_ptr_float()).get(g);
        }
        return g;
    }

    private void closeTensors() {
        if (input != null) {
            input.close();
            target.close();
        }
    }

    @Override
    public void close() {
        closeTensors();
    }
}
