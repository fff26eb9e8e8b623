// 16-bit storage (BCE4J_FLOAT16, BCE4J_BFLOAT16): the conversions of every kernel table over every bit pattern
// and against a rounding written here from the definition; the 16-bit row kernels of every table against long
// double references on the widened values; and the C API with every option, extremes, empty inputs and errors
// against the float64 call on the same (widened) values, rounded once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/row_kernel.h"
#include "storage_types.h"
#include "term_magnitudes.h"
#include "test_util.h"

namespace {

using bce4j::BFloat16;
using bce4j::Float16;
using bce4j::KernelTable;
using bce4j::RowArgs;
using bce4j_test::kInf;
using bce4j_test::kNaN;
using bce4j_test::LD;

// ---------------------------------------------------------------------------------------------------------------
// The formats from their definition (independent of storage_types.h)
// ---------------------------------------------------------------------------------------------------------------

template <typename S>
constexpr int kExponentBits = std::is_same_v<S, Float16> ? 5 : 8;
template <typename S>
constexpr int kMantissaBits = std::is_same_v<S, Float16> ? 10 : 7;
template <typename S>
constexpr int kBias = (1 << (kExponentBits<S> - 1)) - 1;
template <typename S>
constexpr uint16_t kInfinityBits = static_cast<uint16_t>(((1 << kExponentBits<S>)-1) << kMantissaBits<S>);

template <typename S>
const char* name_of() {
    return std::is_same_v<S, Float16> ? "float16" : "bfloat16";
}

template <typename S>
bool is_nan_bits(uint16_t bits) {
    return (bits & 0x7fff) > kInfinityBits<S>;
}

// (-1)^s * 2^(e - bias) * 1.m, or 2^(1 - bias) * 0.m for e = 0.
template <typename S>
double value_of(uint16_t bits) {
    const int exponent = (bits >> kMantissaBits<S>)&((1 << kExponentBits<S>)-1);
    const int mantissa = bits & ((1 << kMantissaBits<S>)-1);
    const double sign = (bits & 0x8000) ? -1.0 : 1.0;
    if (exponent == (1 << kExponentBits<S>)-1) return mantissa ? kNaN : sign * kInf;
    if (exponent == 0) return sign * std::ldexp(mantissa, 1 - kBias<S> - kMantissaBits<S>);
    return sign * std::ldexp(mantissa + (1 << kMantissaBits<S>), exponent - kBias<S> - kMantissaBits<S>);
}

// Every finite non-negative value in increasing order; the index is the bit pattern.
template <typename S>
const std::vector<double>& magnitudes() {
    static const std::vector<double> values = [] {
        std::vector<double> v;
        for (uint32_t bits = 0; bits < kInfinityBits<S>; ++bits) v.push_back(value_of<S>(static_cast<uint16_t>(bits)));
        return v;
    }();
    return values;
}

// The nearest value by search among all of them, ties to the even bit pattern; at or beyond the largest finite
// value plus half its spacing, infinity. NaN gives a NaN pattern.
template <typename S>
uint16_t reference_round(double v) {
    if (std::isnan(v)) return kInfinityBits<S> | 1;
    const uint16_t sign = std::signbit(v) ? 0x8000 : 0;
    const double a = std::fabs(v);
    const std::vector<double>& m = magnitudes<S>();
    const double largest = m.back();
    if (a >= largest + (largest - m[m.size() - 2]) / 2) return sign | kInfinityBits<S>;
    if (a >= largest) return static_cast<uint16_t>(sign | (m.size() - 1));
    const size_t above = static_cast<size_t>(std::lower_bound(m.begin(), m.end(), a) - m.begin());
    if (m[above] == a) return static_cast<uint16_t>(sign | above);
    const size_t below = above - 1;
    const double midpoint = (m[below] + m[above]) / 2;  // exact: both have few significant bits
    const size_t nearest = a < midpoint ? below : a > midpoint ? above : (below % 2 == 0 ? below : above);
    return static_cast<uint16_t>(sign | nearest);
}

template <typename S>
double rounded(double v) {
    return value_of<S>(reference_round<S>(v));
}

// Half the spacing of the format's values around magnitude a (subnormal spacing below the smallest normal).
template <typename S>
double half_spacing(double a) {
    const int exponent = a > 0 ? std::ilogb(a) : 1 - kBias<S>;
    return std::ldexp(1.0, std::max(exponent, 1 - kBias<S>) - kMantissaBits<S> - 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Conversions, on every kernel table
// ---------------------------------------------------------------------------------------------------------------

class HalfStorageTables : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        table_ = bce4j::kernel_table_for(GetParam());
        if (table_ == nullptr) GTEST_SKIP() << GetParam() << " kernels are not compiled in or this CPU lacks them";
    }
    const KernelTable* table_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(, HalfStorageTables, ::testing::Values("scalar", "avx2", "avx512", "neon"),
                         [](const auto& info) { return info.param; });

template <typename S>
void widen(const KernelTable& t, const std::vector<S>& in, std::vector<float>& out) {
    out.resize(in.size());
    if constexpr (std::is_same_v<S, Float16>) {
        t.conversions.widen_f16(in.data(), out.data(), static_cast<int64_t>(in.size()));
    } else {
        t.conversions.widen_bf16(in.data(), out.data(), static_cast<int64_t>(in.size()));
    }
}

template <typename S>
std::vector<S> narrow(const KernelTable& t, const std::vector<float>& in) {
    std::vector<S> out(in.size());
    if constexpr (std::is_same_v<S, Float16>) {
        t.conversions.narrow_f16(in.data(), out.data(), static_cast<int64_t>(in.size()));
    } else {
        t.conversions.narrow_bf16(in.data(), out.data(), static_cast<int64_t>(in.size()));
    }
    return out;
}

template <typename S>
std::vector<S> every_bit_pattern() {
    std::vector<S> all(65536);
    for (uint32_t b = 0; b < all.size(); ++b) all[b] = S{static_cast<uint16_t>(b)};
    return all;
}

template <typename S>
void widening_is_exact_and_narrowing_inverts_it(const KernelTable& t) {
    SCOPED_TRACE(name_of<S>());
    const std::vector<S> all = every_bit_pattern<S>();
    std::vector<float> wide;
    widen(t, all, wide);
    const std::vector<S> back = narrow<S>(t, wide);
    for (uint32_t b = 0; b < all.size(); ++b) {
        const double want = value_of<S>(static_cast<uint16_t>(b));
        if (std::isnan(want)) {
            ASSERT_TRUE(std::isnan(wide[b])) << std::hex << b;
            ASSERT_TRUE(is_nan_bits<S>(back[b].bits)) << std::hex << b << " -> " << back[b].bits;
            ASSERT_TRUE(back[b].bits & (1u << (kMantissaBits<S> - 1))) << "NaN not quiet: " << std::hex << b;
            continue;
        }
        ASSERT_EQ(static_cast<double>(wide[b]), want) << std::hex << b;
        ASSERT_EQ(std::signbit(wide[b]), std::signbit(want)) << std::hex << b;
        ASSERT_EQ(back[b].bits, b) << std::hex << b;
    }
}

TEST_P(HalfStorageTables, WideningIsExactAndNarrowingInvertsItForEveryBitPattern) {
    widening_is_exact_and_narrowing_inverts_it<Float16>(*table_);
    widening_is_exact_and_narrowing_inverts_it<BFloat16>(*table_);
}

float float_of_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

// Random float bit patterns (every class: NaN, inf, huge, subnormal), the midpoints between neighbouring values
// (ties) and the floats just beside them, and values around the overflow threshold.
template <typename S>
std::vector<float> narrowing_cases() {
    std::mt19937_64 gen(2024);
    std::vector<float> v;
    for (int i = 0; i < 200000; ++i) v.push_back(float_of_bits(static_cast<uint32_t>(gen())));
    const std::vector<double>& m = magnitudes<S>();
    for (size_t k = 0; k + 1 < m.size(); k += 1 + gen() % 7) {
        const float midpoint = static_cast<float>((m[k] + m[k + 1]) / 2);  // exact in float
        for (float f :
             {midpoint, std::nextafter(midpoint, 0.0f), std::nextafter(midpoint, 1e30f), static_cast<float>(m[k])}) {
            v.push_back(f);
            v.push_back(-f);
        }
    }
    const double largest = m.back();
    const float overflow = static_cast<float>(largest + (largest - m[m.size() - 2]) / 2);
    for (float f : {overflow, std::nextafter(overflow, 0.0f), std::nextafter(overflow, 1e38f)}) {
        v.push_back(f);
        v.push_back(-f);
    }
    return v;
}

template <typename S>
void narrowing_rounds_to_nearest_even(const KernelTable& t) {
    SCOPED_TRACE(name_of<S>());
    const std::vector<float> cases = narrowing_cases<S>();
    const std::vector<S> got = narrow<S>(t, cases);
    for (size_t i = 0; i < cases.size(); ++i) {
        const uint16_t want = reference_round<S>(cases[i]);
        if (is_nan_bits<S>(want)) {
            ASSERT_TRUE(is_nan_bits<S>(got[i].bits)) << cases[i];
        } else {
            ASSERT_EQ(got[i].bits, want) << std::hexfloat << cases[i];
        }
    }
}

TEST_P(HalfStorageTables, NarrowingRoundsToNearestEvenOverflowsToInfinityAndKeepsSubnormals) {
    narrowing_rounds_to_nearest_even<Float16>(*table_);
    narrowing_rounds_to_nearest_even<BFloat16>(*table_);
}

// The scalar reference rounds double results once: a double just above a midpoint rounds up even where rounding
// to float first would make it a tie (and round it to even, down).
template <typename S>
void double_narrowing_rounds_once() {
    SCOPED_TRACE(name_of<S>());
    std::mt19937_64 gen(7);
    const std::vector<double>& m = magnitudes<S>();
    for (int i = 0; i < 100000; ++i) {
        const size_t k = gen() % (m.size() - 1);
        const double midpoint = (m[k] + m[k + 1]) / 2;
        const double offset = std::ldexp(midpoint, -30 - static_cast<int>(gen() % 20));
        for (double v : {midpoint + offset, midpoint - offset, midpoint}) {
            ASSERT_EQ(bce4j::narrow<S>(v).bits, reference_round<S>(v)) << std::hexfloat << v;
        }
    }
}

TEST(HalfStorageConversions, DoublesAreRoundedOnce) {
    double_narrowing_rounds_once<Float16>();
    double_narrowing_rounds_once<BFloat16>();
}

// ---------------------------------------------------------------------------------------------------------------
// The 16-bit row kernels of every table against long double references on the widened values
// ---------------------------------------------------------------------------------------------------------------

enum class Operand { kAbsent, kConstant, kPerElement };

template <typename S>
std::vector<S> stored(const std::vector<double>& values) {
    std::vector<S> out;
    for (double v : values) out.push_back(S{reference_round<S>(v)});
    return out;
}

template <typename S>
double at(const std::vector<S>& v, size_t i) {
    return value_of<S>(v[i].bits);
}

// |got - want| within half the format's spacing at want (one rounding) plus what the computation adds before it:
// ~1e-15 of the terms' magnitude in the scalar reference, 4 float epsilons in the float32 lanes of the SIMD
// tables. The spacing is taken at the larger magnitude the unrounded result may have.
::testing::AssertionResult within_one_rounding(double got, LD want, double terms, double rel, int mantissa_bits,
                                               int min_exponent) {
    const double w = static_cast<double>(want);
    if (std::isnan(w) || std::isnan(got)) {
        return std::isnan(w) && std::isnan(got) ? ::testing::AssertionSuccess()
                                                : ::testing::AssertionFailure() << "got " << got << ", want " << w;
    }
    if (!std::isfinite(terms)) {  // non-finite terms give no tolerance: the value itself must match
        return got == w
                   ? ::testing::AssertionSuccess()
                   : ::testing::AssertionFailure() << "got " << got << ", want " << w << " (terms " << terms << ")";
    }
    const double slack = rel * std::max(std::fabs(w), terms);
    const double top = std::fabs(w) + slack;
    const double half =
        std::ldexp(1.0, std::max(top > 0 ? std::ilogb(top) : min_exponent, min_exponent) - mantissa_bits - 1);
    if (std::isinf(got)) {
        // Overflow: only where the value is beyond the largest finite one.
        const double largest = std::ldexp(2.0 - std::ldexp(1.0, -mantissa_bits), 1 - min_exponent);
        if (std::signbit(got) == std::signbit(w) && top + half >= largest) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", want " << w;
    }
    const LD error = std::fabs(static_cast<LD>(got) - want);
    if (error <= half + slack) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::scientific << "got " << got << ", want " << w << ", error "
                                         << static_cast<double>(error) << " > " << half + slack;
}

template <typename S>
::testing::AssertionResult within_one_rounding(double got, LD want, double terms, double rel) {
    return within_one_rounding(got, want, terms, rel, kMantissaBits<S>, 1 - kBias<S>);
}

// What the computation before the final rounding may add, relative to the terms: the scalar table computes in
// double, the SIMD tables in float32 lanes (simd_kernels.h).
double compute_tolerance(const KernelTable& t) {
    return std::strcmp(t.isa, "scalar") == 0 ? 1e-12 : 4 * std::numeric_limits<float>::epsilon();
}

struct KernelCase {
    bool logits = true;
    int64_t n = 0;
    Operand weight = Operand::kAbsent, pos_weight = Operand::kAbsent;
    bool upstream_per_element = false;
};

template <typename S>
void kernel_matches_reference(const KernelTable& t, const KernelCase& c, uint64_t seed) {
    SCOPED_TRACE(std::string(name_of<S>()) + (c.logits ? " logits" : " probabilities") + " n=" + std::to_string(c.n) +
                 " weight=" + std::to_string(static_cast<int>(c.weight)) +
                 " pos_weight=" + std::to_string(static_cast<int>(c.pos_weight)) +
                 " upstream=" + std::to_string(c.upstream_per_element));
    const size_t n = static_cast<size_t>(c.n);
    const auto x = stored<S>(c.logits ? bce4j_test::uniform<double>(c.n, -12, 12, seed)
                                      : bce4j_test::uniform<double>(c.n, 0.001, 0.999, seed));
    const auto y = stored<S>(bce4j_test::labels<double>(c.n, seed + 1));
    const auto w = stored<S>(bce4j_test::uniform<double>(c.n + 1, -1, 3, seed + 2));
    const auto p = stored<S>(bce4j_test::uniform<double>(c.n + 1, 0, 4, seed + 3));
    const auto g = stored<S>(bce4j_test::uniform<double>(c.n + 1, -3, 3, seed + 4));
    const double grad_scale = 0.375;
    const S sentinel{0x1234};
    std::vector<S> loss(n + 1, sentinel), grad_input(n + 1, sentinel), grad_target(n + 1, sentinel);

    RowArgs<S> a{};
    a.input = x.data();
    a.target = y.data();
    a.weight = c.weight == Operand::kAbsent ? nullptr : w.data();
    a.weight_stride = c.weight == Operand::kPerElement ? 1 : 0;
    a.pos_weight = c.pos_weight == Operand::kAbsent ? nullptr : p.data();
    a.pos_weight_stride = c.pos_weight == Operand::kPerElement ? 1 : 0;
    a.grad_output = c.upstream_per_element ? g.data() : nullptr;
    a.grad_scale = grad_scale;
    a.loss = loss.data();
    a.grad_input = grad_input.data();
    a.grad_target = grad_target.data();
    a.params.probabilities = !c.logits;
    const bce4j::RowResult r = bce4j::kernel_of<S>(t)(c.n, a);
    ASSERT_EQ(r.first_invalid, -1);

    const auto operand = [&](Operand how, const std::vector<S>& v, size_t i) {
        return how == Operand::kAbsent ? 1.0 : at(v, how == Operand::kConstant ? 0 : i);
    };
    const double rel = compute_tolerance(t);
    LD sum = 0, sum_terms = 0;
    for (size_t i = 0; i < n; ++i) {
        const double wi = operand(c.weight, w, i), pi = operand(c.pos_weight, p, i);
        const double gi = c.upstream_per_element ? at(g, i) : grad_scale;
        const bce4j_test::RefTerms ref =
            c.logits ? bce4j_test::ref_logits(at(x, i), at(y, i), pi) : bce4j_test::ref_bce(at(x, i), at(y, i));
        sum += wi * ref.loss;
        sum_terms += std::fabs(wi) * ref.loss_scale;
        const double loss_terms = static_cast<double>(std::fabs(wi) * ref.loss_scale);
        ASSERT_TRUE(within_one_rounding<S>(at(loss, i), wi * ref.loss, loss_terms, rel)) << "loss " << i;
        ASSERT_TRUE(within_one_rounding<S>(at(grad_input, i), gi * wi * ref.grad_input,
                                           static_cast<double>(std::fabs(gi * wi) * ref.grad_input_scale), rel))
            << "grad_input " << i;
        ASSERT_TRUE(within_one_rounding<S>(at(grad_target, i), gi * wi * ref.grad_target,
                                           static_cast<double>(std::fabs(gi * wi) * ref.grad_target_scale), rel))
            << "grad_target " << i;
    }
    // Nothing written past the row; the loss sum of the unrounded losses, accumulated in double.
    ASSERT_EQ(loss[n].bits, sentinel.bits);
    ASSERT_EQ(grad_input[n].bits, sentinel.bits);
    ASSERT_EQ(grad_target[n].bits, sentinel.bits);
    EXPECT_NEAR(r.loss_sum, static_cast<double>(sum), rel * static_cast<double>(sum_terms) + 1e-300);
}

// Lengths around vector widths and the 512-element conversion chunks.
TEST_P(HalfStorageTables, RowKernelsMatchTheReferenceOnEveryOperandFormAndLength) {
    const Operand forms[] = {Operand::kAbsent, Operand::kConstant, Operand::kPerElement};
    uint64_t seed = 1;
    for (int64_t n : {0, 1, 7, 8, 17, 33, 511, 512, 513, 1300}) {
        for (bool logits : {true, false}) {
            for (Operand weight : forms) {
                for (Operand pos_weight : forms) {
                    if (!logits && pos_weight != Operand::kAbsent) continue;
                    for (bool upstream : {false, true}) {
                        const KernelCase c{logits, n, weight, pos_weight, upstream};
                        kernel_matches_reference<Float16>(*table_, c, seed);
                        kernel_matches_reference<BFloat16>(*table_, c, seed);
                        if (::testing::Test::HasFatalFailure()) return;
                        ++seed;
                    }
                }
            }
        }
    }
}

// An invalid probability in a later chunk is reported at its row offset, with the loss summed up to it.
TEST_P(HalfStorageTables, FirstInvalidProbabilityIsTranslatedFromTheChunk) {
    for (int64_t bad : {0, 5, 511, 512, 700, 1299}) {
        auto x = stored<Float16>(bce4j_test::uniform<double>(1300, 0.01, 0.99, 3));
        const auto y = stored<Float16>(bce4j_test::labels<double>(1300, 4));
        x[static_cast<size_t>(bad)] = Float16{reference_round<Float16>(1.5)};
        std::vector<Float16> grad(1300);
        RowArgs<Float16> a{};
        a.input = x.data();
        a.target = y.data();
        a.grad_scale = 1;
        a.grad_input = grad.data();
        a.params.probabilities = true;
        const bce4j::RowResult r = table_->f16(1300, a);
        EXPECT_EQ(r.first_invalid, bad);
        LD sum = 0;
        for (int64_t i = 0; i < bad; ++i) sum += bce4j_test::ref_bce(at(x, i), at(y, i)).loss;
        EXPECT_NEAR(r.loss_sum, static_cast<double>(sum), 1e-5 * (1 + std::fabs(static_cast<double>(sum))));
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The C API (on the active table: these tests also run with BCE4J_ISA=scalar)
// ---------------------------------------------------------------------------------------------------------------

struct Operand16 {
    std::vector<int64_t> shape;
    std::vector<double> values;
};

// One call; every value is representable in the storage type under test (see representable()).
struct Spec {
    bool logits = true;
    std::vector<int64_t> shape;
    std::vector<double> input, target;
    std::optional<Operand16> weight, pos_weight;
    std::optional<std::vector<double>> grad_output;
    int32_t reduction = BCE4J_REDUCTION_MEAN;
    int32_t pos_weight_mode = BCE4J_POS_WEIGHT_TORCH;
    std::optional<double> ignore_index;
    double label_smoothing = 0;
    int32_t smoothing_classes = 2;
    bool validate_targets = false;
    std::optional<double> focal_gamma;
    double focal_alpha = -1;
    int32_t num_threads = 0;
};

struct Result {
    bce4j_status status = BCE4J_ERROR_INTERNAL;
    std::string message;
    std::vector<double> loss, grad_input, grad_target;  // widened
    double reduced = kNaN;
};

template <typename T>
T store_value(double v) {
    if constexpr (std::is_same_v<T, double>) {
        return v;
    } else {
        return T{reference_round<T>(v)};
    }
}

template <typename T>
double load_value(T v) {
    if constexpr (std::is_same_v<T, double>) {
        return v;
    } else {
        return value_of<T>(v.bits);
    }
}

template <typename T>
constexpr bce4j_dtype kDtype = std::is_same_v<T, double>    ? BCE4J_FLOAT64
                               : std::is_same_v<T, Float16> ? BCE4J_FLOAT16
                                                            : BCE4J_BFLOAT16;

// Runs `s` with storage type T (double: the float64 reference call on the same values).
template <typename T>
Result call(const Spec& s) {
    const auto to_storage = [](const std::vector<double>& v) {
        std::vector<T> out;
        for (double d : v) out.push_back(store_value<T>(d));
        return out;
    };
    const int64_t n = bce4j_test::numel(s.shape);
    const std::vector<T> input = to_storage(s.input), target = to_storage(s.target);
    const std::vector<T> weight = s.weight ? to_storage(s.weight->values) : std::vector<T>{};
    const std::vector<T> pos_weight = s.pos_weight ? to_storage(s.pos_weight->values) : std::vector<T>{};
    const std::vector<T> grad_output = s.grad_output ? to_storage(*s.grad_output) : std::vector<T>{};
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = s.reduction;
    o.num_threads = s.num_threads;
    o.pos_weight_mode = s.pos_weight_mode;
    if (s.weight) {
        o.weight = weight.data();
        o.weight_ndim = static_cast<int32_t>(s.weight->shape.size());
        o.weight_shape = s.weight->shape.data();
    }
    if (s.pos_weight) {
        o.pos_weight = pos_weight.data();
        o.pos_weight_ndim = static_cast<int32_t>(s.pos_weight->shape.size());
        o.pos_weight_shape = s.pos_weight->shape.data();
    }
    o.has_ignore_index = s.ignore_index.has_value();
    o.ignore_index = s.ignore_index.value_or(-100);
    o.label_smoothing = s.label_smoothing;
    o.smoothing_classes = s.smoothing_classes;
    o.validate_targets = s.validate_targets;
    o.has_focal = s.focal_gamma.has_value();
    o.focal_gamma = s.focal_gamma.value_or(2);
    o.focal_alpha = s.focal_alpha;
    const bool none = s.reduction == BCE4J_REDUCTION_NONE;
    const T sentinel = store_value<T>(-1234.0);
    std::vector<T> loss(none ? static_cast<size_t>(n) : 1u, sentinel);
    std::vector<T> grad_input(static_cast<size_t>(n), sentinel), grad_target(static_cast<size_t>(n), sentinel);
    Result r;
    const auto fn = s.logits ? bce4j_bce_with_logits : bce4j_bce;
    r.status = fn(&o, kDtype<T>, static_cast<int32_t>(s.shape.size()), s.shape.data(), input.data(), target.data(),
                  s.grad_output ? grad_output.data() : nullptr, loss.data(), &r.reduced, grad_input.data(),
                  grad_target.data());
    r.message = bce4j_last_error_message();
    for (T v : loss) r.loss.push_back(load_value(v));
    for (T v : grad_input) r.grad_input.push_back(load_value(v));
    for (T v : grad_target) r.grad_target.push_back(load_value(v));
    return r;
}

// `s` with every value rounded to S, so that the float64 call sees exactly the values the 16-bit call holds.
template <typename S>
Spec representable(Spec s) {
    const auto round_all = [](std::vector<double>& v) {
        for (double& d : v) d = rounded<S>(d);
    };
    round_all(s.input);
    round_all(s.target);
    if (s.weight) round_all(s.weight->values);
    if (s.pos_weight) round_all(s.pos_weight->values);
    if (s.grad_output) round_all(*s.grad_output);
    return s;
}

bool computes_in_double() { return bce4j_test::float32_rounded_once(); }

// What the reduction divides the sum and the gradients by, from the call's values (for a tolerance only: a zero
// denominator counts as 1).
double reduction_denominator(const Spec& s) {
    const int64_t n = bce4j_test::numel(s.shape);
    double d = 1;
    switch (s.reduction) {
        case BCE4J_REDUCTION_MEAN: d = static_cast<double>(n); break;
        case BCE4J_REDUCTION_MEAN_BY_WEIGHT:
        case BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT:
            d = s.weight ? 0 : static_cast<double>(n);
            for (int64_t i = 0; s.weight && i < n; ++i) {
                const double w = s.weight->values[bce4j_test::broadcast_source(s.shape, s.weight->shape, i)];
                d += s.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT ? w : (w != 0);
            }
            break;
        case BCE4J_REDUCTION_MEAN_VALID:
            d = static_cast<double>(n);
            for (int64_t i = 0; s.ignore_index && i < n; ++i) d -= s.target[i] == *s.ignore_index;
            break;
    }
    return d == 0 ? 1 : std::fabs(d);
}

// The magnitudes of the terms behind element i's outputs (term_magnitudes.h), for the float32 lanes' tolerance;
// the gradients' with upstream gradient g.
bce4j_test::Magnitudes output_terms(const Spec& s, size_t i, double g) {
    bce4j::ElementParams o;
    o.probabilities = !s.logits;
    o.paddle_legacy = s.logits && s.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    if (s.ignore_index) o.ignored_target = *s.ignore_index;
    o.smoothing_keep = 1 - s.label_smoothing;
    o.smoothing_shift = s.label_smoothing / s.smoothing_classes;
    o.focal = s.logits && s.focal_gamma.has_value();
    o.focal_gamma = s.focal_gamma.value_or(2);
    o.focal_alpha = s.focal_alpha;
    const auto operand = [&](const std::optional<Operand16>& v) {
        return v ? v->values[bce4j_test::broadcast_source(s.shape, v->shape, static_cast<int64_t>(i))] : 1.0;
    };
    return bce4j_test::term_magnitudes(o, s.input[i], s.target[i], operand(s.weight),
                                       s.logits ? operand(s.pos_weight) : 1.0, g);
}

// The upstream factor of element i's gradients: its grad_output (1 when absent) over the reduction's denominator.
double upstream_factor(const Spec& s, size_t i, double denominator) {
    const bool none = s.reduction == BCE4J_REDUCTION_NONE;
    const double g = s.grad_output ? std::fabs((*s.grad_output)[none ? i : 0]) : 1;
    return none ? g : g / denominator;
}

// The 16-bit call against the float64 call on the same values: in the scalar reference, both compute the same
// doubles, so every output is the float64 one rounded once, bit for bit; in float32 lanes, within one rounding
// and 4 float epsilons of the terms.
template <typename S>
void expect_rounded_float64(const Spec& spec) {
    const Spec s = representable<S>(spec);
    const Result got = call<S>(s);
    const Result want = call<double>(s);
    ASSERT_EQ(want.status, BCE4J_OK) << want.message;
    ASSERT_EQ(got.status, BCE4J_OK) << got.message;
    const double rel = computes_in_double() ? 0 : 4 * std::numeric_limits<float>::epsilon();
    const bool none = s.reduction == BCE4J_REDUCTION_NONE;
    const std::vector<double>* outputs[][2] = {
        {&got.grad_input, &want.grad_input}, {&got.grad_target, &want.grad_target}, {&got.loss, &want.loss}};
    const char* names[] = {"grad_input", "grad_target", "loss"};
    const double denominator = reduction_denominator(s);
    for (int k = 0; k < (none ? 3 : 2); ++k) {
        const std::vector<double>& g = *outputs[k][0];
        const std::vector<double>& w = *outputs[k][1];
        ASSERT_EQ(g.size(), w.size());
        for (size_t i = 0; i < g.size(); ++i) {
            if (computes_in_double()) {
                const double expected = rounded<S>(w[i]);
                if (std::isnan(expected)) {
                    ASSERT_TRUE(std::isnan(g[i])) << names[k] << " " << i << ": " << g[i];
                } else {
                    ASSERT_EQ(g[i], expected) << names[k] << " " << i << " (float64 " << w[i] << ")";
                }
            } else {
                const bce4j_test::Magnitudes m = output_terms(s, i, upstream_factor(s, i, denominator));
                const double terms = k == 0 ? m.grad_input : k == 1 ? m.grad_target : m.loss;
                ASSERT_TRUE(within_one_rounding<S>(g[i], w[i], terms, rel)) << names[k] << " " << i;
            }
        }
    }
    if (!none) {
        double terms = 0;
        for (size_t i = 0; i < s.input.size(); ++i) terms += output_terms(s, i, 1).loss / denominator;
        if (computes_in_double()) {
            EXPECT_EQ(got.reduced, want.reduced);
        } else if (std::isnan(want.reduced)) {
            EXPECT_TRUE(std::isnan(got.reduced));
        } else {
            EXPECT_NEAR(got.reduced, want.reduced, rel * terms);
        }
        // The one-element loss is the double reduction rounded once.
        const double expected = rounded<S>(got.reduced);
        if (std::isnan(expected)) {
            EXPECT_TRUE(std::isnan(got.loss[0]));
        } else {
            EXPECT_EQ(got.loss[0], expected);
        }
    }
}

template <typename F>
void for_both_formats(F&& f) {
    {
        SCOPED_TRACE("float16");
        f(Float16{});
    }
    {
        SCOPED_TRACE("bfloat16");
        f(BFloat16{});
    }
}

// [4, 37] logits and labels (a soft one in three), long enough for several vectors and a tail.
Spec logits_spec(uint64_t seed) {
    Spec s;
    s.shape = {4, 37};
    s.input = bce4j_test::uniform<double>(148, -8, 8, seed);
    s.target = bce4j_test::labels<double>(148, seed + 1);
    return s;
}

Spec probabilities_spec(uint64_t seed) {
    Spec s = logits_spec(seed);
    s.logits = false;
    s.input = bce4j_test::uniform<double>(148, 0.002, 0.998, seed);
    return s;
}

TEST(HalfStorageApi, EveryReductionWithBroadcastWeightsAndUpstreamGradients) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        for (int32_t reduction = BCE4J_REDUCTION_NONE; reduction <= BCE4J_REDUCTION_MEAN_VALID; ++reduction) {
            for (bool logits : {true, false}) {
                SCOPED_TRACE("reduction " + std::to_string(reduction) + (logits ? " logits" : " probabilities"));
                Spec s = logits ? logits_spec(10 + reduction) : probabilities_spec(20 + reduction);
                s.reduction = reduction;
                s.weight = Operand16{{37}, bce4j_test::uniform<double>(37, 0, 2, 30)};
                s.weight->values[3] = 0;  // counts for MEAN_BY_NONZERO_WEIGHT
                if (logits) s.pos_weight = Operand16{{4, 1}, {0.5, 1, 2.5, 3}};
                s.grad_output = reduction == BCE4J_REDUCTION_NONE ? bce4j_test::uniform<double>(148, -2, 2, 40)
                                                                  : std::vector<double>{0.3};
                expect_rounded_float64<S>(s);
                s.grad_output.reset();
                expect_rounded_float64<S>(s);
            }
        }
    });
}

TEST(HalfStorageApi, ConventionsPosWeightModeIgnoreIndexSmoothingFocalAndValidation) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        Spec s = logits_spec(50);
        s.reduction = BCE4J_REDUCTION_NONE;
        s.pos_weight = Operand16{{37}, bce4j_test::uniform<double>(37, 0.5, 4, 51)};
        s.pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY;
        expect_rounded_float64<S>(s);

