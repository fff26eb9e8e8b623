// ignore_index, the normalised means (MEAN_BY_WEIGHT, MEAN_BY_NONZERO_WEIGHT, MEAN_VALID) and label smoothing,
// each against an independent long double computation: formulas written from the definitions, central finite
// differences for the target gradient under smoothing, and the element-by-element broadcast of test_util.h.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "bce4j/bce4j.h"
#include "test_util.h"

namespace {

using bce4j_test::Call;
using bce4j_test::close;
using bce4j_test::Expected;
using bce4j_test::expected;
using bce4j_test::LD;
using bce4j_test::ref_softplus;
using bce4j_test::run;
using bce4j_test::Tensor;
using bce4j_test::widened;

// Options the Call helper does not carry: set on a copy of what it would pass.
template <typename T>
bce4j_test::Outcome<T> run_with(const Call<T>& c, void (*configure)(bce4j_options&)) {
    bce4j_test::Outcome<T> r;
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = c.reduction;
    if (c.weight) {
        o.weight = c.weight->data.data();
        o.weight_ndim = static_cast<int32_t>(c.weight->shape.size());
        o.weight_shape = c.weight->shape.data();
    }
    configure(o);
    const int64_t n = bce4j_test::numel(c.shape);
    const bool none = c.reduction == BCE4J_REDUCTION_NONE;
    r.loss.assign(none ? static_cast<size_t>(n) : 1u, T(-7));
    r.grad_input.assign(static_cast<size_t>(n), T(-7));
    r.grad_target.assign(static_cast<size_t>(n), T(-7));
    const auto fn = c.kind == bce4j_test::Loss::kLogits ? bce4j_bce_with_logits : bce4j_bce;
    r.status = fn(&o, bce4j_test::dtype_of<T>(), static_cast<int32_t>(c.shape.size()), c.shape.data(), c.input.data(),
                  c.target.data(), nullptr, r.loss.data(), &r.reduced, r.grad_input.data(), r.grad_target.data());
    r.message = bce4j_last_error_message();
    return r;
}

// Logits [4, 5] with hard and soft labels, some of them -100 (ignored under the default ignore_index).
Call<double> logits_4x5(int32_t reduction) {
    Call<double> c;
    c.shape = {4, 5};
    for (int i = 0; i < 20; ++i) {
        c.input.push_back((i % 7 - 3) * 1.25 + 0.1 * i);
        c.target.push_back(i % 6 == 0 ? -100.0 : i % 4 == 0 ? 0.3 : (i % 3 == 0 ? 1.0 : 0.0));
    }
    c.reduction = reduction;
    return c;
}

void enable_ignore(bce4j_options& o) { o.has_ignore_index = 1; }

TEST(IgnoreIndex, IgnoredElementsGetZerosAndTheRestIsUnchanged) {
    const Call<double> c = logits_4x5(BCE4J_REDUCTION_NONE);
    const auto plain = run(c);  // without ignore_index a target of -100 is just a (strange) number
    const auto r = run_with(c, enable_ignore);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    for (size_t i = 0; i < c.target.size(); ++i) {
        if (c.target[i] == -100) {
            EXPECT_EQ(r.loss[i], 0.0) << i;
            EXPECT_EQ(r.grad_input[i], 0.0) << i;
            EXPECT_EQ(r.grad_target[i], 0.0) << i;
        } else {
            EXPECT_EQ(r.loss[i], plain.loss[i]) << i;
            EXPECT_EQ(r.grad_input[i], plain.grad_input[i]) << i;
        }
    }
}

TEST(IgnoreIndex, IgnoredElementsStillCountInMeanButNotInMeanValid) {
    Call<double> c = logits_4x5(BCE4J_REDUCTION_NONE);
    const auto per = run_with(c, enable_ignore);
    LD sum = 0;
    int valid = 0;
    for (size_t i = 0; i < c.target.size(); ++i) {
        sum += per.loss[i];
        valid += c.target[i] != -100;
    }
    c.reduction = BCE4J_REDUCTION_MEAN;
    const auto mean = run_with(c, enable_ignore);
    EXPECT_NEAR(mean.reduced, static_cast<double>(sum / 20), 1e-14);
    c.reduction = BCE4J_REDUCTION_MEAN_VALID;
    const auto mean_valid = run_with(c, enable_ignore);
    ASSERT_EQ(mean_valid.status, BCE4J_OK) << mean_valid.message;
    EXPECT_NEAR(mean_valid.reduced, static_cast<double>(sum / valid), 1e-14);
    for (size_t i = 0; i < c.target.size(); ++i) {
        EXPECT_NEAR(mean_valid.grad_input[i], per.grad_input[i] / valid, 1e-16) << i;
    }
}

TEST(IgnoreIndex, ProbabilitiesSkipTheRangeCheckOfIgnoredElementsOnly) {
    Call<double> c;
    c.kind = bce4j_test::Loss::kProbabilities;
    c.shape = {11};
    c.input = {0.2, 7.0, 0.5, 0.9, 0.1, 0.3, 0.6, 0.7, 0.4, 0.8, 0.05};  // 7 is invalid, but its target is ignored
    c.target = {1, -100, 0, 1, 0, 1, 0, 1, 0, 1, 0};
    c.reduction = BCE4J_REDUCTION_SUM;
    const auto r = run_with(c, enable_ignore);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    LD sum = 0;
    for (size_t i = 0; i < c.input.size(); ++i) {
        if (i != 1)
            sum += -(c.target[i] * std::log(static_cast<LD>(c.input[i])) +
                     (1 - c.target[i]) * std::log1p(-static_cast<LD>(c.input[i])));
    }
    EXPECT_NEAR(r.reduced, static_cast<double>(sum), 1e-13);
    EXPECT_EQ(r.grad_input[1], 0.0);
    c.target[1] = -99;  // not the ignore index: the range check applies
    EXPECT_EQ(run_with(c, enable_ignore).status, BCE4J_ERROR_OUT_OF_RANGE);
}

TEST(IgnoreIndex, Float32ThroughTheSimdKernelsMatchesFloat64) {
    Call<float> f;
    f.shape = {1003};
    for (int i = 0; i < 1003; ++i) {
        f.input.push_back(static_cast<float>((i % 37) * 0.5 - 9));
        f.target.push_back(i % 5 == 0 ? -100.0f : static_cast<float>(i % 3 == 0));
    }
    f.reduction = BCE4J_REDUCTION_MEAN_VALID;
    const auto rf = run_with(f, enable_ignore);
    const auto rd = run_with(widened(f), enable_ignore);
    ASSERT_EQ(rf.status, BCE4J_OK) << rf.message;
    EXPECT_NEAR(rf.reduced, rd.reduced, bce4j_test::reduced_tolerance<float>() * std::fabs(rd.reduced));
    for (size_t i = 0; i < f.target.size(); ++i) {
        if (f.target[i] == -100) {
            EXPECT_EQ(rf.grad_input[i], 0.0f) << i;
        } else {
            EXPECT_NEAR(rf.grad_input[i], rd.grad_input[i], 4e-7 * (std::fabs(rd.grad_input[i]) + 1e-3)) << i;
        }
    }
}

TEST(NormalisedMeans, ByWeightAndByNonzeroWeightDivideByTheBroadcastWeights) {
    Call<double> c = logits_4x5(BCE4J_REDUCTION_SUM);
    for (double& t : c.target) t = t == -100 ? 1 : t;
    c.weight = Tensor<double>{{5}, {1.5, 0, 2, 0.5, 0}};  // broadcast over 4 rows
    const auto sum = run(c);
    ASSERT_EQ(sum.status, BCE4J_OK) << sum.message;
    c.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    const auto by_weight = run(c);
    EXPECT_NEAR(by_weight.reduced, sum.reduced / (4 * 4.0), 1e-14);
    c.reduction = BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT;
    const auto by_nonzero = run(c);
    EXPECT_NEAR(by_nonzero.reduced, sum.reduced / (4 * 3.0), 1e-14);
    for (size_t i = 0; i < c.target.size(); ++i) {
        EXPECT_NEAR(by_weight.grad_input[i], sum.grad_input[i] / 16, 1e-16) << i;
        EXPECT_NEAR(by_nonzero.grad_target[i], sum.grad_target[i] / 12, 1e-16) << i;
    }
    // Without a weight both are the plain mean.
    c.weight.reset();
    c.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    const auto unweighted = run(c);
    c.reduction = BCE4J_REDUCTION_MEAN;
    EXPECT_EQ(unweighted.reduced, run(c).reduced);
}

TEST(NormalisedMeans, ZeroDenominatorsGiveZeroNotNaN) {
    Call<double> c = logits_4x5(BCE4J_REDUCTION_MEAN_BY_WEIGHT);
    for (double& t : c.target) t = t == -100 ? 1 : t;
    c.weight = Tensor<double>{{1}, {0}};
    for (int32_t reduction : {BCE4J_REDUCTION_MEAN_BY_WEIGHT, BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT}) {
        c.reduction = reduction;
        const auto r = run(c);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        EXPECT_EQ(r.reduced, 0.0) << reduction;
        for (double g : r.grad_input) EXPECT_EQ(g, 0.0) << reduction;
    }
    Call<double> all_ignored = logits_4x5(BCE4J_REDUCTION_MEAN_VALID);
    for (double& t : all_ignored.target) t = -100;
    const auto r = run_with(all_ignored, enable_ignore);
    EXPECT_EQ(r.reduced, 0.0);
    Call<double> empty;
    empty.shape = {0, 3};
    for (int32_t reduction :
         {BCE4J_REDUCTION_MEAN_BY_WEIGHT, BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT, BCE4J_REDUCTION_MEAN_VALID}) {
        empty.reduction = reduction;
        EXPECT_EQ(run(empty).reduced, 0.0) << reduction;
    }
    empty.reduction = BCE4J_REDUCTION_MEAN;
    EXPECT_TRUE(std::isnan(run(empty).reduced)) << "MEAN of nothing stays NaN, as in PyTorch";
}

void smooth_by_tenth_over_five(bce4j_options& o) {
    o.label_smoothing = 0.1;
    o.smoothing_classes = 5;
}

// The logits loss on a smoothed target, from its definition.
LD smoothed_loss(LD x, LD y) {
    const LD s = y * 0.9L + 0.1L / 5;
    return (1 - s) * ref_softplus(x) + s * ref_softplus(-x);
}

TEST(LabelSmoothing, LossOnTheSmoothedTargetAndGradTargetForTheGivenOne) {
    for (int32_t kind : {0, 1}) {
        Call<double> c;
        c.kind = kind == 0 ? bce4j_test::Loss::kLogits : bce4j_test::Loss::kProbabilities;
        c.shape = {6};
        c.input = kind == 0 ? std::vector<double>{-4, -0.5, 0, 0.5, 3, 20}
                            : std::vector<double>{0.01, 0.3, 0.5, 0.7, 0.95, 0.999};
        c.target = {0, 1, 0.25, 1, 0, 1};
        c.reduction = BCE4J_REDUCTION_NONE;
        const auto r = run_with(c, smooth_by_tenth_over_five);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        const auto loss_of = [&](LD x, LD y) {
            if (kind == 0) return smoothed_loss(x, y);
            const LD s = y * 0.9L + 0.02L;
            return -(s * std::log(x) + (1 - s) * std::log1p(-x));
        };
        const LD h = 1e-8L;  // long double: the rounding error of the difference stays near 1e-11
        for (size_t i = 0; i < c.input.size(); ++i) {
            const LD x = c.input[i], y = c.target[i];
            const LD dx = (loss_of(x + h, y) - loss_of(x - h, y)) / (2 * h);
            const LD dy = (loss_of(x, y + h) - loss_of(x, y - h)) / (2 * h);
            EXPECT_TRUE(close(r.loss[i], loss_of(x, y), 0, 1e-12)) << kind << " " << i;
            EXPECT_NEAR(r.grad_input[i], static_cast<double>(dx), 1e-7 * (1 + std::fabs(static_cast<double>(dx))));
            EXPECT_NEAR(r.grad_target[i], static_cast<double>(dy), 1e-7 * (1 + std::fabs(static_cast<double>(dy))));
        }
    }
}

TEST(LabelSmoothing, Float32SimdMatchesFloat64AndBadOptionsAreRejected) {
    Call<float> f;
    f.shape = {517};
    for (int i = 0; i < 517; ++i) {
        f.input.push_back(static_cast<float>((i % 41) * 0.4 - 8));
        f.target.push_back(static_cast<float>(i % 3 == 0));
    }
    f.reduction = BCE4J_REDUCTION_SUM;
    const auto rf = run_with(f, smooth_by_tenth_over_five);
    const Call<double> d = widened(f);
    const auto rd = run_with(d, smooth_by_tenth_over_five);
    ASSERT_EQ(rf.status, BCE4J_OK) << rf.message;
    EXPECT_NEAR(rf.reduced, rd.reduced, bce4j_test::reduced_tolerance<float>() * std::fabs(rd.reduced));
    for (size_t i = 0; i < f.input.size(); ++i) {
        EXPECT_NEAR(rf.grad_target[i], rd.grad_target[i], 1e-6 * (1 + std::fabs(rd.grad_target[i]))) << i;
    }
    for (void (*bad)(bce4j_options&) : {+[](bce4j_options& o) { o.label_smoothing = 1.5; },
                                        +[](bce4j_options& o) { o.label_smoothing = std::nan(""); },
                                        +[](bce4j_options& o) { o.smoothing_classes = 0; }}) {
        const auto r = run_with(d, bad);
        EXPECT_EQ(r.status, BCE4J_ERROR_INVALID_OPTION);
        EXPECT_NE(r.message.find("options."), std::string::npos) << r.message;
    }
}

void validate(bce4j_options& o) { o.validate_targets = 1; }
void validate_and_ignore(bce4j_options& o) {
    o.validate_targets = 1;
    o.has_ignore_index = 1;
}

TEST(ValidateTargets, LogitsNameTheFirstTargetOutsideTheUnitIntervalWhereverItIs) {
    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{33}, int64_t{100}, int64_t{9000}}) {
        for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
            Call<float> c;
            c.shape = {n};
            for (int64_t i = 0; i < n; ++i) {
                c.input.push_back(static_cast<float>(i % 9) - 4);
                c.target.push_back(i % 2 ? 1.0f : 0.25f);
            }
            c.target[at] = 1.5f;
            if (at + 1 < n) c.target[at + 1] = -3;  // a later one must not win
            c.reduction = BCE4J_REDUCTION_NONE;
            EXPECT_EQ(run(c).status, BCE4J_OK) << "off by default";
            const auto r = run_with(c, validate);
            ASSERT_EQ(r.status, BCE4J_ERROR_OUT_OF_RANGE) << n << " " << at;
            EXPECT_NE(r.message.find("target element " + std::to_string(at) + " "), std::string::npos) << r.message;
        }
    }
}

