// bce4j_bce_with_logits (PyTorch BCEWithLogitsLoss): values, broadcasting, reductions, upstream gradients,
// extremes, accuracy and finite-difference gradients, all against the long double references of test_util.h.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <tuple>
#include <vector>

#include "element_math.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;
using Shape = std::vector<int64_t>;

// One logits call on explicit per-element values, reduction NONE, returning the outcome.
template <typename T>
Outcome<T> logits_none(const std::vector<T>& x, const std::vector<T>& y, std::optional<Tensor<T>> pos_weight = {},
                       std::optional<Tensor<T>> weight = {}) {
    Call<T> c;
    c.shape = {static_cast<int64_t>(x.size())};
    c.input = x;
    c.target = y;
    c.reduction = BCE4J_REDUCTION_NONE;
    c.weight = std::move(weight);
    c.pos_weight = std::move(pos_weight);
    return run(c);
}

// ---- Closed forms -----------------------------------------------------------------------------------------------

TEST(LogitsClosedForm, ZeroLogitGivesLog2WhateverTheTarget) {
    // softplus(0) = log 2, and at x = 0 the loss is (1 + (p-1)y) log 2, grad 0.5*(1+(p-1)y) - p*y, grad_target
    // (p-1) log 2.
    const double ln2 = std::log(2.0);
    const auto r = logits_none<double>({0, 0, 0, 0, 0}, {0.5, 0, 1, 0.5, 1}, Tensor<double>{{5}, {1, 1, 1, 3, 3}});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    const double want_loss[] = {ln2, ln2, ln2, 2 * ln2, 3 * ln2};
    const double want_gi[] = {0.0, 0.5, -0.5, 0.5 * 2 - 1.5, 0.5 * 3 - 3};
    const double want_gt[] = {0, 0, 0, 2 * ln2, 2 * ln2};
    for (int i = 0; i < 5; ++i) {
        EXPECT_NEAR(r.loss[i], want_loss[i], 1e-15) << i;
        EXPECT_NEAR(r.grad_input[i], want_gi[i], 1e-15) << i;
        EXPECT_NEAR(r.grad_target[i], want_gt[i], 1e-15) << i;
    }
}

TEST(LogitsClosedForm, ConfidentCorrectPredictionsHaveTinyButExactLoss) {
    // y = 1, x = 40: loss = log1p(e^-40) ~ 4.25e-18, not rounded to 0 (no 1 - sigmoid cancellation).
    const auto r = logits_none<double>({40, -40, 2, -2}, {1, 0, 0, 1});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    const double tiny = std::log1p(std::exp(-40.0));
    EXPECT_GT(r.loss[0], 0.0);
    EXPECT_NEAR(r.loss[0], tiny, 1e-15 * tiny);
    EXPECT_NEAR(r.loss[1], tiny, 1e-15 * tiny);
    // x = 2, y = 0: softplus(2) = 2 + log1p(e^-2); x = -2, y = 1: the same by symmetry.
    const double sp2 = 2 + std::log1p(std::exp(-2.0));
    EXPECT_NEAR(r.loss[2], sp2, 1e-15 * sp2);
    EXPECT_NEAR(r.loss[3], sp2, 1e-15 * sp2);
    // Gradients: sigmoid(x) - y, and grad_target -x without pos_weight.
    EXPECT_NEAR(r.grad_input[0], -std::exp(-40.0) / (1 + std::exp(-40.0)), 1e-30);
    EXPECT_DOUBLE_EQ(r.grad_input[2], 1 / (1 + std::exp(-2.0)));
    EXPECT_DOUBLE_EQ(r.grad_input[3], -1 / (1 + std::exp(-2.0)));  // sigmoid(-2) - 1 = -sigmoid(2)
    EXPECT_EQ(r.grad_target[0], -40.0);
    EXPECT_EQ(r.grad_target[1], 40.0);
}

TEST(LogitsClosedForm, ZeroWeightMasksAndZeroPosWeightDropsPositives) {
    // weight 0 masks an element entirely (finite logits); pos_weight 0 removes the positive term: y=1 gives 0.
    const auto r =
        logits_none<double>({3, -1.5, 0.7}, {1, 1, 0}, Tensor<double>{{3}, {1, 0, 0}}, Tensor<double>{{3}, {0, 1, 1}});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_EQ(r.loss[0], 0.0);
    EXPECT_EQ(r.grad_input[0], 0.0);
    EXPECT_EQ(r.grad_target[0], 0.0);
    EXPECT_EQ(r.loss[1], 0.0);
    EXPECT_EQ(r.grad_input[1], 0.0);
    // p = 0, y = 1: dl/dy = p*softplus(-x) - softplus(x) = -softplus(-1.5).
    EXPECT_NEAR(r.grad_target[1], -std::log1p(std::exp(-1.5)), 1e-15);
    EXPECT_NEAR(r.loss[2], 0.7 + std::log1p(std::exp(-0.7)), 1e-15);  // p does not act on y = 0
}

