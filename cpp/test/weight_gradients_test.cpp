// Weight gradients (options.grad_weight, options.grad_pos_weight): d(result)/d(weight) and d(result)/d(pos_weight)
// summed back to each operand's own shape, where the result is the reduced loss times the upstream gradient, or
// sum_i g_i * l_i for reduction NONE. Checked against central finite differences of that result through the
// public API in float64, against independent long double sums on inputs large enough to run in parallel, for
// bitwise equality across thread counts, and float32 and 16-bit storage against float64: the scalar reference
// computes their terms in double (the float64 gradients rounded once), the SIMD kernels in float32 lanes (within
// their tolerance of the terms' magnitudes).
#include <gtest/gtest.h>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "element_math.h"
#include "storage_types.h"
#include "term_magnitudes.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;

template <typename T>
struct GradCall {
    Loss kind = Loss::kLogits;
    std::vector<int64_t> shape;
    std::vector<T> input, target;
    std::optional<Tensor<T>> weight, pos_weight;
    int32_t reduction = BCE4J_REDUCTION_MEAN;
    int32_t pos_weight_mode = BCE4J_POS_WEIGHT_TORCH;
    std::optional<double> ignore_index;
    double label_smoothing = 0;
    int32_t smoothing_classes = 2;
    std::optional<double> focal_gamma;
    double focal_alpha = -1;
    std::optional<std::vector<T>> grad_output;  // NONE: input-shaped; otherwise one element
    int32_t num_threads = 0;
};

template <typename T>
struct WeightGradients {
    bce4j_status status = BCE4J_ERROR_INTERNAL;
    std::string message;
    double reduced = kNaN;
    std::vector<T> loss;                // per element for NONE
    std::vector<T> weight, pos_weight;  // empty when not asked for
};

// The gradient element count of an operand: its own, or 1 for an absent one (an implicit scalar 1).
template <typename T>
int64_t gradient_count(const std::optional<Tensor<T>>& operand) {
    return operand ? numel(operand->shape) : 1;
}

template <typename T>
constexpr bce4j_dtype storage_dtype() {
    if constexpr (std::is_same_v<T, bce4j::Float16>) {
        return BCE4J_FLOAT16;
    } else if constexpr (std::is_same_v<T, bce4j::BFloat16>) {
        return BCE4J_BFLOAT16;
    } else {
        return dtype_of<T>();
    }
}

template <typename T>
WeightGradients<T> call(const GradCall<T>& s, bool want_weight, bool want_pos_weight) {
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = s.reduction;
    o.num_threads = s.num_threads;
    o.pos_weight_mode = s.pos_weight_mode;
    if (s.weight) {
        o.weight = s.weight->data.data();
        o.weight_ndim = static_cast<int32_t>(s.weight->shape.size());
        o.weight_shape = s.weight->shape.data();
    }
    if (s.pos_weight) {
        o.pos_weight = s.pos_weight->data.data();
        o.pos_weight_ndim = static_cast<int32_t>(s.pos_weight->shape.size());
        o.pos_weight_shape = s.pos_weight->shape.data();
    }
    if (s.ignore_index) {
        o.has_ignore_index = 1;
        o.ignore_index = *s.ignore_index;
    }
    o.label_smoothing = s.label_smoothing;
    o.smoothing_classes = s.smoothing_classes;
    if (s.focal_gamma) {
        o.has_focal = 1;
        o.focal_gamma = *s.focal_gamma;
        o.focal_alpha = s.focal_alpha;
    }
    WeightGradients<T> r;
    const T sentinel = bce4j::from_double<T>(-12345.0);
    if (want_weight) r.weight.assign(static_cast<size_t>(gradient_count(s.weight)), sentinel);
    if (want_pos_weight) r.pos_weight.assign(static_cast<size_t>(gradient_count(s.pos_weight)), sentinel);
    o.grad_weight = want_weight ? r.weight.data() : nullptr;
    o.grad_pos_weight = want_pos_weight ? r.pos_weight.data() : nullptr;
    const bool none = s.reduction == BCE4J_REDUCTION_NONE;
    r.loss.assign(none ? static_cast<size_t>(numel(s.shape)) : 1u, sentinel);
    const auto fn = s.kind == Loss::kLogits ? bce4j_bce_with_logits : bce4j_bce;
    r.status =
        fn(&o, storage_dtype<T>(), static_cast<int32_t>(s.shape.size()), s.shape.empty() ? nullptr : s.shape.data(),
           s.input.empty() ? nullptr : s.input.data(), s.target.empty() ? nullptr : s.target.data(),
           s.grad_output ? s.grad_output->data() : nullptr, r.loss.data(), &r.reduced, nullptr, nullptr);
    r.message = bce4j_last_error_message();
    return r;
}

