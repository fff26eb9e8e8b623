// Every SIMD kernel table against the scalar reference, directly through the KernelTable (no C API): every tail
// length, unaligned pointers, constant and per-element weights, both pos_weight modes, each output present or
// absent, extremes, the first invalid probability at every position, and the runtime choice of the table. An
// instruction set that is not compiled in or that this CPU lacks is reported as skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif

#include "kernels/row_kernel.h"
#include "term_magnitudes.h"
#include "test_util.h"

namespace {

using bce4j::KernelTable;
using bce4j::RowArgs;
using bce4j::RowKernel;
using bce4j::RowResult;
using bce4j_test::kInf;
using bce4j_test::kNaN;
using bce4j_test::ulp_distance;

enum class Kind { kLogits, kProbabilities };
enum class Operand { kAbsent, kConstant, kPerElement };

constexpr unsigned kWantLoss = 1, kWantGradInput = 2, kWantGradTarget = 4, kWantAll = 7;

// One kernel call: the run length, where it starts in the buffers (1: misaligned by one element), how each
// optional operand is given and which outputs are wanted.
struct RunSpec {
    Kind kind = Kind::kLogits;
    int64_t n = 0;
    int64_t offset = 0;
    Operand weight = Operand::kAbsent;
    Operand pos_weight = Operand::kAbsent;
    bool upstream_per_element = false;
    unsigned outputs = kWantAll;
    double grad_scale = 0.75;
    bool paddle_legacy = false;
    // ignore_index, label smoothing and target validation as RowArgs carries them.
    double ignored_target = kNaN;
    double smoothing_keep = 1, smoothing_shift = 0;
    bool validate_targets = false;
    // Sigmoid focal loss (ElementParams::focal): gamma, and alpha (< 0: none).
    bool focal = false;
    double focal_gamma = 2, focal_alpha = -1;
};

std::string describe(const RunSpec& s) {
    const char* operand[] = {"absent", "constant", "per-element"};
    return std::string(s.kind == Kind::kLogits ? "logits" : "probabilities") + " n=" + std::to_string(s.n) +
           " offset=" + std::to_string(s.offset) + " weight=" + operand[static_cast<int>(s.weight)] +
           " pos_weight=" + operand[static_cast<int>(s.pos_weight)] +
           (s.upstream_per_element ? " grad_output" : " grad_scale") + " outputs=" + std::to_string(s.outputs) +
           (s.paddle_legacy ? " paddle-legacy" : "") + " ignored=" + std::to_string(s.ignored_target) +
           " smoothing=" + std::to_string(s.smoothing_keep) + "," + std::to_string(s.smoothing_shift) +
           (s.validate_targets ? " validating" : "") +
           (s.focal ? " focal gamma=" + std::to_string(s.focal_gamma) + " alpha=" + std::to_string(s.focal_alpha) : "");
}

// Operand buffers, each n + 1 long so that a run at offset 1 fits.
template <typename T>
struct Inputs {
    std::vector<T> x, y, weight, pos_weight, upstream;
};

// Picks a value from `special` with probability 1/4, otherwise a uniform one in [lo, hi].
template <typename T>
T mixed(std::mt19937_64& gen, double lo, double hi, const std::vector<double>& special) {
    std::uniform_real_distribution<double> u(0, 1);
    if (!special.empty() && u(gen) < 0.25) return static_cast<T>(special[gen() % special.size()]);
    return static_cast<T>(lo + (hi - lo) * u(gen));
}

template <typename T>
Inputs<T> random_inputs(Kind kind, int64_t n, uint64_t seed) {
    std::mt19937_64 gen(seed);
    const size_t size = static_cast<size_t>(n + 1);
    Inputs<T> in;
    const std::vector<double> logits_special = {0.0, -0.0, 1e4,   -1e4, 88,    -88,    745,  -745, 40,
                                                -40, kInf, -kInf, kNaN, 1e-30, -1e-30, 16.5, -16.5};
    const std::vector<double> probability_special = {0.0,  -0.0,     1.0, 1e-40,     1e-300, 4.9e-324,
                                                     1e-7, 1 - 1e-7, 0.5, 1 - 1e-16, kNaN,   3.7e-44};
    const std::vector<double> label_special = {0.0, 1.0, 0.0, 1.0, 0.5, kNaN};
    for (size_t i = 0; i < size; ++i) {
        in.x.push_back(kind == Kind::kLogits ? mixed<T>(gen, -20, 20, logits_special)
                                             : mixed<T>(gen, 0, 1, probability_special));
        in.y.push_back(mixed<T>(gen, 0, 1, label_special));
        in.weight.push_back(mixed<T>(gen, -1, 3, {0.0, 0.0, 1.0, kInf, kNaN}));
        in.pos_weight.push_back(mixed<T>(gen, 0, 4, {0.0, 1.0, 1.0, kInf}));
        in.upstream.push_back(mixed<T>(gen, -3, 3, {0.0, 1.0, -kInf}));
    }
    return in;
}

constexpr double kSentinel = -12345.0;

template <typename T>
struct Outputs {
    std::vector<T> loss, grad_input, grad_target;
    RowResult result;
};

// The run's per-element options, as the kernels get them.
template <typename T>
bce4j::ElementParams params_of(const RunSpec& s) {
    bce4j::ElementParams p;
    p.probabilities = s.kind == Kind::kProbabilities;
    p.paddle_legacy = s.paddle_legacy;
    p.ignored_target = static_cast<T>(s.ignored_target);
    p.smoothing_keep = s.smoothing_keep;
    p.smoothing_shift = s.smoothing_shift;
    p.validate_targets = s.validate_targets;
    p.focal = s.focal;
    p.focal_gamma = s.focal_gamma;
    p.focal_alpha = s.focal_alpha;
    return p;
}

template <typename T>
Outputs<T> run_kernel(const KernelTable& table, const RunSpec& s, const Inputs<T>& in) {
    const size_t size = static_cast<size_t>(s.n + 1);
    Outputs<T> out;
    out.loss.assign(size, static_cast<T>(kSentinel));
    out.grad_input.assign(size, static_cast<T>(kSentinel));
    out.grad_target.assign(size, static_cast<T>(kSentinel));
    RowArgs<T> a{};
    a.input = in.x.data() + s.offset;
    a.target = in.y.data() + s.offset;
    a.weight = s.weight == Operand::kAbsent ? nullptr : in.weight.data() + s.offset;
    a.weight_stride = s.weight == Operand::kPerElement ? 1 : 0;
    a.pos_weight = s.pos_weight == Operand::kAbsent ? nullptr : in.pos_weight.data() + s.offset;
    a.pos_weight_stride = s.pos_weight == Operand::kPerElement ? 1 : 0;
    a.grad_output = s.upstream_per_element ? in.upstream.data() + s.offset : nullptr;
    a.grad_scale = s.grad_scale;
    a.params = params_of<T>(s);
    a.loss = s.outputs & kWantLoss ? out.loss.data() + s.offset : nullptr;
    a.grad_input = s.outputs & kWantGradInput ? out.grad_input.data() + s.offset : nullptr;
    a.grad_target = s.outputs & kWantGradTarget ? out.grad_target.data() + s.offset : nullptr;
    out.result = bce4j::kernel_of<T>(table)(s.n, a);
    return out;
}

// The largest difference seen, for the accuracy report: relative to the larger of the value and its terms'
// magnitude, in units of the storage type's epsilon (2^-23 for float, 2^-52 for double).
struct Worst {
    double value = 0;
    std::string where;
};

// How far an output may be from the reference, relative to the larger of the value and the magnitude of the terms
// that make it up (term_magnitudes.h: a gradient near 0 is a difference of larger terms). Infinities and NaN must
// match exactly, and so must a finite output whose terms are not finite. The reference computes in double and
// rounds once; the SIMD kernels compute in the storage type with polynomial exp/log (simd_kernels.h), so a few
// epsilons apart for float32 and within ~1e-15 for float64.
template <typename T>
constexpr double kAllowedEpsilons = std::is_same_v<T, float> ? 4.0 : 8.0;

// `where` names the output (called only when it is recorded as the worst).
template <typename T, typename Where>
::testing::AssertionResult agrees(T got, T want, double term_magnitude, Worst& worst, const Where& where) {
    if ((std::isnan(got) && std::isnan(want)) || got == want) return ::testing::AssertionSuccess();
    if (std::isnan(got) || std::isnan(want) || std::isinf(got) || std::isinf(want) || !std::isfinite(term_magnitude)) {
        return ::testing::AssertionFailure()
               << "got " << got << ", want " << want << " (terms " << term_magnitude << ")";
    }
    const double error = std::fabs(static_cast<double>(got) - static_cast<double>(want));
    const double epsilons =
        error / std::max(std::fabs(static_cast<double>(want)), term_magnitude) / std::numeric_limits<T>::epsilon();
    // Below the normal range relative accuracy means nothing: the vector exponential may flush an underflowing
    // result (exp(-745) in float64) to 0 where the reference keeps a few denormals. Such errors are not recorded.
    if (error < std::numeric_limits<T>::min()) return ::testing::AssertionSuccess();
    if (epsilons > worst.value) worst = {epsilons, where()};
    if (epsilons <= kAllowedEpsilons<T>) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << std::scientific << "got " << got << ", want " << want << " (" << epsilons
                                         << " epsilons of the terms)";
}

// The magnitudes of the terms making up element i's outputs (see agrees).
template <typename T>
bce4j_test::Magnitudes term_magnitudes(const RunSpec& s, const Inputs<T>& in, int64_t i) {
    const auto operand = [&](Operand how, const std::vector<T>& values) {
        return how == Operand::kAbsent ? 1.0 : static_cast<double>(values[how == Operand::kConstant ? s.offset : i]);
    };
    const double upstream = s.upstream_per_element ? static_cast<double>(in.upstream[i]) : s.grad_scale;
    return bce4j_test::term_magnitudes(params_of<T>(s), in.x[i], in.y[i], operand(s.weight, in.weight),
                                       operand(s.pos_weight, in.pos_weight), upstream);
}

// Runs `table` and the scalar reference on the same inputs and compares everything they produce.
template <typename T>
void expect_same_as_reference(const KernelTable& table, const RunSpec& s, const Inputs<T>& in, Worst& worst) {
    SCOPED_TRACE(describe(s));
    const Outputs<T> got = run_kernel(table, s, in);
    const Outputs<T> want = run_kernel(bce4j::scalar_kernel_table(), s, in);
    ASSERT_EQ(got.result.first_invalid, want.result.first_invalid);
    const int64_t end = want.result.first_invalid < 0 ? s.n : want.result.first_invalid;
    const std::pair<const std::vector<T>*, const std::vector<T>*> outputs[] = {
        {&got.loss, &want.loss}, {&got.grad_input, &want.grad_input}, {&got.grad_target, &want.grad_target}};
    const char* names[] = {"loss", "grad_input", "grad_target"};
    double loss_magnitude = 0;
    for (int64_t i = s.offset; i < s.offset + end; ++i) loss_magnitude += term_magnitudes(s, in, i).loss;
    for (int k = 0; k < 3; ++k) {
        const std::vector<T>& g = *outputs[k].first;
        const std::vector<T>& w = *outputs[k].second;
        for (size_t i = 0; i < g.size(); ++i) {
            const bool written = static_cast<int64_t>(i) >= s.offset && static_cast<int64_t>(i) < s.offset + end &&
                                 (s.outputs >> k & 1u);
            const auto where = [&] {
                return std::string(names[k]) + "[" + std::to_string(i) + "] (x=" + std::to_string(in.x[i]) +
                       ", y=" + std::to_string(in.y[i]) + ") of " + describe(s);
            };
            if (!written) {
                ASSERT_EQ(g[i], static_cast<T>(kSentinel)) << where() << ": written but should not be";
                continue;
            }
            const bce4j_test::Magnitudes m = term_magnitudes(s, in, static_cast<int64_t>(i));
            const double magnitude[] = {m.loss, m.grad_input, m.grad_target};
            ASSERT_TRUE(agrees(g[i], w[i], magnitude[k], worst, where)) << where();
        }
    }
    const double sum = got.result.loss_sum, want_sum = want.result.loss_sum;
    if (sum == want_sum) return;
    if (std::isnan(want_sum) || std::isinf(want_sum) || std::isnan(loss_magnitude)) {
        EXPECT_TRUE(bce4j_test::bitwise_equal(sum, want_sum) || (std::isnan(sum) && std::isnan(want_sum)))
            << sum << " vs " << want_sum;
    } else {
        // Each summed loss is within kAllowedEpsilons of its terms, and both sums are accumulated in double, in
        // different orders: a recursive double sum of n terms is within n double epsilons of their magnitudes
        // (which matters for float64 runs of thousands of finite losses: about 15 epsilons apart at n = 4097).
        const double summing = static_cast<double>(s.n) * std::numeric_limits<double>::epsilon();
        EXPECT_NEAR(sum, want_sum, (kAllowedEpsilons<T> * std::numeric_limits<T>::epsilon() + summing) * loss_magnitude)
            << "loss_sum";
    }
}

// The instruction sets with their own kernels, besides the scalar reference.
class IsaKernels : public ::testing::TestWithParam<const char*> {
protected:
    void SetUp() override {
        table_ = bce4j::kernel_table_for(GetParam());
        if (table_ == nullptr) GTEST_SKIP() << GetParam() << " kernels are not compiled in or this CPU lacks them";
    }
    const KernelTable* table_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(, IsaKernels, ::testing::Values("avx2", "avx512", "neon"),
                         [](const auto& info) { return info.param; });

// Every combination of operands, outputs and (logits) pos_weight modes on every run length from 0 to 32 (every
// tail, several vectors), aligned and misaligned.
template <typename T>
void every_combination_and_length(const KernelTable& table, Kind kind) {
    Worst worst;
    const Operand operands[] = {Operand::kAbsent, Operand::kConstant, Operand::kPerElement};
    for (int64_t n = 0; n <= 32; ++n) {
        for (int64_t offset : {0, 1}) {
            const Inputs<T> in = random_inputs<T>(kind, n, 1000 * n + offset);
            for (Operand weight : operands) {
                for (Operand pos_weight : operands) {
                    if (kind == Kind::kProbabilities && pos_weight != Operand::kAbsent) continue;
                    for (bool paddle_legacy : {false, true}) {
                        if (kind == Kind::kProbabilities && paddle_legacy) continue;
                        for (bool upstream_per_element : {false, true}) {
                            for (unsigned outputs = 0; outputs <= kWantAll; ++outputs) {
                                RunSpec s;
                                s.kind = kind;
                                s.n = n;
                                s.offset = offset;
                                s.weight = weight;
                                s.pos_weight = pos_weight;
                                s.paddle_legacy = paddle_legacy;
                                s.upstream_per_element = upstream_per_element;
                                s.outputs = outputs;
                                expect_same_as_reference(table, s, in, worst);
                                if (::testing::Test::HasFatalFailure()) return;
                            }
                        }
                    }
                }
            }
        }
    }
}

TEST_P(IsaKernels, LogitsFloat32EveryCombinationAndLength) {
    every_combination_and_length<float>(*table_, Kind::kLogits);
}
TEST_P(IsaKernels, LogitsFloat64EveryCombinationAndLength) {
    every_combination_and_length<double>(*table_, Kind::kLogits);
}
TEST_P(IsaKernels, ProbabilitiesFloat32EveryCombinationAndLength) {
    every_combination_and_length<float>(*table_, Kind::kProbabilities);
}
TEST_P(IsaKernels, ProbabilitiesFloat64EveryCombinationAndLength) {
    every_combination_and_length<double>(*table_, Kind::kProbabilities);
}

// Long odd runs, and the accuracy actually reached, printed for the record.
template <typename T>
void long_runs(const KernelTable& table, Kind kind) {
    Worst worst;
    for (int64_t n : {int64_t{100003}, int64_t{4097}, int64_t{1001}}) {
        const Inputs<T> in = random_inputs<T>(kind, n, static_cast<uint64_t>(n));
        for (int64_t offset : {0, 1}) {
            for (bool paddle_legacy : {false, true}) {
                if (kind == Kind::kProbabilities && paddle_legacy) continue;
                RunSpec s;
                s.kind = kind;
                s.n = n;
                s.offset = offset;
                s.weight = offset ? Operand::kPerElement : Operand::kConstant;
                const Operand pos_weight = offset ? Operand::kConstant : Operand::kPerElement;
                s.pos_weight = kind == Kind::kLogits ? pos_weight : Operand::kAbsent;
                s.paddle_legacy = paddle_legacy;
                s.upstream_per_element = offset == 1;
                expect_same_as_reference(table, s, in, worst);
            }
        }
    }
    std::cout << "  worst difference from the scalar reference: " << worst.value << " epsilons of the terms at "
              << worst.where << "\n";
}

// The plain calls' lean variants (simd_kernels.h's Lean: no pos_weight, a constant upstream gradient, grad_input alone
// or no output at all) over long runs whose chunks hold infinite and NaN logits and labels among finite ones: their
// chunks are checked once, at the end, and redone vector by vector when that check fails. The second input set has
// only infinite logits with the label that makes their loss 0 (the reference's value, where the fast formulas give
// NaN): its loss sum stays finite, so a chunk's losses counted twice would show.
template <typename T>
void lean_long_runs(const KernelTable& table) {
    Worst worst;
    for (int64_t n : {int64_t{100003}, int64_t{4097}}) {
        Inputs<T> finite_sum = random_inputs<T>(Kind::kLogits, n, static_cast<uint64_t>(n) + 8);
        std::mt19937_64 gen(static_cast<uint64_t>(n));
        for (size_t i = 0; i < finite_sum.x.size(); ++i) {
            const bool infinite = gen() % 97 == 0;
            finite_sum.x[i] = infinite ? static_cast<T>(i % 2 ? kInf : -kInf)
                                       : static_cast<T>(std::uniform_real_distribution<double>(-20, 20)(gen));
            finite_sum.y[i] = infinite ? static_cast<T>(i % 2) : static_cast<T>((gen() % 3) / 2.0);
            finite_sum.weight[i] = static_cast<T>(0.5 + (gen() % 4));
        }
        for (const Inputs<T>& in : {random_inputs<T>(Kind::kLogits, n, static_cast<uint64_t>(n) + 7), finite_sum}) {
            for (Operand weight : {Operand::kAbsent, Operand::kConstant, Operand::kPerElement}) {
                for (unsigned outputs : {0u, kWantGradInput}) {
                    RunSpec s;
                    s.n = n;
                    s.offset = weight == Operand::kConstant ? 1 : 0;
                    s.weight = weight;
                    s.outputs = outputs;
                    expect_same_as_reference(table, s, in, worst);
                }
            }
        }
    }
    std::cout << "  worst difference from the scalar reference: " << worst.value << " epsilons of the terms at "
              << worst.where << "\n";
}

TEST_P(IsaKernels, LogitsFloat32LeanVariantsLongRuns) { lean_long_runs<float>(*table_); }
TEST_P(IsaKernels, LogitsFloat64LeanVariantsLongRuns) { lean_long_runs<double>(*table_); }

TEST_P(IsaKernels, LogitsFloat32LongRuns) { long_runs<float>(*table_, Kind::kLogits); }
TEST_P(IsaKernels, LogitsFloat64LongRuns) { long_runs<double>(*table_, Kind::kLogits); }
TEST_P(IsaKernels, ProbabilitiesFloat32LongRuns) { long_runs<float>(*table_, Kind::kProbabilities); }
TEST_P(IsaKernels, ProbabilitiesFloat64LongRuns) { long_runs<double>(*table_, Kind::kProbabilities); }

// Exact values the semantics fix: 0 * inf = 0 under a zero weight or a hard label, NaN propagating through
// everything, the clamped logs of exact 0 and 1 probabilities.
TEST_P(IsaKernels, LogitsExtremesMatchTheReferenceBitForBit) {
    // Four elements per case so that they go through the vector loop, not the scalar tail. The one inexact finite
    // result (x = 0, y = 0.5: log 2) shares a vector with the NaN at every vector width, 2 lanes (neon float64) to 16.
    const double x[] = {kInf, -kInf, kInf, -kInf, kNaN, 0.0, 1e4, -1e4};
    const double y[] = {0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0};
    const double w[] = {0.0, 0.0, 1.0, 2.0, 0.0, 1.0, 1.0, 1.0};
    std::vector<double> loss(8), gi(8), gt(8), ref_loss(8), ref_gi(8), ref_gt(8);
    RowArgs<double> a{};
    a.input = x;
    a.target = y;
    a.weight = w;
    a.weight_stride = 1;
    a.grad_scale = 1.0;
    a.loss = loss.data();
    a.grad_input = gi.data();
    a.grad_target = gt.data();
    const RowResult got = table_->f64(8, a);
    a.loss = ref_loss.data();
    a.grad_input = ref_gi.data();
    a.grad_target = ref_gt.data();
    const RowResult want = bce4j::scalar_kernel_table().f64(8, a);
    for (int i = 0; i < 8; ++i) {
        EXPECT_TRUE(bce4j_test::bitwise_equal(loss[i], ref_loss[i]) || (std::isnan(loss[i]) && std::isnan(ref_loss[i])))
            << i << ": " << loss[i] << " vs " << ref_loss[i];
        EXPECT_TRUE(gi[i] == ref_gi[i] || (std::isnan(gi[i]) && std::isnan(ref_gi[i]))) << i;
        EXPECT_TRUE(gt[i] == ref_gt[i] || (std::isnan(gt[i]) && std::isnan(ref_gt[i]))) << i;
    }
    EXPECT_EQ(loss[0], 0.0) << "weight 0 at x = +inf";
    EXPECT_EQ(loss[2], 0.0) << "y = 1 at x = +inf";
    EXPECT_EQ(loss[3], 0.0) << "y = 0 at x = -inf";
    EXPECT_TRUE(std::isnan(loss[4]) && std::isnan(gi[4]) && std::isnan(gt[4])) << "NaN under a zero weight";
    EXPECT_TRUE(std::isnan(got.loss_sum) && std::isnan(want.loss_sum));
}

// Extreme logits (+-inf, NaN, +-1e4, +-0), hard and soft labels and pos_weights 0, 1, 2.5 and +inf, every
// combination in both pos_weight modes, against the reference: the vectors that hold a non-finite output are the
// reference's, the others within the usual tolerance. Some rows are shorter than the single-pass limit, some longer.
template <typename T>
void logits_extremes_in_both_modes(const KernelTable& table) {
    Worst worst;
    const double xs[] = {kInf, -kInf, kNaN, 1e4, -1e4, 0.0, -0.0, 3.0, -3.0};
    const double ys[] = {0.0, 1.0, 0.3, 0.5};
    const double ps[] = {0.0, 1.0, 2.5, kInf};
    Inputs<T> in;
    // pos_weight outermost and the non-finite logits first in each block, so that many vectors are finite and
    // stay on the SIMD formulas.
    for (double p : ps) {
        for (double x : xs) {
            for (double y : ys) {
                in.x.push_back(static_cast<T>(x));
                in.y.push_back(static_cast<T>(y));
                in.pos_weight.push_back(static_cast<T>(p));
                in.weight.push_back(static_cast<T>(1.5));
                in.upstream.push_back(static_cast<T>(-0.5));
            }
        }
    }
    const int64_t size = static_cast<int64_t>(in.x.size());
    for (int64_t n : {int64_t{13}, size - 1}) {
        for (bool paddle_legacy : {false, true}) {
            for (Operand weight : {Operand::kAbsent, Operand::kPerElement}) {
                RunSpec s;
                s.n = n;
                s.offset = 1;
                s.weight = weight;
                s.pos_weight = Operand::kPerElement;
                s.paddle_legacy = paddle_legacy;
                s.upstream_per_element = weight == Operand::kPerElement;
                expect_same_as_reference(table, s, in, worst);
                if (::testing::Test::HasFatalFailure()) return;
            }
        }
    }
}

TEST_P(IsaKernels, LogitsFloat32ExtremesInBothPosWeightModes) { logits_extremes_in_both_modes<float>(*table_); }
TEST_P(IsaKernels, LogitsFloat64ExtremesInBothPosWeightModes) { logits_extremes_in_both_modes<double>(*table_); }

// ignore_index, label smoothing and target validation in both pos_weight modes: an ignored value and targets
// outside [0, 1] planted in random rows of several lengths, single-pass and three-pass.
template <typename T>
void logits_options_in_both_modes(const KernelTable& table) {
    Worst worst;
    for (int64_t n : {int64_t{7}, int64_t{29}, int64_t{3001}}) {
        for (bool validate : {false, true}) {
            Inputs<T> in = random_inputs<T>(Kind::kLogits, n, static_cast<uint64_t>(31 * n + validate));
            for (int64_t i = 3; i < n; i += 5) in.y[static_cast<size_t>(i)] = static_cast<T>(-100);  // ignored
            in.y[static_cast<size_t>(n - 2)] = static_cast<T>(1.25);  // invalid when validating (first one)
            for (bool paddle_legacy : {false, true}) {
                for (Operand pos_weight : {Operand::kConstant, Operand::kPerElement}) {
                    RunSpec s;
                    s.n = n;
                    s.weight = Operand::kPerElement;
                    s.pos_weight = pos_weight;
                    s.paddle_legacy = paddle_legacy;
                    s.ignored_target = -100;
                    s.smoothing_keep = 0.9;
                    s.smoothing_shift = 0.05;
                    s.validate_targets = validate;
                    expect_same_as_reference(table, s, in, worst);
                    if (::testing::Test::HasFatalFailure()) return;
                    if (validate) EXPECT_EQ(run_kernel(table, s, in).result.first_invalid, n - 2) << describe(s);
                }
            }
        }
    }
}

TEST_P(IsaKernels, LogitsFloat32OptionsInBothPosWeightModes) { logits_options_in_both_modes<float>(*table_); }
TEST_P(IsaKernels, LogitsFloat64OptionsInBothPosWeightModes) { logits_options_in_both_modes<double>(*table_); }

// ---- Sigmoid focal loss ------------------------------------------------------------------------------------------

// The focal settings the kernels treat differently: gamma 0 (no modulation), the powers by multiplication (1, 2, 3)
// and the general power (0.5, 1.5), each without alpha, with 0.25 and with 1 (alpha_t = y).
struct FocalSetting {
    double gamma, alpha;
};
const FocalSetting kFocalSettings[] = {{0, -1}, {0, 0.25}, {0, 1}, {0.5, -1}, {0.5, 0.25}, {0.5, 1},
                                       {1, -1}, {1, 0.25}, {1, 1}, {1.5, -1}, {1.5, 0.25}, {1.5, 1},
                                       {2, -1}, {2, 0.25}, {2, 1}, {3, -1},   {3, 0.25},   {3, 1}};

RunSpec with_focal(RunSpec s, FocalSetting f) {
    s.focal = true;
    s.focal_gamma = f.gamma;
    s.focal_alpha = f.alpha;
    return s;
}

// Every focal setting with every weight and pos_weight operand and mode on every run length from 0 to 32 (every
// tail, several vectors), aligned and misaligned, the upstream gradient constant or per element, all outputs, the
// training call's grad_input alone, or the loss alone.
template <typename T>
void focal_every_combination_and_length(const KernelTable& table) {
    Worst worst;
    const Operand operands[] = {Operand::kAbsent, Operand::kConstant, Operand::kPerElement};
    for (int64_t n = 0; n <= 32; ++n) {
        for (int64_t offset : {0, 1}) {
            const Inputs<T> in = random_inputs<T>(Kind::kLogits, n, 3000 * n + offset);
            for (const FocalSetting& f : kFocalSettings) {
                for (Operand weight : operands) {
                    for (Operand pos_weight : operands) {
                        for (bool paddle_legacy : {false, true}) {
                            if (pos_weight == Operand::kAbsent && paddle_legacy) continue;  // the same variant
                            for (unsigned outputs : {kWantAll, kWantGradInput, kWantLoss}) {
                                RunSpec s;
                                s.n = n;
                                s.offset = offset;
                                s.weight = weight;
                                s.pos_weight = pos_weight;
                                s.paddle_legacy = paddle_legacy;
                                s.upstream_per_element = outputs == kWantAll && (n + offset) % 2 == 1;
                                s.outputs = outputs;
                                expect_same_as_reference(table, with_focal(s, f), in, worst);
                                if (::testing::Test::HasFatalFailure()) return;
                            }
                        }
                    }
                }
            }
        }
    }
}

TEST_P(IsaKernels, FocalFloat32EveryCombinationAndLength) { focal_every_combination_and_length<float>(*table_); }
TEST_P(IsaKernels, FocalFloat64EveryCombinationAndLength) { focal_every_combination_and_length<double>(*table_); }

// Long odd runs under every focal setting, with label smoothing, an ignored value planted every seventh element
// and per-element weights, in both pos_weight modes; the accuracy actually reached for each gamma, printed for the
// record.
template <typename T>
void focal_long_runs_with_options(const KernelTable& table) {
    constexpr int kSettings = sizeof(kFocalSettings) / sizeof(kFocalSettings[0]);
    Worst worst[kSettings];
    for (int64_t n : {int64_t{20011}, int64_t{1001}}) {
        Inputs<T> in = random_inputs<T>(Kind::kLogits, n, static_cast<uint64_t>(7 * n));
        for (int64_t i = 5; i <= n; i += 7) in.y[static_cast<size_t>(i)] = static_cast<T>(-100);
        for (int setting = 0; setting < kSettings; ++setting) {
            for (int options = 0; options < 4; ++options) {
                RunSpec s;
                s.n = n;
                s.offset = options % 2;
                s.weight = options % 2 ? Operand::kPerElement : Operand::kConstant;
                s.pos_weight = options < 2 ? Operand::kPerElement : Operand::kConstant;
                s.paddle_legacy = options == 3;
                s.upstream_per_element = options % 2 == 1;
                s.ignored_target = -100;
                if (options >= 2) {
                    s.smoothing_keep = 0.9;
                    s.smoothing_shift = 0.05;
                }
                expect_same_as_reference(table, with_focal(s, kFocalSettings[setting]), in, worst[setting]);
                if (::testing::Test::HasFatalFailure()) return;
                // An ignored element's outputs are +0, as the reference writes them (not -0). Gamma 0 without alpha
                // runs the plain path, whose weighted() still leaves -0 there.
                if (kFocalSettings[setting].gamma == 0 && kFocalSettings[setting].alpha < 0) continue;
                const Outputs<T> out = run_kernel(table, with_focal(s, kFocalSettings[setting]), in);
                for (int64_t i = 0; i < n; ++i) {
                    const size_t at = static_cast<size_t>(i + s.offset);
                    if (in.y[at] != static_cast<T>(-100)) continue;
                    ASSERT_FALSE(std::signbit(out.loss[at]) || std::signbit(out.grad_input[at]) ||
                                 std::signbit(out.grad_target[at]))
                        << i << " of " << describe(with_focal(s, kFocalSettings[setting]));
                }
            }
        }
    }
    for (int setting = 0; setting < kSettings; setting += 3) {  // the three alphas of one gamma together
        const Worst& w = *std::max_element(worst + setting, worst + setting + 3,
                                           [](const Worst& a, const Worst& b) { return a.value < b.value; });
        std::cout << "  focal gamma " << kFocalSettings[setting].gamma
                  << ": worst difference from the scalar reference " << w.value << " epsilons of the terms at "
                  << w.where << "\n";
    }
}

TEST_P(IsaKernels, FocalFloat32LongRunsWithOptions) { focal_long_runs_with_options<float>(*table_); }
TEST_P(IsaKernels, FocalFloat64LongRunsWithOptions) { focal_long_runs_with_options<double>(*table_); }

// Extreme logits (+-inf, NaN, +-1e4, beyond the float and double exponent ranges, where 1 - p_t underflows, +-0),
// hard, soft, nearly hard and out-of-range labels (no validation: the reference's NaN), an ignored one, and
// pos_weights 0, 1, 2.5 and +inf, every combination under every focal setting in both pos_weight modes.
template <typename T>
void focal_extremes(const KernelTable& table) {
    Worst worst;
    const double xs[] = {kInf, -kInf, kNaN, 1e4, -1e4, 800, -800, 100, -100, 88, -88, 30, -30, 0.0, -0.0, 3.0, -3.0};
    const double ys[] = {0.0, 1.0, 0.3, 0.5, 1e-30, 1 - 1.0 / (1 << 20), 1.25, -0.5, -100};
    const double ps[] = {0.0, 1.0, 2.5, kInf};
    Inputs<T> in;
    for (double p : ps) {
        for (double x : xs) {
            for (double y : ys) {
                in.x.push_back(static_cast<T>(x));
                in.y.push_back(static_cast<T>(y));
                in.pos_weight.push_back(static_cast<T>(p));
                in.weight.push_back(static_cast<T>(1.5));
                in.upstream.push_back(static_cast<T>(-0.5));
            }
        }
    }
    const int64_t size = static_cast<int64_t>(in.x.size());
    for (const FocalSetting& f : kFocalSettings) {
        for (bool paddle_legacy : {false, true}) {
            RunSpec s;
            s.n = size - 1;
            s.offset = 1;
            s.weight = Operand::kPerElement;
            s.pos_weight = Operand::kPerElement;
            s.paddle_legacy = paddle_legacy;
            s.upstream_per_element = paddle_legacy;
            s.ignored_target = -100;
            expect_same_as_reference(table, with_focal(s, f), in, worst);
            if (::testing::Test::HasFatalFailure()) return;
        }
    }
}

TEST_P(IsaKernels, FocalFloat32Extremes) { focal_extremes<float>(*table_); }
TEST_P(IsaKernels, FocalFloat64Extremes) { focal_extremes<double>(*table_); }

// The first invalid probability is found exactly wherever it sits in a vector or in the tail; elements before it
// are computed and stored, nothing after it is written, and NaN is not invalid.
template <typename T>
void first_invalid_everywhere(const KernelTable& table) {
    Worst worst;
    const double bad_values[] = {-0.5, 1.5, -kInf, kInf, -1e-30};
    for (int64_t n = 1; n <= 21; ++n) {
        for (int64_t position = 0; position < n; ++position) {
            for (int64_t offset : {0, 1}) {
                Inputs<T> in = random_inputs<T>(Kind::kProbabilities, n, 77 * n + position);
                for (auto& v : in.x) v = std::isnan(v) ? T(0.25) : v;  // only the planted value may stop the run
                const int64_t at = offset + position;
                const double bad = bad_values[(n + position) % 5];
                (position % 2 ? in.y : in.x)[at] = static_cast<T>(bad);
                if (position + 2 < n) in.x[at + 2] = static_cast<T>(2.0);  // a later invalid one must not win
                if (position > 0) in.y[at - 1] = static_cast<T>(kNaN);     // NaN before it does not stop the run
                RunSpec s;
                s.kind = Kind::kProbabilities;
                s.n = n;
                s.offset = offset;
                s.weight = Operand::kPerElement;
                expect_same_as_reference(table, s, in, worst);
                if (::testing::Test::HasFatalFailure()) return;
                EXPECT_EQ(run_kernel(table, s, in).result.first_invalid, position) << describe(s);
            }
        }
    }
}

TEST_P(IsaKernels, ProbabilitiesFloat32FirstInvalidAtEveryPosition) { first_invalid_everywhere<float>(*table_); }
TEST_P(IsaKernels, ProbabilitiesFloat64FirstInvalidAtEveryPosition) { first_invalid_everywhere<double>(*table_); }

// The loss sum is the same, bit for bit, from run to run and whichever outputs are stored.
TEST_P(IsaKernels, LossSumIsDeterministicAndIndependentOfTheOutputs) {
    const int64_t n = 10007;
    const Inputs<float> in = random_inputs<float>(Kind::kLogits, n, 5);
    RunSpec s;
    s.n = n;
    s.weight = Operand::kPerElement;
    const Outputs<float> all = run_kernel(*table_, s, in);
    for (unsigned outputs = 0; outputs <= kWantAll; ++outputs) {
        s.outputs = outputs;
        const Outputs<float> some = run_kernel(*table_, s, in);
        EXPECT_TRUE(bce4j_test::bitwise_equal(some.result.loss_sum, all.result.loss_sum)) << outputs;
        if (outputs & kWantGradInput) {
            EXPECT_TRUE(bce4j_test::bitwise_equal(some.grad_input, all.grad_input)) << outputs;
        }
    }
}

// The compile-time variants are few and named (simd_kernels.h's kVariants): printed for the record.
TEST_P(IsaKernels, VariantsAreFewAndNamed) {
    const bce4j::KernelVariants& v = table_->variants;
    ASSERT_GT(v.count, 0);
    EXPECT_LE(v.count, 20) << "at most 20 row-kernel variants per dtype";
    std::vector<std::string> names;
    for (int i = 0; i < v.count; ++i) {
        names.emplace_back(v.name(i));
        std::cout << "  " << GetParam() << " variant " << i << ": " << names.back() << "\n";
    }
    std::vector<std::string> sorted = names;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "variant names are unique";
    EXPECT_EQ(bce4j::scalar_kernel_table().variants.count, 0) << "the reference has one loop for every call";
}

// ---- Choosing the table -------------------------------------------------------------------------------------------

TEST(KernelDispatch, ScalarIsAlwaysAvailableAndUnknownNamesAreNot) {
    ASSERT_NE(bce4j::kernel_table_for("scalar"), nullptr);
    EXPECT_STREQ(bce4j::kernel_table_for("scalar")->isa, "scalar");
    EXPECT_EQ(bce4j::kernel_table_for("sse9"), nullptr);
    EXPECT_EQ(bce4j::kernel_table_for(""), nullptr);
    EXPECT_EQ(bce4j::kernel_table_for(nullptr), nullptr);
}

TEST(KernelDispatch, Avx2IsOfferedExactlyWhenTheCpuHasIt) {
#if defined(BCE4J_HAVE_AVX2)
    const bool cpu_has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    const KernelTable* avx2 = bce4j::kernel_table_for("avx2");
    EXPECT_EQ(avx2 != nullptr, cpu_has);
    if (avx2) EXPECT_STREQ(avx2->isa, "avx2");
#else
    EXPECT_EQ(bce4j::kernel_table_for("avx2"), nullptr);
#endif
}

TEST(KernelDispatch, Avx512IsOfferedExactlyWhenTheCpuHasIt) {
#if defined(BCE4J_HAVE_AVX512)
    const KernelTable* avx512 = bce4j::kernel_table_for("avx512");
    EXPECT_EQ(avx512 != nullptr, static_cast<bool>(__builtin_cpu_supports("avx512f")));
    if (avx512) EXPECT_STREQ(avx512->isa, "avx512");
#else
    EXPECT_EQ(bce4j::kernel_table_for("avx512"), nullptr);
#endif
}

TEST(KernelDispatch, NeonIsOfferedExactlyWhenTheCpuHasIt) {
#if defined(BCE4J_HAVE_NEON)
    const unsigned long hwcap = getauxval(AT_HWCAP);
    const KernelTable* neon = bce4j::kernel_table_for("neon");
    EXPECT_EQ(neon != nullptr, (hwcap & HWCAP_ASIMD) != 0 && (hwcap & HWCAP_FP) != 0);
    if (neon) EXPECT_STREQ(neon->isa, "neon");
#else
    EXPECT_EQ(bce4j::kernel_table_for("neon"), nullptr);
#endif
}

TEST(KernelDispatch, RequestedIsaIsHonouredOrTheBestAvailableIsUsed) {
    const KernelTable& best = bce4j::choose_kernel_table(nullptr);
    EXPECT_EQ(&bce4j::choose_kernel_table("scalar"), &bce4j::scalar_kernel_table()) << "BCE4J_ISA=scalar forces it";
    EXPECT_EQ(&bce4j::choose_kernel_table("no-such-isa"), &best);
    EXPECT_EQ(&bce4j::choose_kernel_table(""), &best);
    const KernelTable* avx512 = bce4j::kernel_table_for("avx512");
    const KernelTable* avx2 = bce4j::kernel_table_for("avx2");
    const KernelTable* neon = bce4j::kernel_table_for("neon");
    EXPECT_EQ(&best, avx512 ? avx512
                     : avx2 ? avx2
                     : neon ? neon
                            : &bce4j::scalar_kernel_table())
        << "the widest by default";
    // A named ISA this CPU has is used; one it lacks falls back to the best available.
    EXPECT_EQ(&bce4j::choose_kernel_table("avx2"), avx2 ? avx2 : &best);
    EXPECT_EQ(&bce4j::choose_kernel_table("avx512"), avx512 ? avx512 : &best);
    EXPECT_EQ(&bce4j::choose_kernel_table("neon"), neon ? neon : &best);
}

TEST(KernelDispatch, LibraryReportsTheTableItUses) {
    // The library chose once, from this process's BCE4J_ISA; its choice must be the one choose_kernel_table makes.
    EXPECT_STREQ(bce4j_cpu_isa(), bce4j::choose_kernel_table(std::getenv("BCE4J_ISA")).isa);
}

}  // namespace
