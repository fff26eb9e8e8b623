package org.bce4j;

/**
 * The options only BCEWithLogitsLoss has, as its builder set them.
 *
 * @param posWeight the positive-class weight, or null
 * @param posWeightMode how posWeight is applied
 * @param validateTargets whether a target outside [0, 1] (other than an ignored one) is an error
 * @param focalGamma the sigmoid focal loss' gamma, or null for no focal loss
 * @param focalAlpha the focal loss' alpha, or -1 for none; used only with focalGamma
 */
record LogitsOptions(WeightTensor posWeight, PosWeightMode posWeightMode, boolean validateTargets, Double focalGamma,
        double focalAlpha) {}
