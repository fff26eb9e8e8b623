// Per-instruction-set accuracy of the kernels' vector math (cpp/src/kernels/vector_math.h), in the manner of
// Highway's hwy/contrib/math/math_test.cc: a table of (function, dtype, range, maximum error in ULP) rows, each
// checked for every ISA this CPU runs against a correctly rounded reference (the long double function rounded once
// to the dtype) over a dense sweep of the range plus its edge values.
//
// The rows belong to the functions: each bound is the measured worst case rounded up a little (never so loose that
// a worse function still passes), and the same bound is the contract comment on the function in vector_math.h.
// When a function is replaced (a cheaper polynomial, another reduction), its row and its comment change with it.
// The fixed point is the end-to-end contract that these pieces serve: the SIMD kernels' tolerance against the
// scalar reference (isa_kernels_test.cpp, simd_kernels.h) and the libtorch goldens.
//
// There is no scalar row set: the scalar kernels have no Lanes<T> and call std::exp / std::log1p / std::log in
// double (element_math.h), whose accuracy is glibc's.
#include "vector_math_test.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "kernels/row_kernel.h"

namespace bce4j_test {
namespace {

using LD = long double;

// ---------------------------------------------------------------------------------------------------------------
// The instruction sets
// ---------------------------------------------------------------------------------------------------------------

enum Isa { kAvx2, kAvx512, kNeon, kIsaCount };

struct IsaUnderTest {
    const char* name;
    const char* cannot_run;  // why this build or CPU cannot run it; nullptr when it can
    void (*evaluate_float)(VectorFunction, const float*, float*, size_t);
    void (*evaluate_double)(VectorFunction, const double*, double*, size_t);
};

// As dispatch.cpp decides for the kernels: libgcc's __builtin_cpu_supports, which for AVX-512 also asks whether the
// OS saves the registers.
IsaUnderTest isa_under_test(Isa isa) {
    switch (isa) {
        case kAvx2:
#ifdef BCE4J_HAVE_AVX2
            if (!(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c"))) {
                return {"avx2", "this CPU lacks AVX2, FMA or F16C", nullptr, nullptr};
            }
            return {"avx2", nullptr, avx2::evaluate, avx2::evaluate};
#else
            return {"avx2", "this build has no avx2 kernels", nullptr, nullptr};
#endif
        case kAvx512:
#ifdef BCE4J_HAVE_AVX512
            if (!__builtin_cpu_supports("avx512f")) {
                return {"avx512", "this CPU (or its OS) does not support AVX-512F", nullptr, nullptr};
            }
            return {"avx512", nullptr, avx512::evaluate, avx512::evaluate};
#else
            return {"avx512", "this build has no avx512 kernels", nullptr, nullptr};
#endif
        case kNeon:
#ifdef BCE4J_HAVE_NEON
            if (bce4j::kernel_table_for("neon") == nullptr)
                return {"neon", "this CPU lacks Advanced SIMD", nullptr, nullptr};
            return {"neon", nullptr, neon::evaluate, neon::evaluate};
#else
            return {"neon", "this build has no neon kernels", nullptr, nullptr};
#endif
        case kIsaCount: break;
    }
    return {"?", "unknown ISA", nullptr, nullptr};
}

void evaluate(const IsaUnderTest& isa, VectorFunction f, const std::vector<float>& in, std::vector<float>& out) {
    out.assign(in.size(), std::numeric_limits<float>::quiet_NaN());
    isa.evaluate_float(f, in.data(), out.data(), in.size());
}

void evaluate(const IsaUnderTest& isa, VectorFunction f, const std::vector<double>& in, std::vector<double>& out) {
    out.assign(in.size(), std::numeric_limits<double>::quiet_NaN());
    isa.evaluate_double(f, in.data(), out.data(), in.size());
}

// ---------------------------------------------------------------------------------------------------------------
// The references and the distance in ULP
// ---------------------------------------------------------------------------------------------------------------

const char* name_of(VectorFunction f) {
    switch (f) {
        case VectorFunction::kExpNonpositive: return "exp_nonpositive";
        case VectorFunction::kExpOfMinusMagnitude: return "exp_of_minus_magnitude";
        case VectorFunction::kLog1pUnit: return "log1p_unit";
        case VectorFunction::kLogUnit: return "log_unit";
        case VectorFunction::kSigmoidOfMagnitude: return "sigmoid_of_magnitude";
    }
    return "?";
}

// The exact value in long double (64-bit significand: 11 bits beyond double, 40 beyond float), so that rounding
// it to the dtype gives the correctly rounded result except within 2^-11 ULP of a tie.
LD reference(VectorFunction f, LD v) {
    switch (f) {
        case VectorFunction::kExpNonpositive: return std::exp(v);
        case VectorFunction::kExpOfMinusMagnitude: return std::exp(-std::fabs(v));
        case VectorFunction::kLog1pUnit: return std::log1p(v);
        case VectorFunction::kLogUnit: return std::log(v);
        case VectorFunction::kSigmoidOfMagnitude: return 1 / (1 + v);
    }
    return std::numeric_limits<LD>::quiet_NaN();
}

// The float or double as an integer that counts representable values in order (-0 and +0 both 0).
template <typename T>
int64_t ordinal(T v) {
    if constexpr (std::is_same_v<T, float>) {
        int32_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        return bits < 0 ? -static_cast<int64_t>(bits & INT32_MAX) : bits;
    } else {
        int64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        return bits < 0 ? -(bits & INT64_MAX) : bits;
    }
}

template <typename T>
T from_ordinal(int64_t n) {
    using Bits = std::conditional_t<std::is_same_v<T, float>, int32_t, int64_t>;
    const Bits magnitude = static_cast<Bits>(n < 0 ? -n : n);
    Bits bits = n < 0 ? static_cast<Bits>(magnitude | std::numeric_limits<Bits>::min()) : magnitude;
    T v;
    std::memcpy(&v, &bits, sizeof v);
    return v;
}

// Representable values from `want` to `got`; a NaN (where no NaN is wanted) is infinitely far.
template <typename T>
uint64_t ulp_distance(T got, T want) {
    if (std::isnan(got) || std::isnan(want)) {
        return std::isnan(got) && std::isnan(want) ? 0 : std::numeric_limits<uint64_t>::max();
    }
    const int64_t a = ordinal(got), b = ordinal(want);
    const uint64_t high = static_cast<uint64_t>(std::max(a, b)), low = static_cast<uint64_t>(std::min(a, b));
    return high - low;
}

// ---------------------------------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------------------------------

enum Dtype { kFloat32, kFloat64 };

struct Row {
    VectorFunction function;
    Dtype dtype;
    double low, high;         // the range swept, both ends included
    uint64_t max_ulp[kNeon];  // the bound per x86 ISA (avx2, avx512); neon is held to avx2's (bound_of)
};

// neon's vector math is avx2's formulas with a reciprocal refined to the same accuracy (FRECPE, an FRECPS step, and
// AVX2's last FMA step): it is held to avx2's bounds.
uint64_t bound_of(const Row& row, Isa isa) { return row.max_ulp[isa == kNeon ? kAvx2 : isa]; }

constexpr double kFloatExpSweep = 110;   // past e^-104, below half the smallest float subnormal (0 expected)
constexpr double kDoubleExpSweep = 750;  // past e^-745.2, likewise for double

// Each bound is the worst distance measured, rounded up where the measurement may have missed a worse input, and
// is the contract comment on the function in vector_math.h. float32: measured on every float of the range
// (BCE4J_TEST_EVERY_FLOAT=1), so the bound is the worst case. float64: measured on this test's sweeps and on 16M
// random inputs (half uniform in value, half in bit pattern); where the worst error found, as a fraction of an ULP
// of the exact value, came within 0.25 of rounding to one more ULP, the bound is one more.
//   function                  float32 worst (fraction)          float64 worst (fraction)
//   exp_nonpositive           1 (1.32)                          1 (1.31)        -> 2
//   log1p_unit                2 (v * q(v), both ISAs)           2 (with Lanes::quotient) -> 3
//   log_unit                  3 (2.93)                          3 (2.87)
//   sigmoid_of_magnitude      avx2 1 (1.50), avx512 2 (1.51)    1 (1.50)        -> 2
// exp_of_minus_magnitude is exp_nonpositive of -|x|: the same bounds.
const Row kRows[] = {
    {VectorFunction::kExpNonpositive, kFloat32, -kFloatExpSweep, 0, {1, 1}},
    {VectorFunction::kExpNonpositive, kFloat64, -kDoubleExpSweep, 0, {2, 2}},
    {VectorFunction::kExpOfMinusMagnitude, kFloat32, -kFloatExpSweep, kFloatExpSweep, {1, 1}},
    {VectorFunction::kExpOfMinusMagnitude, kFloat64, -kDoubleExpSweep, kDoubleExpSweep, {2, 2}},
    {VectorFunction::kLog1pUnit, kFloat32, 0, 1, {2, 2}},
    {VectorFunction::kLog1pUnit, kFloat64, 0, 1, {3, 3}},
    // log_unit's 0 is not log 0 (it gives a finite value below -100 instead); see VectorMathSpecialValues.
    {VectorFunction::kLogUnit, kFloat32, std::numeric_limits<float>::denorm_min(), 2, {3, 3}},
    {VectorFunction::kLogUnit, kFloat64, std::numeric_limits<double>::denorm_min(), 2, {3, 3}},
    // The reciprocal differs: AVX2 refines a 12-bit estimate twice, AVX-512 a 14-bit one once (float32).
    {VectorFunction::kSigmoidOfMagnitude, kFloat32, 0, 1, {1, 2}},
    {VectorFunction::kSigmoidOfMagnitude, kFloat64, 0, 1, {2, 2}},
};

// ---------------------------------------------------------------------------------------------------------------
// The inputs: a sweep of the bit patterns (every binade, subnormals included), a sweep of the values (the bulk of
// the range evenly), and edge values with their nearest neighbours.
// ---------------------------------------------------------------------------------------------------------------

constexpr int64_t kSweepPoints = int64_t{1} << 20;  // per sweep, so about 2M inputs a row

template <typename T>
std::vector<T> edge_values() {
    using limits = std::numeric_limits<T>;
    std::vector<T> edges = {T(0), limits::denorm_min(), limits::min(),  T(0.5), T(1),
                            T(2), std::sqrt(T(0.5)),    std::sqrt(T(2))};
    // Every power of two: the exponent extraction of log_unit, exact results of log, the binades of everything.
    for (int k = limits::min_exponent - limits::digits; k <= 2; ++k) edges.push_back(std::ldexp(T(1), k));
    // Where exp's reduction t = n ln2 + r changes n (|r| = ln2/2, the widest r), up to past the underflow to 0.
    const LD ln2 = std::log(2.0L);
    for (int n = 0; n <= -limits::min_exponent + limits::digits + 2; ++n) {
        edges.push_back(static_cast<T>((n + 0.5L) * ln2));
    }
    // Where e^-t becomes subnormal, reaches the smallest subnormal, and rounds to 0.
    edges.push_back(static_cast<T>(-std::log(static_cast<LD>(limits::min()))));
    edges.push_back(static_cast<T>(-std::log(static_cast<LD>(limits::denorm_min()))));
    edges.push_back(static_cast<T>(-std::log(static_cast<LD>(limits::denorm_min()) / 2)));
    std::vector<T> out;
    for (T e : edges) {
        const int64_t n = ordinal(e);
        for (int64_t step = -2; step <= 2; ++step) {
            out.push_back(from_ordinal<T>(n + step));
            out.push_back(-from_ordinal<T>(n + step));
        }
    }
    return out;
}

// Every float32 input of the range instead of the sweeps, with BCE4J_TEST_EVERY_FLOAT=1: minutes per row, for
// measuring a new function's float32 bound (run with --gtest_filter='*float32').
bool every_float() {
    const char* v = std::getenv("BCE4J_TEST_EVERY_FLOAT");
    return v != nullptr && std::strcmp(v, "1") == 0;
}

// Calls take(v) for each input of [low_bound, high_bound].
template <typename T, typename Take>
void for_each_input(double low_bound, double high_bound, Take take) {
    const T low = static_cast<T>(low_bound), high = static_cast<T>(high_bound);
    const bool exhaustive = std::is_same_v<T, float> && every_float();
    // In unsigned arithmetic: a double range around 0 spans more than INT64_MAX ordinals.
    const uint64_t first = static_cast<uint64_t>(ordinal(low));
    const uint64_t span = static_cast<uint64_t>(ordinal(high)) - first;
    const uint64_t step = exhaustive ? 1 : std::max<uint64_t>(1, span / kSweepPoints);
    for (uint64_t k = 0; k <= span; k += step) take(from_ordinal<T>(static_cast<int64_t>(first + k)));
    take(high);
    if (exhaustive) return;
    for (int64_t k = 0; k <= kSweepPoints; ++k) {
        take(static_cast<T>(static_cast<LD>(low) + (static_cast<LD>(high) - low) * k / kSweepPoints));
    }
    for (T e : edge_values<T>()) {
        if (low <= e && e <= high) take(e);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------------------------------

struct Worst {
    uint64_t ulp = 0;
    double input = 0, got = 0, want = 0;
    size_t count = 0;
};

template <typename T>
Worst measure(const IsaUnderTest& isa, const Row& row) {
    Worst worst;
    std::vector<T> in, out;
    bool first = true;
    const auto check = [&] {
        evaluate(isa, row.function, in, out);
        for (size_t i = 0; i < in.size(); ++i) {
            const T want = static_cast<T>(reference(row.function, in[i]));
            const uint64_t d = ulp_distance(out[i], want);
            if (d > worst.ulp || first) {
                worst = {d, static_cast<double>(in[i]), static_cast<double>(out[i]), static_cast<double>(want),
                         worst.count};
                first = false;
            }
        }
        worst.count += in.size();
        in.clear();
    };
    // In chunks (an odd size, so that the partial vectors at the end of each are tested too).
    for_each_input<T>(row.low, row.high, [&](T v) {
        in.push_back(v);
        if (in.size() == 65535) check();
    });
    check();
    return worst;
}

class VectorMath : public ::testing::TestWithParam<std::tuple<Isa, size_t>> {};

TEST_P(VectorMath, WithinTheRowsMaximumUlp) {
    const auto [isa_id, row_index] = GetParam();
    const IsaUnderTest isa = isa_under_test(isa_id);
    if (isa.cannot_run) GTEST_SKIP() << isa.name << ": " << isa.cannot_run;
    const Row& row = kRows[row_index];
    const Worst worst = row.dtype == kFloat32 ? measure<float>(isa, row) : measure<double>(isa, row);
    const uint64_t bound = bound_of(row, isa_id);
    // The measured worst case is printed on every run: the number to put in the table when a function changes.
    std::printf("%s %s %s [%g, %g]: max %" PRIu64 " ULP (bound %" PRIu64
                ") over %zu inputs, worst at %.17g: got "
                "%.17g, want %.17g\n",
                isa.name, name_of(row.function), row.dtype == kFloat32 ? "float32" : "float64", row.low, row.high,
                worst.ulp, bound, worst.count, worst.input, worst.got, worst.want);
    EXPECT_LE(worst.ulp, bound) << name_of(row.function) << "(" << worst.input << ") = " << worst.got << ", want "
                                << worst.want;
}

// What the contracts say beyond the rows: the values at the ends, infinities and NaN as the kernels rely on them.
template <typename T>
void expect_special_values(const IsaUnderTest& isa) {
    using limits = std::numeric_limits<T>;
    const T inf = limits::infinity(), nan = limits::quiet_NaN();
    const auto at = [&](VectorFunction f, std::vector<T> in) {
        std::vector<T> out;
        evaluate(isa, f, in, out);
        return out;
    };
    const std::vector<T> exp = at(VectorFunction::kExpNonpositive, {-inf, nan, T(0), -T(0)});
    EXPECT_EQ(exp[0], T(0)) << "exp_nonpositive(-inf)";
    EXPECT_TRUE(std::isnan(exp[1])) << "exp_nonpositive(NaN) = " << exp[1];
    EXPECT_EQ(exp[2], T(1)) << "exp_nonpositive(0)";
    EXPECT_EQ(exp[3], T(1)) << "exp_nonpositive(-0)";
    const std::vector<T> e = at(VectorFunction::kExpOfMinusMagnitude, {-inf, inf, nan, -nan, T(0), -T(0)});
    EXPECT_EQ(e[0], T(0)) << "exp_of_minus_magnitude(-inf)";
    EXPECT_EQ(e[1], T(0)) << "exp_of_minus_magnitude(inf)";
    EXPECT_TRUE(std::isnan(e[2]) && std::isnan(e[3])) << "exp_of_minus_magnitude(NaN) = " << e[2] << ", " << e[3];
    EXPECT_EQ(e[4], T(1)) << "exp_of_minus_magnitude(0)";
    EXPECT_EQ(e[5], T(1)) << "exp_of_minus_magnitude(-0)";
    const std::vector<T> log1p = at(VectorFunction::kLog1pUnit, {T(0)});
    EXPECT_EQ(log1p[0], T(0)) << "log1p_unit(0)";
    // 0 is not -inf but a finite value below the kernels' clamp at -100.
    const std::vector<T> log = at(VectorFunction::kLogUnit, {T(0), -T(0), T(1)});
    for (int k = 0; k < 2; ++k) {
        EXPECT_TRUE(std::isfinite(log[k]) && log[k] < T(-100)) << "log_unit(" << (k ? "-0" : "0") << ") = " << log[k];
    }
    EXPECT_EQ(log[2], T(0)) << "log_unit(1)";
}

class VectorMathSpecialValues : public ::testing::TestWithParam<Isa> {};

TEST_P(VectorMathSpecialValues, AsTheContractsSay) {
    const IsaUnderTest isa = isa_under_test(GetParam());
    if (isa.cannot_run) GTEST_SKIP() << isa.name << ": " << isa.cannot_run;
    {
        SCOPED_TRACE("float32");
        expect_special_values<float>(isa);
    }
    SCOPED_TRACE("float64");
    expect_special_values<double>(isa);
}

INSTANTIATE_TEST_SUITE_P(Isas, VectorMathSpecialValues, ::testing::Values(kAvx2, kAvx512, kNeon),
                         [](const ::testing::TestParamInfo<Isa>& info) { return isa_under_test(info.param).name; });

std::string row_name(const ::testing::TestParamInfo<std::tuple<Isa, size_t>>& info) {
    const Row& row = kRows[std::get<1>(info.param)];
    return std::string(isa_under_test(std::get<0>(info.param)).name) + "_" + name_of(row.function) + "_" +
           (row.dtype == kFloat32 ? "float32" : "float64");
}

INSTANTIATE_TEST_SUITE_P(Rows, VectorMath,
                         ::testing::Combine(::testing::Values(kAvx2, kAvx512, kNeon),
                                            ::testing::Range<size_t>(0, sizeof kRows / sizeof kRows[0])),
                         row_name);

}  // namespace
}  // namespace bce4j_test