// What the call differentiates: the reduced loss times the upstream gradient, or sum_i g_i * l_i for NONE.
LD result_of(const GradCall<double>& s) {
    const WeightGradients<double> r = call(s, false, false);
    EXPECT_EQ(r.status, BCE4J_OK) << r.message;
    if (s.reduction != BCE4J_REDUCTION_NONE) return r.reduced * (s.grad_output ? (*s.grad_output)[0] : 1.0);
    LD sum = 0;
    for (size_t i = 0; i < r.loss.size(); ++i) sum += (s.grad_output ? (*s.grad_output)[i] : 1.0) * r.loss[i];
    return sum;
}

// Every element of each gradient against the central difference of result_of in that operand element (an absent
// operand is probed as the scalar it stands for).
void expect_matches_finite_differences(const GradCall<double>& s) {
    const bool logits = s.kind == Loss::kLogits;
    const WeightGradients<double> got = call(s, true, logits);
    ASSERT_EQ(got.status, BCE4J_OK) << got.message;
    for (const bool pos : {false, true}) {
        if (pos && !logits) continue;
        const std::vector<double>& gradient = pos ? got.pos_weight : got.weight;
        GradCall<double> probe = s;
        std::optional<Tensor<double>>& operand = pos ? probe.pos_weight : probe.weight;
        if (!operand) operand = Tensor<double>{{}, {1.0}};
        ASSERT_EQ(static_cast<int64_t>(gradient.size()), numel(operand->shape));
        for (size_t j = 0; j < gradient.size(); ++j) {
            const double v = operand->data[j];
            const double h = 1e-5 * std::max(1.0, std::fabs(v));
            operand->data[j] = v + h;
            const LD up = result_of(probe);
            operand->data[j] = v - h;
            const LD down = result_of(probe);
            operand->data[j] = v;
            const double fd = static_cast<double>((up - down) / (2 * h));
            EXPECT_NEAR(gradient[j], fd, 1e-6 * (1 + std::fabs(fd)))
                << (pos ? "grad_pos_weight" : "grad_weight") << " element " << j;
        }
    }
}

const int32_t kReductions[] = {BCE4J_REDUCTION_NONE,
                               BCE4J_REDUCTION_MEAN,
                               BCE4J_REDUCTION_SUM,
                               BCE4J_REDUCTION_MEAN_BY_WEIGHT,
                               BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT,
                               BCE4J_REDUCTION_MEAN_VALID};

struct OperandShapes {
    std::vector<int64_t> input;
    std::optional<std::vector<int64_t>> weight, pos_weight;
};

// Broadcasts of every kind: per class, per row, one element, a 0-d scalar, the full shape, leading dimensions,
// and absent operands (implicit scalars).
const std::vector<OperandShapes>& operand_shapes() {
    static const std::vector<OperandShapes> shapes = {
        {{4, 5}, std::vector<int64_t>{5}, std::vector<int64_t>{5}},
        {{4, 5}, std::vector<int64_t>{4, 1}, std::vector<int64_t>{1}},
        {{4, 5}, std::vector<int64_t>{}, std::vector<int64_t>{4, 5}},
        {{4, 5}, std::vector<int64_t>{4, 5}, std::vector<int64_t>{}},
        {{2, 3, 4}, std::vector<int64_t>{1, 4}, std::vector<int64_t>{3, 1}},
        {{2, 3, 4}, std::nullopt, std::nullopt},
        {{6}, std::vector<int64_t>{1}, std::nullopt},
    };
    return shapes;
}

// Random data for one configuration; `s` arrives with its options set. Every third element of `ignored_every`
// period is set to the ignore index when there is one.
GradCall<double> with_data(GradCall<double> s, const OperandShapes& shapes, uint64_t seed) {
    s.shape = shapes.input;
    const int64_t n = numel(s.shape);
    s.input = s.kind == Loss::kLogits ? uniform<double>(n, -4, 4, seed) : uniform<double>(n, 0.02, 0.98, seed);
    s.target = labels<double>(n, seed + 1);
    if (s.ignore_index) {
        for (int64_t i = 3; i < n; i += 7) s.target[i] = *s.ignore_index;
    }
    if (shapes.weight) s.weight = random_operand<double>(*shapes.weight, 0.3, 2.0, seed + 2);
    if (shapes.pos_weight && s.kind == Loss::kLogits) {
        s.pos_weight = random_operand<double>(*shapes.pos_weight, 0.5, 3.0, seed + 3);
    }
    if (s.reduction == BCE4J_REDUCTION_NONE) {
        s.grad_output = uniform<double>(n, -1.5, 1.5, seed + 4);
    } else {
        s.grad_output = std::vector<double>{0.7};
    }
    return s;
}