TEST(LogitsClosedForm, ZeroWeightMasksInfiniteLogitsButNotNaN) {
    // weight 0 masks even where the unweighted loss is infinite (PyTorch gives 0 * inf = NaN); NaN still propagates.
    const auto r = logits_none<double>({kInf, -kInf, kNaN}, {0, 1, 0}, /*pos_weight=*/Tensor<double>{{3}, {1, 1, 1}},
                                       /*weight=*/Tensor<double>{{3}, {0, 0, 0}});
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(r.loss[i], 0.0) << i;
        EXPECT_EQ(r.grad_input[i], 0.0) << i;
        EXPECT_EQ(r.grad_target[i], 0.0) << i;
    }
    EXPECT_TRUE(std::isnan(r.loss[2]));
    EXPECT_TRUE(std::isnan(r.grad_input[2]));
    EXPECT_TRUE(std::isnan(r.grad_target[2]));
}

// ---- The seed example -------------------------------------------------------------------------------------------

TEST(LogitsSeedExample, Float32MeanMatchesPaddleAndTorch) {
    // logits [5,1,3], labels [1,0,1], mean: 0.45618813 (Paddle's doc shows 0.45618808, its float32 rounding).
    Call<float> c;
    c.shape = {3};
    c.input = {5, 1, 3};
    c.target = {1, 0, 1};
    const auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_NEAR(r.loss[0], 0.45618813f, 1e-7);
    EXPECT_NEAR(r.reduced, 0.45618813, 1e-7);
    const double x[] = {5, 1, 3}, y[] = {1, 0, 1};
    for (int i = 0; i < 3; ++i) {
        EXPECT_NEAR(r.grad_input[i], (1 / (1 + std::exp(-x[i])) - y[i]) / 3, 3e-8) << i;
        EXPECT_FLOAT_EQ(r.grad_target[i], static_cast<float>(-x[i] / 3)) << i;
    }
}

TEST(LogitsSeedExample, Float64MeanWithin1e15OfExact) {
    Call<double> c;
    c.shape = {3};
    c.input = {5, 1, 3};
    c.target = {1, 0, 1};
    const auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    const LD exact = (ref_softplus(-5.0L) + ref_softplus(1.0L) + ref_softplus(-3.0L)) / 3;
    EXPECT_TRUE(close(r.reduced, exact, 0, 1e-15));
    EXPECT_TRUE(close(r.loss[0], exact, 0, 1e-15));
    EXPECT_NEAR(r.reduced, 0.45618813, 5e-9);
    // The brief's textbook formula gives the same number (sanity check of the reference itself).
    const LD textbook =
        (ref_logits_loss_textbook(5, 1, 1) + ref_logits_loss_textbook(1, 0, 1) + ref_logits_loss_textbook(3, 1, 1)) / 3;
    EXPECT_LT(std::fabs(textbook - exact), 1e-17L);
    const LD x[] = {5, 1, 3}, y[] = {1, 0, 1};
    for (int i = 0; i < 3; ++i) {
        EXPECT_TRUE(close(r.grad_input[i], (ref_sigmoid(x[i]) - y[i]) / 3, 0, 1e-15)) << i;
        EXPECT_TRUE(close(r.grad_target[i], -x[i] / 3, 0, 1e-15)) << i;
    }
}

// ---- Multi-label [4,7] with per-class weight and pos_weight ------------------------------------------------------

template <typename T>
Call<T> multilabel_4x7(int32_t reduction) {
    Call<T> c;
    c.shape = {4, 7};
    c.input = {0.5,  -1.2, 2.3,  -0.7, 1.1, -2.5, 0.0, 3.2, -0.4, 0.9,  -1.8, 0.3, 1.7,  -3.1,
               -0.6, 2.2,  -1.4, 0.8,  0.0, -0.9, 2.7, 1.5, -2.2, -0.1, 0.6,  4.0, -0.3, 1.9};
    c.target = {1, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0.3, 1, 0.8, 1, 0, 1};
    c.weight = Tensor<T>{{7}, {1.0, 0.5, 2.0, 1.5, 0.25, 1.0, 3.0}};
    c.pos_weight = Tensor<T>{{7}, {2.0, 1.0, 0.5, 3.0, 1.25, 4.0, 1.0}};
    c.reduction = reduction;
    return c;
}

