// The CUDA path against the CPU path: every landed option, every reduction, shapes from empty to several million
// elements, and extreme values, through the host-buffer entry points (bce4j_cuda_*_host), compared with
// bce4j_bce_with_logits / bce4j_bce on the same inputs. Without a CUDA device these tests skip with the reason;
// CTest also runs them against the host emulation of libbce4j_cuda (cuda_host_emulation.cpp), which executes the
// CUDA library's element functions on the CPU. The 16-bit storage types (float16, bfloat16) are tested at the end.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <type_traits>
#include <vector>

#include "storage_types.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;

void skip_unless_cuda_available() {
    if (bce4j_cuda_availability() != BCE4J_CUDA_AVAILABLE) {
        GTEST_SKIP() << "CUDA is " << bce4j_cuda_description();
    }
}

template <typename T>
struct Problem {
    Loss kind = Loss::kLogits;
    std::vector<int64_t> shape;
    std::vector<T> input, target;
    std::optional<Tensor<T>> weight, pos_weight;
    std::optional<std::vector<T>> grad_output;  // NONE: input-shaped; otherwise one element
    bce4j_options options;                      // weight and pos_weight are filled in from the tensors above
    bool want_loss = true, want_grad_input = true, want_grad_target = true;

    Problem() { bce4j_options_init(&options); }
};

enum class Where { kCpu, kCuda };

template <typename T>
Outcome<T> call(const Problem<T>& p, Where where) {
    const int64_t n = numel(p.shape);
    bce4j_options o = p.options;
    if (p.weight) {
        o.weight = p.weight->data.data();
        o.weight_ndim = static_cast<int32_t>(p.weight->shape.size());
        o.weight_shape = p.weight->shape.data();
    }
    if (p.pos_weight) {
        o.pos_weight = p.pos_weight->data.data();
        o.pos_weight_ndim = static_cast<int32_t>(p.pos_weight->shape.size());
        o.pos_weight_shape = p.pos_weight->shape.data();
    }
    Outcome<T> r;
    const bool none = o.reduction == BCE4J_REDUCTION_NONE;
    const T sentinel = static_cast<T>(-12345.0);
    if (p.want_loss) r.loss.assign(none ? static_cast<size_t>(n) : 1u, sentinel);
    if (p.want_grad_input) r.grad_input.assign(static_cast<size_t>(n), sentinel);
    if (p.want_grad_target) r.grad_target.assign(static_cast<size_t>(n), sentinel);
    const int64_t* shape = p.shape.empty() ? nullptr : p.shape.data();
    const void* in = p.input.empty() ? nullptr : p.input.data();
    const void* tg = p.target.empty() ? nullptr : p.target.data();
    const void* go = p.grad_output ? p.grad_output->data() : nullptr;
    void* loss = p.want_loss ? r.loss.data() : nullptr;
    void* gi = p.want_grad_input ? r.grad_input.data() : nullptr;
    void* gt = p.want_grad_target ? r.grad_target.data() : nullptr;
    const bool logits = p.kind == Loss::kLogits;
    const auto fn = where == Where::kCpu ? (logits ? bce4j_bce_with_logits : bce4j_bce)
                                         : (logits ? bce4j_cuda_bce_with_logits_host : bce4j_cuda_bce_host);
    r.status = fn(&o, dtype_of<T>(), static_cast<int32_t>(p.shape.size()), shape, in, tg, go, loss, &r.reduced, gi, gt);
    r.message = bce4j_last_error_message();
    return r;
}

// The CUDA kernels compute float32 in float (the CPU's scalar reference computes it in double and rounds once, its
// SIMD kernels compute it in float too) and float64 in double, with CUDA's own libm and fused multiply-adds. The
// host emulation, with glibc's float functions, stays within 16 float epsilons of the CPU (focal loss is the
// worst); the bound allows twice that, relative to the larger of the value and its terms' magnitude (term_scales).
template <typename T>
double cuda_tolerance() {
    return std::is_same_v<T, float> ? 32 * std::numeric_limits<float>::epsilon() : 1e-12;
}

// The magnitudes of the terms that make up one element's loss, grad_input and grad_target, times the element's
// weight (and the gradients' upstream scale): what a rounding error in either path is proportional to. Not a fixed
// 1: a float32 MEAN gradient over 4M elements is about 1e-7, far below 32 epsilons of 1, so a zero one would pass.
struct TermScales {
    LD loss = 0, grad_input = 0, grad_target = 0;
};

template <typename T>
bool is_ignored(const Problem<T>& p, T y) {
    // As the library: only an ignore index the dtype holds exactly matches a target.
    const double index = p.options.ignore_index;
    return p.options.has_ignore_index && static_cast<double>(static_cast<T>(index)) == index &&
           static_cast<double>(y) == index;
}

// What the gradients of a reduction are multiplied by: the scalar upstream gradient divided by the reduction's
// denominator (0 where the library makes a zero denominator's gradients 0). NONE: 1, each element has its own.
template <typename T>
LD reduction_scale(const Problem<T>& p) {
    const int64_t n = numel(p.shape);
    const int32_t reduction = p.options.reduction;
    if (reduction == BCE4J_REDUCTION_NONE) return 1;
    LD denominator = 1;
    if (reduction == BCE4J_REDUCTION_MEAN) denominator = static_cast<LD>(n);
    if (reduction >= BCE4J_REDUCTION_MEAN_BY_WEIGHT) {
        denominator = 0;
        for (int64_t i = 0; i < n; ++i) {
            if (reduction == BCE4J_REDUCTION_MEAN_VALID) {
                denominator += is_ignored(p, p.target[i]) ? 0 : 1;
            } else if (!p.weight) {
                denominator += 1;
            } else {
                const T w = p.weight->data[broadcast_source(p.shape, p.weight->shape, i)];
                denominator += reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT ? static_cast<LD>(w) : (w != 0 ? 1 : 0);
            }
        }
    }
    const LD g = p.grad_output ? std::fabs(static_cast<LD>((*p.grad_output)[0])) : 1;
    return denominator == 0 ? 0 : g / std::fabs(denominator);
}

