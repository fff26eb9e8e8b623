package org.bce4j;

/**
 * How {@link BCEWithLogitsLoss} applies its positive-class weight p, with c = 1 + (p-1)*y:
 * <ul>
 *   <li>{@link #TORCH}: {@code l = w * ((1-y)*x + c*softplus(-x))}, as PyTorch and Paddle 2.6+;</li>
 *   <li>{@link #PADDLE_LEGACY}: {@code l = w * c * ((1-y)*x + softplus(-x))}, as Paddle up to 2.5.</li>
 * </ul>
 * Both give the same loss and input gradient on hard labels (y = 0 or 1) and differ for soft labels; the target
 * gradient of each is the derivative of its own formula.
 */
public enum PosWeightMode {
    /** PyTorch's (and Paddle 2.6+'s) form: p weights only the positive term; the default. */
    TORCH(0),
    /** Paddle's form up to 2.5: c scales the whole element loss. */
    PADDLE_LEGACY(1);

    final int code;

    PosWeightMode(int code) {
        this.code = code;
    }

    /** The value whose {@link #code} is {@code code}. */
    static PosWeightMode ofCode(int code) {
        for (PosWeightMode value : values()) {
            if (value.code == code) {
                return value;
            }
        }
        throw new IllegalArgumentException("no PosWeightMode has code " + code);
    }
}
