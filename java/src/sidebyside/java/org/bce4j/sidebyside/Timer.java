package org.bce4j.sidebyside;

import java.util.Arrays;
import java.util.function.DoubleSupplier;

/**
 * The timing rule, shared by every implementation (and copied in VectorApiBaseline.java): warm up for
 * {@code warmupS} seconds (at least one call), estimate the time per call, size batches to at least 1 ms, and take
 * the median of the per-call times of {@code batches} batches; where that would exceed {@code capS} seconds, fewer
 * batches (at least 3, of one call each at the largest sizes).
 */
final class Timer {
    final double warmupS;
    final double capS;
    final int batches;
    static double sink; // keeps results alive

    Timer(double warmupS, double capS, int batches) {
        this.warmupS = warmupS;
        this.capS = capS;
        this.batches = batches;
    }

    /** A point's result. */
    record Measurement(double medianNs, int batches, int perBatch) {}

    Measurement measure(DoubleSupplier call) {
        long warmEnd = System.nanoTime() + (long) (warmupS * 1e9);
        int calls = 0;
        do {
            sink += call.getAsDouble();
            calls++;
        } while (System.nanoTime() < warmEnd);
        int probe = Math.max(1, Math.min(calls, 64));
        long t0 = System.nanoTime();
        for (int i = 0; i < probe; i++) sink += call.getAsDouble();
        double estimate = Math.max(1, (System.nanoTime() - t0) / (double) probe);
        int perBatch = (int) Math.max(1, Math.ceil(1e6 / estimate));
        int count = (int) Math.max(3, Math.min(batches, Math.floor(capS * 1e9 / (estimate * perBatch))));
        double[] ns = new double[count];
        for (int b = 0; b < count; b++) {
            long s = System.nanoTime();
            for (int i = 0; i < perBatch; i++) sink += call.getAsDouble();
            ns[b] = (System.nanoTime() - s) / (double) perBatch;
        }
        Arrays.sort(ns);
        return new Measurement(ns[count / 2], count, perBatch);
    }
}
