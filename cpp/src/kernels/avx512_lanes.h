// AVX-512 lane operations: simd_kernels.h's Lanes<T> on 512-bit vectors (16 float or 8 double lanes) with mask
// registers, and the conversions for 16-bit storage. Only AVX-512F instructions are used, except in the one function
// marked with AVX512_BF16's target, called only where the CPU has it. Included only by files compiled with
// -mavx512f (see CMakeLists.txt) whose code runs only where the CPU and the OS support it.
#pragma once

#include <immintrin.h>

#include "../storage_types.h"

#define BCE4J_SIMD_NAMESPACE avx512

namespace bce4j::avx512 {
namespace {

template <typename T>
struct Lanes;

template <>
struct Lanes<float> {
    using V = __m512;
    using M = __mmask16;
    static constexpr int kCount = 16;

    static V splat(float v) { return _mm512_set1_ps(v); }
    static V load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
    static M prefix(int n) { return static_cast<M>((1u << n) - 1); }  // n < 16
    static V load_prefix(const float* p, int n) { return _mm512_maskz_loadu_ps(prefix(n), p); }
    static void store_prefix(float* p, int n, V v) { _mm512_mask_storeu_ps(p, prefix(n), v); }
    // v's lanes widened (exactly) to double, stored at p[0..16) or added to them.
    static __m512d low_doubles(V v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
    static __m512d high_doubles(V v) {
        return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    }
    static void store_widened(double* p, V v) {
        _mm512_storeu_pd(p, low_doubles(v));
        _mm512_storeu_pd(p + 8, high_doubles(v));
    }
    static void add_widened(double* p, V v) {
        _mm512_storeu_pd(p, _mm512_add_pd(_mm512_loadu_pd(p), low_doubles(v)));
        _mm512_storeu_pd(p + 8, _mm512_add_pd(_mm512_loadu_pd(p + 8), high_doubles(v)));
    }
    // v's lanes times `scale` in double, rounded once to float.
    static void store_scaled(float* p, V v, double scale) {
        const __m512d s = _mm512_set1_pd(scale);
        _mm256_storeu_ps(p, _mm512_cvtpd_ps(_mm512_mul_pd(low_doubles(v), s)));
        _mm256_storeu_ps(p + 8, _mm512_cvtpd_ps(_mm512_mul_pd(high_doubles(v), s)));
    }
    static V keep_prefix(V v, int n) { return _mm512_maskz_mov_ps(prefix(n), v); }
    static V add(V a, V b) { return _mm512_add_ps(a, b); }
    static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
    static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
    static V div(V a, V b) { return _mm512_div_ps(a, b); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
    static V fnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); }
    static V max(V a, V b) { return _mm512_max_ps(a, b); }  // b when either is NaN
    static V abs(V v) { return _mm512_abs_ps(v); }
    static V negate(V v) {
        return _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)));
    }
    static V negative_magnitude(V v) {
        return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(v), _mm512_set1_epi32(INT32_MIN)));
    }
    static M less(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
    static M greater(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
    static M equal(V a, V b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
    static M unordered(V v) { return _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q); }
    static M mask_or(M a, M b) { return static_cast<M>(a | b); }
    static bool any(M m) { return m != 0; }
    static V select(M m, V yes, V no) { return _mm512_mask_blend_ps(m, no, yes); }
    static V reciprocal(V v) {
        // 14-bit estimate and one Newton step: about 28 bits, rounded.
        const V estimate = _mm512_rcp14_ps(v);
        return _mm512_fmadd_ps(_mm512_fnmadd_ps(v, estimate, _mm512_set1_ps(1.0f)), estimate, estimate);
    }
    static V quotient(V a, V b) {
        // a * (1 / b) and one correction by the remainder a - q b (exact in an FMA): nearly correctly rounded, in
        // 6 uops on the FMA ports, where vdivps occupies the divider for about 10 cycles per vector.
        const V r = reciprocal(b);
        const V q = _mm512_mul_ps(a, r);
        return _mm512_fmadd_ps(_mm512_fnmadd_ps(q, b, a), r, q);
    }
    static V ldexp(V v, V n) { return _mm512_scalef_ps(v, n); }  // rounds a subnormal result once
    static V split_exponent(V v, V& exponent) {
        const __m512i bits = _mm512_castps_si512(v);
        exponent = _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(127)));
        const __m512i fraction = _mm512_and_si512(bits, _mm512_set1_epi32(0x007fffff));
        return _mm512_castsi512_ps(_mm512_or_si512(fraction, _mm512_set1_epi32(0x3f800000)));
    }

    struct Sum {
        __m512d low, high;
    };
    static Sum zero_sum() { return {_mm512_setzero_pd(), _mm512_setzero_pd()}; }
    static void add_to_sum(Sum& s, V v) {
        const __m256 high = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1));
        s.low = _mm512_add_pd(s.low, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        s.high = _mm512_add_pd(s.high, _mm512_cvtps_pd(high));
    }
    static void add_sums(Sum& s, const Sum& t) {
        s.low = _mm512_add_pd(s.low, t.low);
        s.high = _mm512_add_pd(s.high, t.high);
    }
    static double total(const Sum& s) {
        alignas(64) double lanes[8];
        _mm512_store_pd(lanes, _mm512_add_pd(s.low, s.high));
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
};