TEST(ValidateTargets, IgnoredAndNaNTargetsPass) {
    Call<double> c = logits_4x5(BCE4J_REDUCTION_SUM);  // holds -100 targets
    EXPECT_EQ(run_with(c, validate).status, BCE4J_ERROR_OUT_OF_RANGE);
    const auto ignored = run_with(c, validate_and_ignore);
    EXPECT_EQ(ignored.status, BCE4J_OK) << ignored.message;
    EXPECT_EQ(ignored.reduced, run_with(c, enable_ignore).reduced);
    for (double& t : c.target) t = t == -100 ? bce4j_test::kNaN : t;
    const auto nan = run_with(c, validate);
    EXPECT_EQ(nan.status, BCE4J_OK) << nan.message;
    EXPECT_TRUE(std::isnan(nan.reduced));
}

// Focal loss from its definition, directly (fine for moderate logits in long double).
LD focal_loss(LD x, LD y, LD gamma, LD alpha) {
    const LD p = 1 / (1 + std::exp(-x));
    const LD one_minus_pt = p * (1 - y) + (1 - p) * y;
    const LD alpha_t = alpha < 0 ? 1 : alpha * y + (1 - alpha) * (1 - y);
    const LD bce = (1 - y) * ref_softplus(x) + y * ref_softplus(-x);
    return alpha_t * std::pow(one_minus_pt, gamma) * bce;
}

