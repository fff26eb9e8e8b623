// pos_weight_mode PADDLE_LEGACY (Paddle <= 2.5: pos_weight scales the whole loss) against an independent long
// double reference and central finite differences, its equality with TORCH on hard labels, and its option checks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <vector>

#include "bce4j/bce4j.h"
#include "test_util.h"

namespace {

using bce4j_test::Call;
using bce4j_test::close;
using bce4j_test::LD;
using bce4j_test::ref_softplus;
using bce4j_test::run;
using bce4j_test::Tensor;

// Paddle's legacy loss, written from its definition: (1 + (p-1)y) * ((1-y)*softplus(x) + y*softplus(-x)).
LD legacy_loss(LD x, LD y, LD p) { return (1 + (p - 1) * y) * ((1 - y) * ref_softplus(x) + y * ref_softplus(-x)); }

struct Grid {
    std::vector<double> x, y, p;
};

Grid grid() {
    Grid g;
    for (double x : {-30.0, -5.0, -1.0, -0.1, 0.0, 0.1, 1.0, 5.0, 30.0}) {
        for (double y : {0.0, 0.25, 0.5, 0.9, 1.0}) {
            for (double p : {0.5, 1.0, 3.0}) {
                g.x.push_back(x);
                g.y.push_back(y);
                g.p.push_back(p);
            }
        }
    }
    return g;
}

template <typename T>
Call<T> legacy_call(const Grid& g, int32_t mode) {
    Call<T> c;
    c.shape = {static_cast<int64_t>(g.x.size())};
    c.input.assign(g.x.begin(), g.x.end());
    c.target.assign(g.y.begin(), g.y.end());
    c.pos_weight = Tensor<T>{c.shape, std::vector<T>(g.p.begin(), g.p.end())};
    c.reduction = BCE4J_REDUCTION_NONE;
    c.pos_weight_mode = mode;
    return c;
}

TEST(PaddleLegacyPosWeight, MatchesItsDefinitionAndFiniteDifferences) {
    const Grid g = grid();
    const auto r = run(legacy_call<double>(g, BCE4J_POS_WEIGHT_PADDLE_LEGACY));
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    const LD h = 1e-6L;
    for (size_t i = 0; i < g.x.size(); ++i) {
        const LD x = g.x[i], y = g.y[i], p = g.p[i];
        const LD loss = legacy_loss(x, y, p);
        const LD dx = (legacy_loss(x + h, y, p) - legacy_loss(x - h, y, p)) / (2 * h);
        const LD dy = (legacy_loss(x, y + h, p) - legacy_loss(x, y - h, p)) / (2 * h);
        SCOPED_TRACE(testing::Message() << "x=" << g.x[i] << " y=" << g.y[i] << " p=" << g.p[i]);
        EXPECT_TRUE(close(r.loss[i], loss, 0, 1e-13));
        EXPECT_NEAR(r.grad_input[i], static_cast<double>(dx), 1e-8 * (1 + std::fabs(static_cast<double>(dx))));
        EXPECT_NEAR(r.grad_target[i], static_cast<double>(dy), 1e-8 * (1 + std::fabs(static_cast<double>(dy))));
    }
}

TEST(PaddleLegacyPosWeight, EqualsTorchModeInLossAndGradInputOnHardLabelsOnly) {
    Grid g = grid();
    const auto legacy = run(legacy_call<double>(g, BCE4J_POS_WEIGHT_PADDLE_LEGACY));
    const auto torch = run(legacy_call<double>(g, BCE4J_POS_WEIGHT_TORCH));
    ASSERT_EQ(legacy.status, BCE4J_OK) << legacy.message;
    ASSERT_EQ(torch.status, BCE4J_OK) << torch.message;
    bool soft_labels_differ = false;
    for (size_t i = 0; i < g.x.size(); ++i) {
        SCOPED_TRACE(testing::Message() << "x=" << g.x[i] << " y=" << g.y[i] << " p=" << g.p[i]);
        const bool hard = g.y[i] == 0.0 || g.y[i] == 1.0;
        if (hard) {
            EXPECT_NEAR(legacy.loss[i], torch.loss[i], 1e-15 * (1 + std::fabs(torch.loss[i])));
            EXPECT_NEAR(legacy.grad_input[i], torch.grad_input[i], 1e-15 * (1 + std::fabs(torch.grad_input[i])));
        } else if (g.p[i] != 1.0) {
            soft_labels_differ = soft_labels_differ || std::fabs(legacy.loss[i] - torch.loss[i]) > 1e-6;
        } else {  // p = 1: no pos_weight at all, both modes are the plain loss
            EXPECT_NEAR(legacy.loss[i], torch.loss[i], 1e-15 * (1 + std::fabs(torch.loss[i])));
        }
    }
    EXPECT_TRUE(soft_labels_differ) << "the modes must differ for soft labels with p != 1";
}

TEST(PaddleLegacyPosWeight, Float32AndReductionsFollowFloat64) {
    Grid g = grid();
    for (auto* values : {&g.x, &g.y, &g.p}) {
        for (double& v : *values) v = static_cast<float>(v);  // the same values in both dtypes
    }
    Call<float> f = legacy_call<float>(g, BCE4J_POS_WEIGHT_PADDLE_LEGACY);
    Call<double> d = legacy_call<double>(g, BCE4J_POS_WEIGHT_PADDLE_LEGACY);
    const auto rf = run(f);
    const auto rd = run(d);
    ASSERT_EQ(rf.status, BCE4J_OK) << rf.message;
    for (size_t i = 0; i < g.x.size(); ++i) {
        if (bce4j_test::float32_rounded_once()) {
            EXPECT_LE(bce4j_test::ulp_distance(rf.loss[i], static_cast<float>(rd.loss[i])), 1) << i;
            EXPECT_LE(bce4j_test::ulp_distance(rf.grad_input[i], static_cast<float>(rd.grad_input[i])), 1) << i;
            continue;
        }
        // The SIMD kernels: within their tolerance of the terms, c * (sigmoid(x)(1-y) + y sigmoid(-x)) for the
        // gradient, whose two terms cancel near sigmoid(x) = y (the loss's terms are all non-negative).
        const LD x = g.x[i], y = g.y[i], c = 1 + (g.p[i] - 1) * y;
        const LD grad_terms = c * (bce4j_test::ref_sigmoid(x) * (1 - y) + y * bce4j_test::ref_sigmoid(-x));
        const double rel = bce4j_test::tolerance<float>();
        EXPECT_TRUE(close(rf.loss[i], rd.loss[i], 0, rel)) << i;
        EXPECT_TRUE(close(rf.grad_input[i], rd.grad_input[i], grad_terms, rel)) << i;
    }
    d.reduction = BCE4J_REDUCTION_MEAN;
    const auto mean = run(d);
    LD sum = 0;
    for (double v : rd.loss) sum += v;
    EXPECT_NEAR(mean.reduced, static_cast<double>(sum / static_cast<LD>(g.x.size())), 1e-13);
    for (size_t i = 0; i < g.x.size(); ++i) {
        EXPECT_NEAR(mean.grad_input[i], rd.grad_input[i] / static_cast<double>(g.x.size()), 1e-16) << i;
    }
}

TEST(PaddleLegacyPosWeight, InfiniteLogitsGiveTheirLimits) {
    // y = 1, p = 3 at x = +inf: loss 3 * softplus(-inf) = 0; at x = -inf the loss is +inf.
    Grid g;
    g.x = {bce4j_test::kInf, -bce4j_test::kInf, bce4j_test::kInf};
    g.y = {1.0, 1.0, 0.0};
    g.p = {3.0, 3.0, 3.0};
    const auto r = run(legacy_call<double>(g, BCE4J_POS_WEIGHT_PADDLE_LEGACY));
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    EXPECT_EQ(r.loss[0], 0.0);
    EXPECT_EQ(r.loss[1], bce4j_test::kInf);
    EXPECT_EQ(r.loss[2], bce4j_test::kInf);
    EXPECT_EQ(r.grad_input[0], 0.0);
    EXPECT_EQ(r.grad_input[1], -3.0);
    EXPECT_EQ(r.grad_input[2], 1.0);
}

TEST(PaddleLegacyPosWeight, UnknownModeIsRejectedAndOldCallersGetTorch) {
    const Grid g = grid();
    Call<double> c = legacy_call<double>(g, 2);
    const auto bad = run(c);
    EXPECT_EQ(bad.status, BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(bad.message.find("pos_weight_mode"), std::string::npos) << bad.message;

    // A caller built before the field existed: its struct_size ends before it, so the mode is TORCH whatever
    // follows in memory.
    const double x[] = {0.5}, y[] = {0.3}, p[] = {4.0};
    const int64_t shape[] = {1};
    bce4j_options o;
    bce4j_options_init(&o);
    o.pos_weight = p;
    o.pos_weight_ndim = 1;
    o.pos_weight_shape = shape;
    o.reduction = BCE4J_REDUCTION_SUM;
    o.pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    double old_size = 0, torch = 0;
    o.struct_size = offsetof(bce4j_options, pos_weight_mode);
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 1, shape, x, y, nullptr, nullptr, &old_size, nullptr, nullptr),
              BCE4J_OK);
    o.struct_size = sizeof o;
    o.pos_weight_mode = BCE4J_POS_WEIGHT_TORCH;
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 1, shape, x, y, nullptr, nullptr, &torch, nullptr, nullptr),
              BCE4J_OK);
    EXPECT_EQ(old_size, torch);
}

}  // namespace