template <>
struct Lanes<double> {
    using V = __m512d;
    using M = __mmask8;
    static constexpr int kCount = 8;

    static V splat(double v) { return _mm512_set1_pd(v); }
    static V load(const double* p) { return _mm512_loadu_pd(p); }
    static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
    static M prefix(int n) { return static_cast<M>((1u << n) - 1); }  // n < 8
    static V load_prefix(const double* p, int n) { return _mm512_maskz_loadu_pd(prefix(n), p); }
    static void store_prefix(double* p, int n, V v) { _mm512_mask_storeu_pd(p, prefix(n), v); }
    static V keep_prefix(V v, int n) { return _mm512_maskz_mov_pd(prefix(n), v); }
    static V add(V a, V b) { return _mm512_add_pd(a, b); }
    static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
    static V mul(V a, V b) { return _mm512_mul_pd(a, b); }
    static V div(V a, V b) { return _mm512_div_pd(a, b); }
    static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
    static V fnma(V a, V b, V c) { return _mm512_fnmadd_pd(a, b, c); }
    static V max(V a, V b) { return _mm512_max_pd(a, b); }  // b when either is NaN
    static V abs(V v) { return _mm512_abs_pd(v); }
    static V negate(V v) {
        return _mm512_castsi512_pd(_mm512_xor_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MIN)));
    }
    static V negative_magnitude(V v) {
        return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(INT64_MIN)));
    }
    static M less(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
    static M greater(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
    static M equal(V a, V b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
    static M unordered(V v) { return _mm512_cmp_pd_mask(v, v, _CMP_UNORD_Q); }
    static M mask_or(M a, M b) { return static_cast<M>(a | b); }
    static bool any(M m) { return m != 0; }
    static V select(M m, V yes, V no) { return _mm512_mask_blend_pd(m, no, yes); }
    static V reciprocal(V v) {
        // 14-bit estimate and two Newton steps: about 56 bits, rounded.
        V estimate = _mm512_rcp14_pd(v);
        const V one = _mm512_set1_pd(1.0);
        estimate = _mm512_fmadd_pd(_mm512_fnmadd_pd(v, estimate, one), estimate, estimate);
        return _mm512_fmadd_pd(_mm512_fnmadd_pd(v, estimate, one), estimate, estimate);
    }
    static V quotient(V a, V b) {
        // As for float: vdivpd takes the divider for about 16 cycles per vector, this 9 uops on the FMA ports.
        const V r = reciprocal(b);
        const V q = _mm512_mul_pd(a, r);
        return _mm512_fmadd_pd(_mm512_fnmadd_pd(q, b, a), r, q);
    }
    static V ldexp(V v, V n) { return _mm512_scalef_pd(v, n); }        // rounds a subnormal result once
    static V ldexp_floor(V v, V y) { return _mm512_scalef_pd(v, y); }  // v * 2^floor(y), rounded once
    static V lookup16(const double (&table)[16], V index) {
        // vpermt2pd: one uop; the table's two vectors stay in registers across a loop.
        return _mm512_permutex2var_pd(_mm512_loadu_pd(table), _mm512_castpd_si512(index), _mm512_loadu_pd(table + 8));
    }
    static V split_exponent(V v, V& exponent) {
        const __m512i bits = _mm512_castpd_si512(v);
        const __m512i biased = _mm512_or_si512(_mm512_srli_epi64(bits, 52), _mm512_set1_epi64(0x4330000000000000));
        exponent = _mm512_sub_pd(_mm512_castsi512_pd(biased), _mm512_set1_pd(4503599627370496.0 + 1023.0));
        const __m512i fraction = _mm512_and_si512(bits, _mm512_set1_epi64(0x000fffffffffffff));
        return _mm512_castsi512_pd(_mm512_or_si512(fraction, _mm512_set1_epi64(0x3ff0000000000000)));
    }

    using Sum = __m512d;
    static Sum zero_sum() { return _mm512_setzero_pd(); }
    static void add_to_sum(Sum& s, V v) { s = _mm512_add_pd(s, v); }
    static void add_sums(Sum& s, const Sum& t) { s = _mm512_add_pd(s, t); }
    static double total(const Sum& s) {
        alignas(64) double lanes[8];
        _mm512_store_pd(lanes, s);
        return ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    }
};

// 16-bit storage conversions, 16 elements per vector; a row's last n % 16 go through the portable ones, which round
// the same way. Float16 uses AVX-512F's vcvtph2ps/vcvtps2ph (AVX512_FP16's vcvtps2phx rounds the same, so it would
// add nothing). bf16 is the upper half of a float: rounded with integer arithmetic (AVX-512F), or with
// vcvtneps2bf16 where the CPU has AVX512_BF16.
void widen_row(const Float16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(source + i));
        _mm512_storeu_ps(destination + i, _mm512_cvtph_ps(h));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

void narrow_row(const float* source, Float16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(source + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(destination + i), h);
    }
    for (; i < n; ++i) destination[i] = narrow<Float16>(source[i]);
}

void widen_row(const BFloat16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i h = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(source + i)));
        _mm512_storeu_ps(destination + i, _mm512_castsi512_ps(_mm512_slli_epi32(h, 16)));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

