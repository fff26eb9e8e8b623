// The order-independent sum (repro_sum.h): the same bytes however values are split into adds and merges and in
// whatever order, on every instruction set's deposit; the value within the stated bound of an exact big-integer
// sum (and the exact sum rounded once where the window drops nothing); infinities, NaN, overflow, validity.
#include "repro_sum.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.h"

namespace bce4j {
namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

// A signed fixed-point integer in units of 2^-1160 (every double, and 2^-80 of every double, is a whole number of
// them), 2560 bits in two's complement: room for 2^30 values of DBL_MAX.
class Exact {
public:
    static constexpr int kWords = 40;
    static constexpr int kUnitExponent = -1160;

    Exact() : words_() {}
    static Exact of(double v) {
        Exact e;
        e.add(v);
        return e;
    }
    // Adds v (finite) exactly.
    void add(double v) {
        if (v == 0) return;
        int exponent;
        const double fraction = std::frexp(std::fabs(v), &exponent);            // |v| = fraction 2^exponent
        const auto mantissa = static_cast<uint64_t>(std::ldexp(fraction, 53));  // exact (v's bits fit 53)
        const int shift = exponent - 53 - kUnitExponent;
        Exact term;
        term.set_shifted(mantissa, shift);
        if (v < 0) term.negate();
        *this += term;
    }
    Exact& operator+=(const Exact& o) {
        unsigned carry = 0;
        for (int i = 0; i < kWords; ++i) {
            const UInt128 t = static_cast<UInt128>(words_[i]) + o.words_[i] + carry;
            words_[i] = static_cast<uint64_t>(t);
            carry = static_cast<unsigned>(t >> 64);
        }
        return *this;
    }
    Exact operator-(const Exact& o) const {
        Exact r = o;
        r.negate();
        r += *this;
        return r;
    }
    void negate() {
        for (uint64_t& w : words_) w = ~w;
        Exact one;
        one.words_[0] = 1;
        *this += one;
    }
    bool negative() const { return (words_[kWords - 1] >> 63) != 0; }
    Exact abs() const {
        Exact r = *this;
        if (r.negative()) r.negate();
        return r;
    }
    // *this * m (m small, *this nonnegative).
    Exact times(uint64_t m) const {
        Exact r;
        UInt128 carry = 0;
        for (int i = 0; i < kWords; ++i) {
            const UInt128 t = static_cast<UInt128>(words_[i]) * m + carry;
            r.words_[i] = static_cast<uint64_t>(t);
            carry = t >> 64;
        }
        return r;
    }
    // *this / 2^s (nonnegative, exact where the low bits are zero).
    Exact shifted_down(int s) const {
        Exact r;
        for (int i = 0; i < kWords; ++i) {
            const int from = i + s / 64, part = s % 64;
            const uint64_t low = from < kWords ? words_[from] : 0;
            const uint64_t high = from + 1 < kWords ? words_[from + 1] : 0;
            r.words_[i] = part == 0 ? low : (low >> part) | (high << (64 - part));
        }
        return r;
    }
    static Exact power_of_two(int units_exponent) {  // 2^units_exponent units
        Exact e;
        e.set_shifted(1, units_exponent);
        return e;
    }
    // The low 64 bits, for a value that fits them.
    uint64_t low_word() const { return words_[0]; }
    bool fits_a_word() const {
        for (int i = 1; i < kWords; ++i) {
            if (words_[i] != 0) return false;
        }
        return true;
    }
    friend bool operator<(const Exact& a, const Exact& b) { return (a - b).negative(); }
    friend bool operator<=(const Exact& a, const Exact& b) { return !(b < a); }
    friend bool operator==(const Exact& a, const Exact& b) {
        return std::memcmp(a.words_, b.words_, sizeof a.words_) == 0;
    }

private:
    void set_shifted(uint64_t m, int shift) {
        const int word = shift / 64, part = shift % 64;
        words_[word] = m << part;
        if (part != 0) words_[word + 1] = m >> (64 - part);
    }
    uint64_t words_[kWords];
};

std::vector<uint8_t> bytes_of(const ReproSum& s) {
    std::vector<uint8_t> b(sizeof s);
    std::memcpy(b.data(), &s, sizeof s);
    return b;
}

uint64_t bits_of(double v) {
    uint64_t b;
    std::memcpy(&b, &v, sizeof b);
    return b;
}

template <typename T>
ReproSum sum_of(const std::vector<T>& values) {
    ReproSum s;
    repro_sum_init(&s);
    repro_sum_add(&s, values.data(), static_cast<int64_t>(values.size()));
    return s;
}

// The values shuffled, cut into `pieces` runs, each run added to a sum of its own in one to three adds, and the
// sums merged in a random tree.
template <typename T>
ReproSum split_sum(std::vector<T> values, int pieces, std::mt19937_64& random) {
    std::shuffle(values.begin(), values.end(), random);
    const auto n = static_cast<int64_t>(values.size());
    std::vector<int64_t> cuts{0, n};
    for (int i = 1; i < pieces; ++i) cuts.push_back(std::uniform_int_distribution<int64_t>(0, n)(random));
    std::sort(cuts.begin(), cuts.end());
    std::vector<ReproSum> sums;
    for (size_t i = 0; i + 1 < cuts.size(); ++i) {
        ReproSum s;
        repro_sum_init(&s);
        const int64_t begin = cuts[i], end = cuts[i + 1];
        const int64_t middle = std::uniform_int_distribution<int64_t>(begin, end)(random);
        repro_sum_add(&s, values.data() + begin, middle - begin);
        repro_sum_add(&s, values.data() + middle, end - middle);
        sums.push_back(s);
    }
    while (sums.size() > 1) {
        const size_t a = std::uniform_int_distribution<size_t>(0, sums.size() - 1)(random);
        size_t b = std::uniform_int_distribution<size_t>(0, sums.size() - 2)(random);
        if (b >= a) ++b;
        repro_sum_merge(&sums[a], sums[b]);
        sums.erase(sums.begin() + static_cast<std::ptrdiff_t>(b));
    }
    return sums[0];
}

// Values from the whole range of doubles: random signs, exponents and mantissas, subnormals included, below
// 2^max_exponent in magnitude.
std::vector<double> wide_range(size_t n, int max_exponent, std::mt19937_64& random) {
    std::vector<double> v(n);
    std::uniform_int_distribution<int> exponent(-1075, max_exponent - 1);
    for (double& x : v) {
        const double fraction = std::uniform_real_distribution<double>(0.5, 1.0)(random);
        x = std::ldexp(fraction, exponent(random));
        if (random() & 1) x = -x;
    }
    return v;
}

// Adversarial sets, each with a name.
struct DataSet {
    std::string name;
    std::vector<double> values;
};

std::vector<DataSet> adversarial_sets() {
    std::mt19937_64 random(16);
    std::vector<DataSet> sets;
    sets.push_back({"wide range", wide_range(5000, 1024, random)});
    sets.push_back({"wide range below 2^1005", wide_range(5000, 1005, random)});
    {
        // Cancellation: big values and their negatives, around small ones.
        std::vector<double> v = wide_range(3000, 400, random);
        const size_t big = v.size();
        for (size_t i = 0; i < big; i += 3) v.push_back(-v[i]);
        for (int i = 0; i < 2000; ++i)
            v.push_back(std::ldexp(std::uniform_real_distribution<double>(-1, 1)(random), -30));
        v.push_back(1e300);
        v.push_back(-1e300);
        sets.push_back({"cancellation", v});
    }
    {
        std::vector<double> v;
        for (int i = 0; i < 4000; ++i) {
            double x = std::ldexp(static_cast<double>(random() >> 12), -1074);  // subnormal (and a few normal)
            v.push_back((random() & 1) ? -x : x);
        }
        v.push_back(DBL_MIN);
        v.push_back(-DBL_MIN / 2);
        sets.push_back({"subnormals", v});
    }
    {
        // Subnormals below 2^-1042 (a 64-bit word's high half zero) among values of the lowest window, and among
        // values of a higher one (where their slices are zero).
        std::vector<double> low, high;
        for (int i = 0; i < 3000; ++i) {
            const double tiny = std::ldexp(static_cast<double>(random() >> 32), -1074);
            const double other = std::ldexp(std::uniform_real_distribution<double>(-1, 1)(random), -990);
            low.push_back(i % 3 == 0 ? other : tiny);
            high.push_back(i % 3 == 0 ? 1e-300 * other / std::ldexp(1.0, -990) : tiny);
        }
        sets.push_back({"tiny subnormals", low});
        sets.push_back({"tiny subnormals in a higher window", high});
    }
    {
        // Ties at the lowest unit and the middle one of the window that 2^38 opens (units 2^6, 2^-34, 2^-74).
        std::vector<double> v{std::ldexp(1.0, 38)};
        for (int i = 0; i < 3000; ++i) {
            const double odd = static_cast<double>(2 * (random() % 1000) + 1);
            const int unit = (random() & 1) ? -75 : -35;
            double x = std::ldexp(odd, unit) + std::ldexp(static_cast<double>(random() % 64), -20);
            if (random() % 3 == 0) x += std::ldexp(static_cast<double>(random() % 1000), 6);
            v.push_back((random() & 1) ? -x : x);
        }
        sets.push_back({"ties", v});
    }
    {
        // Near DBL_MAX, cancelling so that the sum stays finite, and small values that the window drops.
        std::vector<double> v;
        for (int i = 0; i < 1000; ++i) {
            const double x = DBL_MAX * std::uniform_real_distribution<double>(0.5, 1.0)(random);
            v.push_back(x);
            v.push_back(-x);
            v.push_back(std::ldexp(std::uniform_real_distribution<double>(-1, 1)(random), 900 + i % 100));
        }
        v.push_back(DBL_MAX / 2);
        sets.push_back({"near DBL_MAX", v});
    }
    {
        // Losses: mostly in [0, 20], zeros, some tiny: blocks with one, two and three bins.
        std::vector<double> v;
        for (int i = 0; i < 20000; ++i) {
            const int kind = static_cast<int>(random() % 10);
            double x = std::uniform_real_distribution<double>(0, 20)(random);
            if (kind == 0) x = 0;
            if (kind == 1) x = std::ldexp(x, -60);
            v.push_back(i < 8192 ? static_cast<float>(x) : x);
        }
        sets.push_back({"losses", v});
    }
    return sets;
}

std::vector<float> float_set(size_t n, std::mt19937_64& random) {
    std::vector<float> v(n);
    for (float& x : v) {
        const int kind = static_cast<int>(random() % 8);
        double d = std::uniform_real_distribution<double>(0, 20)(random);
        if (kind == 0) d = 0;
        if (kind == 1) d = std::ldexp(d, -140);  // float subnormals
        if (kind == 2) d = std::ldexp(d, static_cast<int>(random() % 200) - 100);
        if (kind == 3) d = -d;
        x = static_cast<float>(d);
    }
    return v;
}

// |value - exact| <= n 2^-80 max|x| + ulp(value) / 2, checked exactly.
void expect_within_bound(const std::vector<double>& values, double value, const std::string& name) {
    Exact exact;
    double max_abs = 0;
    for (double x : values) {
        exact.add(x);
        max_abs = std::max(max_abs, std::fabs(x));
    }
    ASSERT_TRUE(std::isfinite(value)) << name;
    const Exact error = (Exact::of(value) - exact).abs();
    const double next = std::nextafter(std::fabs(value), INFINITY);
    const Exact gap = Exact::of(next) - Exact::of(std::fabs(value));  // next may be inf only past DBL_MAX
    ASSERT_TRUE(std::isfinite(next)) << name;
    const Exact bound = Exact::of(max_abs).shifted_down(80).times(values.size()).times(2) += gap;
    EXPECT_TRUE(error.times(2) <= bound) << name << ": value " << value;
}

// The value is the exact sum rounded to nearest, ties to even.
void expect_correctly_rounded(const Exact& exact, double value, const std::string& name) {
    const Exact error = (Exact::of(value) - exact).abs();
    for (double neighbour : {std::nextafter(value, INFINITY), std::nextafter(value, -INFINITY)}) {
        const Exact other = (Exact::of(neighbour) - exact).abs();
        EXPECT_TRUE(error <= other) << name << ": " << value << " is not the nearest";
        if (error == other) EXPECT_EQ(bits_of(value) & 1, 0u) << name << ": a tie not rounded to even";
    }
}

// The window and the bins of repro_sum.h computed with big integers: the smallest top >= 2 with
// max|x| < 2^39 g_top, and per bin the sum of the values' slices (each remainder rounded to the nearest multiple
// of the bin's unit, ties away from zero).
struct ReferenceBins {
    int top;
    Int128 bins[3];
};

ReferenceBins reference_bins(const std::vector<double>& values) {
    double max_abs = 0;
    for (double x : values) max_abs = std::max(max_abs, std::fabs(x));
    auto unit_exponent = [](int bin) { return 40 * bin - 1074 - Exact::kUnitExponent; };  // of g_bin, in units
    ReferenceBins reference{2, {0, 0, 0}};
    while (!(Exact::of(max_abs) < Exact::power_of_two(unit_exponent(reference.top) + 39))) ++reference.top;
    for (double x : values) {
        Exact remainder = Exact::of(x);
        for (int k = 0; k < 3; ++k) {
            const int unit = unit_exponent(reference.top - k);
            const bool negative = remainder.negative();
            Exact magnitude = remainder.abs();
            magnitude += Exact::power_of_two(unit - 1);
            const Exact units = magnitude.shifted_down(unit);
            EXPECT_TRUE(units.fits_a_word());
            const auto slice = static_cast<int64_t>(units.low_word());
            reference.bins[k] += negative ? -slice : slice;
            Exact taken = Exact::power_of_two(unit).times(static_cast<uint64_t>(slice));
            if (negative) taken.negate();
            remainder = remainder - taken;
        }
    }
    return reference;
}

TEST(ReproSum, BinsAreTheExactSumsOfTheValuesSlices) {
    std::mt19937_64 random(8);
    std::vector<DataSet> sets = adversarial_sets();
    const std::vector<float> floats = float_set(5000, random);
    sets.push_back({"float32 values", std::vector<double>(floats.begin(), floats.end())});
    for (const DataSet& set : sets) {
        const ReferenceBins reference = reference_bins(set.values);
        const ReproSum s = sum_of(set.values);
        EXPECT_EQ(s.top, reference.top) << set.name;
        for (int k = 0; k < 3; ++k) {
            const auto bin = static_cast<Int128>((static_cast<UInt128>(s.bins[k][1]) << 64) | s.bins[k][0]);
            EXPECT_TRUE(bin == reference.bins[k]) << set.name << ", bin top - " << k;
        }
    }
}

TEST(ReproSum, EmptySumIsZeroAndValid) {
    ReproSum s;
    repro_sum_init(&s);
    EXPECT_EQ(bits_of(repro_sum_value(s)), bits_of(0.0));
    EXPECT_TRUE(repro_sum_is_valid(s));
    ReproSum t = sum_of(std::vector<double>{});
    EXPECT_EQ(bytes_of(s), bytes_of(t));
    const std::vector<double> zeros{0.0, -0.0, 0.0};
    EXPECT_EQ(bytes_of(s), bytes_of(sum_of(zeros)));
    ReproSum merged = s;
    repro_sum_merge(&merged, t);
    EXPECT_EQ(bytes_of(s), bytes_of(merged));
}

TEST(ReproSum, SplitsAndOrdersGiveTheSameBytes) {
    std::mt19937_64 random(1);
    for (const DataSet& set : adversarial_sets()) {
        const ReproSum whole = sum_of(set.values);
        const double value = repro_sum_value(whole);
        // Sorted by magnitude, up (the window rises block after block) and down.
        std::vector<double> sorted = set.values;
        std::sort(sorted.begin(), sorted.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
        ASSERT_EQ(bytes_of(whole), bytes_of(sum_of(sorted))) << set.name << ", ascending";
        std::reverse(sorted.begin(), sorted.end());
        ASSERT_EQ(bytes_of(whole), bytes_of(sum_of(sorted))) << set.name << ", descending";
        for (int round = 0; round < 12; ++round) {
            const int pieces = round == 0 ? 1 : std::uniform_int_distribution<int>(2, 1000)(random);
            const ReproSum split = split_sum(set.values, pieces, random);
            ASSERT_EQ(bytes_of(whole), bytes_of(split)) << set.name << ", " << pieces << " pieces";
            ASSERT_EQ(bits_of(value), bits_of(repro_sum_value(split))) << set.name;
        }
    }
}

TEST(ReproSum, FloatSplitsGiveTheSameBytesAsDoubles) {
    std::mt19937_64 random(2);
    const std::vector<float> values = float_set(30000, random);
    const std::vector<double> widened(values.begin(), values.end());
    const ReproSum whole = sum_of(values);
    EXPECT_EQ(bytes_of(whole), bytes_of(sum_of(widened)));
    for (int round = 0; round < 8; ++round) {
        const int pieces = std::uniform_int_distribution<int>(1, 1000)(random);
        EXPECT_EQ(bytes_of(whole), bytes_of(split_sum(values, pieces, random))) << pieces << " pieces";
    }
    expect_within_bound(widened, repro_sum_value(whole), "floats");
}

TEST(ReproSum, WithinTheBoundOfTheExactSum) {
    for (const DataSet& set : adversarial_sets()) {
        const double value = repro_sum_value(sum_of(set.values));
        if (set.name == "wide range") continue;  // overflows: below
        expect_within_bound(set.values, value, set.name);
    }
}

TEST(ReproSum, ExactSumsAreRoundedOnce) {
    // Windows that drop nothing: every value a multiple of the lowest unit (2^-1074 for the lowest window; for
    // float32 values in [2^-40, 2^40), whose window's lowest unit is at most 2^-73 and whose quanta are >= 2^-63).
    std::mt19937_64 random(3);
    std::vector<double> tiny = wide_range(5000, -956, random);
    Exact exact_tiny;
    for (double x : tiny) exact_tiny.add(x);
    expect_correctly_rounded(exact_tiny, repro_sum_value(sum_of(tiny)), "subnormal window");

    std::vector<double> floats;
    for (int i = 0; i < 5000; ++i) {
        const double x =
            std::ldexp(std::uniform_real_distribution<double>(-1, 1)(random), static_cast<int>(random() % 80) - 40);
        floats.push_back(static_cast<float>(x));
    }
    Exact exact_floats;
    for (double x : floats) exact_floats.add(x);
    expect_correctly_rounded(exact_floats, repro_sum_value(sum_of(floats)), "float32 values");

    // Ties of the final rounding: 2^53 + 1 and 2^53 + 3 (each a tie: to even, 2^53 and 2^53 + 4).
    const double two53 = std::ldexp(1.0, 53);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{two53, 1.0})), two53);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{two53, 2.0, 1.0})), two53 + 4);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1e300, 1.0, -1e300})), 0.0);  // below the window: dropped
    // 1 opens the window of units 2^-34, 2^-74, 2^-114.
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1.0, std::ldexp(1.0, -100), -1.0})), std::ldexp(1.0, -100));
    // Below 2^-114: to the nearest multiple, ties away from zero.
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1.0, std::ldexp(1.0, -116), -1.0})), 0.0);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1.0, std::ldexp(1.0, -115), -1.0})), std::ldexp(1.0, -114));
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1.0, -std::ldexp(1.0, -115), -1.0})), -std::ldexp(1.0, -114));
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{1.0, std::ldexp(3.0, -116), -1.0})), std::ldexp(1.0, -114));
}

