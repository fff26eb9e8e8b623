// The weight-gradient terms (RowArgs::weight_terms, pos_weight_terms) of every SIMD kernel table against the scalar
// reference, directly through the KernelTable: every tail length, constant and per-element operands, both pos_weight
// modes, a per-element upstream gradient, ignore_index and label smoothing, with and without the other outputs, and
// extremes. The tolerance is the SIMD kernels' (isa_kernels_test): 4 float epsilons, 8 double epsilons of the
// magnitude of each term's parts (term_magnitudes.h); the terms are doubles for every storage type, the reference's
// computed in double. Terms added to periodic partial sums (TermSink::period) are held to the same kernel's terms
// per element, added in element order. The weight-gradient pass on top is tested end to end in
// weight_gradients_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "element_math.h"
#include "kernels/row_kernel.h"
#include "term_magnitudes.h"
#include "test_util.h"

namespace {

using bce4j::KernelTable;
using bce4j::RowArgs;
using bce4j_test::kInf;
using bce4j_test::kNaN;

enum class Operand { kAbsent, kConstant, kPerElement };

struct TermsSpec {
    int64_t n = 0;
    int64_t offset = 0;
    Operand weight = Operand::kAbsent;
    Operand pos_weight = Operand::kAbsent;
    bool upstream_per_element = false;
    bool paddle_legacy = false;
    bool ignore_and_smoothing = false;
    bool other_outputs = false;  // loss, grad_input and grad_target stored as well
    bool probabilities = false;
};

std::string describe(const TermsSpec& s) {
    const char* operand[] = {"absent", "constant", "per-element"};
    return std::string(s.probabilities ? "probabilities" : "logits") + " n=" + std::to_string(s.n) +
           " offset=" + std::to_string(s.offset) + " weight=" + operand[static_cast<int>(s.weight)] +
           " pos_weight=" + operand[static_cast<int>(s.pos_weight)] + (s.upstream_per_element ? " grad_output" : "") +
           (s.paddle_legacy ? " paddle-legacy" : "") + (s.ignore_and_smoothing ? " ignore+smoothing" : "") +
           (s.other_outputs ? " +outputs" : "");
}

template <typename T>
struct Data {
    std::vector<T> x, y, weight, pos_weight, upstream;
};

// Uniform values with a quarter of specials (extremes, infinities, NaN, exact labels).
template <typename T>
Data<T> random_data(int64_t n, bool probabilities, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> u(0, 1);
    const auto mixed = [&](double lo, double hi, const std::vector<double>& special) {
        if (u(gen) < 0.25) return static_cast<T>(special[gen() % special.size()]);
        return static_cast<T>(lo + (hi - lo) * u(gen));
    };
    Data<T> d;
    for (int64_t i = 0; i <= n; ++i) {
        d.x.push_back(probabilities ? mixed(0, 1, {0.0, 1.0, 1e-7, 0.5, kNaN})
                                    : mixed(-20, 20, {0.0, -0.0, 1e4, -1e4, 88, -88, 40, -40, kInf, -kInf, kNaN}));
        d.y.push_back(mixed(0, 1, {0.0, 1.0, 0.5, kNaN}));
        d.weight.push_back(mixed(-1, 3, {0.0, 1.0, kInf}));
        d.pos_weight.push_back(mixed(0, 4, {0.0, 1.0, kInf}));
        d.upstream.push_back(mixed(-3, 3, {0.0, 1.0, -kInf}));
    }
    return d;
}

template <typename T>
bce4j::ElementParams params_of(const TermsSpec& s) {
    bce4j::ElementParams p;
    p.probabilities = s.probabilities;
    p.paddle_legacy = s.paddle_legacy;
    if (s.ignore_and_smoothing) {
        p.ignored_target = 0.5;  // one of the labels drawn
        p.smoothing_keep = static_cast<float>(0.9);
        p.smoothing_shift = static_cast<float>(0.05);
    }
    return p;
}

constexpr double kSentinel = -12345.0;

struct Terms {
    std::vector<double> weight, pos_weight;
};

// The row's arguments for `s` on `d`, its other outputs (when s.other_outputs) in `outputs`.
template <typename T>
RowArgs<T> args_of(const TermsSpec& s, const Data<T>& d, std::vector<T>& outputs) {
    const size_t size = static_cast<size_t>(s.n + 1);
    outputs.assign(3 * size, T{});
    RowArgs<T> a{};
    a.input = d.x.data() + s.offset;
    a.target = d.y.data() + s.offset;
    a.weight = s.weight == Operand::kAbsent ? nullptr : d.weight.data() + s.offset;
    a.weight_stride = s.weight == Operand::kPerElement ? 1 : 0;
    a.pos_weight = s.pos_weight == Operand::kAbsent ? nullptr : d.pos_weight.data() + s.offset;
    a.pos_weight_stride = s.pos_weight == Operand::kPerElement ? 1 : 0;
    a.grad_output = s.upstream_per_element ? d.upstream.data() + s.offset : nullptr;
    a.grad_scale = 0.75;
    a.params = params_of<T>(s);
    if (s.other_outputs) {
        a.loss = outputs.data() + s.offset;
        a.grad_input = outputs.data() + size + s.offset;
        a.grad_target = outputs.data() + 2 * size + s.offset;
    }
    return a;
}

// The terms per element, at [offset, offset + n) (kSentinel elsewhere).
template <typename T>
Terms run(const KernelTable& table, const TermsSpec& s, const Data<T>& d) {
    const size_t size = static_cast<size_t>(s.n + 1);
    Terms t{std::vector<double>(size, kSentinel), std::vector<double>(size, kSentinel)};
    std::vector<T> outputs;
    RowArgs<T> a = args_of(s, d, outputs);
    a.weight_terms = {t.weight.data() + s.offset, 0, 0};
    a.pos_weight_terms = {t.pos_weight.data() + s.offset, 0, 0};
    bce4j::kernel_of<T>(table)(s.n, a);
    return t;
}

// The magnitudes of the parts of element i's two terms: |g| times the unweighted loss's, and |g w| times the slope's
// (y ((x < 0 ? |x| : 0) + L), or y times the plain loss in paddle mode), with L's exponential error as
// term_magnitudes.h counts it.
template <typename T>
std::pair<double, double> magnitudes(const TermsSpec& s, const Data<T>& d, int64_t i) {
    const bce4j::ElementParams p = params_of<T>(s);
    const double x = d.x[i], y_given = d.y[i];
    const double w = s.weight == Operand::kAbsent ? 1.0 : d.weight[s.weight == Operand::kConstant ? s.offset : i];
    const double pw =
        s.pos_weight == Operand::kAbsent ? 1.0 : d.pos_weight[s.pos_weight == Operand::kConstant ? s.offset : i];
    const double g = s.upstream_per_element ? std::fabs(static_cast<double>(d.upstream[i])) : 1.0;
    const bce4j_test::Magnitudes m = bce4j_test::term_magnitudes(p, x, y_given, w, pw, 1.0);
    const double loss = bce4j_test::term_magnitudes(p, x, y_given, 1.0, pw, 1.0).loss;
    return {bce4j_test::times(g, loss), bce4j_test::times(g, m.pos_weight_slope)};
}

template <typename T>
constexpr double kAllowedEpsilons = std::is_same_v<T, float> ? 4.0 : 8.0;

// A term of the SIMD kernels for storage type T (computed in T's lanes) against the reference's, computed in double.
template <typename T>
::testing::AssertionResult agrees(double got, double want, double magnitude) {
    if ((std::isnan(got) && std::isnan(want)) || got == want) return ::testing::AssertionSuccess();
    if (std::isnan(got) || std::isnan(want) || std::isinf(got) || std::isinf(want) || !std::isfinite(magnitude)) {
        return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (terms " << magnitude << ")";
    }
    const double error = std::fabs(got - want);
    const double epsilons = error / std::max(std::fabs(want), magnitude) / std::numeric_limits<T>::epsilon();
    if (epsilons <= kAllowedEpsilons<T> || error < std::numeric_limits<T>::min()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::scientific << "got " << got << ", want " << want << " (" << epsilons
                                         << " epsilons of the terms)";
}

template <typename T>
void expect_same_terms(const KernelTable& table, const TermsSpec& s, const Data<T>& d) {
    SCOPED_TRACE(describe(s));
    const Terms got = run(table, s, d);
    const Terms want = run(bce4j::scalar_kernel_table(), s, d);
    for (int64_t i = 0; i <= s.n; ++i) {
        const bool written = i >= s.offset && i < s.offset + s.n;
        if (!written) {
            ASSERT_EQ(got.weight[i], kSentinel) << i;
            ASSERT_EQ(got.pos_weight[i], kSentinel) << i;
            continue;
        }
        const std::pair<double, double> m = magnitudes(s, d, i);
        const std::string where =
            "element " + std::to_string(i) + " (x=" + std::to_string(d.x[i]) + ", y=" + std::to_string(d.y[i]) + ")";
        ASSERT_TRUE(agrees<T>(got.weight[i], want.weight[i], m.first)) << "weight term, " << where;
        ASSERT_TRUE(agrees<T>(got.pos_weight[i], want.pos_weight[i], m.second)) << "pos_weight term, " << where;
    }
}

class WeightTerms : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        table_ = bce4j::kernel_table_for(GetParam());
        if (table_ == nullptr) GTEST_SKIP() << GetParam() << " kernels are not compiled in or this CPU lacks them";
    }
    const KernelTable* table_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(, WeightTerms, ::testing::Values("avx2", "avx512", "neon"),
                         [](const auto& info) { return info.param; });

template <typename T>
void every_combination(const KernelTable& table, bool probabilities) {
    const Operand operands[] = {Operand::kAbsent, Operand::kConstant, Operand::kPerElement};
    for (const int64_t n : {0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 1001}) {
        for (const int64_t offset : {0, 1}) {
            const Data<T> d = random_data<T>(n, probabilities, static_cast<uint64_t>(100 * n + offset));
            for (const Operand weight : operands) {
                for (const Operand pos_weight : operands) {
                    if (probabilities && pos_weight != Operand::kAbsent) continue;
                    for (const bool paddle_legacy : {false, true}) {
                        if (probabilities && paddle_legacy) continue;
                        for (const int flags : {0, 1, 2, 3, 4, 7}) {
                            TermsSpec s;
                            s.n = n;
                            s.offset = offset;
                            s.weight = weight;
                            s.pos_weight = pos_weight;
                            s.paddle_legacy = paddle_legacy;
                            s.probabilities = probabilities;
                            s.upstream_per_element = flags & 1;
                            s.ignore_and_smoothing = flags & 2;
                            s.other_outputs = flags & 4;
                            expect_same_terms(table, s, d);
                            if (::testing::Test::HasFatalFailure()) return;
                        }
                    }
                }
            }
        }
    }
}

TEST_P(WeightTerms, LogitsFloat32MatchTheReference) { every_combination<float>(*table_, false); }
TEST_P(WeightTerms, LogitsFloat64MatchTheReference) { every_combination<double>(*table_, false); }
TEST_P(WeightTerms, ProbabilitiesFloat32MatchTheReference) { every_combination<float>(*table_, true); }
TEST_P(WeightTerms, ProbabilitiesFloat64MatchTheReference) { every_combination<double>(*table_, true); }

// float data in 16-bit storage, and back (exactly).
Data<bce4j::Float16> narrowed(const Data<float>& d) {
    Data<bce4j::Float16> h;
    for (const auto& [from, to] : {std::pair{&d.x, &h.x},
                                   {&d.y, &h.y},
                                   {&d.weight, &h.weight},
                                   {&d.pos_weight, &h.pos_weight},
                                   {&d.upstream, &h.upstream}}) {
        for (const float v : *from) to->push_back(bce4j::narrow<bce4j::Float16>(v));
    }
    return h;
}

Data<float> widened(const Data<bce4j::Float16>& h) {
    Data<float> d;
    for (const auto& [from, to] : {std::pair{&h.x, &d.x},
                                   {&h.y, &d.y},
                                   {&h.weight, &d.weight},
                                   {&h.pos_weight, &d.pos_weight},
                                   {&h.upstream, &d.upstream}}) {
        for (const bce4j::Float16 v : *from) to->push_back(bce4j::widen(v));
    }
    return d;
}

// Equal bit for bit, or both NaN (whose payload the order of an addition's operands may decide).
bool same_values(const std::vector<double>& got, const std::vector<double>& want) {
    if (got.size() != want.size()) return false;
    for (size_t i = 0; i < got.size(); ++i) {
        if (!bce4j_test::bitwise_equal(got[i], want[i]) && !(std::isnan(got[i]) && std::isnan(want[i]))) return false;
    }
    return true;
}

// The 16-bit tables run the float32 kernel on widened chunks: their terms are the float32 kernel's terms of the
// widened values, exactly (they are not narrowed: the pass sums them in double).
TEST_P(WeightTerms, Float16TermsAreTheFloat32Terms) {
    const int64_t n = 1500;  // several conversion chunks
    const Data<bce4j::Float16> h = narrowed(random_data<float>(n, false, 7));
    TermsSpec s;
    s.n = n;
    s.weight = Operand::kPerElement;
    s.pos_weight = Operand::kConstant;
    s.upstream_per_element = true;
    const Terms got = run(*table_, s, h);
    const Terms want = run(*table_, s, widened(h));
    EXPECT_TRUE(same_values(got.weight, want.weight));
    EXPECT_TRUE(same_values(got.pos_weight, want.pos_weight));
}

constexpr int64_t kPeriodicRow = 2100;  // several conversion chunks (16-bit storage)

// Terms added to periodic partial sums: values[(column + i) % period] += term i, each sum taking its terms in element
// order, exactly as the same kernel's terms per element added so (the weight-gradient pass's partials of an operand
// that repeats with each row). Periods and columns that make vectors wrap around the period, on every table.
template <typename T>
void expect_periodic_sums_of_the_terms(const KernelTable& table, const Data<T>& d) {
    for (const int64_t period : {32, 37, 48, 1000}) {
        for (const int64_t column : {int64_t{0}, int64_t{5}, period - 3}) {
            for (const int flags : {0, 3, 4}) {
                TermsSpec s;
                s.n = kPeriodicRow;
                s.weight = Operand::kPerElement;
                s.pos_weight = flags == 3 ? Operand::kPerElement : Operand::kConstant;
                s.upstream_per_element = flags & 1;
                s.ignore_and_smoothing = flags & 2;
                s.other_outputs = flags & 4;
                SCOPED_TRACE(describe(s) + " period=" + std::to_string(period) + " column=" + std::to_string(column));
                const Terms per_element = run(table, s, d);
                std::vector<double> want_weight(static_cast<size_t>(period), 0.5), want_pos(want_weight);
                for (int64_t i = 0; i < s.n; ++i) {
                    want_weight[(column + i) % period] += per_element.weight[i];
                    want_pos[(column + i) % period] += per_element.pos_weight[i];
                }
                std::vector<double> got_weight(static_cast<size_t>(period), 0.5), got_pos(got_weight);
                std::vector<T> outputs;
                RowArgs<T> a = args_of(s, d, outputs);
                a.weight_terms = {got_weight.data(), period, column};
                a.pos_weight_terms = {got_pos.data(), period, column};
                bce4j::kernel_of<T>(table)(s.n, a);
                EXPECT_TRUE(same_values(got_weight, want_weight));
                EXPECT_TRUE(same_values(got_pos, want_pos));
                if (::testing::Test::HasFailure()) return;
            }
        }
    }
}

void expect_periodic_sums_on_every_dtype(const KernelTable& table) {
    expect_periodic_sums_of_the_terms<float>(table, random_data<float>(kPeriodicRow, false, 11));
    expect_periodic_sums_of_the_terms<double>(table, random_data<double>(kPeriodicRow, false, 12));
    expect_periodic_sums_of_the_terms<bce4j::Float16>(table, narrowed(random_data<float>(kPeriodicRow, false, 13)));
}

TEST_P(WeightTerms, PeriodicSumsAddTheTermsInElementOrder) { expect_periodic_sums_on_every_dtype(*table_); }

TEST(WeightTermsReference, PeriodicSumsAddTheTermsInElementOrder) {
    expect_periodic_sums_on_every_dtype(bce4j::scalar_kernel_table());
}

// Gradients written by the kernel (RowArgs::weight_gradient, pos_weight_gradient): each element's term, as the same
// kernel gives it per element, times the scale in double, rounded once to T.
template <typename T>
void expect_gradients_of_the_terms(const KernelTable& table) {
    const double scale = -0.3;
    for (const int64_t n : {7, 33, 1001}) {
        for (const int flags : {0, 3, 4}) {
            TermsSpec s;
            s.n = n;
            s.weight = Operand::kPerElement;
            s.pos_weight = Operand::kPerElement;
            s.upstream_per_element = flags & 1;
            s.ignore_and_smoothing = flags & 2;
            s.other_outputs = flags & 4;
            SCOPED_TRACE(describe(s));
            const Data<T> d = random_data<T>(n, false, static_cast<uint64_t>(n + flags));
            const Terms terms = run(table, s, d);
            std::vector<T> weight_gradient(static_cast<size_t>(n)), pos_weight_gradient(weight_gradient);
            std::vector<T> outputs;
            RowArgs<T> a = args_of(s, d, outputs);
            a.weight_gradient = weight_gradient.data();
            a.pos_weight_gradient = pos_weight_gradient.data();
            a.gradient_scale = scale;
            bce4j::kernel_of<T>(table)(n, a);
            for (int64_t i = 0; i < n; ++i) {
                const T want_weight = static_cast<T>(bce4j::math::scaled(scale, terms.weight[i]));
                const T want_pos = static_cast<T>(bce4j::math::scaled(scale, terms.pos_weight[i]));
                ASSERT_TRUE(bce4j_test::bitwise_equal(weight_gradient[i], want_weight) ||
                            (std::isnan(weight_gradient[i]) && std::isnan(want_weight)))
                    << "grad_weight " << i << ": " << weight_gradient[i] << ", want " << want_weight;
                ASSERT_TRUE(bce4j_test::bitwise_equal(pos_weight_gradient[i], want_pos) ||
                            (std::isnan(pos_weight_gradient[i]) && std::isnan(want_pos)))
                    << "grad_pos_weight " << i << ": " << pos_weight_gradient[i] << ", want " << want_pos;
            }
        }
    }
}

TEST_P(WeightTerms, GradientsAreTheScaledTermsRoundedOnce) {
    expect_gradients_of_the_terms<float>(*table_);
    expect_gradients_of_the_terms<double>(*table_);
}

TEST(WeightTermsReference, GradientsAreTheScaledTermsRoundedOnce) {
    expect_gradients_of_the_terms<float>(bce4j::scalar_kernel_table());
    expect_gradients_of_the_terms<double>(bce4j::scalar_kernel_table());
}

}  // namespace
