package org.bce4j.example;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;

/** Prints the seed value, BCEWithLogitsLoss(mean) of logits [5, 1, 3] against labels [1, 0, 1], and the CUDA state. */
public final class SeedValue {
    private SeedValue() {}

    private static FloatBuffer direct(float... values) {
        FloatBuffer b = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        return b.put(values).flip();
    }

    public static void main(String[] args) {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build()) {
            double mean = loss.compute(new long[] {3}, direct(5f, 1f, 3f), direct(1f, 0f, 1f), null, null, null);
            System.out.printf("bce4j %s seed mean %.8f%n", Bce4j.version(), mean);
        }
        System.out.println("cuda: " + Bce4j.cuda().description());
    }
}