// One element's term magnitudes before weight and upstream gradient, from test_util.h's long double references
// with the options applied as element_math.h composes them: smoothing, then the pos_weight mode's terms, then focal.
template <typename T>
TermScales unscaled_term_scales(const Problem<T>& p, int64_t i) {
    const bce4j_options& o = p.options;
    if (is_ignored(p, p.target[i])) return {};  // exactly 0 on both paths
    const LD keep = 1 - static_cast<LD>(o.label_smoothing);
    const LD x = p.input[i];
    const LD y = p.target[i] * keep + static_cast<LD>(o.label_smoothing) / o.smoothing_classes;
    if (p.kind == Loss::kProbabilities) {
        const RefTerms t = ref_bce(x, y);
        // x - y cancels where the probability is near the target: scaled by both.
        return {t.loss_scale, (std::fabs(x) + std::fabs(y)) / std::max(x * (1 - x), kBceEps),
                t.grad_target_scale * keep};
    }
    const LD pos = p.pos_weight ? p.pos_weight->data[broadcast_source(p.shape, p.pos_weight->shape, i)] : 1;
    TermScales s;
    LD bce;  // the loss focal modulates
    if (o.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY) {
        // c * l0 with l0 the plain loss (p = 1); d/dy = (p-1)*l0 - c*x.
        const LD c = 1 + (pos - 1) * y;
        const RefTerms plain = ref_logits(x, y, 1);
        s = {std::fabs(c) * plain.loss_scale, std::fabs(c) * plain.grad_input_scale,
             std::fabs(pos - 1) * plain.loss_scale + std::fabs(c * x)};
        bce = c * plain.loss;
    } else {
        const RefTerms t = ref_logits(x, y, pos);
        s = {t.loss_scale, t.grad_input_scale, t.grad_target_scale};
        bce = t.loss;
    }
    if (o.has_focal) {
        // alpha_t * (1-p_t)^gamma * bce and its derivatives (element_math.h's focal_terms), term by term.
        const LD gamma = o.focal_gamma, alpha = o.focal_alpha;
        const LD sx = ref_sigmoid(x), smx = ref_sigmoid(-x);
        const LD q = sx * (1 - y) + smx * y;  // 1 - p_t
        const LD modulation = gamma == 0 ? 1 : std::pow(q, gamma);
        const bool has_alpha = alpha >= 0;
        const LD alpha_t = has_alpha ? std::fabs(alpha * y + (1 - alpha) * (1 - y)) : 1;
        TermScales f;
        f.loss = alpha_t * modulation * s.loss;
        f.grad_input = alpha_t * modulation * s.grad_input;
        f.grad_target = modulation * ((has_alpha ? std::fabs(2 * alpha - 1) * s.loss : 0) + alpha_t * s.grad_target);
        if (gamma != 0) {
            f.grad_input += alpha_t * modulation * gamma * std::fabs(bce * (1 - 2 * y)) * sx * smx / q;
            f.grad_target += modulation * alpha_t * gamma * std::fabs((smx - sx) * bce) / q;
        }
        s = f;
    }
    s.grad_target *= keep;
    return s;
}

// Element i's term scales times its weight and upstream scale. Where they are not finite (an infinite or NaN
// operand) the scale is 0: such an element must then match the CPU's value to its own relative tolerance.
template <typename T>
TermScales term_scales(const Problem<T>& p, LD reduction_scale, int64_t i) {
    const bool none = p.options.reduction == BCE4J_REDUCTION_NONE;
    const LD upstream = none && p.grad_output ? std::fabs(static_cast<LD>((*p.grad_output)[i])) : reduction_scale;
    const LD w =
        p.weight ? std::fabs(static_cast<LD>(p.weight->data[broadcast_source(p.shape, p.weight->shape, i)])) : 1;
    const TermScales t = unscaled_term_scales(p, i);
    const auto finite_or_zero = [](LD v) { return std::isfinite(v) ? v : 0; };
    return {finite_or_zero(w * t.loss), finite_or_zero(w * upstream * t.grad_input),
            finite_or_zero(w * upstream * t.grad_target)};
}

template <typename T>
::testing::AssertionResult same_value(T cuda, T cpu, LD scale) {
    if (std::isnan(cpu) || std::isinf(cpu)) {
        if (std::isnan(cpu) ? std::isnan(cuda) : cuda == cpu) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "CUDA gave " << cuda << ", the CPU " << cpu;
    }
    return close(cuda, cpu, scale, cuda_tolerance<T>(), std::numeric_limits<T>::denorm_min());
}

template <typename T>
void expect_same_values(const Problem<T>& p, const std::vector<T>& cuda, const std::vector<T>& cpu,
                        LD TermScales::*scale, const char* what) {
    ASSERT_EQ(cuda.size(), cpu.size()) << what;
    const LD reduction = reduction_scale(p);
    int failures = 0;
    for (size_t i = 0; i < cpu.size() && failures < 10; ++i) {
        // Within the tolerance of the value itself it is within that of any larger scale: the term scales (long
        // double transcendentals, the slow part on millions of elements) are needed only where it is not.
        if (same_value(cuda[i], cpu[i], 0)) continue;
        // Capped at 1: no element gets a looser bound than the fixed scale 1 of before.
        const LD element_scale = std::min<LD>(term_scales(p, reduction, static_cast<int64_t>(i)).*scale, 1);
        const ::testing::AssertionResult same = same_value(cuda[i], cpu[i], element_scale);
        if (!same) ++failures;
        EXPECT_TRUE(same) << what << " element " << i;
    }
}

// Runs the problem on both paths: the same status (and message, for an error), and the same outputs.
template <typename T>
void expect_cuda_matches_cpu(const Problem<T>& p) {
    const Outcome<T> cpu = call(p, Where::kCpu);
    const Outcome<T> cuda = call(p, Where::kCuda);
    ASSERT_EQ(cuda.status, cpu.status) << "CUDA: " << cuda.message << "; CPU: " << cpu.message;
    if (cpu.status != BCE4J_OK) {
        EXPECT_EQ(cuda.message, cpu.message);
        return;
    }
    const bool none = p.options.reduction == BCE4J_REDUCTION_NONE;
    if (!none) {
        if (std::isnan(cpu.reduced) || std::isinf(cpu.reduced)) {
            EXPECT_TRUE(std::isnan(cpu.reduced) ? std::isnan(cuda.reduced) : cuda.reduced == cpu.reduced)
                << "reduced loss: CUDA " << cuda.reduced << ", CPU " << cpu.reduced;
        } else {
            // Summed in double on both sides, in different orders, from elements within cuda_tolerance.
            EXPECT_TRUE(close(cuda.reduced, cpu.reduced, 0, std::is_same_v<T, float> ? 1e-5 : 1e-11, 1e-300))
                << "reduced loss";
        }
        if (p.want_loss) {
            const T stored = static_cast<T>(cuda.reduced);
            EXPECT_TRUE(std::isnan(stored) ? std::isnan(cuda.loss[0]) : cuda.loss[0] == stored)
                << "loss[0] for a reduction: " << cuda.loss[0] << ", reduced " << cuda.reduced;
        }
    } else {
        expect_same_values(p, cuda.loss, cpu.loss, &TermScales::loss, "loss");
    }
    expect_same_values(p, cuda.grad_input, cpu.grad_input, &TermScales::grad_input, "grad_input");
    expect_same_values(p, cuda.grad_target, cpu.grad_target, &TermScales::grad_target, "grad_target");
}

// A [rows, columns] problem with logits in [-8, 8] (or probabilities in [0, 1], exact 0 and 1 included) and
// hard and soft labels.
template <typename T>
Problem<T> problem(Loss kind, std::vector<int64_t> shape, uint64_t seed) {
    Problem<T> p;
    p.kind = kind;
    p.shape = std::move(shape);
    const int64_t n = numel(p.shape);
    p.input = kind == Loss::kLogits ? uniform<T>(n, -8, 8, seed) : uniform<T>(n, 0, 1, seed);
    if (kind == Loss::kProbabilities && n > 2) {
        p.input[0] = 0;
        p.input[n - 1] = 1;
    }
    p.target = labels<T>(n, seed + 1);
    return p;
}

const int32_t kAllReductions[] = {BCE4J_REDUCTION_NONE,
                                  BCE4J_REDUCTION_MEAN,
                                  BCE4J_REDUCTION_SUM,
                                  BCE4J_REDUCTION_MEAN_BY_WEIGHT,
                                  BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT,
                                  BCE4J_REDUCTION_MEAN_VALID};

template <typename T>
class CudaLoss : public ::testing::Test {
protected:
    void SetUp() override { skip_unless_cuda_available(); }
};

using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(CudaLoss, Dtypes);

