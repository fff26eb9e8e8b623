// Division of a non-negative 64-bit index by a divisor fixed for a whole launch, without a division instruction:
// GPUs have none for 64-bit integers (nvcc emits a subroutine of some 70 instructions), and the broadcast offsets
// need one quotient per element per dimension. Granlund & Montgomery, "Division by invariant integers using
// multiplication" (PLDI 1994), figure 4.1: one multiply-high, a subtraction, an addition and two shifts, exact for
// every dividend in [0, 2^64) and every divisor in [1, 2^63]. Host and device code; the tests run it on the host.
#pragma once

#include <cstdint>

#include "../element_math.h"  // BCE4J_HOST_DEVICE

namespace bce4j::cuda {

__extension__ typedef unsigned __int128 Uint128;  // __extension__: a GCC/Clang/nvcc type, not ISO C++

struct FastDivisor {
    uint64_t divisor = 1;
    uint64_t multiplier = 1;  // m' = floor(2^64 (2^l - d) / d) + 1, l = ceil(log2 d)
    uint32_t shift1 = 0;      // min(l, 1)
    uint32_t shift2 = 0;      // max(l - 1, 0)

    static FastDivisor of(uint64_t d) {  // d >= 1
        uint32_t l = 0;
        while (l < 64 && (Uint128{1} << l) < d) ++l;
        FastDivisor f;
        f.divisor = d;
        f.multiplier = static_cast<uint64_t>((((Uint128{1} << l) - d) << 64) / d + 1);
        f.shift1 = l < 1 ? l : 1;
        f.shift2 = l > 1 ? l - 1 : 0;
        return f;
    }

    BCE4J_HOST_DEVICE uint64_t quotient(uint64_t n) const {
#ifdef __CUDA_ARCH__
        const uint64_t t = __umul64hi(multiplier, n);
#else
        const uint64_t t = static_cast<uint64_t>((Uint128{multiplier} * n) >> 64);
#endif
        return (t + ((n - t) >> shift1)) >> shift2;
    }
};

// ceil(n / d) for n >= 0, d > 0, without the overflow of (n + d - 1) / d near INT64_MAX.
BCE4J_HOST_DEVICE constexpr int64_t ceil_div(int64_t n, int64_t d) { return n / d + (n % d != 0 ? 1 : 0); }

}  // namespace bce4j::cuda