        s = logits_spec(52);
        s.reduction = BCE4J_REDUCTION_MEAN_VALID;
        s.ignore_index = -100;
        for (size_t i = 0; i < s.target.size(); i += 5) s.target[i] = -100;
        s.label_smoothing = 0.1;
        s.smoothing_classes = 5;
        s.validate_targets = true;
        expect_rounded_float64<S>(s);

        s = logits_spec(53);
        s.reduction = BCE4J_REDUCTION_SUM;
        s.focal_gamma = 2;
        s.focal_alpha = 0.25;
        s.weight = Operand16{{4, 1}, {1, 0.5, 2, 0}};
        expect_rounded_float64<S>(s);

        s = probabilities_spec(54);
        s.reduction = BCE4J_REDUCTION_NONE;
        s.ignore_index = 0.5;
        s.target[7] = 0.5;
        s.input[7] = 7;  // ignored: not range-checked
        s.label_smoothing = 0.2;
        expect_rounded_float64<S>(s);
    });
}

// An ignore_index the format cannot hold matches no target, not even the target it rounds to.
TEST(HalfStorageApi, IgnoreIndexMustBeRepresentableInTheFormat) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        Spec s = representable<S>(logits_spec(60));
        s.reduction = BCE4J_REDUCTION_NONE;
        s.target[2] = rounded<S>(0.1);
        const Result plain = call<S>(s);
        s.ignore_index = 0.1;
        const Result with_unrepresentable = call<S>(s);
        ASSERT_EQ(with_unrepresentable.status, BCE4J_OK);
        EXPECT_EQ(with_unrepresentable.grad_input, plain.grad_input);
        EXPECT_NE(with_unrepresentable.loss[2], 0);
        s.ignore_index = rounded<S>(0.1);
        const Result with_representable = call<S>(s);
        EXPECT_EQ(with_representable.loss[2], 0);
        EXPECT_EQ(with_representable.grad_input[2], 0);
        EXPECT_EQ(with_representable.grad_input[3], plain.grad_input[3]);
    });
}

