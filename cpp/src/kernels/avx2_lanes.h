// AVX2+FMA lane operations: simd_kernels.h's Lanes<T> on 256-bit vectors (8 float or 4 double lanes), and F16C
// conversions for 16-bit storage. Included only by files compiled with -mavx2 -mfma -mf16c (see CMakeLists.txt)
// whose code runs only where the CPU has all three.
#pragma once

#include <immintrin.h>

#include "../storage_types.h"

#define BCE4J_SIMD_NAMESPACE avx2

namespace bce4j::avx2 {
namespace {

template <typename T>
struct Lanes;

template <>
struct Lanes<float> {
    using V = __m256;
    using M = __m256;
    static constexpr int kCount = 8;

    static V splat(float v) { return _mm256_set1_ps(v); }
    static V load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
    static __m256i prefix(int n) {
        return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    }
    static V load_prefix(const float* p, int n) { return _mm256_maskload_ps(p, prefix(n)); }
    static void store_prefix(float* p, int n, V v) { _mm256_maskstore_ps(p, prefix(n), v); }
    // v's lanes widened (exactly) to double, stored at p[0..8) or added to them.
    static void store_widened(double* p, V v) {
        _mm256_storeu_pd(p, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        _mm256_storeu_pd(p + 4, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    static void add_widened(double* p, V v) {
        _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), _mm256_cvtps_pd(_mm256_castps256_ps128(v))));
        _mm256_storeu_pd(p + 4, _mm256_add_pd(_mm256_loadu_pd(p + 4), _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1))));
    }
    // v's lanes times `scale` in double, rounded once to float.
    static void store_scaled(float* p, V v, double scale) {
        const __m256d s = _mm256_set1_pd(scale);
        _mm_storeu_ps(p, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), s)));
        _mm_storeu_ps(p + 4, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), s)));
    }
    static V keep_prefix(V v, int n) { return _mm256_and_ps(v, _mm256_castsi256_ps(prefix(n))); }
    static V add(V a, V b) { return _mm256_add_ps(a, b); }
    static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
    static V div(V a, V b) { return _mm256_div_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
    static V fnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); }
    static V max(V a, V b) { return _mm256_max_ps(a, b); }  // b when either is NaN
    static V abs(V v) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), v); }
    static V negate(V v) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), v); }
    static V negative_magnitude(V v) { return _mm256_or_ps(_mm256_set1_ps(-0.0f), v); }
    static M less(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
    static M greater(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
    static M equal(V a, V b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
    static M unordered(V v) { return _mm256_cmp_ps(v, v, _CMP_UNORD_Q); }
    static M mask_or(M a, M b) { return _mm256_or_ps(a, b); }
    static bool any(M m) { return _mm256_movemask_ps(m) != 0; }
    static V select(M m, V yes, V no) { return _mm256_blendv_ps(no, yes, m); }
    static V reciprocal(V v) {
        // 12-bit estimate and two Newton steps (about 23 and then 24+ bits), on the FMA units.
        const V one = _mm256_set1_ps(1.0f);
        V estimate = _mm256_rcp_ps(v);
        estimate = _mm256_fmadd_ps(_mm256_fnmadd_ps(v, estimate, one), estimate, estimate);
        return _mm256_fmadd_ps(_mm256_fnmadd_ps(v, estimate, one), estimate, estimate);
    }
    static V quotient(V a, V b) {
        // a * (1 / b) and one correction by the remainder a - q b (exact in an FMA): nearly correctly rounded, and
        // pipelined, where vdivps takes the divider for about 5 cycles per vector.
        const V r = reciprocal(b);
        const V q = _mm256_mul_ps(a, r);
        return _mm256_fmadd_ps(_mm256_fnmadd_ps(q, b, a), r, q);
    }
    static V ldexp(V v, V n) {
        // Two factors 2^(n/2) and 2^(n - n/2), each a normal number for n >= -252, so that a subnormal result
        // is rounded only by the last multiplication.
        const __m256i whole = _mm256_cvtps_epi32(n);
        const __m256i half = _mm256_srai_epi32(whole, 1);
        const __m256i bias = _mm256_set1_epi32(127);
        const V first = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(half, bias), 23));
        const V second =
            _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(whole, half), bias), 23));
        return _mm256_mul_ps(_mm256_mul_ps(v, first), second);
    }
    static V split_exponent(V v, V& exponent) {
        const __m256i bits = _mm256_castps_si256(v);
        const __m256i biased = _mm256_srli_epi32(bits, 23);
        exponent = _mm256_cvtepi32_ps(_mm256_sub_epi32(biased, _mm256_set1_epi32(127)));
        const __m256i fraction = _mm256_and_si256(bits, _mm256_set1_epi32(0x007fffff));
        return _mm256_castsi256_ps(_mm256_or_si256(fraction, _mm256_set1_epi32(0x3f800000)));
    }

    struct Sum {
        __m256d low, high;
    };
    static Sum zero_sum() { return {_mm256_setzero_pd(), _mm256_setzero_pd()}; }
    static void add_to_sum(Sum& s, V v) {
        s.low = _mm256_add_pd(s.low, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        s.high = _mm256_add_pd(s.high, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    static void add_sums(Sum& s, const Sum& t) {
        s.low = _mm256_add_pd(s.low, t.low);
        s.high = _mm256_add_pd(s.high, t.high);
    }
    static double total(const Sum& s) {
        alignas(32) double lanes[4];
        _mm256_store_pd(lanes, _mm256_add_pd(s.low, s.high));
        return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
};

template <>
struct Lanes<double> {
    using V = __m256d;
    using M = __m256d;
    static constexpr int kCount = 4;

    static V splat(double v) { return _mm256_set1_pd(v); }
    static V load(const double* p) { return _mm256_loadu_pd(p); }
    static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
    static __m256i prefix(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
    static V load_prefix(const double* p, int n) { return _mm256_maskload_pd(p, prefix(n)); }
    static void store_prefix(double* p, int n, V v) { _mm256_maskstore_pd(p, prefix(n), v); }
    static V keep_prefix(V v, int n) { return _mm256_and_pd(v, _mm256_castsi256_pd(prefix(n))); }
    static V add(V a, V b) { return _mm256_add_pd(a, b); }
    static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
    static V mul(V a, V b) { return _mm256_mul_pd(a, b); }
    static V div(V a, V b) { return _mm256_div_pd(a, b); }
    static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
    static V fnma(V a, V b, V c) { return _mm256_fnmadd_pd(a, b, c); }
    static V max(V a, V b) { return _mm256_max_pd(a, b); }  // b when either is NaN
    static V abs(V v) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), v); }
    static V negate(V v) { return _mm256_xor_pd(_mm256_set1_pd(-0.0), v); }
    static V negative_magnitude(V v) { return _mm256_or_pd(_mm256_set1_pd(-0.0), v); }
    static M less(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
    static M greater(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
    static M equal(V a, V b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
    static M unordered(V v) { return _mm256_cmp_pd(v, v, _CMP_UNORD_Q); }
    static M mask_or(M a, M b) { return _mm256_or_pd(a, b); }
    static bool any(M m) { return _mm256_movemask_pd(m) != 0; }
    static V select(M m, V yes, V no) { return _mm256_blendv_pd(no, yes, m); }
    static V reciprocal(V v) { return _mm256_div_pd(_mm256_set1_pd(1.0), v); }  // no fast estimate for doubles
    static V reciprocal_in_float_range(V v) {
        // For |v| in float's normal range: vrcpps's 12-bit estimate r of the float nearest v, then
        // 1/v = r (1 + e + e^2 + e^3 + e^4) with e = 1 - v r (|e| < 2^-11: the first term left out is below 2^-55).
        // About 11 uops on the vector ports where vdivpd takes the divider for several cycles per vector: with the
        // divider left to log1p_unit's quotient alone, the logits kernel's float64 rows take about 10% less time.
        const V estimate = _mm256_cvtps_pd(_mm_rcp_ps(_mm256_cvtpd_ps(v)));
        const V e = _mm256_fnmadd_pd(v, estimate, _mm256_set1_pd(1.0));
        V series = _mm256_fmadd_pd(e, e, e);
        series = _mm256_fmadd_pd(series, e, e);
        series = _mm256_fmadd_pd(series, e, e);
        return _mm256_fmadd_pd(estimate, series, estimate);
    }
    static V quotient(V a, V b) { return _mm256_div_pd(a, b); }
    static V ldexp(V v, V n) {
        // As for float: two normal factors 2^(n/2) and 2^(n - n/2) for n >= -2044. n + (2^52 + 1023) puts the
        // biased exponent in the low mantissa bits, which the shift moves into the exponent field.
        const V half = _mm256_round_pd(_mm256_mul_pd(n, _mm256_set1_pd(0.5)), _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        const V magic = _mm256_set1_pd(4503599627370496.0 + 1023.0);
        const V first = _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(_mm256_add_pd(half, magic)), 52));
        const V second = _mm256_castsi256_pd(
            _mm256_slli_epi64(_mm256_castpd_si256(_mm256_add_pd(_mm256_sub_pd(n, half), magic)), 52));
        return _mm256_mul_pd(_mm256_mul_pd(v, first), second);
    }
    static V split_exponent(V v, V& exponent) {
        const __m256i bits = _mm256_castpd_si256(v);
        // The biased exponent as a double: its bits placed in the mantissa of 2^52.
        const __m256i biased = _mm256_or_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x4330000000000000));
        exponent = _mm256_sub_pd(_mm256_castsi256_pd(biased), _mm256_set1_pd(4503599627370496.0 + 1023.0));
        const __m256i fraction = _mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffff));
        return _mm256_castsi256_pd(_mm256_or_si256(fraction, _mm256_set1_epi64x(0x3ff0000000000000)));
    }

    using Sum = __m256d;
    static Sum zero_sum() { return _mm256_setzero_pd(); }
    static void add_to_sum(Sum& s, V v) { s = _mm256_add_pd(s, v); }
    static void add_sums(Sum& s, const Sum& t) { s = _mm256_add_pd(s, t); }
    static double total(const Sum& s) {
        alignas(32) double lanes[4];
        _mm256_store_pd(lanes, s);
        return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    }
};