TYPED_TEST(CudaLoss, EveryReductionWithAndWithoutUpstreamGradient) {
    using T = TypeParam;
    for (Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (int32_t reduction : kAllReductions) {
            for (bool upstream : {false, true}) {
                Problem<T> p = problem<T>(kind, {37, 29}, 11);
                p.options.reduction = reduction;
                if (upstream) {
                    p.grad_output = reduction == BCE4J_REDUCTION_NONE ? uniform<T>(37 * 29, -2, 2, 12)
                                                                      : std::vector<T>{static_cast<T>(-0.75)};
                }
                SCOPED_TRACE(testing::Message() << "probabilities " << (kind == Loss::kProbabilities) << " reduction "
                                                << reduction << " upstream " << upstream);
                expect_cuda_matches_cpu(p);
            }
        }
    }
}

TYPED_TEST(CudaLoss, WeightAndPosWeightBroadcastEveryWay) {
    using T = TypeParam;
    const std::vector<std::vector<int64_t>> operand_shapes = {{6, 5, 7}, {7}, {5, 1}, {6, 1, 1}, {1}, {}, {1, 5, 7}};
    uint64_t seed = 20;
    for (const auto& weight_shape : operand_shapes) {
        for (const auto& pos_weight_shape : operand_shapes) {
            for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
                Problem<T> p = problem<T>(Loss::kLogits, {6, 5, 7}, ++seed);
                p.weight = random_operand<T>(weight_shape, 0, 2, ++seed);
                p.pos_weight = random_operand<T>(pos_weight_shape, 0.5, 3, ++seed);
                p.options.reduction = reduction;
                SCOPED_TRACE(testing::Message() << "weight " << shape_str(weight_shape) << " pos_weight "
                                                << shape_str(pos_weight_shape) << " reduction " << reduction);
                expect_cuda_matches_cpu(p);
            }
        }
    }
}

TYPED_TEST(CudaLoss, NormalisedMeansWithZeroWeightsAndIgnoredTargets) {
    using T = TypeParam;
    for (Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (int32_t reduction : kAllReductions) {
            Problem<T> p = problem<T>(kind, {50, 21}, 40);
            p.weight = random_operand<T>({21}, 0, 2, 41);
            for (size_t j = 0; j < 21; j += 4) p.weight->data[j] = 0;
            p.options.has_ignore_index = 1;
            p.options.ignore_index = -100;
            for (size_t i = 0; i < p.target.size(); i += 7) p.target[i] = -100;
            p.options.reduction = reduction;
            SCOPED_TRACE(testing::Message()
                         << "probabilities " << (kind == Loss::kProbabilities) << " reduction " << reduction);
            expect_cuda_matches_cpu(p);
        }
    }
}

TYPED_TEST(CudaLoss, ZeroDenominatorsGiveZeroNotNaN) {
    using T = TypeParam;
    Problem<T> all_ignored = problem<T>(Loss::kLogits, {4, 3}, 50);
    all_ignored.options.has_ignore_index = 1;
    all_ignored.options.ignore_index = 0.5;  // representable in both dtypes
    for (T& y : all_ignored.target) y = static_cast<T>(0.5);
    all_ignored.options.reduction = BCE4J_REDUCTION_MEAN_VALID;
    expect_cuda_matches_cpu(all_ignored);
    EXPECT_EQ(call(all_ignored, Where::kCuda).reduced, 0.0);

    Problem<T> zero_weight = problem<T>(Loss::kLogits, {4, 3}, 51);
    zero_weight.weight = Tensor<T>{{3}, {0, 0, 0}};
    for (int32_t reduction : {BCE4J_REDUCTION_MEAN_BY_WEIGHT, BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT}) {
        zero_weight.options.reduction = reduction;
        expect_cuda_matches_cpu(zero_weight);
        EXPECT_EQ(call(zero_weight, Where::kCuda).reduced, 0.0);
    }
}

TYPED_TEST(CudaLoss, AnIgnoreIndexTheDtypeCannotHoldMatchesNothing) {
    using T = TypeParam;
    Problem<T> p = problem<T>(Loss::kLogits, {9, 8}, 55);
    p.options.has_ignore_index = 1;
    p.options.ignore_index = 0.1;  // not a float; exactly the double nearest 0.1
    for (size_t i = 0; i < p.target.size(); i += 3) p.target[i] = static_cast<T>(0.1);
    p.options.reduction = BCE4J_REDUCTION_MEAN_VALID;
    expect_cuda_matches_cpu(p);
}

TYPED_TEST(CudaLoss, PosWeightModesLabelSmoothingAndFocalTogether) {
    using T = TypeParam;
    uint64_t seed = 60;
    for (int32_t mode : {BCE4J_POS_WEIGHT_TORCH, BCE4J_POS_WEIGHT_PADDLE_LEGACY}) {
        for (double smoothing : {0.0, 0.1, 1.0}) {
            for (int32_t classes : {2, 5}) {
                for (int focal : {0, 1, 2, 3}) {
                    Problem<T> p = problem<T>(Loss::kLogits, {23, 9}, ++seed);
                    p.weight = random_operand<T>({9}, 0, 2, ++seed);
                    p.pos_weight = random_operand<T>({23, 1}, 0.5, 3, ++seed);
                    p.options.pos_weight_mode = mode;
                    p.options.label_smoothing = smoothing;
                    p.options.smoothing_classes = classes;
                    p.options.has_focal = focal != 0;
                    p.options.focal_gamma = focal == 1 ? 2.0 : focal == 2 ? 0.5 : 0.0;
                    p.options.focal_alpha = focal == 1 ? 0.25 : focal == 3 ? 0.8 : -1.0;
                    p.options.reduction = BCE4J_REDUCTION_NONE;
                    SCOPED_TRACE(testing::Message() << "mode " << mode << " smoothing " << smoothing << " classes "
                                                    << classes << " focal " << focal);
                    expect_cuda_matches_cpu(p);
                    p.options.reduction = BCE4J_REDUCTION_MEAN;
                    expect_cuda_matches_cpu(p);
                }
            }
        }
    }
}

TYPED_TEST(CudaLoss, LabelSmoothingOnProbabilities) {
    using T = TypeParam;
    Problem<T> p = problem<T>(Loss::kProbabilities, {30, 11}, 70);
    p.options.label_smoothing = 0.2;
    p.options.smoothing_classes = 3;
    p.options.reduction = BCE4J_REDUCTION_NONE;
    expect_cuda_matches_cpu(p);
}

TYPED_TEST(CudaLoss, ExtremeAndNonFiniteValues) {
    using T = TypeParam;
    const T inf = std::numeric_limits<T>::infinity();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    const std::vector<T> logits = {-1e4, 1e4, -inf, inf, nan, 0, -30, 30, -1e-30f, 88, -88, 700, -700};
    const std::vector<T> targets = {0, 1, 0.5, 0.25, 1, 0, nan, inf, 0.75};
    Problem<T> p;
    p.shape = {static_cast<int64_t>(logits.size()), static_cast<int64_t>(targets.size())};
    for (T x : logits) {
        for (T y : targets) {
            p.input.push_back(x);
            p.target.push_back(y);
        }
    }
    for (int variant = 0; variant < 4; ++variant) {
        Problem<T> q = p;
        if (variant >= 1)
            q.weight = Tensor<T>{{static_cast<int64_t>(targets.size())}, {0, 1, 2, inf, nan, 0.5, 1, 0, 3}};
        if (variant >= 2) q.pos_weight = Tensor<T>{{1}, {2.5}};
        if (variant == 3) {
            q.options.has_focal = 1;
            q.options.focal_alpha = 0.25;
        }
        for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_SUM}) {
            q.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "variant " << variant << " reduction " << reduction);
            expect_cuda_matches_cpu(q);
        }
    }
    Problem<T> probabilities;
    probabilities.kind = Loss::kProbabilities;
    probabilities.shape = {8};
    probabilities.input = {0, 1, 0, 1, nan, 1e-30f, 1 - 1e-7f, 0.5};
    probabilities.target = {0, 1, 1, 0, 0.5, 1, 0, nan};
    probabilities.options.reduction = BCE4J_REDUCTION_NONE;
    expect_cuda_matches_cpu(probabilities);
}

