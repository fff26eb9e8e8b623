// Advanced SIMD (NEON) lane operations for aarch64: simd_kernels.h's Lanes<T> on 128-bit vectors (4 float or 2
// double lanes), and the 16-bit storage conversions: FCVTL/FCVTN for fp16 (base AArch64), and for bf16 either
// integer rounding or, where the CPU has Armv8.6's BF16 (HWCAP2_BF16), BFCVTN. Advanced SIMD is part of every
// AArch64 Linux CPU's baseline, so this needs no compiler flags; dispatch.cpp still checks HWCAP_ASIMD.
//
// What AVX2 and AVX-512 have and AArch64 does not, done otherwise:
//  - masked loads and stores (the last n < 4 lanes of a row): through a 4-lane scratch array on the stack;
//  - rcp14 / rcpps: FRECPE (an 8-bit estimate), one FRECPS step (16 bits), one FMA step (as AVX2's second, to
//    within rounding of the correctly rounded reciprocal);
//  - scalef: two exponent-field factors, as avx2_lanes.h;
//  - movemask: a horizontal maximum (UMAXV) of the lane mask;
//  - the sums' 256/512-bit lane splits: FCVTL/FCVTL2 of the low and high float pairs into two double vectors.
#pragma once

#include <arm_neon.h>
#include <sys/auxv.h>

#include "../storage_types.h"

#define BCE4J_SIMD_NAMESPACE neon

namespace bce4j::neon {
namespace {

template <typename T>
struct Lanes;

template <>
struct Lanes<float> {
    using V = float32x4_t;
    using M = uint32x4_t;
    static constexpr int kCount = 4;

    static V splat(float v) { return vdupq_n_f32(v); }
    static V load(const float* p) { return vld1q_f32(p); }
    static void store(float* p, V v) { vst1q_f32(p, v); }
    static M prefix(int n) {
        static constexpr uint32_t kLaneIndex[4] = {0, 1, 2, 3};
        return vcltq_u32(vld1q_u32(kLaneIndex), vdupq_n_u32(static_cast<uint32_t>(n)));
    }
    static V load_prefix(const float* p, int n) {  // n < 4; nothing at or beyond p + n is read
        float lanes[kCount] = {0, 0, 0, 0};
        for (int k = 0; k < n; ++k) lanes[k] = p[k];
        return vld1q_f32(lanes);
    }
    static void store_prefix(float* p, int n, V v) {
        float lanes[kCount];
        vst1q_f32(lanes, v);
        for (int k = 0; k < n; ++k) p[k] = lanes[k];
    }
    static V keep_prefix(V v, int n) { return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(v), prefix(n))); }
    static V add(V a, V b) { return vaddq_f32(a, b); }
    static V sub(V a, V b) { return vsubq_f32(a, b); }
    static V mul(V a, V b) { return vmulq_f32(a, b); }
    static V div(V a, V b) { return vdivq_f32(a, b); }
    static V fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
    static V fnma(V a, V b, V c) { return vfmsq_f32(c, a, b); }
    // NaN when either is NaN (FMAX), where x86's max gives b: the kernels pass the operand that may be NaN as b and
    // need only that NaN to stay NaN.
    static V max(V a, V b) { return vmaxq_f32(a, b); }
    static V abs(V v) { return vabsq_f32(v); }
    static V negate(V v) { return vnegq_f32(v); }
    static V negative_magnitude(V v) {
        return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(v), vdupq_n_u32(0x80000000u)));
    }
    static M less(V a, V b) { return vcltq_f32(a, b); }
    static M greater(V a, V b) { return vcgtq_f32(a, b); }
    static M equal(V a, V b) { return vceqq_f32(a, b); }
    static M unordered(V v) { return vmvnq_u32(vceqq_f32(v, v)); }
    static M mask_or(M a, M b) { return vorrq_u32(a, b); }
    static bool any(M m) { return vmaxvq_u32(m) != 0; }
    static V select(M m, V yes, V no) { return vbslq_f32(m, yes, no); }
    static V reciprocal(V v) {
        // FRECPE's 8-bit estimate, FRECPS's step e (2 - v e) to about 16 bits, then e + e (1 - v e) in FMAs (as
        // AVX2's last step) to within rounding.
        V estimate = vrecpeq_f32(v);
        estimate = vmulq_f32(estimate, vrecpsq_f32(v, estimate));
        return vfmaq_f32(estimate, estimate, vfmsq_f32(vdupq_n_f32(1.0f), v, estimate));
    }
    static V quotient(V a, V b) {
        // a * (1 / b) and one correction by the remainder a - q b (exact in an FMA), as on x86: FDIV's throughput
        // is a quarter to a sixth of FMA's on Neoverse cores.
        const V r = reciprocal(b);
        const V q = vmulq_f32(a, r);
        return vfmaq_f32(q, vfmsq_f32(a, q, b), r);
    }
    static V ldexp(V v, V n) {
        // Two factors 2^(n/2) and 2^(n - n/2), each a normal number for n >= -252, so that a subnormal result
        // is rounded only by the last multiplication (as avx2_lanes.h).
        const int32x4_t whole = vcvtnq_s32_f32(n);
        const int32x4_t half = vshrq_n_s32(whole, 1);
        const int32x4_t bias = vdupq_n_s32(127);
        const V first = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(half, bias), 23));
        const V second = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vsubq_s32(whole, half), bias), 23));
        return vmulq_f32(vmulq_f32(v, first), second);
    }
    static V split_exponent(V v, V& exponent) {
        const uint32x4_t bits = vreinterpretq_u32_f32(v);
        const int32x4_t biased = vreinterpretq_s32_u32(vshrq_n_u32(bits, 23));
        exponent = vcvtq_f32_s32(vsubq_s32(biased, vdupq_n_s32(127)));
        const uint32x4_t fraction = vandq_u32(bits, vdupq_n_u32(0x007fffffu));
        return vreinterpretq_f32_u32(vorrq_u32(fraction, vdupq_n_u32(0x3f800000u)));
    }

    struct Sum {
        float64x2_t low, high;
    };
    static Sum zero_sum() { return {vdupq_n_f64(0.0), vdupq_n_f64(0.0)}; }
    static void add_to_sum(Sum& s, V v) {
        s.low = vaddq_f64(s.low, vcvt_f64_f32(vget_low_f32(v)));
        s.high = vaddq_f64(s.high, vcvt_high_f64_f32(v));
    }
    static void add_sums(Sum& s, const Sum& t) {
        s.low = vaddq_f64(s.low, t.low);
        s.high = vaddq_f64(s.high, t.high);
    }
    static double total(const Sum& s) {
        const float64x2_t both = vaddq_f64(s.low, s.high);
        return vgetq_lane_f64(both, 0) + vgetq_lane_f64(both, 1);
    }
};