void check_every_shape_and_reduction(const GradCall<double>& options, const char* what) {
    uint64_t seed = 100;
    for (const OperandShapes& shapes : operand_shapes()) {
        for (const int32_t reduction : kReductions) {
            GradCall<double> s = options;
            s.reduction = reduction;
            s = with_data(s, shapes, seed++);
            SCOPED_TRACE(std::string(what) + ", reduction " + std::to_string(reduction) + ", input " +
                         shape_str(shapes.input) + ", weight " + (s.weight ? shape_str(s.weight->shape) : "absent") +
                         ", pos_weight " + (s.pos_weight ? shape_str(s.pos_weight->shape) : "absent"));
            expect_matches_finite_differences(s);
        }
    }
}

TEST(WeightGradients, LogitsTorchModeMatchesFiniteDifferences) {
    check_every_shape_and_reduction(GradCall<double>{}, "logits, torch");
}

TEST(WeightGradients, LogitsPaddleLegacyModeMatchesFiniteDifferences) {
    GradCall<double> s;
    s.pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    check_every_shape_and_reduction(s, "logits, paddle-legacy");
}

TEST(WeightGradients, LogitsWithSmoothingAndIgnoreIndexMatchFiniteDifferences) {
    GradCall<double> s;
    s.ignore_index = -100;
    s.label_smoothing = 0.1;
    s.smoothing_classes = 3;
    check_every_shape_and_reduction(s, "logits, smoothing, ignore_index");
    s.pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    check_every_shape_and_reduction(s, "logits, paddle-legacy, smoothing, ignore_index");
}

TEST(WeightGradients, FocalLossMatchesFiniteDifferences) {
    GradCall<double> s;
    s.focal_gamma = 2;
    s.focal_alpha = 0.25;
    check_every_shape_and_reduction(s, "focal gamma 2 alpha 0.25");
    s.focal_gamma = 1.5;
    s.focal_alpha = -1;
    s.pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    s.ignore_index = -100;
    s.label_smoothing = 0.05;
    check_every_shape_and_reduction(s, "focal gamma 1.5, paddle-legacy, ignore_index, smoothing");
}

TEST(WeightGradients, ProbabilitiesMatchFiniteDifferences) {
    GradCall<double> s;
    s.kind = Loss::kProbabilities;
    check_every_shape_and_reduction(s, "probabilities");
    s.ignore_index = -100;
    s.label_smoothing = 0.2;
    check_every_shape_and_reduction(s, "probabilities, smoothing, ignore_index");
}

TEST(WeightGradients, ZeroWeightsMatchFiniteDifferences) {
    // d l/d w is the loss at w = 1, never l/w. MEAN_BY_NONZERO_WEIGHT's count jumps at 0, so it is checked below.
    for (const Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (const int32_t reduction : kReductions) {
            if (reduction == BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT) continue;
            GradCall<double> s;
            s.kind = kind;
            s.reduction = reduction;
            s = with_data(s, {{3, 4}, std::vector<int64_t>{4}, std::vector<int64_t>{4}}, 7 + reduction);
            s.weight->data = {0.0, 1.5, 0.0, 0.5};
            SCOPED_TRACE("kind " + std::to_string(static_cast<int>(kind)) + ", reduction " + std::to_string(reduction));
            expect_matches_finite_differences(s);
        }
    }
}

TEST(WeightGradients, NonzeroWeightCountIsAConstantDenominator) {
    // MEAN_BY_NONZERO_WEIGHT divides by D = the number of elements with a non-zero weight, taken as a constant:
    // its gradients are SUM's divided by D (here 2 of 4 columns, so D = 2 * rows).
    GradCall<double> s;
    s = with_data(s, {{3, 4}, std::vector<int64_t>{4}, std::vector<int64_t>{4}}, 17);
    s.weight->data = {0.0, 1.5, 0.0, 0.5};
    s.reduction = BCE4J_REDUCTION_SUM;
    const WeightGradients<double> sum = call(s, true, true);
    s.reduction = BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT;
    const WeightGradients<double> mean = call(s, true, true);
    ASSERT_EQ(sum.status, BCE4J_OK) << sum.message;
    ASSERT_EQ(mean.status, BCE4J_OK) << mean.message;
    for (size_t j = 0; j < 4; ++j) {
        EXPECT_NEAR(mean.weight[j], sum.weight[j] / 6, 1e-15 * std::fabs(sum.weight[j])) << j;
        EXPECT_NEAR(mean.pos_weight[j], sum.pos_weight[j] / 6, 1e-15 * std::fabs(sum.pos_weight[j])) << j;
    }
}