struct FocalSetting {
    double gamma, alpha;
};

template <typename T>
bce4j_test::Outcome<T> run_focal(const Call<T>& c, FocalSetting s) {
    static FocalSetting setting;
    setting = s;
    return run_with(c, [](bce4j_options& o) {
        o.has_focal = 1;
        o.focal_gamma = setting.gamma;
        o.focal_alpha = setting.alpha;
    });
}

TEST(FocalLoss, MatchesItsDefinitionAndFiniteDifferences) {
    Call<double> c;
    for (double x : {-6.0, -1.5, -0.2, 0.0, 0.7, 2.0, 8.0}) {
        for (double y : {0.0, 0.2, 0.5, 1.0}) {
            c.input.push_back(x);
            c.target.push_back(y);
        }
    }
    c.shape = {static_cast<int64_t>(c.input.size())};
    c.reduction = BCE4J_REDUCTION_NONE;
    const LD h = 1e-8L;
    for (FocalSetting s : {FocalSetting{2, 0.25}, FocalSetting{2, -1}, FocalSetting{0.5, 0.75}, FocalSetting{1, -1}}) {
        const auto r = run_focal(c, s);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        for (size_t i = 0; i < c.input.size(); ++i) {
            const LD x = c.input[i], y = c.target[i];
            const auto f = [&](LD xx, LD yy) { return focal_loss(xx, yy, s.gamma, s.alpha); };
            const LD dx = (f(x + h, y) - f(x - h, y)) / (2 * h);
            // One-sided at the ends of [0, 1], where the definition stops.
            const LD dy = y == 0   ? (f(x, y + h) - f(x, y)) / h
                          : y == 1 ? (f(x, y) - f(x, y - h)) / h
                                   : (f(x, y + h) - f(x, y - h)) / (2 * h);
            SCOPED_TRACE(testing::Message()
                         << "gamma=" << s.gamma << " alpha=" << s.alpha << " x=" << c.input[i] << " y=" << c.target[i]);
            EXPECT_TRUE(close(r.loss[i], f(x, y), 0, 1e-12));
            EXPECT_NEAR(r.grad_input[i], static_cast<double>(dx), 1e-7 * (1 + std::fabs(static_cast<double>(dx))));
            EXPECT_NEAR(r.grad_target[i], static_cast<double>(dy), 2e-6 * (1 + std::fabs(static_cast<double>(dy))));
        }
    }
}

