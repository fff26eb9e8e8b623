package org.bce4j.sidebyside;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A plain scalar Java loop on {@code float[]}: per element, in double, {@code max(x,0) - x*y + log1p(exp(-|x|))}
 * with {@link Math#exp} and {@link Math#log1p}, and grad_input {@code (sigmoid(x) - y) / n} from the same
 * {@code exp(-|x|)}. With T threads the range is split into T chunks: T-1 go to a fixed pool, the last runs on the
 * calling thread; each chunk has at least {@link #MIN_PER_THREAD} elements, so calls under 32768 elements stay on
 * the calling thread (as bce4j's do).
 */
class PlainJavaImpl implements Impl {
    static final int MIN_PER_THREAD = 16384;
    final float[] x;
    final float[] y;
    final float[] g;
    private final ExecutorService pool;
    private int n;
    private int t = 1;

    PlainJavaImpl(DataSet data, ExecutorService pool) {
        this.x = data.x;
        this.y = data.y;
        this.g = new float[data.maxN];
        this.pool = pool;
    }

    @Override
    public String name() {
        return "Java scalar";
    }

    /** Sum of the losses of elements [from, to); writes their grad_input scaled by invN. */
    double kernel(int from, int to, double invN) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            double xi = x[i];
            double yi = y[i];
            double e = Math.exp(-Math.abs(xi));
            sum += Math.max(xi, 0) - xi * yi + Math.log1p(e);
            g[i] = (float) (((xi >= 0 ? 1 : e) / (1 + e) - yi) * invN);
        }
        return sum;
    }

    @Override
    public void prepare(int n) {
        this.n = n;
    }

    @Override
    public void threads(int t) {
        this.t = t;
    }

    @Override
    public double call() {
        double invN = 1.0 / n;
        int chunks = Math.max(1, Math.min(t, n / MIN_PER_THREAD));
        if (chunks == 1) return kernel(0, n, invN) * invN;
        int step = (n + chunks - 1) / chunks;
        List<Future<Double>> parts = new ArrayList<>(chunks - 1);
        for (int c = 0; c < chunks - 1; c++) {
            int from = c * step;
            int to = Math.min(n, from + step);
            parts.add(pool.submit(() -> kernel(from, to, invN)));
        }
        double sum = 0;
        double last = kernel((chunks - 1) * step, n, invN);
        try {
            for (Future<Double> part : parts) sum += part.get();
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
        return (sum + last) * invN;
    }

    @Override
    public float[] gradInput() {
        float[] copy = new float[n];
        System.arraycopy(g, 0, copy, 0, n);
        return copy;
    }

    @Override
    public void close() {}
}
