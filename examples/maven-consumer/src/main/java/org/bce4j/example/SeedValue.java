package org.bce4j.example;

import org.bce4j.BCEWithLogitsLoss;
import org.bce4j.Bce4j;
import org.bce4j.Tensor;

/** Prints the seed value, BCEWithLogitsLoss(mean) of logits [5, 1, 3] against labels [1, 0, 1], and the CUDA state. */
public final class SeedValue {
    private SeedValue() {}

    public static void main(String[] args) {
        try (BCEWithLogitsLoss loss = BCEWithLogitsLoss.builder().build()) {
            Tensor logits = Tensor.copyOf(new float[] {5, 1, 3}, 3);
            Tensor labels = Tensor.copyOf(new float[] {1, 0, 1}, 3);
            double mean = loss.compute(logits, labels);
            System.out.printf("bce4j %s seed mean %.8f%n", Bce4j.version(), mean);
        }
        System.out.println("cuda: " + Bce4j.cuda().description());
    }
}
