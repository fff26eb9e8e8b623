package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link HalfPrecision} over every bit pattern, and its rounding against one written here from the definition:
 * the nearest of all finite values by search, ties to the even pattern, infinity from the largest value plus half
 * its spacing on.
 */
class HalfPrecisionTest {

    static int exponentBits(DType dtype) {
        return dtype == DType.FLOAT16 ? 5 : 8;
    }

    static int mantissaBits(DType dtype) {
        return dtype == DType.FLOAT16 ? 10 : 7;
    }

    static int infinityBits(DType dtype) {
        return ((1 << exponentBits(dtype)) - 1) << mantissaBits(dtype);
    }

    static boolean isNaNBits(DType dtype, int bits) {
        return (bits & 0x7fff) > infinityBits(dtype);
    }

    /** (-1)^s * 2^(e - bias) * 1.m, or 2^(1 - bias) * 0.m for e = 0. */
    static double valueOf(DType dtype, int bits) {
        int m = mantissaBits(dtype);
        int bias = (1 << (exponentBits(dtype) - 1)) - 1;
        int exponent = (bits >> m) & ((1 << exponentBits(dtype)) - 1);
        int mantissa = bits & ((1 << m) - 1);
        double sign = (bits & 0x8000) != 0 ? -1 : 1;
        if (exponent == (1 << exponentBits(dtype)) - 1)
            return mantissa != 0 ? Double.NaN : sign * Double.POSITIVE_INFINITY;
        if (exponent == 0) return sign * Math.scalb((double) mantissa, 1 - bias - m);
        return sign * Math.scalb((double) (mantissa + (1 << m)), exponent - bias - m);
    }

    /** Every finite non-negative value in increasing order; the index is the bit pattern. */
    static double[] magnitudes(DType dtype) {
        double[] v = new double[infinityBits(dtype)];
        for (int b = 0; b < v.length; b++) v[b] = valueOf(dtype, b);
        return v;
    }

    /** The reference rounding, as bits (a NaN pattern for NaN). */
    static int referenceRound(DType dtype, double[] m, double v) {
        if (Double.isNaN(v)) return infinityBits(dtype) | 1;
        int sign = (Double.doubleToRawLongBits(v) < 0) ? 0x8000 : 0;
        double a = Math.abs(v);
        double largest = m[m.length - 1];
        if (a >= largest + (largest - m[m.length - 2]) / 2) return sign | infinityBits(dtype);
        if (a >= largest) return sign | (m.length - 1);
        int found = Arrays.binarySearch(m, a);
        if (found >= 0) return sign | found;
        int above = -found - 1;
        int below = above - 1;
        double midpoint = (m[below] + m[above]) / 2;
        int nearest = a < midpoint ? below : a > midpoint ? above : (below % 2 == 0 ? below : above);
        return sign | nearest;
    }

    /** The bits as an unsigned pattern. */
    static int bits(short s) {
        return s & 0xffff;
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT16", "BFLOAT16"})
    void wideningIsExactAndRoundingInvertsItForEveryBitPattern(DType dtype) {
        for (int b = 0; b < 65536; b++) {
            float wide = HalfPrecision.toFloat(dtype, (short) b);
            double want = valueOf(dtype, b);
            short back = HalfPrecision.fromFloat(dtype, wide);
            if (Double.isNaN(want)) {
                assertTrue(Float.isNaN(wide), Integer.toHexString(b));
                assertTrue(isNaNBits(dtype, bits(back)), Integer.toHexString(b));
                assertTrue((bits(back) & (1 << (mantissaBits(dtype) - 1))) != 0,
                        "quiet NaN from " + Integer.toHexString(b));
                continue;
            }
            assertEquals(Double.doubleToRawLongBits(want), Double.doubleToRawLongBits(wide), Integer.toHexString(b));
            assertEquals(b, bits(back), Integer.toHexString(b));
        }
    }

    /** Random float patterns, every midpoint (tie) and the floats beside it, and the overflow threshold. */
    static List<Float> roundingCases(DType dtype, double[] m) {
        SplittableRandom random = new SplittableRandom(11);
        List<Float> cases = new ArrayList<>();
        for (int i = 0; i < 100_000; i++) cases.add(Float.intBitsToFloat(random.nextInt()));
        for (int k = 0; k + 1 < m.length; k++) {
            float midpoint = (float) ((m[k] + m[k + 1]) / 2);
            for (float f : new float[] {midpoint, Math.nextDown(midpoint), Math.nextUp(midpoint), (float) m[k]}) {
                cases.add(f);
                cases.add(-f);
            }
        }
        double largest = m[m.length - 1];
        float overflow = (float) (largest + (largest - m[m.length - 2]) / 2);
        for (float f : new float[] {overflow, Math.nextDown(overflow), Math.nextUp(overflow)}) {
            cases.add(f);
            cases.add(-f);
        }
        return cases;
    }

    @ParameterizedTest
    @EnumSource(names = {"FLOAT16", "BFLOAT16"})
    void floatsRoundToNearestEvenOverflowToInfinityAndKeepSubnormals(DType dtype) {
        double[] m = magnitudes(dtype);
        for (float f : roundingCases(dtype, m)) {
            int want = referenceRound(dtype, m, f);
            int got = bits(HalfPrecision.fromFloat(dtype, f));
            if (isNaNBits(dtype, want)) {
                assertTrue(isNaNBits(dtype, got), "NaN " + f);
            } else {
                assertEquals(want, got, () -> Float.toHexString(f));
            }
        }
    }

    /** A double just beside a midpoint rounds to its side, where rounding to float first would make a tie. */
    @ParameterizedTest
    @EnumSource(names = {"FLOAT16", "BFLOAT16"})
    void doublesAreRoundedOnce(DType dtype) {
        double[] m = magnitudes(dtype);
        SplittableRandom random = new SplittableRandom(12);
        for (int i = 0; i < 50_000; i++) {
            int k = random.nextInt(m.length - 1);
            double midpoint = (m[k] + m[k + 1]) / 2;
            double offset = Math.scalb(midpoint, -30 - random.nextInt(20));
            for (double v : new double[] {midpoint + offset, midpoint - offset, midpoint}) {
                assertEquals(referenceRound(dtype, m, v), bits(HalfPrecision.fromDouble(dtype, v)),
                        () -> Double.toHexString(v));
            }
        }
    }

    @Test
    void otherDtypesAreRejectedNamingTheArgument() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> HalfPrecision.fromFloat(DType.FLOAT32, 1f));
        assertTrue(e.getMessage().contains("dtype is FLOAT32"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HalfPrecision.toFloat(DType.FLOAT64, (short) 0));
        NullPointerException n = assertThrows(NullPointerException.class, () -> HalfPrecision.toFloat(null, (short) 0));
        assertTrue(n.getMessage().contains("dtype"), n.getMessage());
    }
}