TEST(LogitsMultiLabel, Shape4x7WithClassWeightAndPosWeightAllReductions) {
    for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
        SCOPED_TRACE(red);
        const Call<double> cd = multilabel_4x7<double>(red);
        expect_matches(cd, run(cd), expected(cd));
        const Call<float> cf = multilabel_4x7<float>(red);
        expect_matches(cf, run(cf), expected(cf));
    }
}

TEST(LogitsMultiLabel, MeanIsSumOverElementCountNotOverWeights) {
    // PyTorch divides by the element count (28), never by the weights' sum.
    const auto mean = run(multilabel_4x7<double>(BCE4J_REDUCTION_MEAN));
    const auto sum = run(multilabel_4x7<double>(BCE4J_REDUCTION_SUM));
    ASSERT_EQ(mean.status, BCE4J_OK);
    ASSERT_EQ(sum.status, BCE4J_OK);
    EXPECT_DOUBLE_EQ(mean.reduced, sum.reduced / 28);
    for (int i = 0; i < 28; ++i) EXPECT_DOUBLE_EQ(mean.grad_input[i], sum.grad_input[i] / 28) << i;
}

// ---- Broadcasting of weight and pos_weight -----------------------------------------------------------------------

struct BroadcastCase {
    Shape input;
    std::optional<Shape> weight, pos_weight;
};

std::string case_name(const BroadcastCase& b) {
    auto s = [](const std::optional<Shape>& v) {
        if (!v) return std::string("none");
        if (v->empty()) return std::string("scalar");
        std::string out;
        for (size_t i = 0; i < v->size(); ++i) out += (i ? "x" : "") + std::to_string((*v)[i]);
        return out;
    };
    return "in_" + s(b.input) + "_w_" + s(b.weight) + "_p_" + s(b.pos_weight);
}

// Prints the case as its name, so that CTest's test names read e.g. ".../in_6x5_w_5_p_none".
void PrintTo(const BroadcastCase& b, std::ostream* os) { *os << case_name(b); }

class LogitsBroadcast : public ::testing::TestWithParam<BroadcastCase> {};

template <typename T>
void check_broadcast_case(const BroadcastCase& b, int32_t reduction) {
    const int64_t n = numel(b.input);
    Call<T> c;
    c.shape = b.input;
    c.input = uniform<T>(n, -6, 6, 11);
    c.target = labels<T>(n, 12);
    if (b.weight) c.weight = random_operand<T>(*b.weight, 0.1, 2.0, 13);
    if (b.pos_weight) c.pos_weight = random_operand<T>(*b.pos_weight, 0.2, 4.0, 14);
    c.reduction = reduction;
    if (reduction == BCE4J_REDUCTION_NONE) c.grad_output = uniform<T>(n, -2, 2, 15);
    expect_matches(c, run(c), expected(c));
}

TEST_P(LogitsBroadcast, MatchesIndexByIndexBroadcast) {
    for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_MEAN}) {
        SCOPED_TRACE(red);
        check_broadcast_case<double>(GetParam(), red);
        check_broadcast_case<float>(GetParam(), red);
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, LogitsBroadcast,
    ::testing::Values(
        // [N,C]
        BroadcastCase{{6, 5}, Shape{6, 5}, Shape{6, 5}}, BroadcastCase{{6, 5}, Shape{5}, std::nullopt},
        BroadcastCase{{6, 5}, std::nullopt, Shape{5}}, BroadcastCase{{6, 5}, Shape{6, 1}, Shape{5}},
        BroadcastCase{{6, 5}, Shape{1}, Shape{6, 1}}, BroadcastCase{{6, 5}, Shape{}, Shape{}},
        BroadcastCase{{6, 5}, Shape{1, 5}, Shape{6, 5}}, BroadcastCase{{6, 5}, Shape{1, 1}, Shape{1, 5}},
        BroadcastCase{{6, 5}, Shape{6, 5}, Shape{6, 1}},
        // [A,B,C]
        BroadcastCase{{3, 4, 5}, Shape{3, 4, 5}, Shape{5}}, BroadcastCase{{3, 4, 5}, Shape{3, 1, 5}, Shape{4, 1}},
        BroadcastCase{{3, 4, 5}, Shape{4, 1}, Shape{3, 1, 5}}, BroadcastCase{{3, 4, 5}, Shape{5}, Shape{4, 5}},
        BroadcastCase{{3, 4, 5}, Shape{3, 1, 1}, Shape{1, 4, 1}}, BroadcastCase{{3, 4, 5}, Shape{}, Shape{3, 4, 1}},
        BroadcastCase{{3, 4, 5}, Shape{1, 4, 5}, std::nullopt},
        // size-1 input dims, 4-d
        BroadcastCase{{1, 4, 1, 5}, Shape{5}, Shape{4, 1, 1}},
        BroadcastCase{{2, 3, 1, 4}, Shape{2, 1, 1, 4}, Shape{3, 1, 1}}, BroadcastCase{{7}, Shape{7}, Shape{1}}));