TYPED_TEST(CudaLoss, OutOfRangeValuesReportTheFirstIndexAsTheCpuDoes) {
    using T = TypeParam;
    Problem<T> p = problem<T>(Loss::kLogits, {64, 50}, 80);
    p.options.validate_targets = 1;
    expect_cuda_matches_cpu(p);  // every target valid
    p.target[2017] = static_cast<T>(1.5);
    p.target[3001] = static_cast<T>(-0.5);
    expect_cuda_matches_cpu(p);
    EXPECT_EQ(call(p, Where::kCuda).status, BCE4J_ERROR_OUT_OF_RANGE);
    p.options.has_ignore_index = 1;
    p.options.ignore_index = 1.5;  // an ignored target is never out of range
    expect_cuda_matches_cpu(p);

    Problem<T> probabilities = problem<T>(Loss::kProbabilities, {64, 50}, 81);
    probabilities.target[1999] = static_cast<T>(2);
    probabilities.input[1500] = static_cast<T>(-0.25);
    expect_cuda_matches_cpu(probabilities);
    probabilities.input[1500] = static_cast<T>(0.25);
    expect_cuda_matches_cpu(probabilities);
}

TYPED_TEST(CudaLoss, ShapesFromEmptyToSeveralGridsOfElements) {
    using T = TypeParam;
    // 4194304 float32 elements fill the largest grid once (4096 blocks of 256 threads, 4 elements each); one more
    // makes the grid-stride loop go round again, and a remainder leaves a partial vector.
    const std::vector<std::vector<int64_t>> shapes = {
        {}, {0}, {3, 0, 2}, {1}, {2}, {3}, {5}, {7, 1}, {1024}, {1025}, {2, 3, 5, 7}, {4194305}, {2097153, 2}};
    uint64_t seed = 90;
    for (const auto& shape : shapes) {
        for (int32_t reduction : kAllReductions) {
            if (numel(shape) > 100000 && reduction != BCE4J_REDUCTION_MEAN && reduction != BCE4J_REDUCTION_NONE)
                continue;
            Problem<T> p = problem<T>(Loss::kLogits, shape, ++seed);
            p.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "shape " << shape_str(shape) << " reduction " << reduction);
            expect_cuda_matches_cpu(p);
        }
    }
}

TYPED_TEST(CudaLoss, AnySubsetOfOutputs) {
    using T = TypeParam;
    for (int mask = 0; mask < 8; ++mask) {
        for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN}) {
            Problem<T> p = problem<T>(Loss::kLogits, {13, 17}, 100);
            p.want_loss = mask & 1;
            p.want_grad_input = mask & 2;
            p.want_grad_target = mask & 4;
            p.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "outputs " << mask << " reduction " << reduction);
            expect_cuda_matches_cpu(p);
        }
    }
}

TYPED_TEST(CudaLoss, RepeatedCallsGiveTheSameBits) {
    using T = TypeParam;
    Problem<T> p = problem<T>(Loss::kLogits, {1500, 1001}, 110);
    p.weight = random_operand<T>({1001}, 0, 2, 111);
    p.options.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    const Outcome<T> first = call(p, Where::kCuda);
    ASSERT_EQ(first.status, BCE4J_OK) << first.message;
    for (int run = 0; run < 3; ++run) {
        const Outcome<T> again = call(p, Where::kCuda);
        ASSERT_EQ(again.status, BCE4J_OK) << again.message;
        EXPECT_TRUE(bitwise_equal(again.reduced, first.reduced)) << again.reduced << " vs " << first.reduced;
        EXPECT_TRUE(bitwise_equal(again.grad_input, first.grad_input));
        EXPECT_TRUE(bitwise_equal(again.grad_target, first.grad_target));
    }
}

// ---- 16-bit storage ----------------------------------------------------------------------------------------------
// float16 and bfloat16 tensors, computed in float on both paths (the CPU's scalar reference: in double) and each
// result rounded once to the storage type. A problem is built in float with every value one of S, so that the
// float32 machinery above (term scales) describes exactly what the 16-bit calls see.

template <typename S>
double held(double v) {
    return bce4j::to_double(bce4j::narrow<S>(v));
}

template <typename S>
Problem<float> held_in(Problem<float> p) {
    const auto hold = [](std::vector<float>& values) {
        for (float& v : values) v = static_cast<float>(held<S>(v));
    };
    hold(p.input);
    hold(p.target);
    if (p.weight) hold(p.weight->data);
    if (p.pos_weight) hold(p.pos_weight->data);
    if (p.grad_output) hold(*p.grad_output);
    return p;
}

template <typename S>
std::vector<S> stored(const std::vector<float>& values) {
    std::vector<S> out;
    out.reserve(values.size());
    for (float v : values) out.push_back(bce4j::narrow<S>(v));
    return out;
}

template <typename S>
std::vector<float> widened(const std::vector<S>& values) {
    std::vector<float> out;
    out.reserve(values.size());
    for (S v : values) out.push_back(bce4j::widen(v));
    return out;
}

template <typename S>
constexpr bce4j_dtype dtype16() {
    return std::is_same_v<S, bce4j::Float16> ? BCE4J_FLOAT16 : BCE4J_BFLOAT16;
}

// The call of `p` (values held in S) with S storage on either path; the outputs widened back to float (exactly).
template <typename S>
Outcome<float> call16(const Problem<float>& p, Where where) {
    const int64_t n = numel(p.shape);
    const std::vector<S> input = stored<S>(p.input), target = stored<S>(p.target);
    std::vector<S> weight, pos_weight, grad_output;
    bce4j_options o = p.options;
    if (p.weight) {
        weight = stored<S>(p.weight->data);
        o.weight = weight.data();
        o.weight_ndim = static_cast<int32_t>(p.weight->shape.size());
        o.weight_shape = p.weight->shape.data();
    }
    if (p.pos_weight) {
        pos_weight = stored<S>(p.pos_weight->data);
        o.pos_weight = pos_weight.data();
        o.pos_weight_ndim = static_cast<int32_t>(p.pos_weight->shape.size());
        o.pos_weight_shape = p.pos_weight->shape.data();
    }
    if (p.grad_output) grad_output = stored<S>(*p.grad_output);
    const bool none = o.reduction == BCE4J_REDUCTION_NONE;
    const S sentinel = bce4j::narrow<S>(-12345.0);
    std::vector<S> loss, grad_input, grad_target;
    if (p.want_loss) loss.assign(none ? static_cast<size_t>(n) : 1u, sentinel);
    if (p.want_grad_input) grad_input.assign(static_cast<size_t>(n), sentinel);
    if (p.want_grad_target) grad_target.assign(static_cast<size_t>(n), sentinel);
    const bool logits = p.kind == Loss::kLogits;
    const auto fn = where == Where::kCpu ? (logits ? bce4j_bce_with_logits : bce4j_bce)
                                         : (logits ? bce4j_cuda_bce_with_logits_host : bce4j_cuda_bce_host);
    Outcome<float> r;
    r.status = fn(&o, dtype16<S>(), static_cast<int32_t>(p.shape.size()), p.shape.empty() ? nullptr : p.shape.data(),
                  input.empty() ? nullptr : input.data(), target.empty() ? nullptr : target.data(),
                  p.grad_output ? grad_output.data() : nullptr, p.want_loss ? loss.data() : nullptr, &r.reduced,
                  p.want_grad_input ? grad_input.data() : nullptr, p.want_grad_target ? grad_target.data() : nullptr);
    r.message = bce4j_last_error_message();
    r.loss = widened(loss);
    r.grad_input = widened(grad_input);
    r.grad_target = widened(grad_target);
    return r;
}