TEST(ReproSum, OverflowGivesInfinityReproducibly) {
    std::vector<double> v(100, DBL_MAX / 4);
    v.push_back(-DBL_MAX);
    std::mt19937_64 random(4);
    const ReproSum whole = sum_of(v);
    EXPECT_EQ(repro_sum_value(whole), INFINITY);
    EXPECT_EQ(bytes_of(whole), bytes_of(split_sum(v, 37, random)));
    for (double& x : v) x = -x;
    EXPECT_EQ(repro_sum_value(sum_of(v)), -INFINITY);
    // DBL_MAX plus half its unit in the last place rounds to infinity; plus less stays DBL_MAX.
    const double half_ulp = std::ldexp(1.0, 970);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{DBL_MAX, half_ulp})), INFINITY);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{DBL_MAX, half_ulp / 2})), DBL_MAX);
    EXPECT_EQ(repro_sum_value(sum_of(std::vector<double>{DBL_MAX, DBL_MAX, -DBL_MAX})), DBL_MAX);
}

TEST(ReproSum, InfinitiesAndNaN) {
    const double nan = std::nan("");
    auto value_of = [](std::vector<double> v) { return repro_sum_value(sum_of(v)); };
    EXPECT_EQ(value_of({1.0, INFINITY, 2.0}), INFINITY);
    EXPECT_EQ(value_of({1.0, -INFINITY, 2.0}), -INFINITY);
    EXPECT_TRUE(std::isnan(value_of({INFINITY, 1.0, -INFINITY})));
    EXPECT_TRUE(std::isnan(value_of({1.0, nan})));
    EXPECT_TRUE(std::isnan(value_of({INFINITY, -nan})));
    // Reproducible bytes, NaN payloads and signs included.
    std::mt19937_64 random(5);
    std::vector<double> v = wide_range(3000, 100, random);
    uint64_t payload = 0x7ff0000000000123u;
    double odd_nan;
    std::memcpy(&odd_nan, &payload, sizeof odd_nan);
    for (double special : std::vector<double>{INFINITY, -INFINITY, nan, -nan, odd_nan}) {
        std::vector<double> w = v;
        w.push_back(special);
        w.push_back(special);
        const ReproSum whole = sum_of(w);
        EXPECT_TRUE(repro_sum_is_valid(whole));
        EXPECT_EQ(bytes_of(whole), bytes_of(split_sum(w, 50, random)));
        const double value = repro_sum_value(whole);
        if (std::isnan(special)) {
            EXPECT_EQ(bits_of(value), bits_of(repro_sum_value(sum_of(std::vector<double>{nan}))));
        } else {
            EXPECT_EQ(value, special);
        }
    }
    // The finite values keep their bins: merging the specials away is not possible, but their bins are the same.
    std::vector<double> w = v;
    w.push_back(INFINITY);
    ReproSum with = sum_of(w), without = sum_of(v);
    EXPECT_EQ(0, std::memcmp(with.bins, without.bins, sizeof with.bins));
    std::vector<float> f{1.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    EXPECT_TRUE(std::isnan(repro_sum_value(sum_of(f))));
}

TEST(ReproSum, EveryInstructionSetGivesTheScalarBytes) {
    std::mt19937_64 random(6);
    std::vector<const char*> isas;
    for (const char* isa : {"scalar", "avx2", "avx512", "neon"}) {
        if (kernel_table_for(isa) != nullptr) isas.push_back(isa);
    }
    std::vector<DataSet> sets = adversarial_sets();
    // Lengths that end inside a vector and inside a block.
    std::vector<double> losses = sets.back().values;
    for (int64_t n : {1, 7, 31, 33, 4095, 4097, 12345}) {
        sets.push_back({"losses, " + std::to_string(n), std::vector<double>(losses.begin(), losses.begin() + n)});
    }
    for (const DataSet& set : sets) {
        ReproSum reference;
        repro_sum_init(&reference);
        ASSERT_TRUE(
            repro_sum_add_with("scalar", &reference, set.values.data(), static_cast<int64_t>(set.values.size())));
        std::vector<float> floats(set.values.begin(), set.values.end());
        ReproSum float_reference;
        repro_sum_init(&float_reference);
        ASSERT_TRUE(repro_sum_add_with("scalar", &float_reference, floats.data(), static_cast<int64_t>(floats.size())));
        for (const char* isa : isas) {
            ReproSum s;
            repro_sum_init(&s);
            ASSERT_TRUE(repro_sum_add_with(isa, &s, set.values.data(), static_cast<int64_t>(set.values.size())));
            EXPECT_EQ(bytes_of(reference), bytes_of(s)) << set.name << " on " << isa;
            repro_sum_init(&s);
            ASSERT_TRUE(repro_sum_add_with(isa, &s, floats.data(), static_cast<int64_t>(floats.size())));
            EXPECT_EQ(bytes_of(float_reference), bytes_of(s)) << set.name << " (float32) on " << isa;
        }
    }
    EXPECT_FALSE(repro_sum_add_with("sse9", nullptr, static_cast<const double*>(nullptr), 0));
}

TEST(ReproSum, UsesTheActiveKernelsInstructionSet) {
    const std::string active = active_kernel_choice().table->isa;
    const std::string used = repro_sum_isa();
    EXPECT_EQ(used, active);
}

TEST(ReproSum, ValidityRejectsWhatNoSumCanBe) {
    std::mt19937_64 random(7);
    for (const DataSet& set : adversarial_sets()) EXPECT_TRUE(repro_sum_is_valid(sum_of(set.values))) << set.name;
    ReproSum s = sum_of(std::vector<double>{1.0, -3.5});
    ReproSum bad = s;
    bad.top = 1;
    EXPECT_FALSE(repro_sum_is_valid(bad));
    bad.top = 53;
    EXPECT_FALSE(repro_sum_is_valid(bad));
    bad = s;
    bad.specials = 8;
    EXPECT_FALSE(repro_sum_is_valid(bad));
    bad = s;
    bad.bins[1][1] = uint64_t{1} << 38;  // 2^102
    EXPECT_FALSE(repro_sum_is_valid(bad));
    bad.bins[1][1] = ~uint64_t{0} << 38;  // -2^102
    bad.bins[1][0] = 0;
    EXPECT_FALSE(repro_sum_is_valid(bad));
    bad.bins[1][0] = 1;  // -2^102 + 1
    EXPECT_TRUE(repro_sum_is_valid(bad));
}

}  // namespace
}  // namespace bce4j