// ---- Reductions, upstream gradient and outputs ---------------------------------------------------------------------

TEST(LogitsReduction, UpstreamGradientScalesGradientsForMeanAndSum) {
    // For MEAN/SUM grad_output is ONE scalar g: gradients are g*dl (divided by the count for MEAN).
    for (int32_t red : {BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
        Call<double> c = multilabel_4x7<double>(red);
        c.grad_output = std::vector<double>{-2.5};
        expect_matches(c, run(c), expected(c));
        // The loss itself does not depend on g.
        Call<double> plain = multilabel_4x7<double>(red);
        EXPECT_EQ(run(c).reduced, run(plain).reduced);
    }
}

TEST(LogitsReduction, NoneTakesInputShapedUpstreamGradient) {
    Call<float> c = multilabel_4x7<float>(BCE4J_REDUCTION_NONE);
    c.grad_output = uniform<float>(28, -3, 3, 5);
    const auto r = run(c);
    expect_matches(c, r, expected(c));
}

TEST(LogitsReduction, NullUpstreamGradientMeansOne) {
    for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
        Call<double> with_null = multilabel_4x7<double>(red);
        Call<double> with_ones = with_null;
        with_ones.grad_output = std::vector<double>(red == BCE4J_REDUCTION_NONE ? 28 : 1, 1.0);
        const auto a = run(with_null), b = run(with_ones);
        ASSERT_EQ(a.status, BCE4J_OK);
        ASSERT_EQ(b.status, BCE4J_OK);
        EXPECT_TRUE(bitwise_equal(a.grad_input, b.grad_input)) << red;
        EXPECT_TRUE(bitwise_equal(a.grad_target, b.grad_target)) << red;
        EXPECT_TRUE(bitwise_equal(a.loss, b.loss)) << red;
    }
}

TEST(LogitsReduction, ReducedLossWritesOneElementAndNoneLeavesReducedLossAlone) {
    const float x[3] = {5, 1, 3}, y[3] = {1, 0, 1};
    const int64_t shape[1] = {3};
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = BCE4J_REDUCTION_SUM;
    float loss[2] = {-7, -7};
    double reduced = -7;
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT32, 1, shape, x, y, nullptr, loss, &reduced, nullptr, nullptr),
              BCE4J_OK);
    EXPECT_NEAR(reduced, 3 * 0.45618813, 3e-8 + 3 * bce4j_test::reduced_tolerance<float>());
    EXPECT_EQ(loss[0], static_cast<float>(reduced));
    EXPECT_EQ(loss[1], -7.0f) << "a reduced loss must write exactly one element";

    o.reduction = BCE4J_REDUCTION_NONE;
    float per[3];
    reduced = -7;
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT32, 1, shape, x, y, nullptr, per, &reduced, nullptr, nullptr),
              BCE4J_OK);
    EXPECT_EQ(reduced, -7.0) << "reduced_loss is ignored for NONE";
    EXPECT_NEAR(per[1], 1.3132617f, 1e-6);
}

TEST(LogitsReduction, OutputsAreIndependentlyOptional) {
    // Asking for only one output gives the same values as asking for all of them.
    const Call<double> all = multilabel_4x7<double>(BCE4J_REDUCTION_NONE);
    const auto full = run(all);
    ASSERT_EQ(full.status, BCE4J_OK);
    Call<double> only_gt = all;
    only_gt.want_loss = only_gt.want_grad_input = false;
    const auto r1 = run(only_gt);
    ASSERT_EQ(r1.status, BCE4J_OK);
    EXPECT_TRUE(bitwise_equal(r1.grad_target, full.grad_target));
    Call<double> nothing = all;
    nothing.want_loss = nothing.want_grad_input = nothing.want_grad_target = false;
    nothing.reduction = BCE4J_REDUCTION_SUM;
    const auto r2 = run(nothing);
    ASSERT_EQ(r2.status, BCE4J_OK);
    LD sum = 0;
    for (double v : full.loss) sum += v;
    EXPECT_NEAR(r2.reduced, static_cast<double>(sum), 1e-12 * std::fabs(static_cast<double>(sum)));
}