TEST(WeightGradients, ZeroDenominatorsGiveZeroGradients) {
    // All weights 0: MEAN_BY_WEIGHT and MEAN_BY_NONZERO_WEIGHT are 0 and so are their gradients; so is MEAN_VALID
    // when every target is ignored.
    for (const int32_t reduction : {BCE4J_REDUCTION_MEAN_BY_WEIGHT, BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT}) {
        GradCall<double> s;
        s.reduction = reduction;
        s = with_data(s, {{3, 4}, std::vector<int64_t>{4}, std::vector<int64_t>{1}}, 23);
        s.weight->data.assign(4, 0.0);
        const WeightGradients<double> r = call(s, true, true);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        EXPECT_EQ(r.reduced, 0.0);
        for (double g : r.weight) EXPECT_EQ(g, 0.0) << reduction;
        for (double g : r.pos_weight) EXPECT_EQ(g, 0.0) << reduction;
    }
    GradCall<double> s;
    s.reduction = BCE4J_REDUCTION_MEAN_VALID;
    s.ignore_index = -100;
    s = with_data(s, {{3, 4}, std::vector<int64_t>{4}, std::nullopt}, 29);
    s.target.assign(12, -100.0);
    const WeightGradients<double> r = call(s, true, true);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    for (double g : r.weight) EXPECT_EQ(g, 0.0);
    EXPECT_EQ(r.pos_weight, std::vector<double>{0.0});
}

TEST(WeightGradients, AbsentWeightGivesTheDerivativeOfAnImplicitScalar) {
    // The loss is linear in a scalar weight, so with SUM and upstream g its derivative is g times the sum of
    // the losses: the reduced loss itself (closed form). For MEAN_BY_WEIGHT the scalar cancels: exactly 0.
    for (const Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        GradCall<double> s;
        s.kind = kind;
        s.reduction = BCE4J_REDUCTION_SUM;
        s = with_data(s, {{5, 7}, std::nullopt, std::nullopt}, 31);
        s.grad_output = std::vector<double>{-1.25};
        const WeightGradients<double> r = call(s, true, false);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        ASSERT_EQ(r.weight.size(), 1u);
        EXPECT_NEAR(r.weight[0], -1.25 * r.reduced, 1e-14 * std::fabs(r.reduced));
        s.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
        EXPECT_EQ(call(s, true, false).weight, std::vector<double>{0.0});
    }
}

// ---- Larger inputs: blocks, broadcast wrap-around, threads ----------------------------------------------------------

struct LargeCase {
    std::vector<int64_t> input;
    std::optional<std::vector<int64_t>> weight, pos_weight;
};

// At least 4 * 8192 elements, so that calls run in parallel; rows that do not divide the 8192-element blocks,
// so that an operand element's partial sums are split between blocks. Operands that repeat with each row ([C]
// over [N, C], read from a tile a whole block at a time) beside per-element ones and other broadcasts.
const std::vector<LargeCase>& large_cases() {
    static const std::vector<LargeCase> cases = {
        {{2500, 16}, std::vector<int64_t>{16}, std::vector<int64_t>{1, 16}},
        {{40, 1000}, std::vector<int64_t>{1000}, std::vector<int64_t>{40, 1000}},
        {{2, 3, 7000}, std::vector<int64_t>{7000}, std::nullopt},
        {{6, 7000}, std::vector<int64_t>{7000}, std::vector<int64_t>{6, 1}},
        {{13000, 3}, std::vector<int64_t>{13000, 3}, std::vector<int64_t>{3}},
        {{64, 1024}, std::vector<int64_t>{1024}, std::vector<int64_t>{64, 1}},
        {{20000, 3}, std::vector<int64_t>{20000, 1}, std::vector<int64_t>{3}},
        {{3, 20000}, std::vector<int64_t>{3, 1}, std::vector<int64_t>{20000}},
        {{8, 16, 512}, std::vector<int64_t>{8, 1, 512}, std::vector<int64_t>{16, 1}},
        {{4, 9000}, std::vector<int64_t>{4, 9000}, std::nullopt},
        {{40000}, std::nullopt, std::vector<int64_t>{}},
    };
    return cases;
}

template <typename T>
GradCall<T> large_setup(const LargeCase& c, int32_t reduction, uint64_t seed) {
    GradCall<T> s;
    s.shape = c.input;
    const int64_t n = numel(s.shape);
    s.input = uniform<T>(n, -6, 6, seed);
    s.target = labels<T>(n, seed + 1);
    if (c.weight) s.weight = random_operand<T>(*c.weight, 0.0, 2.0, seed + 2);
    if (c.pos_weight) s.pos_weight = random_operand<T>(*c.pos_weight, 0.5, 3.0, seed + 3);
    s.reduction = reduction;
    s.grad_output = reduction == BCE4J_REDUCTION_NONE ? uniform<T>(n, -1, 1, seed + 4) : std::vector<T>{T(0.5)};
    return s;
}

