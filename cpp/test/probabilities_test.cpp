// bce4j_bce (PyTorch BCELoss on probabilities): clamped logs, the float-epsilon gradient clamp, the derivative of
// the clamped loss for the target, range errors that name the first offending element, and NaN propagation.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "test_util.h"

namespace {

using namespace bce4j_test;
using Shape = std::vector<int64_t>;

template <typename T>
Outcome<T> bce_none(const std::vector<T>& x, const std::vector<T>& y) {
    Call<T> c;
    c.kind = Loss::kProbabilities;
    c.shape = {static_cast<int64_t>(x.size())};
    c.input = x;
    c.target = y;
    c.reduction = BCE4J_REDUCTION_NONE;
    return run(c);
}

// The call failed with OUT_OF_RANGE and the message names `which` ("input" or "target") and flat `index`.
template <typename T>
void expect_range_error(const Outcome<T>& r, const std::string& which, int64_t index) {
    EXPECT_EQ(r.status, BCE4J_ERROR_OUT_OF_RANGE) << bce4j_status_name(r.status);
    EXPECT_NE(r.message.find(which), std::string::npos) << r.message;
    const std::string other = which == "input" ? "target" : "input";
    EXPECT_EQ(r.message.find(other), std::string::npos) << "names the wrong argument: " << r.message;
    EXPECT_NE(r.message.find(" " + std::to_string(index) + " "), std::string::npos)
        << "should name flat index " << index << ": " << r.message;
}

// ---- Clamped logs and closed forms --------------------------------------------------------------------------------

TEST(BceClamp, LogsAreClampedAtMinus100AtTheEnds) {
    for (int dtype = 0; dtype < 2; ++dtype) {
        SCOPED_TRACE(dtype);
        std::vector<double> loss, gt;
        const std::vector<double> x = {0, 1, 0, 1, 0};
        const std::vector<double> y = {1, 0, 0, 1, 0.5};
        if (dtype == 0) {
            const auto r = bce_none<float>({x.begin(), x.end()}, {y.begin(), y.end()});
            ASSERT_EQ(r.status, BCE4J_OK) << r.message;
            loss.assign(r.loss.begin(), r.loss.end());
            gt.assign(r.grad_target.begin(), r.grad_target.end());
        } else {
            const auto r = bce_none<double>(x, y);
            ASSERT_EQ(r.status, BCE4J_OK) << r.message;
            loss = r.loss;
            gt = r.grad_target;
        }
        EXPECT_EQ(loss[0], 100.0);  // x = 0, y = 1: -max(log 0, -100)
        EXPECT_EQ(loss[1], 100.0);  // x = 1, y = 0: -max(log1p(-1), -100)
        EXPECT_EQ(loss[2], 0.0);    // x = 0, y = 0: the clamped log is multiplied by 0, not NaN
        EXPECT_EQ(loss[3], 0.0);
        EXPECT_EQ(loss[4], 50.0);
        // grad_target = max(log1p(-x), -100) - max(log x, -100): finite, unlike libtorch's -logit(x).
        EXPECT_EQ(gt[0], 100.0);
        EXPECT_EQ(gt[1], -100.0);
        EXPECT_EQ(gt[2], 100.0);
        EXPECT_EQ(gt[3], -100.0);
    }
}

TEST(BceClamp, TinyProbabilitiesHitTheClampAtExpMinus100) {
    // log(1e-50) = -115.1 is clamped to -100; log(1e-40) = -92.1 is not.
    const auto r = bce_none<double>({1e-50, 1e-40, 1 - 1e-16}, {1, 1, 0});
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_EQ(r.loss[0], 100.0);
    EXPECT_NEAR(r.loss[1], 40 * std::log(10.0), 1e-12);
    EXPECT_NEAR(r.loss[2], -std::log1p(-(1 - 1e-16)), 1e-12);  // 1 - 1e-16 rounds to 1 - 2^-53: log 2^-53
    EXPECT_NEAR(r.grad_target[0], 0.0 - (-100.0), 1e-12);
}

TEST(BceGradient, GradInputClampUsesFloatEpsilonForBothDtypes) {
    // libtorch's EPSILON is the float literal 1e-12f = 9.9999999600e-13 in double, used for float64 too.
    const double eps = static_cast<double>(1e-12f);
    ASSERT_NE(eps, 1e-12);
    const auto r = bce_none<double>({0.0, 1.0, 1e-13, 0.0, 0.5}, {1.0, 0.0, 0.25, 0.0, 0.25});
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_EQ(r.grad_input[0], -1.0 / eps);
    EXPECT_EQ(r.grad_input[1], 1.0 / eps);
    EXPECT_EQ(r.grad_input[2], (1e-13 - 0.25) / eps);  // x(1-x) ~ 1e-13 < eps: clamped
    EXPECT_EQ(r.grad_input[3], 0.0);                   // x = y = 0: 0/eps
    EXPECT_EQ(r.grad_input[4], 0.25 / 0.25);           // interior: (x-y)/(x(1-x)) exactly
    const auto f = bce_none<float>({0.0f, 1e-13f}, {1.0f, 0.0f});
    ASSERT_EQ(f.status, BCE4J_OK);
    EXPECT_EQ(f.grad_input[0], static_cast<float>(-1.0 / eps));
    EXPECT_EQ(f.grad_input[1], static_cast<float>(static_cast<double>(1e-13f) / eps));
}

TEST(BceGradient, GradTargetIsTheDerivativeOfTheClampedLoss) {
    // At x = 1e-50, log x is clamped to -100, so d/dy of the clamped loss is log1p(-x) + 100, not logit.
    const auto r = bce_none<double>({1e-50, 0.25, 0.5}, {0.5, 0.5, 0.5});
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_DOUBLE_EQ(r.grad_target[0], 100.0);
    EXPECT_DOUBLE_EQ(r.grad_target[1], std::log(0.75) - std::log(0.25));  // -logit(0.25) = log 3
    EXPECT_EQ(r.grad_target[2], 0.0);
}

TEST(BceGradient, MatchesCentralDifferencesInInputAndTarget) {
    const int64_t n = 96;
    Call<double> c;
    c.kind = Loss::kProbabilities;
    c.shape = {8, 12};
    c.input = uniform<double>(n, 0.03, 0.97, 61);
    c.target = uniform<double>(n, 0.01, 0.99, 62);  // soft labels, away from the [0, 1] edges for the difference
    c.weight = random_operand<double>({8, 1}, 0.2, 3, 63);
    c.reduction = BCE4J_REDUCTION_NONE;
    const auto at = run(c);
    ASSERT_EQ(at.status, BCE4J_OK) << at.message;
    const double h = 1e-6;
    auto shifted = [&](bool input, double delta) {
        Call<double> s = c;
        for (auto& v : input ? s.input : s.target) v += delta;
        const auto r = run(s);
        EXPECT_EQ(r.status, BCE4J_OK) << r.message;
        return r.loss;
    };
    const auto xp = shifted(true, h), xm = shifted(true, -h), yp = shifted(false, h), ym = shifted(false, -h);
    for (int64_t i = 0; i < n; ++i) {
        const double dx = (xp[i] - xm[i]) / (2 * h), dy = (yp[i] - ym[i]) / (2 * h);
        EXPECT_NEAR(at.grad_input[i], dx, 1e-6 * (1 + std::fabs(dx))) << i;
        EXPECT_NEAR(at.grad_target[i], dy, 1e-7 * (1 + std::fabs(dy))) << i;
    }
}

// ---- Values against the reference, with weights and reductions ----------------------------------------------------

template <typename T>
void check_bce_case(const Shape& shape, const std::optional<Shape>& weight, int32_t reduction, uint64_t seed) {
    const int64_t n = numel(shape);
    Call<T> c;
    c.kind = Loss::kProbabilities;
    c.shape = shape;
    c.input = uniform<T>(n, 0, 1, seed);
    c.target = labels<T>(n, seed + 1);
    if (weight) c.weight = random_operand<T>(*weight, 0.1, 2, seed + 2);
    c.reduction = reduction;
    if (reduction == BCE4J_REDUCTION_NONE) c.grad_output = uniform<T>(n, -2, 2, seed + 3);
    if (reduction == BCE4J_REDUCTION_MEAN) c.grad_output = std::vector<T>{static_cast<T>(0.75)};
    expect_matches(c, run(c), expected(c));
}

TEST(BceValues, MatchReferenceForWeightShapesAndReductions) {
    const std::vector<std::pair<Shape, std::optional<Shape>>> cases = {
        {{5, 6}, std::nullopt}, {{5, 6}, Shape{6}},          {{5, 6}, Shape{5, 1}},    {{5, 6}, Shape{}},
        {{5, 6}, Shape{5, 6}},  {{2, 3, 4}, Shape{2, 1, 4}}, {{2, 3, 4}, Shape{3, 1}}, {{}, Shape{}},
    };
    for (const auto& [shape, weight] : cases) {
        for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
            SCOPED_TRACE(shape_str(shape) + " weight " + (weight ? shape_str(*weight) : "none") + " reduction " +
                         std::to_string(red));
            check_bce_case<double>(shape, weight, red, 70);
            check_bce_case<float>(shape, weight, red, 80);
        }
    }
}