// ---- Empty and 0-d inputs -----------------------------------------------------------------------------------------

TEST(LogitsEmpty, NoneWritesNothingSumIsZeroMeanIsNaN) {
    for (const Shape& shape : {Shape{0}, Shape{3, 0}, Shape{0, 5}}) {
        SCOPED_TRACE(shape_str(shape));
        bce4j_options o;
        bce4j_options_init(&o);
        double guard[1] = {-7};
        double reduced = -7;
        // NULL data is fine for an empty input.
        o.reduction = BCE4J_REDUCTION_NONE;
        ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, static_cast<int32_t>(shape.size()), shape.data(), nullptr,
                                        nullptr, nullptr, guard, &reduced, guard, guard),
                  BCE4J_OK)
            << bce4j_last_error_message();
        EXPECT_EQ(guard[0], -7.0);
        EXPECT_EQ(reduced, -7.0);

        o.reduction = BCE4J_REDUCTION_SUM;
        ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, static_cast<int32_t>(shape.size()), shape.data(), nullptr,
                                        nullptr, nullptr, guard, &reduced, nullptr, nullptr),
                  BCE4J_OK);
        EXPECT_EQ(reduced, 0.0);
        EXPECT_EQ(guard[0], 0.0);

        o.reduction = BCE4J_REDUCTION_MEAN;
        float fguard[1] = {-7};
        ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT32, static_cast<int32_t>(shape.size()), shape.data(), nullptr,
                                        nullptr, nullptr, fguard, &reduced, nullptr, nullptr),
                  BCE4J_OK);
        EXPECT_TRUE(std::isnan(reduced));
        EXPECT_TRUE(std::isnan(fguard[0]));
    }
}

TEST(LogitsEmpty, EmptyInputStillChecksWeightBroadcast) {
    // An empty [3,0] input takes a [0] weight but not a [2] one.
    Call<double> c;
    c.shape = {3, 0};
    c.reduction = BCE4J_REDUCTION_SUM;
    c.weight = Tensor<double>{{0}, {1.0}};  // a non-NULL pointer; shape [0] means nothing is read
    auto r = run(c);
    EXPECT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_EQ(r.reduced, 0.0);
    c.weight = Tensor<double>{{2}, {1, 1}};
    r = run(c);
    EXPECT_EQ(r.status, BCE4J_ERROR_BROADCAST);
}

TEST(LogitsScalar, ZeroDimInputIsOneElement) {
    for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
        SCOPED_TRACE(red);
        Call<double> c;
        c.shape = {};  // ndim 0, shape pointer NULL
        c.input = {-1.25};
        c.target = {0.75};
        c.weight = Tensor<double>{{}, {0.5}};
        c.pos_weight = Tensor<double>{{}, {2.0}};
        c.reduction = red;
        c.grad_output = std::vector<double>{3.0};
        expect_matches(c, run(c), expected(c));
        Call<float> f;
        f.shape = {};
        f.input = {2.5f};
        f.target = {0.0f};
        f.reduction = red;
        expect_matches(f, run(f), expected(f));
    }
}

// ---- Odd lengths across the 8192-element reduction blocks and the 32768-element OpenMP threshold ----------------

class LogitsLength : public ::testing::TestWithParam<int64_t> {};

TEST_P(LogitsLength, OneDimensionalWithScalarWeights) {
    const int64_t n = GetParam();
    for (int32_t red : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM}) {
        Call<float> c;
        c.shape = {n};
        c.input = uniform<float>(n, -8, 8, 21 + n);
        c.target = labels<float>(n, 22 + n);
        c.weight = Tensor<float>{{}, {0.75f}};
        c.pos_weight = Tensor<float>{{1}, {2.5f}};
        c.reduction = red;
        expect_matches(c, run(c), expected(c));
    }
}

TEST_P(LogitsLength, TwoDimensionalRowsCutByBlockBoundaries) {
    // [n/7 rounded up, 7] with per-class weight and per-row pos_weight: blocks start in the middle of rows.
    const int64_t rows = (GetParam() + 6) / 7;
    Call<double> c;
    c.shape = {rows, 7};
    const int64_t n = rows * 7;
    c.input = uniform<double>(n, -8, 8, 31);
    c.target = labels<double>(n, 32);
    c.weight = random_operand<double>({7}, 0.1, 2, 33);
    c.pos_weight = random_operand<double>({rows, 1}, 0.2, 4, 34);
    c.reduction = BCE4J_REDUCTION_SUM;
    expect_matches(c, run(c), expected(c));
}