TEST(WeightGradients, LargeInputsMatchIndependentSums) {
    // Torch mode, no focal: d l_i/d w = ref loss at w = 1 and d l_i/d p = w*y*softplus(-x), summed in long double
    // over each operand element's broadcast preimage.
    uint64_t seed = 500;
    for (const LargeCase& c : large_cases()) {
        for (const int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
            const GradCall<double> s = large_setup<double>(c, reduction, seed++);
            SCOPED_TRACE("input " + shape_str(c.input) + ", reduction " + std::to_string(reduction));
            const WeightGradients<double> r = call(s, true, true);
            ASSERT_EQ(r.status, BCE4J_OK) << r.message;
            const int64_t n = numel(s.shape);
            const std::vector<int64_t> scalar;
            const std::vector<int64_t>& w_shape = s.weight ? s.weight->shape : scalar;
            const std::vector<int64_t>& p_shape = s.pos_weight ? s.pos_weight->shape : scalar;
            std::vector<LD> w_sum(r.weight.size()), p_sum(r.pos_weight.size()), w_abs(r.weight.size()),
                p_abs(r.pos_weight.size());
            LD weighted = 0, total_weight = 0;
            for (int64_t i = 0; i < n; ++i) {
                const int64_t wj = broadcast_source(s.shape, w_shape, i);
                const int64_t pj = broadcast_source(s.shape, p_shape, i);
                const LD w = s.weight ? s.weight->data[wj] : 1;
                const LD p = s.pos_weight ? s.pos_weight->data[pj] : 1;
                const LD g = reduction == BCE4J_REDUCTION_NONE ? (*s.grad_output)[i] : 1;
                const LD u = ref_logits(s.input[i], s.target[i], p).loss;
                const LD dp = w * s.target[i] * ref_softplus(-static_cast<LD>(s.input[i]));
                w_sum[wj] += g * u;
                w_abs[wj] += std::fabs(g * u);
                p_sum[pj] += g * dp;
                p_abs[pj] += std::fabs(g * dp);
                weighted += w * u;
                total_weight += w;
            }
            LD scale = 1;
            LD offset_per_element = 0;  // R, subtracted once per broadcast repetition (MEAN_BY_WEIGHT)
            if (reduction == BCE4J_REDUCTION_MEAN) scale = 0.5L / n;
            if (reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT) {
                scale = 0.5L / total_weight;
                offset_per_element = weighted / total_weight;
            }
            const LD multiplicity = static_cast<LD>(n) / static_cast<LD>(w_sum.size());
            const bool scalar_cancels = reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && w_sum.size() == 1;
            for (size_t j = 0; j < w_sum.size(); ++j) {
                const LD want = scalar_cancels ? 0 : scale * (w_sum[j] - offset_per_element * multiplicity);
                const LD magnitude = scale * (w_abs[j] + offset_per_element * multiplicity);
                EXPECT_TRUE(close(r.weight[j], want, magnitude, 1e-12)) << "grad_weight element " << j;
                if (HasFailure()) break;
            }
            for (size_t j = 0; j < p_sum.size(); ++j) {
                EXPECT_TRUE(close(r.pos_weight[j], scale * p_sum[j], scale * p_abs[j], 1e-12))
                    << "grad_pos_weight element " << j;
                if (HasFailure()) break;
            }
        }
    }
}

template <typename T>
void expect_bitwise_equal_across_threads() {
    uint64_t seed = 900;
    for (const LargeCase& c : large_cases()) {
        for (const int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
            GradCall<T> s = large_setup<T>(c, reduction, seed++);
            s.num_threads = 1;
            const WeightGradients<T> one = call(s, true, true);
            ASSERT_EQ(one.status, BCE4J_OK) << one.message;
            for (const int32_t threads : {2, 3}) {
                s.num_threads = threads;
                const WeightGradients<T> more = call(s, true, true);
                ASSERT_EQ(more.status, BCE4J_OK) << more.message;
                EXPECT_TRUE(bitwise_equal(one.weight, more.weight))
                    << "grad_weight, input " << shape_str(c.input) << ", threads " << threads;
                EXPECT_TRUE(bitwise_equal(one.pos_weight, more.pos_weight))
                    << "grad_pos_weight, input " << shape_str(c.input) << ", threads " << threads;
            }
        }
    }
}

TEST(WeightGradients, BitwiseEqualAcrossThreadCountsFloat64) { expect_bitwise_equal_across_threads<double>(); }

TEST(WeightGradients, BitwiseEqualAcrossThreadCountsFloat32) { expect_bitwise_equal_across_threads<float>(); }