TEST(BceValues, LargeInputAcrossBlocksAndThreads) {
    // 8193 * 13 elements with a per-row weight [13] broadcast over [8193, 13]: many blocks, OpenMP on.
    Call<double> c;
    c.kind = Loss::kProbabilities;
    c.shape = {8193, 13};
    const int64_t n = numel(c.shape);
    c.input = uniform<double>(n, 0, 1, 91);
    c.target = labels<double>(n, 92);
    c.weight = random_operand<double>({13}, 0.1, 2, 93);
    c.reduction = BCE4J_REDUCTION_MEAN;
    for (int threads : {1, 2}) {
        c.num_threads = threads;
        expect_matches(c, run(c), expected(c));
    }
}

TEST(BceAccuracy, Float64Within1e12OverGridAndFloat32WithinItsTolerance) {
    std::vector<double> xs = {0, 1e-300, 1e-50, 1e-44, 1e-20, 1e-8, 1 - 1e-8, 1 - 1e-15, 1};
    for (int k = 1; k < 200; ++k) xs.push_back(k / 200.0);
    Call<double> d;
    d.kind = Loss::kProbabilities;
    d.reduction = BCE4J_REDUCTION_NONE;
    for (double x : xs) {
        for (double y : {0.0, 0.3, 1.0}) {
            d.input.push_back(x);
            d.target.push_back(y);
        }
    }
    d.shape = {static_cast<int64_t>(d.input.size())};
    expect_matches(d, run(d), expected(d), 1e-12);

    Call<float> f;
    f.kind = Loss::kProbabilities;
    f.reduction = BCE4J_REDUCTION_NONE;
    f.shape = d.shape;
    for (double v : d.input) f.input.push_back(static_cast<float>(v));
    for (double v : d.target) f.target.push_back(static_cast<float>(v));
    const Call<double> widened = bce4j_test::widened(f);
    bce4j_test::expect_float32_outcome_matches(run(f), run(widened), expected(widened));
}