INSTANTIATE_TEST_SUITE_P(Sizes, LogitsLength,
                         ::testing::Values<int64_t>(1, 3, 8191, 8192, 8193, 32767, 32768, 32769, 100003));

TEST(LogitsLengthLarge, ThreeDimsWithMiddleBroadcastAcrossManyBlocks) {
    // [37,41,67] = 101639 elements, weight [37,1,67], pos_weight [41,1]: every block boundary lands at a different
    // position inside the index space, and the run goes through OpenMP.
    Call<double> c;
    c.shape = {37, 41, 67};
    const int64_t n = numel(c.shape);
    c.input = uniform<double>(n, -10, 10, 41);
    c.target = labels<double>(n, 42);
    c.weight = random_operand<double>({37, 1, 67}, 0.1, 2, 43);
    c.pos_weight = random_operand<double>({41, 1}, 0.2, 4, 44);
    c.reduction = BCE4J_REDUCTION_NONE;
    c.grad_output = uniform<double>(n, -1, 1, 45);
    for (int threads : {1, 2}) {
        c.num_threads = threads;
        expect_matches(c, run(c), expected(c));
    }
}

// ---- Extremes, infinities and NaN --------------------------------------------------------------------------------

template <typename T>
void check_extremes() {
    const double xs[] = {1e4, -1e4, 88, -88, 1e30, -1e30};
    const double ys[] = {0, 0.5, 1};
    for (double p : {1.0, 3.0}) {
        std::vector<T> x, y;
        for (double xv : xs) {
            for (double yv : ys) {
                x.push_back(static_cast<T>(xv));
                y.push_back(static_cast<T>(yv));
            }
        }
        Call<T> c;
        c.shape = {static_cast<int64_t>(x.size())};
        c.input = x;
        c.target = y;
        c.pos_weight = Tensor<T>{{}, {static_cast<T>(p)}};
        c.reduction = BCE4J_REDUCTION_NONE;
        const auto r = run(c);
        ASSERT_EQ(r.status, BCE4J_OK) << r.message;
        for (size_t i = 0; i < x.size(); ++i) {
            EXPECT_TRUE(std::isfinite(r.loss[i]) && std::isfinite(r.grad_input[i]) && std::isfinite(r.grad_target[i]))
                << "x=" << x[i] << " y=" << y[i] << " p=" << p;
            EXPECT_GE(r.loss[i], 0) << "x=" << x[i] << " y=" << y[i];
        }
        expect_matches(c, r, expected(c));
    }
}

TEST(LogitsExtremes, LargeFiniteLogitsGiveFiniteAccurateResultsFloat32) { check_extremes<float>(); }
TEST(LogitsExtremes, LargeFiniteLogitsGiveFiniteAccurateResultsFloat64) { check_extremes<double>(); }

TEST(LogitsExtremes, LargeLogitLimitsAreExact) {
    // Hand-checked limits: a saturated correct prediction costs 0, a saturated wrong one costs |x|.
    const auto r = logits_none<float>({1e4f, -1e4f, 1e4f, -1e4f, 1e30f}, {1, 0, 0, 1, 0.5f});
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_EQ(r.loss[0], 0.0f);
    EXPECT_EQ(r.grad_input[0], 0.0f);
    EXPECT_EQ(r.loss[1], 0.0f);
    EXPECT_EQ(r.grad_input[1], 0.0f);
    EXPECT_EQ(r.loss[2], 1e4f);
    EXPECT_EQ(r.grad_input[2], 1.0f);
    EXPECT_EQ(r.loss[3], 1e4f);
    EXPECT_EQ(r.grad_input[3], -1.0f);
    EXPECT_EQ(r.loss[4], 5e29f);
    EXPECT_EQ(r.grad_input[4], 0.5f);
    EXPECT_EQ(r.grad_target[4], -1e30f);
}