// Infinities, NaN, the largest finite values (65504 in float16), subnormals and large bfloat16 values.
TEST(HalfStorageApi, Extremes) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        const double largest = magnitudes<S>().back();
        const double smallest = magnitudes<S>()[1];
        Spec s;
        s.reduction = BCE4J_REDUCTION_NONE;
        s.input = {kInf, -kInf, kNaN,  largest, -largest, smallest, -smallest, 0,
                   -0.0, 3e38,  -3e38, 20,      -20,      60000,    1e-6,      -1e-6};
        s.target = {1, 0, 0.5, 0, 1, 1, 0, 0.5, 1, 1, 0, 0, 1, 0.5, kNaN, 0.25};
        s.shape = {static_cast<int64_t>(s.input.size())};
        expect_rounded_float64<S>(s);
        // A weight of 2 on the largest values: the loss overflows the format and becomes infinity.
        s.weight = Operand16{{1}, {2}};
        expect_rounded_float64<S>(s);
        const Result r = call<S>(representable<S>(s));
        EXPECT_EQ(r.loss[3], kInf);
        EXPECT_EQ(r.loss[4], kInf);

        Spec p;
        p.logits = false;
        p.reduction = BCE4J_REDUCTION_NONE;
        p.input = {0, 1, smallest, 1 - std::ldexp(1.0, -kMantissaBits<S> - 1), 0.5, 0, 1, kNaN, 1e-5};
        p.target = {0, 1, 0, 1, 0.5, 1, 0, 0, 1};
        p.shape = {static_cast<int64_t>(p.input.size())};
        expect_rounded_float64<S>(p);
    });
}