TEST(BceEmpty, SumIsZeroMeanIsNaN) {
    Call<float> c;
    c.kind = Loss::kProbabilities;
    c.shape = {4, 0, 2};
    c.reduction = BCE4J_REDUCTION_SUM;
    auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_EQ(r.reduced, 0.0);
    c.reduction = BCE4J_REDUCTION_MEAN;
    r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_TRUE(std::isnan(r.reduced));
    EXPECT_TRUE(std::isnan(r.loss[0]));
}

// ---- NaN and range errors -----------------------------------------------------------------------------------------

TEST(BceNaN, NaNInputOrTargetPropagatesInsteadOfRangeError) {
    const auto r = bce_none<double>({kNaN, 0.4, 0.3}, {0.5, kNaN, 1.0});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_TRUE(std::isnan(r.loss[0]));
    EXPECT_TRUE(std::isnan(r.grad_input[0]));
    EXPECT_TRUE(std::isnan(r.grad_target[0]));
    EXPECT_TRUE(std::isnan(r.loss[1]));
    EXPECT_TRUE(std::isnan(r.grad_input[1]));
    EXPECT_NEAR(r.loss[2], -std::log(0.3), 1e-15);
    Call<float> c;
    c.kind = Loss::kProbabilities;
    c.shape = {2};
    c.input = {std::nanf(""), 0.5f};
    c.target = {0, 1};
    c.reduction = BCE4J_REDUCTION_SUM;
    const auto s = run(c);
    ASSERT_EQ(s.status, BCE4J_OK);
    EXPECT_TRUE(std::isnan(s.reduced));
}

