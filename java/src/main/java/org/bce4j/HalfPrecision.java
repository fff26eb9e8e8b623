package org.bce4j;

/**
 * Conversions between {@code float}/{@code double} and the 16-bit storage types, as {@code short} bit patterns:
 * IEEE binary16 ({@link DType#FLOAT16}) and bfloat16 ({@link DType#BFLOAT16}). Widening is exact. Rounding is to
 * nearest, ties to even, once (a double is not rounded to float first); values beyond the largest finite one
 * become infinity, subnormals are kept and NaN stays a (quiet) NaN. These are the conversions bce4j applies.
 */
public final class HalfPrecision {
    // {exponent bits, mantissa bits}
    private static final int[] FLOAT16_FORMAT = {5, 10};
    private static final int[] BFLOAT16_FORMAT = {8, 7};

    private HalfPrecision() {}

    /**
     * Widens 16-bit storage bits to float, exactly.
     *
     * @param dtype the format of {@code bits}: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param bits the 16-bit pattern
     * @return the value {@code bits} represent (infinities and NaN included)
     * @throws NullPointerException if {@code dtype} is null
     * @throws IllegalArgumentException if {@code dtype} is not FLOAT16 or BFLOAT16
     */
    public static float toFloat(DType dtype, short bits) {
        int b = bits & 0xffff;
        if (format(dtype) == BFLOAT16_FORMAT) {
            return Float.intBitsToFloat(b << 16);
        }
        int sign = (b & 0x8000) << 16;
        int exponent = (b >>> 10) & 0x1f;
        int mantissa = b & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13)); // infinity, NaN
        }
        if (exponent == 0) {
            float magnitude = mantissa * 0x1p-24f; // zero or subnormal, exact
            return sign != 0 ? -magnitude : magnitude;
        }
        return Float.intBitsToFloat(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
    }

    /**
     * Rounds a float to 16-bit storage, to nearest even.
     *
     * @param dtype the target format: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param value the value to round
     * @return the 16-bit pattern of the rounded value
     * @throws NullPointerException if {@code dtype} is null
     * @throws IllegalArgumentException if {@code dtype} is not FLOAT16 or BFLOAT16
     */
    public static short fromFloat(DType dtype, float value) {
        return fromDouble(dtype, value);
    }

    /**
     * Rounds a double to 16-bit storage once, to nearest even (not through float).
     *
     * @param dtype the target format: {@link DType#FLOAT16} or {@link DType#BFLOAT16}
     * @param value the value to round
     * @return the 16-bit pattern of the rounded value
     * @throws NullPointerException if {@code dtype} is null
     * @throws IllegalArgumentException if {@code dtype} is not FLOAT16 or BFLOAT16
     */
    public static short fromDouble(DType dtype, double value) {
        int[] f = format(dtype);
        int exponentBits = f[0];
        int mantissaBits = f[1];
        int bias = (1 << (exponentBits - 1)) - 1;
        int infinity = ((1 << exponentBits) - 1) << mantissaBits;
        long bits = Double.doubleToRawLongBits(value);
        int sign = (int) (bits >>> 48) & 0x8000;
        long magnitude = bits & 0x7fffffffffffffffL;
        if (magnitude > 0x7ff0000000000000L) { // NaN: quiet, keeping the payload's top bits
            int payload = (int) (magnitude >>> (52 - mantissaBits)) & ((1 << mantissaBits) - 1);
            return (short) (sign | infinity | (1 << (mantissaBits - 1)) | payload);
        }
        int exponent = (int) (magnitude >>> 52) - 1023;
        if (exponent > bias) {
            return (short) (sign | infinity); // also infinity itself
        }
        // The significand with its leading bit, shifted so that its last kept bit is the result's last mantissa
        // bit (of a subnormal result below the smallest normal); a rounding carry moves into the exponent.
        long significand = (magnitude & 0x000fffffffffffffL) | (1L << 52);
        int resultExponent = Math.max(exponent, 1 - bias);
        int shift = 52 - mantissaBits + (resultExponent - exponent);
        if (shift > 53) {
            return (short) sign; // below half the smallest subnormal
        }
        long kept = significand >>> shift;
        long dropped = significand & ((1L << shift) - 1);
        long half = 1L << (shift - 1);
        if (dropped > half || (dropped == half && (kept & 1) != 0)) {
            kept++;
        }
        long field = (long) (resultExponent + bias - 1) << mantissaBits;
        return (short) (sign | (field + kept));
    }

    private static int[] format(DType dtype) {
        Checks.notNull(dtype, "dtype");
        switch (dtype) {
            case FLOAT16:
                return FLOAT16_FORMAT;
            case BFLOAT16:
                return BFLOAT16_FORMAT;
            default:
                throw new IllegalArgumentException("dtype is " + dtype + "; expected FLOAT16 or BFLOAT16");
        }
    }
}
