// The per-instruction-set parts of the order-independent sum (repro_sum.h explains the algorithm): a block's scan
// (its largest and smallest nonzero magnitude) and its deposit into a window's bins. Each instruction set's file
// compiles repro_deposit_impl.h with its own lane operations; every one gives the same integers as the scalar one.
#pragma once

#include <cstdint>

namespace bce4j {

// How a block's values are cut into slices: the window's anchors and how many of its bins take slices.
struct ReproPlan {
    double anchors[3];  // anchors[k] = 1.5 * 2^52 * g_{top-k} (times the block's scale): a lane accumulator's zero
    int bins;           // 1..3: the bins, from the top, that take slices (those below get none from this block)
    bool last_rounds;   // whether the lowest of them rounds (some value is not a multiple of its unit)
};

// A block's magnitudes as the bits of doubles, of which only the exponent fields (bits 52..62) are used: the
// largest |x| (at least the bits of +inf where any value is not finite) and the smallest nonzero |x| (0 where every
// value is zero). A scan may count a subnormal below 2^-1042 as zero: it has no slices in a window above the lowest,
// and in the lowest window every bin takes slices whatever the scan says.
struct ReproScan {
    uint64_t max_abs_bits;
    uint64_t min_nonzero_abs_bits;
};

// Adds the slices of values[0..n) (finite, each below 2^39 times the top bin's unit, n <= kReproMaxBlock) to
// slices[0..bins): slices[k] += the sum of their slices in bin top - k, in units of that bin.
template <typename T>
using ReproDepositFn = void (*)(const T* values, int64_t n, const ReproPlan& plan, int64_t* slices);
template <typename T>
using ReproScanFn = ReproScan (*)(const T* values, int64_t n);

// At most 2^12 values of at most 2^39 units each: a block's slices fit in int64_t.
constexpr int64_t kReproMaxBlock = 4096;

struct ReproDeposits {
    const char* isa;
    ReproScanFn<double> scan_double;
    ReproScanFn<float> scan_float;
    ReproDepositFn<double> deposit_double;
    ReproDepositFn<float> deposit_float;
};

const ReproDeposits& scalar_repro_deposits();
#ifdef BCE4J_HAVE_AVX2
const ReproDeposits& avx2_repro_deposits();
#endif
#ifdef BCE4J_HAVE_AVX512
const ReproDeposits& avx512_repro_deposits();
#endif
#ifdef BCE4J_HAVE_NEON
const ReproDeposits& neon_repro_deposits();
#endif

}  // namespace bce4j