// 16-bit storage conversions, 8 elements per vector; a row's last n % 8 go through the portable ones, which
// round the same way. fp16 uses F16C; bf16 is the upper half of a float, rounded with integer arithmetic.
void widen_row(const Float16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(source + i));
        _mm256_storeu_ps(destination + i, _mm256_cvtph_ps(h));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

void narrow_row(const float* source, Float16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(source + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(destination + i), h);
    }
    for (; i < n; ++i) destination[i] = narrow<Float16>(source[i]);
}

void widen_row(const BFloat16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i h = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(source + i)));
        _mm256_storeu_ps(destination + i, _mm256_castsi256_ps(_mm256_slli_epi32(h, 16)));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

void narrow_row(const float* source, BFloat16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(source + i);
        const __m256i bits = _mm256_castps_si256(v);
        // Round to nearest even: add 0x7fff plus the lowest kept bit; a carry moves into the exponent (and the
        // largest finite values into infinity), exactly as the rounding should.
        const __m256i lowest_kept = _mm256_and_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(1));
        const __m256i rounded =
            _mm256_srli_epi32(_mm256_add_epi32(bits, _mm256_add_epi32(lowest_kept, _mm256_set1_epi32(0x7fff))), 16);
        // NaN: truncated and made quiet instead (rounding could carry its payload into the sign).
        const __m256i quiet_nan = _mm256_or_si256(_mm256_srli_epi32(bits, 16), _mm256_set1_epi32(0x40));
        const __m256i result = _mm256_castps_si256(_mm256_blendv_ps(
            _mm256_castsi256_ps(rounded), _mm256_castsi256_ps(quiet_nan), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
        // Pack the 32-bit lanes' low halves (each < 2^16, so unsigned saturation keeps them) in order.
        const __m128i packed = _mm_packus_epi32(_mm256_castsi256_si128(result), _mm256_extracti128_si256(result, 1));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(destination + i), packed);
    }
    for (; i < n; ++i) destination[i] = narrow<BFloat16>(source[i]);
}

}  // namespace
}  // namespace bce4j::avx2
