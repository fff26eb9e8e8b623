// The AVX2 deposit and scan of repro_sum.h: four double lanes per vector. Compiled with the AVX2 kernels' flags
// (CMakeLists.txt) and called only where the CPU has them.
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "repro_deposit.h"

namespace bce4j::repro_avx2 {

struct Ops {
    using V = __m256d;
    static constexpr int kAccumulators = 8;
    static constexpr int kLanes = 4;
    static V load(const double* p) { return _mm256_loadu_pd(p); }
    static V load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
    static V splat(double v) { return _mm256_set1_pd(v); }
    static V add(V a, V b) { return _mm256_add_pd(a, b); }
    static V sub(V a, V b) { return _mm256_sub_pd(a, b); }
    static V or_low_bit(V v) { return _mm256_or_pd(v, _mm256_castsi256_pd(_mm256_set1_epi64x(1))); }
    static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
};

#include "repro_deposit_impl.h"

// The magnitudes' high words (sign, exponent, 20 mantissa bits): their maximum, and the minimum of word - 1, where
// a zero wraps to the largest; AVX2 compares 32-bit lanes unsigned, not 64-bit ones. A subnormal below 2^-1042
// (high word zero) counts as zero, as repro_deposit.h allows.
ReproScan scan_double(const double* values, int64_t n) {
    const __m256i magnitude = _mm256_set1_epi32(INT32_MAX);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i max_high = _mm256_setzero_si256();
    __m256i min_high_less_one = _mm256_set1_epi32(-1);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        // The odd 32-bit words of eight doubles, in some order (which the maximum and minimum ignore).
        const __m256i high = _mm256_and_si256(
            _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castpd_ps(_mm256_loadu_pd(values + i)),
                                                  _mm256_castpd_ps(_mm256_loadu_pd(values + i + 4)), 0xDD)),
            magnitude);
        max_high = _mm256_max_epu32(max_high, high);
        min_high_less_one = _mm256_min_epu32(min_high_less_one, _mm256_sub_epi32(high, one));
    }
    uint32_t max_lanes[8], min_lanes[8];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(max_lanes), max_high);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(min_lanes), min_high_less_one);
    uint32_t max = *std::max_element(max_lanes, max_lanes + 8);
    uint32_t min = *std::min_element(min_lanes, min_lanes + 8);
    for (; i < n; ++i) {
        uint64_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        const auto high = static_cast<uint32_t>(bits >> 32) & INT32_MAX;
        max = std::max(max, high);
        min = std::min(min, high - 1);
    }
    return {uint64_t{max} << 32, min == UINT32_MAX ? 0 : uint64_t{min + 1} << 32};
}

// As for doubles, on the float bits (eight lanes, unsigned compares), widened at the end.
ReproScan scan_float(const float* values, int64_t n) {
    const __m256i magnitude = _mm256_set1_epi32(INT32_MAX);
    const __m256i one = _mm256_set1_epi32(1);
    __m256i max_bits[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    __m256i min_less_one[2] = {_mm256_set1_epi32(-1), _mm256_set1_epi32(-1)};
    auto take = [&](int a, __m256i bits) {
        bits = _mm256_and_si256(bits, magnitude);
        max_bits[a] = _mm256_max_epu32(max_bits[a], bits);
        min_less_one[a] = _mm256_min_epu32(min_less_one[a], _mm256_sub_epi32(bits, one));
    };
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        take(0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i)));
        take(1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(values + i + 8)));
    }
    uint32_t max_lanes[16], min_lanes[16];
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(max_lanes), max_bits[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(max_lanes + 8), max_bits[1]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(min_lanes), min_less_one[0]);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(min_lanes + 8), min_less_one[1]);
    uint32_t max = *std::max_element(max_lanes, max_lanes + 16);
    uint32_t min = *std::min_element(min_lanes, min_lanes + 16);
    for (; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        bits &= INT32_MAX;
        max = std::max(max, bits);
        min = std::min(min, bits - 1);
    }
    return {double_bits_of_float_bits(max), min == UINT32_MAX ? 0 : double_bits_of_float_bits(min + 1)};
}

}  // namespace bce4j::repro_avx2

namespace bce4j {

const ReproDeposits& avx2_repro_deposits() {
    static const ReproDeposits deposits{"avx2", repro_avx2::scan_double, repro_avx2::scan_float,
                                        repro_avx2::deposit<repro_avx2::Ops, double>,
                                        repro_avx2::deposit<repro_avx2::Ops, float>};
    return deposits;
}

}  // namespace bce4j