TEST(BceRange, ValuesOutsideTheUnitIntervalAreRejectedNamingTheArgument) {
    const double just_above_one = std::nextafter(1.0, 2.0);
    for (double bad : {-0.1, 1.1, kInf, -kInf, -1e-300, just_above_one}) {
        SCOPED_TRACE(bad);
        expect_range_error(bce_none<double>({0.5, 0.5, bad, 0.5}, {0, 1, 0.5, 1}), "input", 2);
        expect_range_error(bce_none<double>({0.5, 0.5, 0.5, 0.5}, {0, 1, 0.5, bad}), "target", 3);
    }
    const float inf_f = std::numeric_limits<float>::infinity();
    const float tiny_negative = -std::numeric_limits<float>::denorm_min();
    for (float bad : {-0.1f, 1.1f, inf_f, -inf_f, tiny_negative, std::nextafter(1.0f, 2.0f)}) {
        SCOPED_TRACE(bad);
        expect_range_error(bce_none<float>({bad, 0.5f}, {0, 0}), "input", 0);
        expect_range_error(bce_none<float>({0.5f, 0.5f}, {0, bad}), "target", 1);
    }
    // A 0-d input: element 0, and the message is still well formed.
    Call<double> scalar;
    scalar.kind = Loss::kProbabilities;
    scalar.input = {1.5};
    scalar.target = {0.5};
    expect_range_error(run(scalar), "input", 0);
    // -0.0 and the end points are inside [0, 1].
    const auto ok = bce_none<double>({-0.0, 0.0, 1.0}, {1.0, -0.0, 1.0});
    EXPECT_EQ(ok.status, BCE4J_OK) << ok.message;
    EXPECT_EQ(ok.message, "");
}

TEST(BceRange, ReportsTheFirstOffendingElementOfEitherArgument) {
    // target bad at 5 comes before input bad at 9.
    std::vector<double> x(12, 0.5), y(12, 0.5);
    y[5] = 2;
    x[9] = -1;
    expect_range_error(bce_none<double>(x, y), "target", 5);
    // Both bad at the same element: the input is named.
    y[5] = 0.5;
    x[7] = 3;
    y[7] = -3;
    x[9] = 0.5;
    expect_range_error(bce_none<double>(x, y), "input", 7);
}

TEST(BceRange, FirstOffendingElementDeepInsideALargeMultiThreadedInput) {
    // 200000 elements = 25 blocks; with 2 threads the static schedule gives blocks 0-12 to one thread and 13-24 to
    // the other. Bad values in both halves: the lower flat index must win whichever thread finds its bad value first.
    const int64_t n = 200000;
    std::vector<float> x = uniform<float>(n, 0, 1, 101), y = labels<float>(n, 102);
    x[150001] = 1.5f;   // in the second half
    y[100003] = -0.5f;  // in block 12, the first thread's last
    x[180000] = -2.0f;
    for (int threads : {0, 1, 2, 3}) {
        SCOPED_TRACE(threads);
        Call<float> c;
        c.kind = Loss::kProbabilities;
        c.shape = {n};
        c.input = x;
        c.target = y;
        c.num_threads = threads;
        expect_range_error(run(c), "target", 100003);
        c.target[100003] = 0.25f;
        expect_range_error(run(c), "input", 150001);
        // Shaped input: the message still names the flat index.
        c.shape = {400, 500};
        expect_range_error(run(c), "input", 150001);
    }
}

TEST(BceOptions, PosWeightIsRejectedForProbabilities) {
    Call<double> c;
    c.kind = Loss::kProbabilities;
    c.shape = {3};
    c.input = {0.1, 0.5, 0.9};
    c.target = {0, 1, 1};
    c.pos_weight = Tensor<double>{{3}, {1, 2, 3}};
    const auto r = run(c);
    EXPECT_EQ(r.status, BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(r.message.find("pos_weight"), std::string::npos) << r.message;
}

}  // namespace