// The magnitude of the terms that make up each weight-gradient element of the float64 call `s`, whose reduced loss is
// `reduced`: |c| times the sum, over the input elements i that read operand element j, of |g_i| M_i, with c the
// upstream gradient over the reduction's denominator (1 for NONE, whose g_i is per element) and M_i the magnitude of
// the term's parts (term_magnitudes.h: of the loss at weight 1 for grad_weight, of the pos_weight slope for
// grad_pos_weight). MEAN_BY_WEIGHT's grad_weight also subtracts R m_j (m_j the number of those i), with R from the
// same kernels: its terms add |R| m_j.
struct GradientMagnitudes {
    std::vector<LD> weight, pos_weight;
};

GradientMagnitudes gradient_term_magnitudes(const GradCall<double>& s, double reduced) {
    bce4j::ElementParams p;
    p.probabilities = s.kind == Loss::kProbabilities;
    p.paddle_legacy = s.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    if (s.ignore_index) p.ignored_target = *s.ignore_index;
    p.smoothing_keep = 1 - s.label_smoothing;
    p.smoothing_shift = s.label_smoothing / s.smoothing_classes;
    if (s.focal_gamma) {
        p.focal = true;
        p.focal_gamma = *s.focal_gamma;
        p.focal_alpha = s.focal_alpha;
    }
    const std::vector<int64_t> scalar;
    const std::vector<int64_t>& weight_shape = s.weight ? s.weight->shape : scalar;
    const std::vector<int64_t>& pos_weight_shape = s.pos_weight ? s.pos_weight->shape : scalar;
    GradientMagnitudes m{std::vector<LD>(static_cast<size_t>(gradient_count(s.weight))),
                         std::vector<LD>(static_cast<size_t>(gradient_count(s.pos_weight)))};
    const bool none = s.reduction == BCE4J_REDUCTION_NONE;
    const int64_t n = numel(s.shape);
    LD weight_sum = 0, nonzero_weights = 0, ignored = 0;
    for (int64_t i = 0; i < n; ++i) {
        const int64_t wj = broadcast_source(s.shape, weight_shape, i);
        const int64_t pj = broadcast_source(s.shape, pos_weight_shape, i);
        const double w = s.weight ? s.weight->data[wj] : 1;
        const double pw = s.pos_weight ? s.pos_weight->data[pj] : 1;
        const LD g = none ? std::fabs((*s.grad_output)[i]) : 1;
        const double x = s.input[i], y = s.target[i];
        m.weight[wj] += g * bce4j_test::term_magnitudes(p, x, y, 1, pw, 1).loss;
        if (s.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && s.weight) m.weight[wj] += std::fabs(reduced);
        m.pos_weight[pj] += g * bce4j_test::term_magnitudes(p, x, y, w, pw, 1).pos_weight_slope;
        weight_sum += w;
        nonzero_weights += w != 0;
        ignored += s.ignore_index && y == *s.ignore_index;
    }
    LD denominator = 1;
    switch (s.reduction) {
        case BCE4J_REDUCTION_MEAN: denominator = n; break;
        case BCE4J_REDUCTION_MEAN_BY_WEIGHT: denominator = s.weight ? weight_sum : n; break;
        case BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT: denominator = s.weight ? nonzero_weights : n; break;
        case BCE4J_REDUCTION_MEAN_VALID: denominator = s.ignore_index ? n - ignored : n; break;
        default: break;
    }
    const LD c = none ? 1 : std::fabs((*s.grad_output)[0] / denominator);
    for (std::vector<LD>* v : {&m.weight, &m.pos_weight}) {
        for (LD& x : *v) x *= c;
    }
    return m;
}

TEST(WeightGradients, Float32MatchesFloat64) {
    // The scalar reference computes the terms in double from the widened float32 values, so float32 results are the
    // float64 results rounded once. The SIMD kernels compute them (and MEAN_BY_WEIGHT's reduced loss) in float32
    // lanes, each within tolerance<float>() of its parts' magnitude: summed in double, a gradient is within that of
    // its terms' magnitude, plus its own rounding to float.
    uint64_t seed = 1300;
    for (const LargeCase& c : large_cases()) {
        for (const int32_t reduction : kReductions) {
            GradCall<float> f = large_setup<float>(c, reduction, seed++);
            f.focal_gamma = 2;
            f.ignore_index = 1;  // hard positive labels are ignored
            GradCall<double> d;
            d.shape = f.shape;
            d.input.assign(f.input.begin(), f.input.end());
            d.target.assign(f.target.begin(), f.target.end());
            if (f.weight) d.weight = Tensor<double>{f.weight->shape, {f.weight->data.begin(), f.weight->data.end()}};
            if (f.pos_weight) {
                d.pos_weight =
                    Tensor<double>{f.pos_weight->shape, {f.pos_weight->data.begin(), f.pos_weight->data.end()}};
            }
            d.reduction = reduction;
            d.grad_output = std::vector<double>(f.grad_output->begin(), f.grad_output->end());
            d.focal_gamma = f.focal_gamma;
            d.ignore_index = f.ignore_index;
            const WeightGradients<float> rf = call(f, true, true);
            const WeightGradients<double> rd = call(d, true, true);
            ASSERT_EQ(rf.status, BCE4J_OK) << rf.message;
            ASSERT_EQ(rd.status, BCE4J_OK) << rd.message;
            const bool exact = float32_rounded_once();
            const GradientMagnitudes magnitude = exact ? GradientMagnitudes{} : gradient_term_magnitudes(d, rd.reduced);
            const double rel = tolerance<float>() + std::numeric_limits<float>::epsilon() / 2;
            for (const bool pos : {false, true}) {
                const std::vector<float>& gf = pos ? rf.pos_weight : rf.weight;
                const std::vector<double>& gd = pos ? rd.pos_weight : rd.weight;
                ASSERT_EQ(gf.size(), gd.size());
                for (size_t j = 0; j < gf.size(); ++j) {
                    const char* what = pos ? "grad_pos_weight " : "grad_weight ";
                    if (exact) {
                        EXPECT_EQ(gf[j], static_cast<float>(gd[j])) << what << j;
                    } else {
                        EXPECT_TRUE(close(gf[j], gd[j], (pos ? magnitude.pos_weight : magnitude.weight)[j], rel))
                            << what << j;
                    }
                    if (HasFailure()) break;
                }
            }
        }
    }
}