template <>
struct Lanes<double> {
    using V = float64x2_t;
    using M = uint64x2_t;
    static constexpr int kCount = 2;

    static V splat(double v) { return vdupq_n_f64(v); }
    static V load(const double* p) { return vld1q_f64(p); }
    static void store(double* p, V v) { vst1q_f64(p, v); }
    static M prefix(int n) {
        static constexpr uint64_t kLaneIndex[2] = {0, 1};
        return vcltq_u64(vld1q_u64(kLaneIndex), vdupq_n_u64(static_cast<uint64_t>(n)));
    }
    static V load_prefix(const double* p, int n) {  // n < 2
        double lanes[kCount] = {0, 0};
        for (int k = 0; k < n; ++k) lanes[k] = p[k];
        return vld1q_f64(lanes);
    }
    static void store_prefix(double* p, int n, V v) {
        double lanes[kCount];
        vst1q_f64(lanes, v);
        for (int k = 0; k < n; ++k) p[k] = lanes[k];
    }
    static V keep_prefix(V v, int n) { return vreinterpretq_f64_u64(vandq_u64(vreinterpretq_u64_f64(v), prefix(n))); }
    static V add(V a, V b) { return vaddq_f64(a, b); }
    static V sub(V a, V b) { return vsubq_f64(a, b); }
    static V mul(V a, V b) { return vmulq_f64(a, b); }
    static V div(V a, V b) { return vdivq_f64(a, b); }
    static V fma(V a, V b, V c) { return vfmaq_f64(c, a, b); }
    static V fnma(V a, V b, V c) { return vfmsq_f64(c, a, b); }
    static V max(V a, V b) { return vmaxq_f64(a, b); }  // NaN when either is NaN: see Lanes<float>::max
    static V abs(V v) { return vabsq_f64(v); }
    static V negate(V v) { return vnegq_f64(v); }
    static V negative_magnitude(V v) {
        return vreinterpretq_f64_u64(vorrq_u64(vreinterpretq_u64_f64(v), vdupq_n_u64(0x8000000000000000ull)));
    }
    static M less(V a, V b) { return vcltq_f64(a, b); }
    static M greater(V a, V b) { return vcgtq_f64(a, b); }
    static M equal(V a, V b) { return vceqq_f64(a, b); }
    static M unordered(V v) { return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(vceqq_f64(v, v)))); }
    static M mask_or(M a, M b) { return vorrq_u64(a, b); }
    static bool any(M m) { return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0; }
    static V select(M m, V yes, V no) { return vbslq_f64(m, yes, no); }
    // As avx2_lanes.h: the division (a 52-bit result needs three Newton steps from FRECPE's 8 bits).
    static V reciprocal(V v) { return vdivq_f64(vdupq_n_f64(1.0), v); }
    static V quotient(V a, V b) { return vdivq_f64(a, b); }
    static V ldexp(V v, V n) {
        // As for float: two normal factors 2^(n/2) and 2^(n - n/2) for n >= -2044 (n is integral, so the
        // conversion is exact).
        const int64x2_t whole = vcvtq_s64_f64(n);
        const int64x2_t half = vshrq_n_s64(whole, 1);
        const int64x2_t bias = vdupq_n_s64(1023);
        const V first = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(half, bias), 52));
        const V second = vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(vsubq_s64(whole, half), bias), 52));
        return vmulq_f64(vmulq_f64(v, first), second);
    }
    static V split_exponent(V v, V& exponent) {
        const uint64x2_t bits = vreinterpretq_u64_f64(v);
        const int64x2_t biased = vreinterpretq_s64_u64(vshrq_n_u64(bits, 52));
        exponent = vcvtq_f64_s64(vsubq_s64(biased, vdupq_n_s64(1023)));
        const uint64x2_t fraction = vandq_u64(bits, vdupq_n_u64(0x000fffffffffffffull));
        return vreinterpretq_f64_u64(vorrq_u64(fraction, vdupq_n_u64(0x3ff0000000000000ull)));
    }

    using Sum = float64x2_t;
    static Sum zero_sum() { return vdupq_n_f64(0.0); }
    static void add_to_sum(Sum& s, V v) { s = vaddq_f64(s, v); }
    static void add_sums(Sum& s, const Sum& t) { s = vaddq_f64(s, t); }
    static double total(const Sum& s) { return vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1); }
};