// One unit in the last place of S at magnitude |v| (its smallest subnormal at 0).
template <typename S>
LD ulp16(LD v) {
    constexpr int kMantissaBits = bce4j::Format16<S>::kMantissaBits;
    constexpr int kBias = (1 << (bce4j::Format16<S>::kExponentBits - 1)) - 1;
    int exponent = 0;
    std::frexp(static_cast<double>(std::fabs(v)), &exponent);  // |v| = m * 2^exponent, m in [0.5, 1)
    const int lowest = 1 - kBias - kMantissaBits;              // the smallest subnormal's exponent
    return std::ldexp(1.0L, std::max(exponent - 1 - kMantissaBits, lowest));
}

// Both paths compute in float within cuda_tolerance<float>() of each other (relative to the terms' scale), and each
// rounds its float once to S: the stored values differ by at most that plus one unit in S's last place.
template <typename S>
::testing::AssertionResult same_value16(float cuda, float cpu, LD scale) {
    if (std::isnan(cpu) || std::isinf(cpu)) {
        if (std::isnan(cpu) ? std::isnan(cuda) : cuda == cpu) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "CUDA gave " << cuda << ", the CPU " << cpu;
    }
    const LD larger = std::max(std::fabs(static_cast<LD>(cuda)), std::fabs(static_cast<LD>(cpu)));
    return close(cuda, cpu, scale, cuda_tolerance<float>(), static_cast<double>(ulp16<S>(larger)));
}

template <typename S>
void expect_same_values16(const Problem<float>& p, const std::vector<float>& cuda, const std::vector<float>& cpu,
                          LD TermScales::*scale, const char* what) {
    ASSERT_EQ(cuda.size(), cpu.size()) << what;
    const LD reduction = reduction_scale(p);
    int failures = 0;
    for (size_t i = 0; i < cpu.size() && failures < 10; ++i) {
        if (same_value16<S>(cuda[i], cpu[i], 0)) continue;
        const LD element_scale = std::min<LD>(term_scales(p, reduction, static_cast<int64_t>(i)).*scale, 1);
        const ::testing::AssertionResult same = same_value16<S>(cuda[i], cpu[i], element_scale);
        if (!same) ++failures;
        EXPECT_TRUE(same) << what << " element " << i;
    }
}

template <typename S>
void expect_cuda_matches_cpu16(const Problem<float>& unheld) {
    const Problem<float> p = held_in<S>(unheld);
    const Outcome<float> cpu = call16<S>(p, Where::kCpu);
    const Outcome<float> cuda = call16<S>(p, Where::kCuda);
    ASSERT_EQ(cuda.status, cpu.status) << "CUDA: " << cuda.message << "; CPU: " << cpu.message;
    if (cpu.status != BCE4J_OK) {
        EXPECT_EQ(cuda.message, cpu.message);
        return;
    }
    if (p.options.reduction != BCE4J_REDUCTION_NONE) {
        if (std::isnan(cpu.reduced) || std::isinf(cpu.reduced)) {
            EXPECT_TRUE(std::isnan(cpu.reduced) ? std::isnan(cuda.reduced) : cuda.reduced == cpu.reduced)
                << "reduced loss: CUDA " << cuda.reduced << ", CPU " << cpu.reduced;
        } else {
            // The float losses (before rounding to S) summed in double on both sides, as for float32.
            EXPECT_TRUE(close(cuda.reduced, cpu.reduced, 0, 1e-5, 1e-300)) << "reduced loss";
        }
        if (p.want_loss) {
            // The reduced loss rounded once from double, as the CPU stores it.
            const double stored_loss = held<S>(cuda.reduced);
            EXPECT_TRUE(std::isnan(stored_loss) ? std::isnan(cuda.loss[0]) : cuda.loss[0] == stored_loss)
                << "loss[0] for a reduction: " << cuda.loss[0] << ", reduced " << cuda.reduced;
        }
    } else {
        expect_same_values16<S>(p, cuda.loss, cpu.loss, &TermScales::loss, "loss");
    }
    expect_same_values16<S>(p, cuda.grad_input, cpu.grad_input, &TermScales::grad_input, "grad_input");
    expect_same_values16<S>(p, cuda.grad_target, cpu.grad_target, &TermScales::grad_target, "grad_target");
}

template <typename S>
class CudaLossHalf : public ::testing::Test {
protected:
    void SetUp() override { skip_unless_cuda_available(); }
};

using HalfTypes = ::testing::Types<bce4j::Float16, bce4j::BFloat16>;
TYPED_TEST_SUITE(CudaLossHalf, HalfTypes);

TYPED_TEST(CudaLossHalf, EveryReductionWithAndWithoutUpstreamGradient) {
    for (Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (int32_t reduction : kAllReductions) {
            for (bool upstream : {false, true}) {
                Problem<float> p = problem<float>(kind, {37, 29}, 211);
                p.options.reduction = reduction;
                if (upstream) {
                    p.grad_output = reduction == BCE4J_REDUCTION_NONE ? uniform<float>(37 * 29, -2, 2, 212)
                                                                      : std::vector<float>{-0.75f};
                }
                SCOPED_TRACE(testing::Message() << "probabilities " << (kind == Loss::kProbabilities) << " reduction "
                                                << reduction << " upstream " << upstream);
                expect_cuda_matches_cpu16<TypeParam>(p);
            }
        }
    }
}

TYPED_TEST(CudaLossHalf, WeightAndPosWeightBroadcast) {
    const std::vector<std::vector<int64_t>> operand_shapes = {{6, 5, 7}, {7}, {5, 1}, {1}, {}};
    uint64_t seed = 220;
    for (const auto& weight_shape : operand_shapes) {
        for (const auto& pos_weight_shape : operand_shapes) {
            for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
                Problem<float> p = problem<float>(Loss::kLogits, {6, 5, 7}, ++seed);
                p.weight = random_operand<float>(weight_shape, 0, 2, ++seed);
                p.pos_weight = random_operand<float>(pos_weight_shape, 0.5, 3, ++seed);
                p.options.reduction = reduction;
                SCOPED_TRACE(testing::Message() << "weight " << shape_str(weight_shape) << " pos_weight "
                                                << shape_str(pos_weight_shape) << " reduction " << reduction);
                expect_cuda_matches_cpu16<TypeParam>(p);
            }
        }
    }
}