TEST(HalfStorageApi, EmptyInputs) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        Spec s;
        s.shape = {0, 3};
        s.reduction = BCE4J_REDUCTION_MEAN;
        Result r = call<S>(s);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        EXPECT_TRUE(std::isnan(r.reduced));
        EXPECT_TRUE(std::isnan(r.loss[0]));
        s.reduction = BCE4J_REDUCTION_SUM;
        r = call<S>(s);
        EXPECT_EQ(r.reduced, 0);
        EXPECT_EQ(r.loss[0], 0);
        s.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
        s.weight = Operand16{{3}, {1, 2, 3}};
        r = call<S>(s);
        EXPECT_EQ(r.reduced, 0);
    });
}

// Large calls go through the executor's blocks and threads: the same bits whatever the thread count.
TEST(HalfStorageApi, LargeBroadcastCallsAreDeterministicAcrossThreads) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        Spec s;
        s.shape = {300, 257};
        s.input = bce4j_test::uniform<double>(300 * 257, -10, 10, 70);
        s.target = bce4j_test::labels<double>(300 * 257, 71);
        s.weight = Operand16{{257}, bce4j_test::uniform<double>(257, 0, 2, 72)};
        s.pos_weight = Operand16{{300, 1}, bce4j_test::uniform<double>(300, 0.5, 3, 73)};
        s.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
        s.num_threads = 1;
        expect_rounded_float64<S>(s);
        const Result one = call<S>(representable<S>(s));
        s.num_threads = 3;
        const Result three = call<S>(representable<S>(s));
        EXPECT_EQ(one.reduced, three.reduced);
        EXPECT_EQ(one.grad_input, three.grad_input);
        EXPECT_EQ(one.grad_target, three.grad_target);
    });
}

