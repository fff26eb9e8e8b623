// The AVX-512 deposit and scan of repro_sum.h (AVX-512F only): eight double lanes per vector. Compiled with -mavx512f
// alone (CMakeLists.txt) and called only where the CPU has it.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "repro_deposit.h"

namespace bce4j::repro_avx512 {

// Unsigned lane maxima and minima. GCC 12's unmasked _mm512_max_epu32 and friends pass an uninitialised
// don't-care operand (-Wuninitialized); the masked forms with every lane taken are the same instructions.
__m512i max_u32(__m512i a, __m512i b) { return _mm512_mask_max_epu32(a, 0xFFFF, a, b); }
__m512i min_u32(__m512i a, __m512i b) { return _mm512_mask_min_epu32(a, 0xFFFF, a, b); }

struct Ops {
    using V = __m512d;
    static constexpr int kAccumulators = 24;
    static constexpr int kLanes = 8;
    static V load(const double* p) { return _mm512_loadu_pd(p); }
    static V load(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
    static V splat(double v) { return _mm512_set1_pd(v); }
    static V add(V a, V b) { return _mm512_add_pd(a, b); }
    static V sub(V a, V b) { return _mm512_sub_pd(a, b); }
    static V or_low_bit(V v) {
        return _mm512_castsi512_pd(_mm512_or_si512(_mm512_castpd_si512(v), _mm512_set1_epi64(1)));
    }
    static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
};

#include "repro_deposit_impl.h"

// The magnitudes' high words (sign, exponent, 20 mantissa bits), 16 in a vector: their maximum, and the minimum of
// word - 1, where a zero wraps to the largest. Half the 64-bit compares' work (which only one port runs); a
// subnormal below 2^-1042 (high word zero) counts as zero, as repro_deposit.h allows.
ReproScan scan_double(const double* values, int64_t n) {
    const __m512i magnitude = _mm512_set1_epi32(INT32_MAX);
    const __m512i one = _mm512_set1_epi32(1);
    __m512i max_high = _mm512_setzero_si512();
    __m512i min_high_less_one = _mm512_set1_epi32(-1);
    auto take = [&](__m512d low, __m512d high) {
        // The odd 32-bit words of sixteen doubles, in some order (which the maximum and minimum ignore).
        const __m512i words = _mm512_and_si512(
            _mm512_castps_si512(_mm512_shuffle_ps(_mm512_castpd_ps(low), _mm512_castpd_ps(high), 0xDD)), magnitude);
        max_high = max_u32(max_high, words);
        min_high_less_one = min_u32(min_high_less_one, _mm512_sub_epi32(words, one));
    };
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) take(_mm512_loadu_pd(values + i), _mm512_loadu_pd(values + i + 8));
    if (i < n) {
        // Zeros past the end change neither.
        const int64_t left = n - i;
        const auto low_lanes = static_cast<__mmask8>(left >= 8 ? 0xFF : (1u << left) - 1);
        const auto high_lanes = static_cast<__mmask8>(left <= 8 ? 0 : (1u << (left - 8)) - 1);
        take(_mm512_maskz_loadu_pd(low_lanes, values + i), _mm512_maskz_loadu_pd(high_lanes, values + i + 8));
    }
    uint32_t max_lanes[16], min_lanes[16];
    _mm512_storeu_si512(max_lanes, max_high);
    _mm512_storeu_si512(min_lanes, min_high_less_one);
    const uint32_t max = *std::max_element(max_lanes, max_lanes + 16);
    const uint32_t min = *std::min_element(min_lanes, min_lanes + 16);
    return {uint64_t{max} << 32, min == UINT32_MAX ? 0 : uint64_t{min + 1} << 32};
}

// As for doubles, on the float bits (16 lanes), widened at the end.
ReproScan scan_float(const float* values, int64_t n) {
    const __m512i magnitude = _mm512_set1_epi32(INT32_MAX);
    const __m512i one = _mm512_set1_epi32(1);
    __m512i max_bits[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
    __m512i min_less_one[2] = {_mm512_set1_epi32(-1), _mm512_set1_epi32(-1)};
    auto take = [&](int a, __m512i bits) {
        bits = _mm512_and_si512(bits, magnitude);
        max_bits[a] = max_u32(max_bits[a], bits);
        min_less_one[a] = min_u32(min_less_one[a], _mm512_sub_epi32(bits, one));
    };
    int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        take(0, _mm512_loadu_si512(values + i));
        take(1, _mm512_loadu_si512(values + i + 16));
    }
    for (; i < n; i += 16) {
        const auto lanes = static_cast<__mmask16>((1u << std::min<int64_t>(16, n - i)) - 1);
        take(0, _mm512_maskz_loadu_epi32(lanes, values + i));
    }
    uint32_t max_lanes[16], min_lanes[16];
    _mm512_storeu_si512(max_lanes, max_u32(max_bits[0], max_bits[1]));
    _mm512_storeu_si512(min_lanes, min_u32(min_less_one[0], min_less_one[1]));
    const uint32_t max = *std::max_element(max_lanes, max_lanes + 16);
    const uint32_t min = *std::min_element(min_lanes, min_lanes + 16);
    return {double_bits_of_float_bits(max), min == UINT32_MAX ? 0 : double_bits_of_float_bits(min + 1)};
}

}  // namespace bce4j::repro_avx512

namespace bce4j {

const ReproDeposits& avx512_repro_deposits() {
    static const ReproDeposits deposits{"avx512", repro_avx512::scan_double, repro_avx512::scan_float,
                                        repro_avx512::deposit<repro_avx512::Ops, double>,
                                        repro_avx512::deposit<repro_avx512::Ops, float>};
    return deposits;
}

}  // namespace bce4j
