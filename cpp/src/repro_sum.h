// An order-independent sum of doubles: the value depends only on the multiset of the values added, never on their
// order or on how they were split into adds and merges (binned summation after Demmel & Nguyen, "Parallel
// reproducible summation", IEEE TC 2015, and ReproBLAS; our own code).
//
// The grid. Bin i (0 <= i <= 52) has the unit g_i = 2^(40 i - 1074): bins are W = 40 bits wide, and bin 0's unit is
// the smallest subnormal, so every double is a whole number of bin-0 units. A sum keeps K = 3 adjacent bins, the
// window top, top - 1, top - 2, where top is the smallest index >= 2 with max |x| < 2^39 g_top over the finite
// values added (the top bin of a value: kept by the sum as the largest such index seen).
//
// A value's slices. x is cut into slices, one per bin from the top down: d_top = x rounded to a multiple of g_top,
// d_{top-1} = the remainder rounded to a multiple of g_{top-1}, and so on, each rounding to nearest with ties away
// from zero (of the remainder being rounded); what is left below g_{top-2} is dropped. Every bin above a value's
// own top bin gets a zero slice (|x| < 2^39 g is less than half the next unit), so a value's slices do not depend
// on the window it was added under, and when the window moves up the bins that fall out of it are dropped whole:
// the sum keeps, per bin, the exact integer sum of its slices of every finite value added. Those integers and the
// window are functions of the multiset alone, so the state is the same bytes however the values were split and
// ordered, and so is the value.
//
// The deposit (vectorised per instruction set, chosen with the kernels; the scalar one is the reference and all
// give the same integers). Values go in blocks of 4096: a scan (largest and smallest nonzero |x|, and whether any
// is not finite) raises the window and plans the block, then the deposit takes the slices with floating-point adds
// as in ReproBLAS: q = S + (r | 1), d = q - S, r -= d, where S is a bin's lane accumulator, a double of unit g
// (1.5 * 2^52 g plus the slices so far); setting the lowest bit of r (the `| 1` on its bits) keeps round-to-
// nearest-even away from ties, so that a tie rounds away from zero whatever S's last bit is. A bin that needs no
// rounding for the block (each value a multiple of its unit, by the smallest nonzero |x|) adds the remainder
// exactly and the bins below it are skipped: float32 losses cost 5 double operations per value (2 bins, the second
// exact), float64 ones up to 10. A lane accumulator takes at most 2048 slices of magnitude <= 2^39 g before it is
// flushed (its bits minus the anchor's are the integer), so it never leaves its binade [2^52 g, 2^53 g). Windows
// with top 52 (values >= 2^1005) take the scalar path scaled by 2^-40, so that the top anchor stays finite; blocks
// with an infinity or NaN take the scalar path for their finite values.
//
// Accuracy. Each finite value loses at most g_{top-2} / 2 = g_top 2^-81, and g_top <= 2 max|x| (0 lost when
// top = 2: every double is a multiple of g_0); the integers convert to the nearest double once (ties to even). So
// |repro_sum_value - sum of the finite x| <= n * 2^-80 * max|x| + ulp(value) / 2, n the number of values added
// (ulp: the gap from |value| to the next double up): relative to the sum, 2^-80 max|x| / |mean| + 2^-53, whatever
// n, where a plain double sum's bound grows as n 2^-53 sum|x| / |sum|.
//
// Specials. An infinity or NaN sets a flag; the value is NaN after any NaN or after both +inf and -inf, +-inf
// after one of them, else the finite sum (which is +-inf when it exceeds the doubles, reproducibly: it is rounded
// once from the exact integers). The finite values keep their bins meanwhile.
#pragma once

#include <cstdint>

namespace bce4j {

// Plain data, normalised between calls (equal multisets, equal bytes): 56 bytes, no padding, 64-bit words from
// offset 8 (a serialiser copies the bytes of a little-endian machine).
struct ReproSum {
    int32_t top;          // the window's top bin, 2..52 (2 for the empty sum)
    uint32_t specials;    // kReproPositiveInfinity | kReproNegativeInfinity | kReproNaN seen
    uint64_t bins[3][2];  // bins[k] = bin top - k: the sum of its slices, an integer in units of g, as 128-bit
                          // two's complement {low word, high word}; |bins[k]| < 2^102 (2^63 values of < 2^39 units)
};
static_assert(sizeof(ReproSum) == 56, "ReproSum has no padding");

constexpr uint32_t kReproPositiveInfinity = 1;
constexpr uint32_t kReproNegativeInfinity = 2;
constexpr uint32_t kReproNaN = 4;

void repro_sum_init(ReproSum* s);                                  // the empty sum (value 0)
void repro_sum_add(ReproSum* s, const double* values, int64_t n);  // the fastest deposit this CPU has
void repro_sum_add(ReproSum* s, const float* values, int64_t n);   // float32 widened exactly
void repro_sum_merge(ReproSum* into, const ReproSum& from);
double repro_sum_value(const ReproSum& s);   // rounded once at the end
bool repro_sum_is_valid(const ReproSum& s);  // for bytes from outside (deserialising)

// For tests and benchmarks: repro_sum_add with the deposit of the instruction set `isa` ("scalar", "avx2",
// "avx512", "neon"); false (and nothing added) where this build or CPU has none.
bool repro_sum_add_with(const char* isa, ReproSum* s, const double* values, int64_t n);
bool repro_sum_add_with(const char* isa, ReproSum* s, const float* values, int64_t n);

// The instruction set repro_sum_add uses: the active kernels' (BCE4J_ISA, else the CPU's best).
const char* repro_sum_isa();

}  // namespace bce4j