TEST(FocalLoss, GammaZeroWithoutAlphaIsPlainBceAndHugeLogitsStayFinite) {
    Call<double> c = logits_4x5(BCE4J_REDUCTION_NONE);
    for (double& t : c.target) t = t == -100 ? 0.6 : t;
    const auto plain = run(c);
    const auto zero = run_focal(c, {0, -1});
    for (size_t i = 0; i < c.input.size(); ++i) {  // gamma 0 without alpha runs the plain kernels (focal_changes_terms)
        EXPECT_NEAR(zero.loss[i], plain.loss[i], 1e-14 * (1 + std::fabs(plain.loss[i]))) << i;
        EXPECT_NEAR(zero.grad_input[i], plain.grad_input[i], 1e-14) << i;
    }
    Call<double> huge;
    huge.shape = {6};
    huge.input = {1e4, -1e4, 1e4, -1e4, 1e4, -1e4};
    huge.target = {1, 0, 0.3, 0.3, 0, 1};
    huge.reduction = BCE4J_REDUCTION_NONE;
    const auto r = run_focal(huge, {2, 0.25});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    for (size_t i = 0; i < 6; ++i) {
        EXPECT_TRUE(std::isfinite(r.loss[i]) && std::isfinite(r.grad_input[i]) && std::isfinite(r.grad_target[i]))
            << i << ": " << r.loss[i] << " " << r.grad_input[i] << " " << r.grad_target[i];
    }
    EXPECT_EQ(r.loss[0], 0.0) << "a confident right answer costs nothing";
    EXPECT_NEAR(r.loss[4], 0.75 * 1e4, 1e-9) << "alpha_t (1-p_t)^2 bce = 0.75 * 1 * 1e4 for a confident wrong one";
}

TEST(FocalLoss, Float32AndBadOptions) {
    Call<float> f;
    f.shape = {300};
    for (int i = 0; i < 300; ++i) {
        f.input.push_back(static_cast<float>((i % 23) * 0.5 - 5.5));
        f.target.push_back(static_cast<float>(i % 4 == 0));
    }
    f.reduction = BCE4J_REDUCTION_MEAN;
    const auto rf = run_focal(f, {2, 0.25});
    const auto rd = run_focal(widened(f), {2, 0.25});
    ASSERT_EQ(rf.status, BCE4J_OK) << rf.message;
    EXPECT_NEAR(rf.reduced, rd.reduced, 1e-6 * std::fabs(rd.reduced));
    for (FocalSetting bad : {FocalSetting{-1, 0.5}, FocalSetting{std::nan(""), -1}, FocalSetting{2, 1.5}}) {
        const auto r = run_focal(widened(f), bad);
        EXPECT_EQ(r.status, BCE4J_ERROR_INVALID_OPTION);
        EXPECT_NE(r.message.find("options.focal_"), std::string::npos) << r.message;
    }
}

}  // namespace