TYPED_TEST(CudaLossHalf, NormalisedMeansWithZeroWeightsAndIgnoredTargets) {
    for (int32_t reduction : kAllReductions) {
        Problem<float> p = problem<float>(Loss::kLogits, {50, 21}, 240);
        p.weight = random_operand<float>({21}, 0, 2, 241);
        for (size_t j = 0; j < 21; j += 4) p.weight->data[j] = 0;
        p.options.has_ignore_index = 1;
        p.options.ignore_index = -100;  // a value of both types
        for (size_t i = 0; i < p.target.size(); i += 7) p.target[i] = -100;
        p.options.reduction = reduction;
        SCOPED_TRACE(testing::Message() << "reduction " << reduction);
        expect_cuda_matches_cpu16<TypeParam>(p);
    }
}

TYPED_TEST(CudaLossHalf, AnIgnoreIndexTheTypeCannotHoldMatchesNothing) {
    Problem<float> p = problem<float>(Loss::kLogits, {9, 8}, 255);
    p.options.has_ignore_index = 1;
    p.options.ignore_index = 0.1;  // neither type holds it; targets of 0.1 become the nearest value of S
    for (size_t i = 0; i < p.target.size(); i += 3) p.target[i] = 0.1f;
    p.options.reduction = BCE4J_REDUCTION_MEAN_VALID;
    expect_cuda_matches_cpu16<TypeParam>(p);
    p.options.ignore_index = held<TypeParam>(0.1);  // this one matches them
    expect_cuda_matches_cpu16<TypeParam>(p);
}

TYPED_TEST(CudaLossHalf, PosWeightModesLabelSmoothingAndFocalTogether) {
    uint64_t seed = 260;
    for (int32_t mode : {BCE4J_POS_WEIGHT_TORCH, BCE4J_POS_WEIGHT_PADDLE_LEGACY}) {
        for (double smoothing : {0.0, 0.1}) {
            for (int focal : {0, 1, 2}) {
                Problem<float> p = problem<float>(Loss::kLogits, {23, 9}, ++seed);
                p.weight = random_operand<float>({9}, 0, 2, ++seed);
                p.pos_weight = random_operand<float>({23, 1}, 0.5, 3, ++seed);
                p.options.pos_weight_mode = mode;
                p.options.label_smoothing = smoothing;
                p.options.smoothing_classes = 3;
                p.options.has_focal = focal != 0;
                p.options.focal_gamma = focal == 1 ? 2.0 : 0.5;
                p.options.focal_alpha = focal == 1 ? 0.25 : -1.0;
                SCOPED_TRACE(testing::Message() << "mode " << mode << " smoothing " << smoothing << " focal " << focal);
                p.options.reduction = BCE4J_REDUCTION_NONE;
                expect_cuda_matches_cpu16<TypeParam>(p);
                p.options.reduction = BCE4J_REDUCTION_MEAN;
                expect_cuda_matches_cpu16<TypeParam>(p);
            }
        }
    }
}

TYPED_TEST(CudaLossHalf, ExtremeAndNonFiniteValues) {
    const float inf = std::numeric_limits<float>::infinity();
    const float nan = std::numeric_limits<float>::quiet_NaN();
    // 1e5 overflows float16 to infinity; 1e-7 is a float16 subnormal.
    const std::vector<float> logits = {-1e4f, 1e4f, -inf, inf, nan, 0, -30, 30, 1e-7f, -1e-7f, 60000, 1e5f};
    const std::vector<float> targets = {0, 1, 0.5f, 0.25f, 1, 0, nan, inf, 0.75f};
    Problem<float> p;
    p.shape = {static_cast<int64_t>(logits.size()), static_cast<int64_t>(targets.size())};
    for (float x : logits) {
        for (float y : targets) {
            p.input.push_back(x);
            p.target.push_back(y);
        }
    }
    for (int variant = 0; variant < 3; ++variant) {
        Problem<float> q = p;
        if (variant >= 1)
            q.weight = Tensor<float>{{static_cast<int64_t>(targets.size())}, {0, 1, 2, inf, nan, 0.5f, 1, 0, 3}};
        if (variant == 2) {
            q.pos_weight = Tensor<float>{{1}, {2.5f}};
            q.options.has_focal = 1;
            q.options.focal_alpha = 0.25;
        }
        for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_SUM}) {
            q.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "variant " << variant << " reduction " << reduction);
            expect_cuda_matches_cpu16<TypeParam>(q);
        }
    }
    Problem<float> probabilities;
    probabilities.kind = Loss::kProbabilities;
    probabilities.shape = {8};
    probabilities.input = {0, 1, 0, 1, nan, 1e-7f, 0.999f, 0.5f};
    probabilities.target = {0, 1, 1, 0, 0.5f, 1, 0, nan};
    probabilities.options.reduction = BCE4J_REDUCTION_NONE;
    expect_cuda_matches_cpu16<TypeParam>(probabilities);
}

TYPED_TEST(CudaLossHalf, OutOfRangeValuesReportTheFirstIndexAsTheCpuDoes) {
    Problem<float> p = problem<float>(Loss::kLogits, {64, 50}, 280);
    p.options.validate_targets = 1;
    p.target[2017] = 1.5f;
    p.target[3001] = -0.5f;
    expect_cuda_matches_cpu16<TypeParam>(p);  // the message names the element's value, widened from S
    EXPECT_EQ(call16<TypeParam>(held_in<TypeParam>(p), Where::kCuda).status, BCE4J_ERROR_OUT_OF_RANGE);

    Problem<float> probabilities = problem<float>(Loss::kProbabilities, {64, 50}, 281);
    probabilities.input[1500] = -0.3f;  // not a value of S: the message shows the one stored
    expect_cuda_matches_cpu16<TypeParam>(probabilities);
}

TYPED_TEST(CudaLossHalf, ShapesFromEmptyToSeveralGridsOfElements) {
    // 4 elements per group, as for float32: 4194305 elements go round the largest grid once more.
    const std::vector<std::vector<int64_t>> shapes = {{},  {0},    {3, 0, 2}, {1},          {3},
                                                      {5}, {7, 1}, {1025},    {2, 3, 5, 7}, {4194305}};
    uint64_t seed = 290;
    for (const auto& shape : shapes) {
        for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
            if (numel(shape) > 100000 && reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT) continue;
            Problem<float> p = problem<float>(Loss::kLogits, shape, ++seed);
            p.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "shape " << shape_str(shape) << " reduction " << reduction);
            expect_cuda_matches_cpu16<TypeParam>(p);
        }
    }
}

TYPED_TEST(CudaLossHalf, AnySubsetOfOutputs) {
    for (int mask = 0; mask < 8; ++mask) {
        for (int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN}) {
            Problem<float> p = problem<float>(Loss::kLogits, {13, 17}, 300);
            p.want_loss = mask & 1;
            p.want_grad_input = mask & 2;
            p.want_grad_target = mask & 4;
            p.options.reduction = reduction;
            SCOPED_TRACE(testing::Message() << "outputs " << mask << " reduction " << reduction);
            expect_cuda_matches_cpu16<TypeParam>(p);
        }
    }
}