// 16 floats to bf16 by integer rounding to nearest even (as avx2_lanes.h explains); NaN is truncated and made quiet.
__m256i bf16_by_integer_rounding(__m512 v) {
    const __m512i bits = _mm512_castps_si512(v);
    const __m512i lowest_kept = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
    const __m512i rounded =
        _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(lowest_kept, _mm512_set1_epi32(0x7fff))), 16);
    const __m512i quiet_nan = _mm512_or_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(0x40));
    const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    return _mm512_cvtepi32_epi16(_mm512_mask_mov_epi32(rounded, nan, quiet_nan));
}

void narrow_bf16_row_by_integer_rounding(const float* source, BFloat16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = bf16_by_integer_rounding(_mm512_loadu_ps(source + i));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(destination + i), h);
    }
    for (; i < n; ++i) destination[i] = narrow<BFloat16>(source[i]);
}

// vcvtneps2bf16 rounds to nearest even and quiets NaN as the portable conversion does, but reads subnormal inputs
// as zero: a vector holding one goes through the integer rounding instead (subnormal floats are rare in losses and
// gradients, so the branch is almost never taken). Call only where cpu_has_avx512_bf16().
__attribute__((target("avx512bf16"))) void narrow_bf16_row_by_instruction(const float* source, BFloat16* destination,
                                                                          int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(source + i);
        // Subnormal: the magnitude's bits in [1, 0x7fffff], i.e. magnitude - 1 below 0x7fffff as unsigned.
        const __m512i magnitude_less_one =
            _mm512_sub_epi32(_mm512_castps_si512(_mm512_abs_ps(v)), _mm512_set1_epi32(1));
        const __mmask16 subnormal =
            _mm512_cmp_epu32_mask(magnitude_less_one, _mm512_set1_epi32(0x007fffff), _MM_CMPINT_LT);
        const __m256i h = subnormal ? bf16_by_integer_rounding(v) : reinterpret_cast<__m256i>(_mm512_cvtneps_pbh(v));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(destination + i), h);
    }
    for (; i < n; ++i) destination[i] = narrow<BFloat16>(source[i]);
}

bool cpu_has_avx512_bf16() {
    // The 512-bit form needs AVX512_BF16 beside AVX-512F (which the caller has); no VL form is used.
    static const bool has = __builtin_cpu_supports("avx512bf16");
    return has;
}

void narrow_row(const float* source, BFloat16* destination, int64_t n) {
    static const auto narrow_bf16_row =
        cpu_has_avx512_bf16() ? narrow_bf16_row_by_instruction : narrow_bf16_row_by_integer_rounding;
    narrow_bf16_row(source, destination, n);
}

}  // namespace
}  // namespace bce4j::avx512
