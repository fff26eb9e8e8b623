// The CUDA library's element functions (cpp/src/cuda/element_pass.h), compiled here as plain C++, against the
// scalar reference kernel one element at a time, and its broadcast offsets against the numpy rule. The kernels run
// exactly these functions on the device.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "broadcast_plan.h"
#include "cuda/element_pass.h"
#include "kernels/row_kernel.h"
#include "term_magnitudes.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;
using bce4j::BroadcastPlan;
using bce4j::RowArgs;
using bce4j::RowResult;
using bce4j::cuda::DeviceCall;
using bce4j::cuda::ElementValues;
using bce4j::cuda::PassArgs;

// One combination of the per-element options, as the parameter builder (call_checks.cpp) makes them for both paths.
struct Options {
    bool probabilities = false;
    bool paddle_legacy = false;
    bool ignores = false;  // ignore index 1
    double smoothing = 0;
    int classes = 2;
    bool validate = false;
    bool focal = false;
    double gamma = 2;
    double alpha = -1;
};

bce4j::ElementParams element_params(const Options& o) {
    bce4j::ElementParams p;
    p.probabilities = o.probabilities;
    p.paddle_legacy = !o.probabilities && o.paddle_legacy;
    if (o.ignores) p.ignored_target = 1;
    p.smoothing_keep = 1 - o.smoothing;
    p.smoothing_shift = o.smoothing / o.classes;
    p.validate_targets = !o.probabilities && o.validate;
    p.focal = !o.probabilities && o.focal;
    p.focal_gamma = o.gamma;
    p.focal_alpha = o.alpha;
    return p;
}

template <typename T>
DeviceCall device_call(const Options& o) {
    DeviceCall d{};
    d.dtype = std::is_same_v<T, float> ? BCE4J_FLOAT32 : BCE4J_FLOAT64;
    d.count = 1;
    static const T upstream = 1;  // per element: element_values then takes g as given
    d.grad_output = &upstream;
    d.grad_output_per_element = true;
    d.params = element_params(o);
    return d;
}

// The scalar reference kernel on the single element (x, y) with weight w, pos_weight p, upstream gradient g.
template <typename T>
ElementValues<T> reference(const Options& o, T x, T y, T w, T p, T g) {
    T loss = 0, grad_input = 0, grad_target = 0;
    RowArgs<T> a;
    a.input = &x;
    a.target = &y;
    a.weight = &w;
    a.weight_stride = 0;
    a.pos_weight = o.probabilities ? nullptr : &p;
    a.pos_weight_stride = 0;
    a.grad_output = &g;
    a.grad_scale = 1;
    a.loss = &loss;
    a.grad_input = &grad_input;
    a.grad_target = &grad_target;
    a.params = element_params(o);
    const RowResult r = bce4j::kernel_of<T>(bce4j::scalar_kernel_table())(1, a);
    return {loss, grad_input, grad_target, r.first_invalid == 0};
}

std::vector<Options> option_combinations() {
    std::vector<Options> all;
    for (bool probabilities : {false, true}) {
        for (int variant = 0; variant < 7; ++variant) {
            Options o;
            o.probabilities = probabilities;
            o.paddle_legacy = variant == 1 || variant == 6;
            o.ignores = variant == 2;
            o.smoothing = variant == 3 || variant == 6 ? 0.1 : 0;
            o.classes = variant == 6 ? 5 : 2;
            o.validate = variant == 4;
            o.focal = variant >= 5;
            o.gamma = variant == 6 ? 0.5 : 2;
            o.alpha = variant == 5 ? 0.25 : -1;
            all.push_back(o);
        }
    }
    return all;
}

template <typename T>
std::vector<T> probe_values(bool probabilities) {
    const T inf = std::numeric_limits<T>::infinity();
    const T nan = std::numeric_limits<T>::quiet_NaN();
    if (probabilities) return {0, 1e-30f, 1e-7f, 0.25, 0.5, 0.75, 1 - 1e-7f, 1, -0.5, 1.5, nan};
    return {-inf, -1e4, -88, -30, -2.5, -1e-30f, 0, 0.75, 3, 30, 88, 1e4, inf, nan};
}

template <typename T>
std::vector<T> targets() {
    return {0, 1, 0.25, 0.5, 0.9, -0.5, 1.5, std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity()};
}