TYPED_TEST(CudaLossHalf, RepeatedCallsGiveTheSameBits) {
    Problem<float> p = problem<float>(Loss::kLogits, {1500, 1001}, 310);
    p.weight = random_operand<float>({1001}, 0, 2, 311);
    p.options.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    p = held_in<TypeParam>(p);
    const Outcome<float> first = call16<TypeParam>(p, Where::kCuda);
    ASSERT_EQ(first.status, BCE4J_OK) << first.message;
    for (int run = 0; run < 3; ++run) {
        const Outcome<float> again = call16<TypeParam>(p, Where::kCuda);
        ASSERT_EQ(again.status, BCE4J_OK) << again.message;
        EXPECT_TRUE(bitwise_equal(again.reduced, first.reduced)) << again.reduced << " vs " << first.reduced;
        EXPECT_TRUE(bitwise_equal(again.grad_input, first.grad_input));
        EXPECT_TRUE(bitwise_equal(again.grad_target, first.grad_target));
    }
}

// ---- Weight gradients --------------------------------------------------------------------------------------------
// grad_weight and grad_pos_weight: each operand element's terms summed over its broadcast in double (CUDA: in fixed
// chunks, the partials in chunk order; the CPU: in blocks), MEAN_BY_WEIGHT's offset subtracted, scaled, rounded once
// to the storage type S. A problem is built in float with every value held in S.

// `p` with every value held in S (float32 and float64 hold the float problem's values exactly).
template <typename S>
Problem<float> held_in_storage(const Problem<float>& p) {
    if constexpr (std::is_same_v<S, float> || std::is_same_v<S, double>) {
        return p;
    } else {
        return held_in<S>(p);
    }
}

struct WeightGradients {
    bce4j_status status = BCE4J_ERROR_INTERNAL;
    std::string message;
    double reduced = 0;
    std::vector<double> grad_weight, grad_pos_weight;  // widened from S
};

template <typename S>
constexpr bce4j_dtype storage_dtype() {
    if constexpr (std::is_same_v<S, float> || std::is_same_v<S, double>) {
        return dtype_of<S>();
    } else {
        return dtype16<S>();
    }
}

int64_t operand_elements(const std::optional<Tensor<float>>& operand) {
    return operand ? numel(operand->shape) : 1;  // an absent operand: an implicit scalar
}

template <typename S>
std::vector<S> in_storage(const std::vector<float>& values) {
    std::vector<S> out;
    out.reserve(values.size());
    for (float v : values) out.push_back(bce4j::from_double<S>(v));
    return out;
}

template <typename S>
std::vector<double> to_doubles(const std::vector<S>& values) {
    std::vector<double> out;
    out.reserve(values.size());
    for (S v : values) out.push_back(bce4j::to_double(v));
    return out;
}

// The call of `p` on storage S asking for the weight gradients (grad_pos_weight for the logits loss only) and the
// input gradient, on either path.
template <typename S>
WeightGradients weight_gradients(const Problem<float>& p, Where where) {
    const int64_t n = numel(p.shape);
    const std::vector<S> input = in_storage<S>(p.input), target = in_storage<S>(p.target);
    std::vector<S> weight, pos_weight, grad_output;
    bce4j_options o = p.options;
    if (p.weight) {
        weight = in_storage<S>(p.weight->data);
        o.weight = weight.data();
        o.weight_ndim = static_cast<int32_t>(p.weight->shape.size());
        o.weight_shape = p.weight->shape.data();
    }
    if (p.pos_weight) {
        pos_weight = in_storage<S>(p.pos_weight->data);
        o.pos_weight = pos_weight.data();
        o.pos_weight_ndim = static_cast<int32_t>(p.pos_weight->shape.size());
        o.pos_weight_shape = p.pos_weight->shape.data();
    }
    if (p.grad_output) grad_output = in_storage<S>(*p.grad_output);
    const bool logits = p.kind == Loss::kLogits;
    const S sentinel = bce4j::from_double<S>(-12345.0);
    std::vector<S> grad_weight(static_cast<size_t>(operand_elements(p.weight)), sentinel);
    std::vector<S> grad_pos_weight(logits ? static_cast<size_t>(operand_elements(p.pos_weight)) : 0u, sentinel);
    std::vector<S> grad_input(static_cast<size_t>(n), sentinel);
    o.grad_weight = grad_weight.data();
    o.grad_pos_weight = logits ? grad_pos_weight.data() : nullptr;
    const auto fn = where == Where::kCpu ? (logits ? bce4j_bce_with_logits : bce4j_bce)
                                         : (logits ? bce4j_cuda_bce_with_logits_host : bce4j_cuda_bce_host);
    WeightGradients r;
    r.status = fn(&o, storage_dtype<S>(), static_cast<int32_t>(p.shape.size()),
                  p.shape.empty() ? nullptr : p.shape.data(), input.empty() ? nullptr : input.data(),
                  target.empty() ? nullptr : target.data(), p.grad_output ? grad_output.data() : nullptr, nullptr,
                  &r.reduced, grad_input.empty() ? nullptr : grad_input.data(), nullptr);
    r.message = bce4j_last_error_message();
    r.grad_weight = to_doubles(grad_weight);
    r.grad_pos_weight = to_doubles(grad_pos_weight);
    return r;
}

// Each element's terms by themselves (the CPU in double, reduction NONE, both operands expanded to the input's
// shape, the element's upstream gradient or 1): d loss_i / d w_i and d loss_i / d p_i.
WeightGradients element_terms(const Problem<float>& p) {
    Problem<float> e = p;
    const int64_t n = numel(p.shape);
    const auto expand = [&](const std::optional<Tensor<float>>& operand) {
        Tensor<float> t;
        t.shape = p.shape;
        for (int64_t i = 0; i < n; ++i) {
            t.data.push_back(operand ? operand->data[broadcast_source(p.shape, operand->shape, i)] : 1.0f);
        }
        return t;
    };
    e.weight = expand(p.weight);
    e.pos_weight = expand(p.pos_weight);
    if (p.kind == Loss::kProbabilities) e.pos_weight.reset();
    e.options.reduction = BCE4J_REDUCTION_NONE;
    if (p.options.reduction != BCE4J_REDUCTION_NONE) e.grad_output.reset();
    return weight_gradients<double>(e, Where::kCpu);
}

// What a rounding error in operand element j's gradient is proportional to: the scale times the sum of its terms'
// magnitudes (and of MEAN_BY_WEIGHT's offset, for the weight).
std::vector<LD> gradient_magnitudes(const Problem<float>& p, const std::optional<Tensor<float>>& operand,
                                    const std::vector<double>& terms, LD offset_per_element) {
    std::vector<LD> m(static_cast<size_t>(operand_elements(operand)), 0);
    // No terms: not asked for (BCELoss has no pos_weight), or no elements.
    const int64_t n = terms.empty() ? 0 : numel(p.shape);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t j = operand ? broadcast_source(p.shape, operand->shape, i) : 0;
        m[j] += std::fabs(static_cast<LD>(terms[i])) + offset_per_element;
    }
    const LD scale = reduction_scale(p);
    for (LD& v : m) v *= scale;
    return m;
}

template <typename S>
void expect_same_gradients(const std::vector<double>& cuda, const std::vector<double>& cpu,
                           const std::vector<LD>& magnitudes, const char* what) {
    ASSERT_EQ(cuda.size(), cpu.size()) << what;
    const double rel = std::is_same_v<S, double> ? cuda_tolerance<double>() : cuda_tolerance<float>();
    for (size_t j = 0; j < cpu.size(); ++j) {
        double floor = std::numeric_limits<double>::denorm_min();
        if constexpr (!std::is_same_v<S, float> && !std::is_same_v<S, double>) {
            floor = static_cast<double>(ulp16<S>(std::max(std::fabs(cuda[j]), std::fabs(cpu[j]))));
        }
        EXPECT_TRUE(close(cuda[j], cpu[j], magnitudes[j], rel, floor)) << what << " element " << j;
    }
}

