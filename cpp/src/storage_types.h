// The 16-bit storage types (IEEE binary16 and bfloat16) and their portable conversions. Values are held as raw
// bits in distinct types, so that a RowArgs<Float16> can never be mistaken for another dtype. Widening is exact;
// narrowing rounds once to nearest even, overflows to infinity, keeps subnormals and turns NaN into a quiet NaN.
// to_double / from_double give the scalar reference kernels and the CPU call one spelling for every storage type.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

namespace bce4j {

struct Float16 {
    uint16_t bits;
};

struct BFloat16 {
    uint16_t bits;
};

// The layout of a 16-bit format: exponent and mantissa widths.
template <typename S>
struct Format16;
template <>
struct Format16<Float16> {
    static constexpr int kExponentBits = 5;
    static constexpr int kMantissaBits = 10;
};
template <>
struct Format16<BFloat16> {
    static constexpr int kExponentBits = 8;
    static constexpr int kMantissaBits = 7;
};

inline float float_from_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// The exact float value of a 16-bit value.
inline float widen(BFloat16 v) { return float_from_bits(static_cast<uint32_t>(v.bits) << 16); }

inline float widen(Float16 v) {
    const uint32_t sign = static_cast<uint32_t>(v.bits & 0x8000u) << 16;
    const uint32_t exponent = (v.bits >> 10) & 0x1fu;
    const uint32_t mantissa = v.bits & 0x3ffu;
    if (exponent == 0x1f) return float_from_bits(sign | 0x7f800000u | (mantissa << 13));  // inf, NaN
    if (exponent == 0) {
        // Zero or subnormal: mantissa * 2^-24, exact in float.
        const float magnitude = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
        return sign ? -magnitude : magnitude;
    }
    return float_from_bits(sign | ((exponent - 15 + 127) << 23) | (mantissa << 13));
}

// v rounded once to nearest even in format S (double holds every float exactly, so this also narrows floats).
template <typename S>
S narrow(double v) {
    constexpr int kExponentBits = Format16<S>::kExponentBits;
    constexpr int kMantissaBits = Format16<S>::kMantissaBits;
    constexpr int kBias = (1 << (kExponentBits - 1)) - 1;
    constexpr uint16_t kInfinity = static_cast<uint16_t>(((1u << kExponentBits) - 1) << kMantissaBits);
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const auto sign = static_cast<uint16_t>((bits >> 48) & 0x8000u);
    const uint64_t magnitude = bits & 0x7fffffffffffffffull;
    if (magnitude > 0x7ff0000000000000ull) {  // NaN: quiet, keeping the payload's top bits
        const auto payload = static_cast<uint16_t>((magnitude >> (52 - kMantissaBits)) & ((1u << kMantissaBits) - 1));
        return S{static_cast<uint16_t>(sign | kInfinity | (1u << (kMantissaBits - 1)) | payload)};
    }
    const int exponent = static_cast<int>(magnitude >> 52) - 1023;            // double subnormals: far below any result
    if (exponent > kBias) return S{static_cast<uint16_t>(sign | kInfinity)};  // also +-inf
    // The significand with its leading bit, shifted so that its last kept bit is the result's last mantissa bit
    // (of a subnormal result when the value is below the smallest normal).
    const uint64_t significand = (magnitude & 0x000fffffffffffffull) | (uint64_t{1} << 52);
    const int result_exponent = exponent < 1 - kBias ? 1 - kBias : exponent;
    const int shift = 52 - kMantissaBits + (result_exponent - exponent);
    if (shift > 53) return S{sign};  // below half the smallest subnormal (significand < 2^53 <= 2^(shift-1))
    uint64_t kept = significand >> shift;
    const uint64_t dropped = significand & ((uint64_t{1} << shift) - 1);
    const uint64_t half = uint64_t{1} << (shift - 1);
    if (dropped > half || (dropped == half && (kept & 1))) ++kept;
    // kept includes the leading bit (2^kMantissaBits) for a normal result, so the exponent field gets one less;
    // a rounding carry moves into the exponent, and from the largest finite value into infinity.
    const uint64_t field = static_cast<uint64_t>(result_exponent + kBias - 1) << kMantissaBits;
    return S{static_cast<uint16_t>(sign | (field + kept))};
}

inline double to_double(float v) { return v; }
inline double to_double(double v) { return v; }
inline double to_double(Float16 v) { return widen(v); }
inline double to_double(BFloat16 v) { return widen(v); }

// v rounded once to storage type T.
template <typename T>
T from_double(double v) {
    if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
        return narrow<T>(v);
    } else {
        return static_cast<T>(v);
    }
}

}  // namespace bce4j