TEST(LogitsExtremes, InfiniteLogitsGiveTheTrueLimitNotNaN) {
    // (x, y, p) -> (loss, grad_input, grad_target); PyTorch returns NaN for several of these (issue #49844).
    struct Row {
        double x, y, p, loss, gi, gt;
    };
    const Row rows[] = {
        {kInf, 1, 1, 0, 0, -kInf},     {kInf, 0, 1, kInf, 1, -kInf},     {-kInf, 0, 1, 0, 0, kInf},
        {-kInf, 1, 1, kInf, -1, kInf}, {kInf, 0.5, 1, kInf, 0.5, -kInf}, {-kInf, 0.5, 1, kInf, -0.5, kInf},
        {kInf, 1, 3, 0, 0, -kInf},     {-kInf, 1, 3, kInf, -3, kInf},    {-kInf, 0, 3, 0, 0, kInf},
    };
    for (const Row& row : rows) {
        for (int dtype = 0; dtype < 2; ++dtype) {
            SCOPED_TRACE(::testing::Message()
                         << "x=" << row.x << " y=" << row.y << " p=" << row.p << " dtype=" << dtype);
            double loss, gi, gt;
            if (dtype == 0) {
                const auto r = logits_none<float>({static_cast<float>(row.x)}, {static_cast<float>(row.y)},
                                                  Tensor<float>{{}, {static_cast<float>(row.p)}});
                ASSERT_EQ(r.status, BCE4J_OK);
                loss = r.loss[0], gi = r.grad_input[0], gt = r.grad_target[0];
            } else {
                const auto r = logits_none<double>({row.x}, {row.y}, Tensor<double>{{}, {row.p}});
                ASSERT_EQ(r.status, BCE4J_OK);
                loss = r.loss[0], gi = r.grad_input[0], gt = r.grad_target[0];
            }
            EXPECT_EQ(loss, row.loss);
            EXPECT_EQ(gi, row.gi);
            EXPECT_EQ(gt, row.gt);
        }
    }
}

TEST(LogitsExtremes, InfiniteLogitInASumGivesInfiniteOrFiniteTotal) {
    Call<double> c;
    c.shape = {3};
    c.input = {kInf, -kInf, 0.0};
    c.target = {1, 0, 0.5};
    c.reduction = BCE4J_REDUCTION_SUM;
    auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_DOUBLE_EQ(r.reduced, std::log(2.0));  // the saturated-correct terms contribute exactly 0
    c.target = {0, 0, 0.5};
    r = run(c);
    EXPECT_EQ(r.reduced, kInf);
}

TEST(LogitsNaN, NaNLogitPropagatesToLossAndBothGradients) {
    for (double y : {0.0, 0.5, 1.0}) {
        for (double p : {1.0, 3.0}) {
            const auto r = logits_none<double>({kNaN, 1.0}, {y, y}, Tensor<double>{{}, {p}});
            ASSERT_EQ(r.status, BCE4J_OK);
            EXPECT_TRUE(std::isnan(r.loss[0])) << "y=" << y << " p=" << p;
            EXPECT_TRUE(std::isnan(r.grad_input[0])) << "y=" << y << " p=" << p;
            EXPECT_TRUE(std::isnan(r.grad_target[0])) << "y=" << y << " p=" << p;
            EXPECT_FALSE(std::isnan(r.loss[1])) << "NaN must not leak into a neighbour";
            const auto f = logits_none<float>({std::nanf(""), 1.0f}, {static_cast<float>(y), static_cast<float>(y)},
                                              Tensor<float>{{}, {static_cast<float>(p)}});
            EXPECT_TRUE(std::isnan(f.loss[0]) && std::isnan(f.grad_input[0]) && std::isnan(f.grad_target[0]));
        }
    }
}

TEST(LogitsNaN, NaNTargetGivesNaNLossAndGradInputAndNaNSum) {
    Call<double> c;
    c.shape = {2};
    c.input = {0.5, -2.0};
    c.target = {kNaN, 1};
    c.reduction = BCE4J_REDUCTION_MEAN;
    const auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK);
    EXPECT_TRUE(std::isnan(r.reduced));
    EXPECT_TRUE(std::isnan(r.grad_input[0]));
    EXPECT_FALSE(std::isnan(r.grad_input[1]));
    // Without pos_weight dl/dy = -x does not depend on y at all, so it stays finite.
    EXPECT_DOUBLE_EQ(r.grad_target[0], -0.5 / 2);
}

// ---- Gradients against central finite differences -----------------------------------------------------------------

