package org.bce4j.sidebyside;

import org.bytedeco.javacpp.FloatPointer;

/**
 * The benchmark's data, built once for the largest N; a run on N elements uses the first N. Logits are uniform in
 * [-8, 8), labels 0 or 1, both a pure function of the element index (so the Vector API child process, which has a
 * copy of {@link #value} and {@link #label}, builds the same values). Held twice: off-heap in JavaCPP
 * {@link FloatPointer}s (for bce4j, libtorch and ND4J, which read that memory in place) and in {@code float[]}
 * (for the plain-Java loop).
 */
final class DataSet implements AutoCloseable {
    static final long SEED = 0x5EED_B0CE_4BL;

    final int maxN;
    final float[] x;
    final float[] y;
    final FloatPointer input;
    final FloatPointer target;

    DataSet(int maxN) {
        this.maxN = maxN;
        x = new float[maxN];
        y = new float[maxN];
        for (int i = 0; i < maxN; i++) {
            x[i] = value(i);
            y[i] = label(i);
        }
        input = new FloatPointer(maxN);
        target = new FloatPointer(maxN);
        input.put(x);
        target.put(y);
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /** Logit i, uniform in [-8, 8). */
    static float value(long i) {
        return (float) ((mix(SEED + (2 * i + 1) * 0x9E3779B97F4A7C15L) >>> 11) * 0x1.0p-53 * 16 - 8);
    }

    /** Label i, 0 or 1. */
    static float label(long i) {
        return (mix(SEED + (2 * i + 2) * 0x9E3779B97F4A7C15L) & 1) == 0 ? 0f : 1f;
    }

    /** The sum of the first n logits, in double in index order: the child process reports the same sum. */
    double inputSum(int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += x[i];
        return s;
    }

    @Override
    public void close() {
        input.close();
        target.close();
    }
}
