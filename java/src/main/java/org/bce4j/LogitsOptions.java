package org.bce4j;

/**
 * The options only BCEWithLogitsLoss has, as its builder set them; BCELoss passes {@link #NONE}.
 *
 * @param posWeight the positive-class weight, or null
 * @param posWeightMode how posWeight is applied
 * @param validateTargets whether a target outside [0, 1] (other than an ignored one) is an error
 */
record LogitsOptions(WeightTensor posWeight, PosWeightMode posWeightMode, boolean validateTargets) {
    static final LogitsOptions NONE = new LogitsOptions(null, PosWeightMode.TORCH, false);
}