template <typename S>
void expect_cuda_gradients_match_cpu(const Problem<float>& unheld) {
    const Problem<float> p = held_in_storage<S>(unheld);
    const WeightGradients cpu = weight_gradients<S>(p, Where::kCpu);
    const WeightGradients cuda = weight_gradients<S>(p, Where::kCuda);
    ASSERT_EQ(cuda.status, cpu.status) << "CUDA: " << cuda.message << "; CPU: " << cpu.message;
    ASSERT_EQ(cpu.status, BCE4J_OK) << cpu.message;
    const WeightGradients terms = element_terms(p);
    ASSERT_EQ(terms.status, BCE4J_OK) << terms.message;
    const bool by_weight = p.options.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    if (by_weight && operand_elements(p.weight) == 1) {
        // One weight cancels in S/W: exactly 0 on both paths.
        EXPECT_TRUE(bitwise_equal(cuda.grad_weight, std::vector<double>{0.0})) << cuda.grad_weight[0];
        EXPECT_TRUE(bitwise_equal(cpu.grad_weight, std::vector<double>{0.0})) << cpu.grad_weight[0];
    } else {
        const int64_t multiplicity = numel(p.shape) / operand_elements(p.weight);
        const LD offset = by_weight && multiplicity > 0 ? std::fabs(static_cast<LD>(cpu.reduced)) : 0;
        expect_same_gradients<S>(cuda.grad_weight, cpu.grad_weight,
                                 gradient_magnitudes(p, p.weight, terms.grad_weight, offset), "grad_weight");
    }
    expect_same_gradients<S>(cuda.grad_pos_weight, cpu.grad_pos_weight,
                             gradient_magnitudes(p, p.pos_weight, terms.grad_pos_weight, 0), "grad_pos_weight");
}

template <typename S>
class CudaWeightGradients : public ::testing::Test {
protected:
    void SetUp() override { skip_unless_cuda_available(); }
};

using GradientTypes = ::testing::Types<float, double, bce4j::Float16, bce4j::BFloat16>;
TYPED_TEST_SUITE(CudaWeightGradients, GradientTypes);

TYPED_TEST(CudaWeightGradients, EveryReductionBothLossesWithAndWithoutUpstreamGradient) {
    uint64_t seed = 300;
    for (Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (int32_t reduction : kAllReductions) {
            for (bool upstream : {false, true}) {
                Problem<float> p = problem<float>(kind, {37, 29}, ++seed);
                p.weight = random_operand<float>({29}, 0, 2, ++seed);
                if (kind == Loss::kLogits) p.pos_weight = random_operand<float>({37, 1}, 0.5, 3, ++seed);
                p.options.reduction = reduction;
                if (upstream) {
                    p.grad_output = reduction == BCE4J_REDUCTION_NONE ? uniform<float>(37 * 29, -2, 2, ++seed)
                                                                      : std::vector<float>{-0.75f};
                }
                SCOPED_TRACE(testing::Message() << "probabilities " << (kind == Loss::kProbabilities) << " reduction "
                                                << reduction << " upstream " << upstream);
                expect_cuda_gradients_match_cpu<TypeParam>(p);
            }
        }
    }
}

TYPED_TEST(CudaWeightGradients, EveryOperandShapeAndReduction) {
    // Per class, per row, per element, along the middle, scalar, 0-d, absent (the implicit scalar 1).
    const std::vector<std::optional<std::vector<int64_t>>> shapes = {
        std::vector<int64_t>{7},       std::vector<int64_t>{6, 1, 1},
        std::vector<int64_t>{6, 5, 7}, std::vector<int64_t>{5, 1},
        std::vector<int64_t>{1, 5, 7}, std::vector<int64_t>{1},
        std::vector<int64_t>{},        std::nullopt};
    uint64_t seed = 400;
    for (const auto& weight_shape : shapes) {
        for (const auto& pos_weight_shape : shapes) {
            for (int32_t reduction : kAllReductions) {
                Problem<float> p = problem<float>(Loss::kLogits, {6, 5, 7}, ++seed);
                if (weight_shape) p.weight = random_operand<float>(*weight_shape, 0, 2, ++seed);
                if (pos_weight_shape) p.pos_weight = random_operand<float>(*pos_weight_shape, 0.5, 3, ++seed);
                p.options.reduction = reduction;
                SCOPED_TRACE(testing::Message()
                             << "weight " << (weight_shape ? shape_str(*weight_shape) : "absent") << " pos_weight "
                             << (pos_weight_shape ? shape_str(*pos_weight_shape) : "absent") << " reduction "
                             << reduction);
                expect_cuda_gradients_match_cpu<TypeParam>(p);
            }
        }
    }
}

TYPED_TEST(CudaWeightGradients, SeveralChunksIgnoredTargetsFocalAndEmptyInputs) {
    uint64_t seed = 500;
    // Multiplicities of 2500 and 7500 elements: several chunks per operand element.
    for (int32_t reduction : kAllReductions) {
        Problem<float> p = problem<float>(Loss::kLogits, {2500, 3}, ++seed);
        p.weight = random_operand<float>({3}, 0, 2, ++seed);
        p.pos_weight = random_operand<float>({1}, 0.5, 3, ++seed);
        p.target[5] = -100;
        p.target[77] = -100;
        p.options.has_ignore_index = 1;
        p.options.ignore_index = -100;
        p.options.validate_targets = 0;
        p.options.has_focal = 1;
        p.options.focal_gamma = 2.0;
        p.options.focal_alpha = 0.25;
        p.options.reduction = reduction;
        SCOPED_TRACE(testing::Message() << "reduction " << reduction);
        expect_cuda_gradients_match_cpu<TypeParam>(p);
        Problem<float> empty = problem<float>(Loss::kLogits, {0, 4}, ++seed);
        empty.weight = random_operand<float>({4}, 0, 2, ++seed);
        empty.options.reduction = reduction;
        expect_cuda_gradients_match_cpu<TypeParam>(empty);
    }
}

TYPED_TEST(CudaWeightGradients, RepeatedCallsGiveTheSameBits) {
    for (const std::vector<int64_t>& weight_shape : {std::vector<int64_t>{1001}, std::vector<int64_t>{1500, 1}}) {
        Problem<float> p = held_in_storage<TypeParam>(problem<float>(Loss::kLogits, {1500, 1001}, 610));
        p.weight = random_operand<float>(weight_shape, 0, 2, 611);
        p.options.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
        p = held_in_storage<TypeParam>(p);
        const WeightGradients first = weight_gradients<TypeParam>(p, Where::kCuda);
        ASSERT_EQ(first.status, BCE4J_OK) << first.message;
        for (int run = 0; run < 2; ++run) {
            const WeightGradients again = weight_gradients<TypeParam>(p, Where::kCuda);
            ASSERT_EQ(again.status, BCE4J_OK) << again.message;
            EXPECT_TRUE(bitwise_equal(again.grad_weight, first.grad_weight));
            EXPECT_TRUE(bitwise_equal(again.grad_pos_weight, first.grad_pos_weight));
        }
    }
}

}  // namespace
