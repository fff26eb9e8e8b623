// The Advanced SIMD (NEON) deposit and scan of repro_sum.h: two double lanes per vector. Advanced SIMD is aarch64's
// baseline (no flags); dispatch checks the CPU all the same.
#include <arm_neon.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "repro_deposit.h"

namespace bce4j::repro_neon {

struct Ops {
    using V = float64x2_t;
    static constexpr int kAccumulators = 16;
    static constexpr int kLanes = 2;
    static V load(const double* p) { return vld1q_f64(p); }
    static V load(const float* p) { return vcvt_f64_f32(vld1_f32(p)); }
    static V splat(double v) { return vdupq_n_f64(v); }
    static V add(V a, V b) { return vaddq_f64(a, b); }
    static V sub(V a, V b) { return vsubq_f64(a, b); }
    static V or_low_bit(V v) { return vreinterpretq_f64_u64(vorrq_u64(vreinterpretq_u64_f64(v), vdupq_n_u64(1))); }
    static void store(double* p, V v) { vst1q_f64(p, v); }
};

#include "repro_deposit_impl.h"

// 32-bit words' magnitudes: their maximum, and the minimum of word - 1 (a zero wraps to the largest).
struct WordRange {
    uint32x4_t max = vdupq_n_u32(0);
    uint32x4_t min_less_one = vdupq_n_u32(UINT32_MAX);
    void take(uint32x4_t words) {
        words = vandq_u32(words, vdupq_n_u32(INT32_MAX));
        max = vmaxq_u32(max, words);
        min_less_one = vminq_u32(min_less_one, vsubq_u32(words, vdupq_n_u32(1)));
    }
    void take(uint32_t word) {
        word &= INT32_MAX;
        max = vmaxq_u32(max, vdupq_n_u32(word));
        min_less_one = vminq_u32(min_less_one, vdupq_n_u32(word - 1));
    }
};

// On the doubles' high words (sign, exponent, 20 mantissa bits): a subnormal below 2^-1042 counts as zero, as
// repro_deposit.h allows.
ReproScan scan_double(const double* values, int64_t n) {
    WordRange range;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const uint32x4_t a = vreinterpretq_u32_f64(vld1q_f64(values + i));
        const uint32x4_t b = vreinterpretq_u32_f64(vld1q_f64(values + i + 2));
        range.take(vuzp2q_u32(a, b));  // the odd (high) words of four doubles
    }
    for (; i < n; ++i) {
        uint64_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        range.take(static_cast<uint32_t>(bits >> 32));
    }
    const uint32_t max = vmaxvq_u32(range.max);
    const uint32_t min = vminvq_u32(range.min_less_one);
    return {uint64_t{max} << 32, min == UINT32_MAX ? 0 : uint64_t{min + 1} << 32};
}

ReproScan scan_float(const float* values, int64_t n) {
    WordRange range;
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) range.take(vreinterpretq_u32_f32(vld1q_f32(values + i)));
    for (; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, values + i, sizeof bits);
        range.take(bits);
    }
    const uint32_t max = vmaxvq_u32(range.max);
    const uint32_t min = vminvq_u32(range.min_less_one);
    return {double_bits_of_float_bits(max), min == UINT32_MAX ? 0 : double_bits_of_float_bits(min + 1)};
}

}  // namespace bce4j::repro_neon

namespace bce4j {

const ReproDeposits& neon_repro_deposits() {
    static const ReproDeposits deposits{"neon", repro_neon::scan_double, repro_neon::scan_float,
                                        repro_neon::deposit<repro_neon::Ops, double>,
                                        repro_neon::deposit<repro_neon::Ops, float>};
    return deposits;
}

}  // namespace bce4j