// Errors name the index and print the offending value widened.
TEST(HalfStorageApi, OutOfRangeValuesAreReportedWithTheirIndexAndWidenedValue) {
    for_both_formats([](auto format) {
        using S = decltype(format);
        Spec p = probabilities_spec(80);
        p.input[100] = 1.5;
        Result r = call<S>(representable<S>(p));
        EXPECT_EQ(r.status, BCE4J_ERROR_OUT_OF_RANGE);
        EXPECT_NE(r.message.find("input element 100 (index [2, 26]) is 1.5;"), std::string::npos) << r.message;

        p = probabilities_spec(81);
        p.target[40] = -0.25;
        r = call<S>(representable<S>(p));
        EXPECT_EQ(r.status, BCE4J_ERROR_OUT_OF_RANGE);
        EXPECT_NE(r.message.find("target element 40 (index [1, 3]) is -0.25;"), std::string::npos) << r.message;

        Spec s = logits_spec(82);
        s.validate_targets = true;
        s.target[147] = 1.0078125;  // representable in both formats
        r = call<S>(representable<S>(s));
        EXPECT_EQ(r.status, BCE4J_ERROR_OUT_OF_RANGE);
        EXPECT_NE(r.message.find("target element 147 (index [3, 36]) is 1.0078125;"), std::string::npos) << r.message;
    });
}

}  // namespace