// The same bits, any NaN for a NaN (its sign and payload mean nothing).
::testing::AssertionResult same_bits(double got, double want) {
    if ((std::isnan(got) && std::isnan(want)) || bitwise_equal(got, want)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << got << " vs " << want;
}

// float64: the same arithmetic as the reference, in the same order, so the same bits.
TEST(CudaElementPass, Float64IsTheScalarReferenceBitForBit) {
    for (const Options& o : option_combinations()) {
        const PassArgs<double> a = bce4j::cuda::pass_args<double>(device_call<double>(o));
        for (double x : probe_values<double>(o.probabilities)) {
            for (double y : targets<double>()) {
                for (double w : {1.0, 0.0, 2.5}) {
                    for (double p : {1.0, 3.0, 0.0}) {
                        for (double g : {1.0, -0.5}) {
                            const ElementValues<double> want = reference<double>(o, x, y, w, p, g);
                            const ElementValues<double> got = bce4j::cuda::element_values(a, x, y, w, p, g, 0.0);
                            SCOPED_TRACE(testing::Message() << "probabilities " << o.probabilities << " paddle "
                                                            << o.paddle_legacy << " focal " << o.focal << " x " << x
                                                            << " y " << y << " w " << w << " p " << p << " g " << g);
                            ASSERT_EQ(got.invalid, want.invalid);
                            if (want.invalid) continue;
                            EXPECT_TRUE(same_bits(got.loss, want.loss));
                            EXPECT_TRUE(same_bits(got.grad_input, want.grad_input));
                            EXPECT_TRUE(same_bits(got.grad_target, want.grad_target));
                        }
                    }
                }
            }
        }
    }
}

// Within 16 float epsilons of the element's own term magnitude (term_magnitudes.h), so that a result of small terms
// is held to its own size (an all-zero gradient fails); infinities, NaN and results of non-finite terms exactly.
::testing::AssertionResult float_close(float got, float want, double terms) {
    if (std::isnan(want) || std::isinf(want) || !std::isfinite(terms)) {
        if (std::isnan(want) ? std::isnan(got) : got == want) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << got << " vs " << want << " (terms " << terms << ")";
    }
    return close(got, want, terms, 16 * std::numeric_limits<float>::epsilon(),
                 std::numeric_limits<float>::denorm_min());
}

// float32: computed in float (elements with a non-finite result again in double), within 16 epsilons of the
// reference's terms, which computes in double and rounds once; infinities and NaN exactly where the reference has
// them.
TEST(CudaElementPass, Float32IsWithinSixteenEpsilonsOfTheScalarReference) {
    for (const Options& o : option_combinations()) {
        const PassArgs<float> a = bce4j::cuda::pass_args<float>(device_call<float>(o));
        for (float x : probe_values<float>(o.probabilities)) {
            for (float y : targets<float>()) {
                for (float w : {1.0f, 0.0f, 2.5f}) {
                    for (float p : {1.0f, 3.0f, 0.0f}) {
                        const ElementValues<float> want = reference<float>(o, x, y, w, p, 1.0f);
                        const ElementValues<float> got = bce4j::cuda::element_values(a, x, y, w, p, 1.0f, 0.0);
                        SCOPED_TRACE(testing::Message()
                                     << "probabilities " << o.probabilities << " paddle " << o.paddle_legacy
                                     << " focal " << o.focal << " x " << x << " y " << y << " w " << w << " p " << p);
                        ASSERT_EQ(got.invalid, want.invalid);
                        if (want.invalid) continue;
                        const Magnitudes m = term_magnitudes(element_params(o), x, y, w, p, 1.0);
                        EXPECT_TRUE(float_close(got.loss, want.loss, m.loss));
                        EXPECT_TRUE(float_close(got.grad_input, want.grad_input, m.grad_input));
                        EXPECT_TRUE(float_close(got.grad_target, want.grad_target, m.grad_target));
                    }
                }
            }
        }
    }
}

TEST(CudaElementPass, ReducedCallsTakeTheUpstreamScaleInDouble) {
    Options o;
    DeviceCall reduced = device_call<float>(o);
    reduced.grad_output_per_element = false;
    const PassArgs<float> a = bce4j::cuda::pass_args<float>(reduced);
    const double scale = 1.0 / 3.0;
    const ElementValues<float> got = bce4j::cuda::element_values(a, 0.5f, 1.0f, 1.0f, 1.0f, 123.0f, scale);
    const ElementValues<float> want = reference<float>(o, 0.5f, 1.0f, 1.0f, 1.0f, static_cast<float>(scale));
    const Magnitudes m = term_magnitudes(element_params(o), 0.5, 1.0, 1.0, 1.0, scale);
    EXPECT_TRUE(float_close(got.grad_input, want.grad_input, m.grad_input));  // the per-element g (123) is not used
}

// Every flat index's weight and pos_weight offsets under the plan are the numpy broadcast's.
TEST(CudaElementPass, OperandOffsetsFollowTheBroadcastPlan) {
    const std::vector<int64_t> input = {3, 1, 4, 5};
    const std::vector<std::vector<int64_t>> operands = {{3, 1, 4, 5}, {5}, {4, 1},    {3, 1, 1, 1},
                                                        {1},          {},  {1, 4, 5}, {3, 1, 1, 5}};
    for (const auto& w : operands) {
        for (const auto& p : operands) {
            const bce4j::ShapeRef in{static_cast<int32_t>(input.size()), input.data()};
            const bce4j::ShapeRef ws{static_cast<int32_t>(w.size()), w.data()};
            const bce4j::ShapeRef ps{static_cast<int32_t>(p.size()), p.data()};
            const BroadcastPlan plan = bce4j::plan_broadcast(in, &ws, &ps);
            const bce4j::cuda::PlanDivisors divisors = bce4j::cuda::plan_divisors(plan);
            for (int64_t i = 0; i < numel(input); ++i) {
                int64_t weight_offset = -1, pos_weight_offset = -1;
                bce4j::cuda::operand_offsets(plan, divisors, i, &weight_offset, &pos_weight_offset);
                ASSERT_EQ(weight_offset, broadcast_source(input, w, i)) << shape_str(w) << " element " << i;
                ASSERT_EQ(pos_weight_offset, broadcast_source(input, p, i)) << shape_str(p) << " element " << i;
            }
        }
    }
}

TEST(CudaElementPass, DenominatorsFromTheirTerms) {
    using bce4j::Denominator;
    using bce4j::denominator_from_total;
    using bce4j::denominator_term;
    EXPECT_EQ(denominator_term(Denominator::kWeightSum, 2.5, -100), 2.5);
    EXPECT_EQ(denominator_term(Denominator::kNonzeroWeights, 0.0f, -100), 0.0);
    EXPECT_EQ(denominator_term(Denominator::kNonzeroWeights, -3.0f, -100), 1.0);
    EXPECT_EQ(denominator_term(Denominator::kNotIgnored, -100.0f, -100), 1.0);  // counts the ignored ones
    EXPECT_EQ(denominator_term(Denominator::kNotIgnored, 0.1f, 0.1), 0.0);      // 0.1f is not the double 0.1
    // A [5] weight broadcast over [4, 5]: each weight counts 4 times.
    EXPECT_EQ(denominator_from_total(Denominator::kWeightSum, 20, 5, 3.5), 14.0);
    EXPECT_EQ(denominator_from_total(Denominator::kNonzeroWeights, 20, 5, 2), 8.0);
    EXPECT_EQ(denominator_from_total(Denominator::kNotIgnored, 20, 0, 6), 14.0);
    EXPECT_EQ(denominator_from_total(Denominator::kCount, 20, 0, 0), 20.0);
    EXPECT_EQ(denominator_from_total(Denominator::kOne, 20, 0, 0), 1.0);
    EXPECT_EQ(denominator_from_total(Denominator::kWeightSum, 0, 0, 0), 0.0);  // empty input: 0, never 0 / 0 counts
    EXPECT_EQ(denominator_from_total(Denominator::kOne, 0, 0, 0), 1.0);
    EXPECT_TRUE(std::isnan(bce4j::normalise(0, 0, false)));  // MEAN of nothing, as PyTorch
    EXPECT_EQ(bce4j::normalise(0, 0, true), 0.0);
    EXPECT_EQ(bce4j::normalise(3, 4, true), 0.75);
}

}  // namespace
