// The weight-gradient terms (RowArgs::weight_terms, pos_weight_terms) of every SIMD kernel table against the scalar
// reference, directly through the KernelTable: every tail length, constant and per-element operands, both pos_weight
// modes, a per-element upstream gradient, ignore_index and label smoothing, with and without the other outputs, and
// extremes. The tolerance is the SIMD kernels' (isa_kernels_test): 4 float epsilons, 8 double epsilons of the
// magnitude of each term's parts (term_magnitudes.h). The weight-gradient pass on top is tested end to end in
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

template <typename T>
struct Terms {
    std::vector<T> weight, pos_weight;
};

template <typename T>
Terms<T> run(const KernelTable& table, const TermsSpec& s, const Data<T>& d) {
    const size_t size = static_cast<size_t>(s.n + 1);
    Terms<T> t{std::vector<T>(size, bce4j::from_double<T>(kSentinel)),
               std::vector<T>(size, bce4j::from_double<T>(kSentinel))};
    std::vector<T> loss(size), grad_input(size), grad_target(size);
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
        a.loss = loss.data() + s.offset;
        a.grad_input = grad_input.data() + s.offset;
        a.grad_target = grad_target.data() + s.offset;
    }
    a.weight_terms = t.weight.data() + s.offset;
    a.pos_weight_terms = t.pos_weight.data() + s.offset;
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
    const double loss = bce4j_test::term_magnitudes(p, x, y_given, 1.0, pw, 1.0).loss;
    if (s.probabilities || y_given == p.ignored_target) return {bce4j_test::times(g, loss), 0.0};
    const double y = std::fabs(y_given * p.smoothing_keep + p.smoothing_shift);
    const bce4j::math::LogitParts<double> f = bce4j::math::logit_parts(x);
    const double log_term = bce4j_test::times(f.log_term, 1 + f.magnitude);
    const double slope = s.paddle_legacy ? bce4j_test::term_magnitudes(p, x, y_given, 1.0, 1.0, 1.0).loss
                                         : (f.non_negative ? 0.0 : f.magnitude) + log_term;
    return {bce4j_test::times(g, loss),
            bce4j_test::times(g, bce4j_test::times(std::fabs(w), bce4j_test::times(y, slope)))};
}

template <typename T>
constexpr double kAllowedEpsilons = std::is_same_v<T, float> ? 4.0 : 8.0;

template <typename T>
::testing::AssertionResult agrees(T got, T want, double magnitude) {
    if ((std::isnan(got) && std::isnan(want)) || got == want) return ::testing::AssertionSuccess();
    if (std::isnan(got) || std::isnan(want) || std::isinf(got) || std::isinf(want) || !std::isfinite(magnitude)) {
        return ::testing::AssertionFailure() << "got " << got << ", want " << want << " (terms " << magnitude << ")";
    }
    const double error = std::fabs(static_cast<double>(got) - static_cast<double>(want));
    const double epsilons =
        error / std::max(std::fabs(static_cast<double>(want)), magnitude) / std::numeric_limits<T>::epsilon();
    if (epsilons <= kAllowedEpsilons<T> || error < std::numeric_limits<T>::min()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::scientific << "got " << got << ", want " << want << " (" << epsilons
                                         << " epsilons of the terms)";
}

template <typename T>
void expect_same_terms(const KernelTable& table, const TermsSpec& s, const Data<T>& d) {
    SCOPED_TRACE(describe(s));
    const Terms<T> got = run(table, s, d);
    const Terms<T> want = run(bce4j::scalar_kernel_table(), s, d);
    for (int64_t i = 0; i <= s.n; ++i) {
        const bool written = i >= s.offset && i < s.offset + s.n;
        if (!written) {
            ASSERT_EQ(got.weight[i], static_cast<T>(kSentinel)) << i;
            ASSERT_EQ(got.pos_weight[i], static_cast<T>(kSentinel)) << i;
            continue;
        }
        const std::pair<double, double> m = magnitudes(s, d, i);
        const std::string where =
            "element " + std::to_string(i) + " (x=" + std::to_string(d.x[i]) + ", y=" + std::to_string(d.y[i]) + ")";
        ASSERT_TRUE(agrees(got.weight[i], want.weight[i], m.first)) << "weight term, " << where;
        ASSERT_TRUE(agrees(got.pos_weight[i], want.pos_weight[i], m.second)) << "pos_weight term, " << where;
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

// The 16-bit tables run the float32 kernel on widened chunks and narrow the terms like their other outputs.
TEST_P(WeightTerms, Float16TermsAreTheFloat32TermsNarrowed) {
    const int64_t n = 1500;  // several conversion chunks
    const Data<float> d = random_data<float>(n, false, 7);
    Data<bce4j::Float16> h;
    for (const auto& [from, to] : {std::pair{&d.x, &h.x},
                                   {&d.y, &h.y},
                                   {&d.weight, &h.weight},
                                   {&d.pos_weight, &h.pos_weight},
                                   {&d.upstream, &h.upstream}}) {
        for (const float v : *from) to->push_back(bce4j::narrow<bce4j::Float16>(v));
    }
    Data<float> widened;
    for (const auto& [from, to] : {std::pair{&h.x, &widened.x},
                                   {&h.y, &widened.y},
                                   {&h.weight, &widened.weight},
                                   {&h.pos_weight, &widened.pos_weight},
                                   {&h.upstream, &widened.upstream}}) {
        for (const bce4j::Float16 v : *from) to->push_back(bce4j::widen(v));
    }
    TermsSpec s;
    s.n = n;
    s.weight = Operand::kPerElement;
    s.pos_weight = Operand::kConstant;
    s.upstream_per_element = true;
    const Terms<bce4j::Float16> got = run(*table_, s, h);
    const Terms<float> want = run(*table_, s, widened);
    for (int64_t i = 0; i < n; ++i) {
        ASSERT_TRUE(bce4j_test::bitwise_equal(bce4j::widen(got.weight[i]),
                                              bce4j::widen(bce4j::narrow<bce4j::Float16>(want.weight[i]))) ||
                    (std::isnan(bce4j::widen(got.weight[i])) && std::isnan(want.weight[i])))
            << i;
        ASSERT_TRUE(bce4j_test::bitwise_equal(bce4j::widen(got.pos_weight[i]),
                                              bce4j::widen(bce4j::narrow<bce4j::Float16>(want.pos_weight[i]))) ||
                    (std::isnan(bce4j::widen(got.pos_weight[i])) && std::isnan(want.pos_weight[i])))
            << i;
    }
}

}  // namespace
