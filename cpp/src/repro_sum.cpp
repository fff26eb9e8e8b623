// The order-independent sum (repro_sum.h): blocks scanned and deposited by the chosen instruction set's functions
// (kernels/repro_deposit_*.cpp), the window and the 128-bit bin integers kept here.
#include "repro_sum.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/dispatch.h"
#include "kernels/repro_deposit.h"

namespace bce4j {
namespace {

// GCC's and Clang's 128-bit integers (-Wpedantic: not ISO C++).
__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

constexpr int kBinWidth = 40;
constexpr int kBins = 3;
constexpr int kLowestTop = kBins - 1;
constexpr int kHighestTop = 52;  // the top bin of DBL_MAX
constexpr int kScaledTop = 52;   // whose anchor 1.5 * 2^52 * 2^1006 would overflow: deposited scaled by 2^-40
constexpr int kScaleExponent = -40;
constexpr uint64_t kInfinityBits = 0x7ff0000000000000u;
constexpr uint32_t kAllSpecials = kReproPositiveInfinity | kReproNegativeInfinity | kReproNaN;

// log2 of bin i's unit.
constexpr int unit_exponent(int bin) { return kBinWidth * bin - 1074; }

// The top bin of a finite magnitude given as the bits of a double: the smallest index >= 2 with |x| < 2^39 g.
// With biased exponent E (0 for subnormals), 2^(E-1023) <= |x| < 2^(E-1022), so that is ceil((E + 13) / 40).
int top_bin_of(uint64_t abs_bits) {
    const int biased_exponent = static_cast<int>(abs_bits >> 52);
    return std::max(kLowestTop, (biased_exponent + 52) / kBinWidth);
}

// The sum with its bins as integers.
struct Unpacked {
    int top;
    uint32_t specials;
    Int128 bins[kBins];
};

Unpacked unpack(const ReproSum& s) {
    Unpacked u{s.top, s.specials, {}};
    for (int k = 0; k < kBins; ++k) {
        const UInt128 word = (static_cast<UInt128>(s.bins[k][1]) << 64) | s.bins[k][0];
        u.bins[k] = static_cast<Int128>(word);
    }
    return u;
}

void pack(const Unpacked& u, ReproSum* s) {
    s->top = u.top;
    s->specials = u.specials;
    for (int k = 0; k < kBins; ++k) {
        const auto word = static_cast<UInt128>(u.bins[k]);
        s->bins[k][0] = static_cast<uint64_t>(word);
        s->bins[k][1] = static_cast<uint64_t>(word >> 64);
    }
}

// Moves the window up to `top`: the bins that fall below it are dropped whole (repro_sum.h: the values' slices
// in the bins above their own top bin are zero, so the kept bins are what the new window would have taken).
void raise_window(Unpacked& u, int top) {
    if (top <= u.top) return;
    const int shift = top - u.top;
    for (int k = kBins - 1; k >= 0; --k) u.bins[k] = k >= shift ? u.bins[k - shift] : 0;
    u.top = top;
}

// The plan for a block of finite values whose magnitudes `scan` gives, in the window `top` (at least their top
// bin). A value whose quantum (its unit in the last place) is at least a bin's unit is a multiple of it: the
// block needs the bins down to the first whose unit is at most the smallest quantum, exactly, or all three with
// the lowest rounding.
ReproPlan plan_for(int top, const ReproScan& scan, int precision, int min_quantum_exponent) {
    ReproPlan plan{};
    const int scale = top >= kScaledTop ? kScaleExponent : 0;
    for (int k = 0; k < kBins; ++k) plan.anchors[k] = std::ldexp(1.5, 52 + unit_exponent(top - k) + scale);
    const int biased_exponent = static_cast<int>(scan.min_nonzero_abs_bits >> 52);
    const int quantum_exponent = std::max(min_quantum_exponent, std::max(biased_exponent, 1) - 1023 - (precision - 1));
    plan.bins = kBins;
    plan.last_rounds = false;
    // The lowest window's lowest unit is every double's quantum; the others' are too coarse for the subnormals a
    // scan may count as zero (repro_deposit.h), whose slices there are zero.
    if (top == kLowestTop) return plan;
    if (scan.min_nonzero_abs_bits == 0) {
        plan.bins = 1;
        return plan;
    }
    plan.last_rounds = true;
    for (int k = 0; k < kBins; ++k) {
        if (unit_exponent(top - k) <= quantum_exponent) {
            plan.bins = k + 1;
            plan.last_rounds = false;
            break;
        }
    }
    return plan;
}

template <typename T>
struct Precision;
template <>
struct Precision<double> {
    static constexpr int kDigits = 53;
    static constexpr int kMinQuantumExponent = -1074;
};
template <>
struct Precision<float> {
    static constexpr int kDigits = 24;
    static constexpr int kMinQuantumExponent = -149;
};

template <typename T>
ReproScan scan_with(const ReproDeposits& d, const T* values, int64_t n);
template <>
ReproScan scan_with(const ReproDeposits& d, const double* values, int64_t n) {
    return d.scan_double(values, n);
}
template <>
ReproScan scan_with(const ReproDeposits& d, const float* values, int64_t n) {
    return d.scan_float(values, n);
}

template <typename T>
void deposit_with(const ReproDeposits& d, const T* values, int64_t n, const ReproPlan& plan, int64_t* slices);
template <>
void deposit_with(const ReproDeposits& d, const double* values, int64_t n, const ReproPlan& plan, int64_t* slices) {
    d.deposit_double(values, n, plan, slices);
}
template <>
void deposit_with(const ReproDeposits& d, const float* values, int64_t n, const ReproPlan& plan, int64_t* slices) {
    d.deposit_float(values, n, plan, slices);
}

// A block of finite values (n <= kReproMaxBlock) whose magnitudes `scan` gives.
template <typename T>
void add_finite_block(const ReproDeposits& d, Unpacked& u, const T* values, int64_t n, const ReproScan& scan) {
    raise_window(u, top_bin_of(scan.max_abs_bits));
    const ReproPlan plan = plan_for(u.top, scan, Precision<T>::kDigits, Precision<T>::kMinQuantumExponent);
    int64_t slices[kBins] = {};
    if (u.top >= kScaledTop) {
        // Scaled by 2^-40, exactly for every value that reaches the window's lowest unit (2^926 here); smaller ones
        // round to zero slices either way.
        constexpr int64_t kChunk = 512;
        double scaled[kChunk];
        for (int64_t i = 0; i < n; i += kChunk) {
            const int64_t m = std::min(kChunk, n - i);
            for (int64_t j = 0; j < m; ++j) scaled[j] = std::ldexp(static_cast<double>(values[i + j]), kScaleExponent);
            scalar_repro_deposits().deposit_double(scaled, m, plan, slices);
        }
    } else {
        deposit_with(d, values, n, plan, slices);
    }
    for (int k = 0; k < kBins; ++k) u.bins[k] += slices[k];
}

// A block with an infinity or NaN: flagged, and the finite values deposited apart by the scalar deposit, a chunk
// at a time (a function of its own, so that its buffer is on the stack only then).
template <typename T>
[[gnu::noinline]] void add_block_with_specials(Unpacked& u, const T* values, int64_t n) {
    constexpr int64_t kChunk = 512;
    double finite[kChunk];
    for (int64_t i = 0; i < n; i += kChunk) {
        int64_t count = 0;
        for (int64_t j = i; j < std::min(n, i + kChunk); ++j) {
            const double v = values[j];
            if (std::isnan(v)) {
                u.specials |= kReproNaN;
            } else if (std::isinf(v)) {
                u.specials |= v > 0 ? kReproPositiveInfinity : kReproNegativeInfinity;
            } else {
                finite[count++] = v;
            }
        }
        const ReproDeposits& scalar = scalar_repro_deposits();
        add_finite_block(scalar, u, finite, count, scalar.scan_double(finite, count));
    }
}

template <typename T>
void add_block(const ReproDeposits& d, Unpacked& u, const T* values, int64_t n) {
    const ReproScan scan = scan_with(d, values, n);
    if (scan.max_abs_bits < kInfinityBits) {
        add_finite_block(d, u, values, n, scan);
    } else {
        add_block_with_specials(u, values, n);
    }
}

template <typename T>
void add_values(const ReproDeposits& d, ReproSum* s, const T* values, int64_t n) {
    Unpacked u = unpack(*s);
    for (int64_t i = 0; i < n; i += kReproMaxBlock) add_block(d, u, values + i, std::min(kReproMaxBlock, n - i));
    pack(u, s);
}

const ReproDeposits* deposits_for(const char* isa) {
    if (isa == nullptr || kernel_table_for(isa) == nullptr) return nullptr;  // not built, or not this CPU's
    if (std::strcmp(isa, "scalar") == 0) return &scalar_repro_deposits();
#ifdef BCE4J_HAVE_AVX2
    if (std::strcmp(isa, "avx2") == 0) return &avx2_repro_deposits();
#endif
#ifdef BCE4J_HAVE_AVX512
    if (std::strcmp(isa, "avx512") == 0) return &avx512_repro_deposits();
#endif
#ifdef BCE4J_HAVE_NEON
    if (std::strcmp(isa, "neon") == 0) return &neon_repro_deposits();
#endif
    return nullptr;
}

// The active kernels' instruction set (each has a deposit).
const ReproDeposits& active_deposits() {
    static const ReproDeposits& deposits = *deposits_for(active_kernel_choice().table->isa);
    return deposits;
}

// |v| as the unsigned magnitude of a 256-bit two's complement integer.
struct Magnitude {
    uint64_t words[4];  // little-endian
    bool negative;
};

Magnitude magnitude_of(const Int128 (&terms)[kBins], const int (&shifts)[kBins]) {
    // Sum of terms[k] * 2^shifts[k] in 256-bit two's complement.
    uint64_t sum[4] = {};
    for (int k = 0; k < kBins; ++k) {
        const auto word = static_cast<UInt128>(terms[k]);
        const uint64_t fill = terms[k] < 0 ? ~uint64_t{0} : 0;
        uint64_t limbs[5] = {static_cast<uint64_t>(word), static_cast<uint64_t>(word >> 64), fill, fill, fill};
        // Shift left by shifts[k] (< 128) into 4 words.
        uint64_t shifted[4];
        const int whole = shifts[k] / 64, part = shifts[k] % 64;
        for (int w = 0; w < 4; ++w) {
            const int from = w - whole;
            const uint64_t low = from >= 0 ? limbs[from] : 0;
            const uint64_t below = from - 1 >= 0 ? limbs[from - 1] : 0;
            shifted[w] = part == 0 ? low : (low << part) | (below >> (64 - part));
        }
        unsigned carry = 0;
        for (int w = 0; w < 4; ++w) {
            const UInt128 t = static_cast<UInt128>(sum[w]) + shifted[w] + carry;
            sum[w] = static_cast<uint64_t>(t);
            carry = static_cast<unsigned>(t >> 64);
        }
    }
    Magnitude m{{sum[0], sum[1], sum[2], sum[3]}, (sum[3] >> 63) != 0};
    if (m.negative) {
        unsigned carry = 1;
        for (uint64_t& w : m.words) {
            const UInt128 t = static_cast<UInt128>(~w) + carry;
            w = static_cast<uint64_t>(t);
            carry = static_cast<unsigned>(t >> 64);
        }
    }
    return m;
}

// The 64 bits of m from bit `from` up.
uint64_t bits_from(const Magnitude& m, int from) {
    const int word = from / 64, shift = from % 64;
    const uint64_t low = word < 4 ? m.words[word] >> shift : 0;
    const uint64_t high = shift != 0 && word + 1 < 4 ? m.words[word + 1] << (64 - shift) : 0;
    return low | high;
}

// Whether any bit of m below bit `below` is set.
bool any_bits_below(const Magnitude& m, int below) {
    const int word = below / 64, shift = below % 64;
    for (int w = 0; w < word; ++w) {
        if (m.words[w] != 0) return true;
    }
    return shift != 0 && (m.words[word] & ((uint64_t{1} << shift) - 1)) != 0;
}

// m * 2^exponent rounded once to the nearest double, ties to even.
double round_to_double(const Magnitude& m, int exponent) {
    int top_bit = -1;
    for (int w = 3; w >= 0 && top_bit < 0; --w) {
        if (m.words[w] != 0) top_bit = 64 * w + 63 - __builtin_clzll(m.words[w]);
    }
    if (top_bit < 0) return 0.0;
    double magnitude;
    if (top_bit < 53) {
        // Exact: below 2^53 units, and a result below the normal range is a whole number of 2^-1074 units.
        magnitude = std::ldexp(static_cast<double>(m.words[0]), exponent);
    } else {
        const int low = top_bit - 52;
        uint64_t mantissa = bits_from(m, low) & ((uint64_t{1} << 53) - 1);
        const bool half = ((bits_from(m, low - 1)) & 1) != 0;
        if (half && ((mantissa & 1) != 0 || any_bits_below(m, low - 1))) ++mantissa;  // 2^53 at most: exact
        magnitude = std::ldexp(static_cast<double>(mantissa), exponent + low);        // inf past DBL_MAX
    }
    return m.negative ? -magnitude : magnitude;
}

}  // namespace

void repro_sum_init(ReproSum* s) {
    std::memset(s, 0, sizeof *s);
    s->top = kLowestTop;
}

void repro_sum_add(ReproSum* s, const double* values, int64_t n) { add_values(active_deposits(), s, values, n); }

void repro_sum_add(ReproSum* s, const float* values, int64_t n) { add_values(active_deposits(), s, values, n); }

bool repro_sum_add_with(const char* isa, ReproSum* s, const double* values, int64_t n) {
    const ReproDeposits* d = deposits_for(isa);
    if (d != nullptr) add_values(*d, s, values, n);
    return d != nullptr;
}

bool repro_sum_add_with(const char* isa, ReproSum* s, const float* values, int64_t n) {
    const ReproDeposits* d = deposits_for(isa);
    if (d != nullptr) add_values(*d, s, values, n);
    return d != nullptr;
}

const char* repro_sum_isa() { return active_deposits().isa; }

void repro_sum_merge(ReproSum* into, const ReproSum& from) {
    Unpacked a = unpack(*into);
    Unpacked b = unpack(from);
    raise_window(a, b.top);
    raise_window(b, a.top);
    // Unsigned: sums that no real data reach wrap (and fail repro_sum_is_valid) rather than overflow.
    for (int k = 0; k < kBins; ++k) a.bins[k] = static_cast<Int128>(static_cast<UInt128>(a.bins[k]) + b.bins[k]);
    a.specials |= b.specials;
    pack(a, into);
}

double repro_sum_value(const ReproSum& s) {
    if ((s.specials & kReproNaN) != 0 || (s.specials & (kReproPositiveInfinity | kReproNegativeInfinity)) ==
                                             (kReproPositiveInfinity | kReproNegativeInfinity)) {
        return std::nan("");
    }
    if ((s.specials & kReproPositiveInfinity) != 0) return INFINITY;
    if ((s.specials & kReproNegativeInfinity) != 0) return -INFINITY;
    const Unpacked u = unpack(s);
    // In units of the lowest bin: bins[k] * 2^(40 (2 - k)).
    const int shifts[kBins] = {2 * kBinWidth, kBinWidth, 0};
    return round_to_double(magnitude_of(u.bins, shifts), unit_exponent(u.top - (kBins - 1)));
}

bool repro_sum_is_valid(const ReproSum& s) {
    if (s.top < kLowestTop || s.top > kHighestTop || (s.specials & ~kAllSpecials) != 0) return false;
    const Unpacked u = unpack(s);
    constexpr Int128 kLimit = static_cast<Int128>(1) << 102;
    for (const Int128 bin : u.bins) {
        if (bin >= kLimit || bin <= -kLimit) return false;
    }
    return true;
}

}  // namespace bce4j