// 16-bit storage: the kernels compute the terms of the widened values, the pass sums them in double and rounds the
// sums once. The scalar reference computes them in double, so float16 and bfloat16 gradients are the float64
// gradients of the same (widened) inputs rounded once; the SIMD kernels in float32 lanes, within tolerance<float>() of
// the terms' magnitude (as Float32MatchesFloat64), then rounded to S.
template <typename S>
void expect_16bit_gradients_are_float64_rounded_once() {
    const std::vector<int64_t> shape = {64, 37};
    const int64_t n = numel(shape);
    const auto through = [](std::vector<double> v) {  // values S holds exactly
        for (double& x : v) x = bce4j::to_double(bce4j::from_double<S>(x));
        return v;
    };
    const auto stored = [](const std::vector<double>& v) {
        std::vector<S> out;
        for (const double x : v) out.push_back(bce4j::from_double<S>(x));
        return out;
    };
    uint64_t seed = 1700;
    for (const int32_t reduction : kReductions) {
        GradCall<double> d;
        d.shape = shape;
        d.input = through(uniform<double>(n, -8, 8, seed++));
        d.target = through(labels<double>(n, seed++));
        d.weight = Tensor<double>{{37}, through(uniform<double>(37, 0, 2, seed++))};
        d.pos_weight = Tensor<double>{{64, 1}, through(uniform<double>(64, 0.5, 3, seed++))};
        d.reduction = reduction;
        d.grad_output = through(uniform<double>(reduction == BCE4J_REDUCTION_NONE ? n : 1, 0.5, 2, seed++));
        d.focal_gamma = 2;
        d.ignore_index = 1;
        d.label_smoothing = 0.125;
        GradCall<S> h;
        h.shape = shape;
        h.input = stored(d.input);
        h.target = stored(d.target);
        h.weight = Tensor<S>{d.weight->shape, stored(d.weight->data)};
        h.pos_weight = Tensor<S>{d.pos_weight->shape, stored(d.pos_weight->data)};
        h.reduction = reduction;
        h.grad_output = stored(*d.grad_output);
        h.focal_gamma = d.focal_gamma;
        h.ignore_index = d.ignore_index;
        h.label_smoothing = d.label_smoothing;
        const WeightGradients<double> rd = call(d, true, true);
        const WeightGradients<S> rh = call(h, true, true);
        ASSERT_EQ(rd.status, BCE4J_OK) << rd.message;
        ASSERT_EQ(rh.status, BCE4J_OK) << rh.message;
        const bool exact = float32_rounded_once();
        const GradientMagnitudes magnitude = exact ? GradientMagnitudes{} : gradient_term_magnitudes(d, rd.reduced);
        // S's unit roundoff, and its smallest subnormal for results that underflow.
        const double roundoff = std::is_same_v<S, bce4j::Float16> ? 0x1p-11 : 0x1p-8;
        const double floor = std::is_same_v<S, bce4j::Float16> ? 0x1p-24 : 0x1p-133;
        for (const bool pos : {false, true}) {
            const std::vector<S>& gh = pos ? rh.pos_weight : rh.weight;
            const std::vector<double>& gd = pos ? rd.pos_weight : rd.weight;
            ASSERT_EQ(gh.size(), gd.size());
            for (size_t j = 0; j < gh.size() && !::testing::Test::HasFailure(); ++j) {
                const double expected = bce4j::to_double(bce4j::from_double<S>(gd[j]));
                const double got = bce4j::to_double(gh[j]);
                const char* what = pos ? "grad_pos_weight " : "grad_weight ";
                if (exact) {
                    EXPECT_EQ(got, expected) << what << j << " reduction " << reduction;
                } else {
                    // The float32-lane error d, then the rounding of the erroneous sum: d (1 + u) + u |g| (+ floor).
                    const double d_error =
                        tolerance<float>() *
                        std::max<double>(std::fabs(gd[j]),
                                         static_cast<double>((pos ? magnitude.pos_weight : magnitude.weight)[j]));
                    EXPECT_LE(std::fabs(got - gd[j]), d_error * (1 + roundoff) + roundoff * std::fabs(gd[j]) + floor)
                        << what << j << " reduction " << reduction;
                }
            }
        }
    }
}

