package org.bce4j.sidebyside;

import java.util.concurrent.ExecutorService;

/**
 * The memory floor: the bytes a fused pass must move and nothing else. Per element it reads input and target and
 * writes grad_input ({@code g[i] = x[i] + y[i]} on {@code float[]}, which C2 compiles to AVX2 vector loads, adds and
 * stores), with the same threading as {@link PlainJavaImpl}. No loss, so it is not checked.
 */
final class CopyFloorImpl extends PlainJavaImpl {
    CopyFloorImpl(DataSet data, ExecutorService pool) {
        super(data, pool);
    }

    @Override
    public String name() {
        return "copy floor";
    }

    @Override
    double kernel(int from, int to, double invN) {
        float[] x = this.x;
        float[] y = this.y;
        float[] g = this.g;
        for (int i = from; i < to; i++) {
            g[i] = x[i] + y[i];
        }
        return 0;
    }

    @Override
    public float[] gradInput() {
        return null;
    }
}