// 16-bit storage conversions, 8 elements per step; a row's last n % 8 go through the portable ones, which round the
// same way. FCVTL/FCVTN round to nearest even under the FPCR's default mode (Linux starts every thread with it and
// the JVM keeps it), keep subnormals (FZ off) and quiet NaN keeping the payload's top bits, as narrow() does.
void widen_row(const Float16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(reinterpret_cast<const uint16_t*>(source + i)));
        vst1q_f32(destination + i, vcvt_f32_f16(vget_low_f16(h)));
        vst1q_f32(destination + i + 4, vcvt_high_f32_f16(h));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

void narrow_row(const float* source, Float16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(source + i)), vld1q_f32(source + i + 4));
        vst1q_u16(reinterpret_cast<uint16_t*>(destination + i), vreinterpretq_u16_f16(h));
    }
    for (; i < n; ++i) destination[i] = narrow<Float16>(source[i]);
}

void widen_row(const BFloat16* source, float* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(reinterpret_cast<const uint16_t*>(source + i));
        vst1q_f32(destination + i, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)));
        vst1q_f32(destination + i + 4, vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)));
    }
    for (; i < n; ++i) destination[i] = widen(source[i]);
}

// 4 floats to bf16 by integer rounding to nearest even (as avx2_lanes.h explains); NaN is truncated and made quiet.
uint16x4_t bf16_by_integer_rounding(float32x4_t v) {
    const uint32x4_t bits = vreinterpretq_u32_f32(v);
    const uint32x4_t lowest_kept = vandq_u32(vshrq_n_u32(bits, 16), vdupq_n_u32(1));
    const uint16x4_t rounded = vshrn_n_u32(vaddq_u32(bits, vaddq_u32(lowest_kept, vdupq_n_u32(0x7fff))), 16);
    const uint16x4_t quiet_nan = vorr_u16(vshrn_n_u32(bits, 16), vdup_n_u16(0x40));
    const uint16x4_t nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
    return vbsl_u16(nan, quiet_nan, rounded);
}

void narrow_bf16_row_by_integer_rounding(const float* source, BFloat16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vcombine_u16(bf16_by_integer_rounding(vld1q_f32(source + i)),
                                          bf16_by_integer_rounding(vld1q_f32(source + i + 4)));
        vst1q_u16(reinterpret_cast<uint16_t*>(destination + i), h);
    }
    for (; i < n; ++i) destination[i] = narrow<BFloat16>(source[i]);
}

// BFCVTN/BFCVTN2 (Armv8.6 BF16): round to nearest even under the FPCR's default mode, keep subnormals (FZ off) and
// quiet NaN keeping the payload's top bits, as narrow() does (HalfStorageNeon tests it bit for bit). Call only where
// cpu_has_bf16().
__attribute__((target("arch=armv8.2-a+bf16"))) void narrow_bf16_row_by_instruction(const float* source,
                                                                                   BFloat16* destination, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const bfloat16x8_t h =
            vcvtq_high_bf16_f32(vcvtq_low_bf16_f32(vld1q_f32(source + i)), vld1q_f32(source + i + 4));
        vst1q_u16(reinterpret_cast<uint16_t*>(destination + i), vreinterpretq_u16_bf16(h));
    }
    for (; i < n; ++i) destination[i] = narrow<BFloat16>(source[i]);
}

bool cpu_has_bf16() {
    static const bool has = (getauxval(AT_HWCAP2) & HWCAP2_BF16) != 0;
    return has;
}

void narrow_row(const float* source, BFloat16* destination, int64_t n) {
    static const auto narrow_bf16_row =
        cpu_has_bf16() ? narrow_bf16_row_by_instruction : narrow_bf16_row_by_integer_rounding;
    narrow_bf16_row(source, destination, n);
}

}  // namespace
}  // namespace bce4j::neon