TEST(WeightGradients, Float16IsFloat64RoundedOnce) {
    expect_16bit_gradients_are_float64_rounded_once<bce4j::Float16>();
}

TEST(WeightGradients, BFloat16IsFloat64RoundedOnce) {
    expect_16bit_gradients_are_float64_rounded_once<bce4j::BFloat16>();
}

TEST(WeightGradients, EmptyInputSumsToZeroAndMeanIsNaN) {
    // An empty sum is 0; MEAN divides it by a count of 0, as its loss does.
    GradCall<double> s;
    s.shape = {0, 3};
    s.weight = Tensor<double>{{3}, {1.0, 2.0, 3.0}};
    s.reduction = BCE4J_REDUCTION_SUM;
    WeightGradients<double> r = call(s, true, true);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_EQ(r.weight, std::vector<double>(3, 0.0));
    EXPECT_EQ(r.pos_weight, std::vector<double>{0.0});
    s.reduction = BCE4J_REDUCTION_MEAN;
    r = call(s, true, false);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    for (double g : r.weight) EXPECT_TRUE(std::isnan(g));
}

TEST(WeightGradients, OnlyTheRequestedOutputIsWritten) {
    GradCall<double> s = with_data(GradCall<double>{}, {{4, 5}, std::vector<int64_t>{5}, std::vector<int64_t>{5}}, 41);
    const WeightGradients<double> both = call(s, true, true);
    const WeightGradients<double> weight_only = call(s, true, false);
    const WeightGradients<double> pos_only = call(s, false, true);
    ASSERT_EQ(weight_only.status, BCE4J_OK) << weight_only.message;
    ASSERT_EQ(pos_only.status, BCE4J_OK) << pos_only.message;
    EXPECT_TRUE(bitwise_equal(both.weight, weight_only.weight));
    EXPECT_TRUE(bitwise_equal(both.pos_weight, pos_only.pos_weight));
}

// ---- Errors and the struct_size protocol ----------------------------------------------------------------------------

TEST(WeightGradients, GradPosWeightIsAnErrorForBCELoss) {
    GradCall<double> s;
    s.kind = Loss::kProbabilities;
    s = with_data(s, {{4, 5}, std::vector<int64_t>{5}, std::nullopt}, 43);
    const WeightGradients<double> r = call(s, true, true);
    EXPECT_EQ(r.status, BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(r.message.find("grad_pos_weight"), std::string::npos) << r.message;
}

TEST(WeightGradients, OlderStructSizeIgnoresTheOutputs) {
    // A caller built before these fields existed: whatever follows its struct in memory is never written through.
    const std::vector<int64_t> shape = {2, 3};
    const std::vector<double> input = {0.5, -1, 2, 0, 3, -2}, target = {1, 0, 1, 0, 0.5, 1};
    std::vector<double> grad_weight = {-7.0};
    bce4j_options o;
    bce4j_options_init(&o);
    o.grad_weight = grad_weight.data();
    o.struct_size = offsetof(bce4j_options, grad_weight);
    double reduced = 0;
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 2, shape.data(), input.data(), target.data(), nullptr, nullptr,
                                    &reduced, nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    EXPECT_EQ(grad_weight[0], -7.0);
    o.struct_size = offsetof(bce4j_options, grad_pos_weight);  // knows grad_weight only
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 2, shape.data(), input.data(), target.data(), nullptr, nullptr,
                                    &reduced, nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    EXPECT_NEAR(grad_weight[0], reduced, 1e-15) << "mean, no weight: the derivative is the mean loss";
    for (size_t inside : {offsetof(bce4j_options, grad_weight) + 4, offsetof(bce4j_options, grad_pos_weight) + 1}) {
        o.struct_size = inside;
        EXPECT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 2, shape.data(), input.data(), target.data(), nullptr,
                                        nullptr, &reduced, nullptr, nullptr),
                  BCE4J_ERROR_INVALID_OPTION)
            << inside;
    }
}

}  // namespace