TEST(LogitsGradient, MatchesCentralDifferencesInInputAndTarget) {
    const int64_t n = 120;
    Call<double> c;
    c.shape = {20, 6};
    c.input = uniform<double>(n, -5, 5, 51);
    c.target = uniform<double>(n, 0, 1, 52);                               // soft labels everywhere
    for (int64_t i = 0; i < n; i += 10) c.target[i] = i % 20 ? 1.0 : 0.0;  // and a few hard ones
    c.weight = random_operand<double>({6}, 0.2, 2, 53);
    c.pos_weight = random_operand<double>({20, 1}, 0.3, 4, 54);
    c.reduction = BCE4J_REDUCTION_NONE;
    const auto at = run(c);
    ASSERT_EQ(at.status, BCE4J_OK);
    // Each element's loss depends only on its own x and y, so perturbing all of them at once gives every partial.
    const double h = 1e-5;
    auto shifted = [&](bool input, double delta) {
        Call<double> s = c;
        for (auto& v : input ? s.input : s.target) v += delta;
        return run(s).loss;
    };
    const auto xp = shifted(true, h), xm = shifted(true, -h), yp = shifted(false, h), ym = shifted(false, -h);
    for (int64_t i = 0; i < n; ++i) {
        const double dx = (xp[i] - xm[i]) / (2 * h), dy = (yp[i] - ym[i]) / (2 * h);
        EXPECT_NEAR(at.grad_input[i], dx, 1e-7 * (1 + std::fabs(dx))) << i;
        EXPECT_NEAR(at.grad_target[i], dy, 1e-7 * (1 + std::fabs(dy))) << i;
    }
}

// ---- Accuracy -----------------------------------------------------------------------------------------------------

std::vector<std::tuple<double, double, double>> accuracy_grid() {
    std::vector<std::tuple<double, double, double>> g;
    for (int k = -240; k <= 240; ++k) {
        for (double y : {0.0, 0.3, 1.0}) {
            for (double p : {0.5, 1.0, 3.0}) g.emplace_back(k / 8.0 + 0.01 * (k % 3), y, p);  // x in [-30.02, 30.02]
        }
    }
    return g;
}

template <typename T>
Call<T> grid_call() {
    Call<T> c;
    const auto g = accuracy_grid();
    c.shape = {static_cast<int64_t>(g.size())};
    std::vector<T> p;
    for (const auto& [x, y, pw] : g) {
        c.input.push_back(static_cast<T>(x));
        c.target.push_back(static_cast<T>(y));
        p.push_back(static_cast<T>(pw));
    }
    c.pos_weight = Tensor<T>{c.shape, p};
    c.reduction = BCE4J_REDUCTION_NONE;
    return c;
}

TEST(LogitsAccuracy, Float64Within1e12OfLongDoubleOverGrid) {
    const Call<double> c = grid_call<double>();
    expect_matches(c, run(c), expected(c), 1e-12);
    // The loss has no cancellation at all: it must be accurate relative to its own value, even where it is tiny.
    const auto r = run(c);
    const Expected e = expected(c);
    for (size_t i = 0; i < e.loss.size(); ++i) {
        EXPECT_TRUE(close(r.loss[i], e.loss[i], 0, 1e-12)) << "x=" << c.input[i] << " y=" << c.target[i];
    }
}

TEST(LogitsAccuracy, Float32IsTheFloat64ResultWithinItsTolerance) {
    const Call<float> cf = grid_call<float>();
    const Call<double> cd = bce4j_test::widened(cf);
    bce4j_test::expect_float32_outcome_matches(run(cf), run(cd), expected(cd));
    // The float32 reduction is accumulated in double: it equals the float64 one to double precision when float32
    // is computed in double, otherwise to the float32 elements' precision (all losses are positive here).
    Call<float> sf = cf;
    Call<double> sd = cd;
    sf.reduction = sd.reduction = BCE4J_REDUCTION_SUM;
    const auto a = run(sf);
    const auto b = run(sd);
    EXPECT_NEAR(a.reduced, b.reduced, bce4j_test::reduced_tolerance<float>() * std::fabs(b.reduced));
}

TEST(LogitsElementMath, InternalFormulasAgreeWithReferenceAndHandleZeroTimesInfinity) {
    // element_math.h is the single source of truth for every kernel: check it directly too.
    for (const auto& [x, y, p] : accuracy_grid()) {
        const auto t = bce4j::math::logits_terms<double>(x, y, p);
        const RefTerms r = ref_logits(x, y, p);
        EXPECT_TRUE(close(t.loss, r.loss, 0, 1e-12)) << x << " " << y << " " << p;
        EXPECT_TRUE(close(t.grad_input, r.grad_input, r.grad_input_scale, 1e-12)) << x << " " << y << " " << p;
        EXPECT_TRUE(close(t.grad_target, r.grad_target, r.grad_target_scale, 1e-12)) << x << " " << y << " " << p;
    }
    EXPECT_EQ(bce4j::math::scaled(0.0, kInf), 0.0);
    EXPECT_EQ(bce4j::math::scaled(2.0, kInf), kInf);
    EXPECT_EQ(bce4j::math::scaled(-0.5, 4.0), -2.0);
}

}  // namespace
