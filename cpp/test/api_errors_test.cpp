// The C ABI's argument checking: every bad argument gives its status and a message that names the argument, a
// successful call clears the message, options follow the struct_size protocol, and the informational functions
// return sensible strings.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace bce4j_test;
using Shape = std::vector<int64_t>;

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// A valid little problem for the error tests to spoil one argument at a time.
struct Fixture {
    double x[28], y[28], gi[28];
    double reduced = 0;
    Fixture() {
        for (int i = 0; i < 28; ++i) {
            x[i] = 0.1 * i - 1.4;
            y[i] = (i % 2) ? 1.0 : 0.25;
        }
    }
};

const int64_t kShape[2] = {4, 7};

bce4j_status logits(const bce4j_options* o, Fixture& f, int32_t ndim = 2, const int64_t* shape = kShape,
                    bce4j_dtype dtype = BCE4J_FLOAT64) {
    return bce4j_bce_with_logits(o, dtype, ndim, shape, f.x, f.y, nullptr, nullptr, &f.reduced, f.gi, nullptr);
}

std::string message() { return bce4j_last_error_message(); }

TEST(ApiErrors, NullInputOrTargetWithNonEmptyShape) {
    Fixture f;
    EXPECT_EQ(bce4j_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, kShape, nullptr, f.y, nullptr, nullptr, &f.reduced,
                                    nullptr, nullptr),
              BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_TRUE(contains(message(), "input")) << message();
    EXPECT_EQ(
        bce4j_bce(nullptr, BCE4J_FLOAT32, 2, kShape, f.x, nullptr, nullptr, nullptr, &f.reduced, nullptr, nullptr),
        BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_TRUE(contains(message(), "target")) << message();
    // A 0-d input has one element, so NULL data is an error there too.
    EXPECT_EQ(bce4j_bce_with_logits(nullptr, BCE4J_FLOAT64, 0, nullptr, nullptr, f.y, nullptr, nullptr, &f.reduced,
                                    nullptr, nullptr),
              BCE4J_ERROR_NULL_ARGUMENT);
}

TEST(ApiErrors, NullShapeWithPositiveNdim) {
    Fixture f;
    EXPECT_EQ(logits(nullptr, f, 2, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_TRUE(contains(message(), "input")) << message();
    EXPECT_TRUE(contains(message(), "shape")) << message();
}

TEST(ApiErrors, NdimOutOfRange) {
    Fixture f;
    for (int32_t ndim : {-1, -1000, BCE4J_MAX_DIMS + 1, 1 << 30}) {
        EXPECT_EQ(logits(nullptr, f, ndim), BCE4J_ERROR_INVALID_SHAPE) << ndim;
        EXPECT_TRUE(contains(message(), "input")) << message();
    }
    // BCE4J_MAX_DIMS itself is allowed: 32 dims of 1 except one 28.
    std::vector<int64_t> many(BCE4J_MAX_DIMS, 1);
    many[7] = 28;
    EXPECT_EQ(logits(nullptr, f, BCE4J_MAX_DIMS, many.data()), BCE4J_OK) << message();
}

TEST(ApiErrors, NegativeDimension) {
    Fixture f;
    const int64_t shape[2] = {4, -7};
    EXPECT_EQ(logits(nullptr, f, 2, shape), BCE4J_ERROR_INVALID_SHAPE);
    EXPECT_TRUE(contains(message(), "input")) << message();
    EXPECT_TRUE(contains(message(), "[4, -7]")) << message();
}

TEST(ApiErrors, ElementCountOverflow) {
    Fixture f;
    const int64_t big = int64_t{1} << 32;
    const int64_t shape1[2] = {big, big};  // 2^64 elements
    EXPECT_EQ(logits(nullptr, f, 2, shape1), BCE4J_ERROR_INVALID_SHAPE);
    EXPECT_TRUE(contains(message(), "input")) << message();
    const int64_t shape2[3] = {3, std::numeric_limits<int64_t>::max() / 2, 2};
    EXPECT_EQ(logits(nullptr, f, 3, shape2), BCE4J_ERROR_INVALID_SHAPE);
}

TEST(ApiErrors, HugeDimensionsBesideAZeroAreAnEmptyInputInAnyOrder) {
    // A 0 anywhere makes the tensor empty, so dimensions whose product would overflow are no error.
    Fixture f;
    const int64_t huge = int64_t{1} << 62;
    for (const auto& shape : {std::vector<int64_t>{huge, 4, 0}, std::vector<int64_t>{0, huge, 4}}) {
        f.reduced = 1.0;
        bce4j_options o;
        bce4j_options_init(&o);
        o.reduction = BCE4J_REDUCTION_SUM;
        EXPECT_EQ(logits(&o, f, 3, shape.data()), BCE4J_OK) << message();
        EXPECT_EQ(f.reduced, 0.0);
    }
}

TEST(ApiErrors, StructSizeEndingInsideAFieldIsRejected) {
    // No header version ends its struct inside a field; reading half a pointer would give a wild one.
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    for (size_t size : {offsetof(bce4j_options, weight) + 4, offsetof(bce4j_options, pos_weight_shape) + 1}) {
        o.struct_size = size;
        EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION) << size;
        EXPECT_TRUE(contains(message(), "struct_size")) << message();
    }
}

TEST(ApiErrors, InvalidDtype) {
    Fixture f;
    for (int d : {4, -1, 7}) {
        EXPECT_EQ(logits(nullptr, f, 2, kShape, static_cast<bce4j_dtype>(d)), BCE4J_ERROR_INVALID_OPTION) << d;
        EXPECT_TRUE(contains(message(), "dtype")) << message();
        EXPECT_EQ(bce4j_bce(nullptr, static_cast<bce4j_dtype>(d), 2, kShape, f.x, f.y, nullptr, nullptr, nullptr,
                            nullptr, nullptr),
                  BCE4J_ERROR_INVALID_OPTION);
    }
}

TEST(ApiErrors, InvalidReduction) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    for (int32_t red : {6, -1, 100}) {
        o.reduction = red;
        EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION) << red;
        EXPECT_TRUE(contains(message(), "reduction")) << message();
    }
}

TEST(ApiErrors, NegativeNumThreads) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    o.num_threads = -2;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_TRUE(contains(message(), "num_threads")) << message();
}

TEST(ApiErrors, NumThreadsAboveTheMaximum) {
    // libgomp ends the process when it cannot create a team, so the API caps num_threads at BCE4J_MAX_THREADS.
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    for (int32_t threads : {BCE4J_MAX_THREADS + 1, std::numeric_limits<int32_t>::max()}) {
        o.num_threads = threads;
        EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION) << threads;
        EXPECT_TRUE(contains(message(), "num_threads")) << message();
    }
    o.num_threads = BCE4J_MAX_THREADS;
    EXPECT_EQ(logits(&o, f), BCE4J_OK) << message();
}

// bce4j_check_options refuses what a call refuses, with the call's status and message, and accepts what it accepts.
TEST(ApiErrors, NaNFocalAlphaAndIgnoreIndexAreRefused) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    o.has_focal = 1;
    o.focal_alpha = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_EQ(message(), "options.focal_alpha is nan; expected a value in [0, 1], or < 0 for none");
    bce4j_options_init(&o);
    o.has_ignore_index = 1;
    o.ignore_index = std::numeric_limits<double>::quiet_NaN();
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_EQ(message(), "options.ignore_index is nan; no target equals NaN");
    o.has_ignore_index = 0;  // a NaN left in the field while ignoring is off is not read
    EXPECT_EQ(logits(&o, f), BCE4J_OK) << message();
}

TEST(ApiErrors, CheckOptionsAgreesWithACall) {
    const int64_t weight_shape[1] = {7};
    const int64_t negative_shape[1] = {-7};
    const double weight[7] = {1, 1, 1, 1, 1, 1, 1};
    struct Case {
        const char* what;
        void (*spoil)(bce4j_options&, const double*, const int64_t*, const int64_t*);
    };
    const Case cases[] = {
        {"valid defaults", [](bce4j_options&, const double*, const int64_t*, const int64_t*) {}},
        {"reduction", [](bce4j_options& o, const double*, const int64_t*, const int64_t*) { o.reduction = 9; }},
        {"num_threads", [](bce4j_options& o, const double*, const int64_t*, const int64_t*) { o.num_threads = -1; }},
        {"label_smoothing",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) { o.label_smoothing = 2; }},
        {"smoothing_classes",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) { o.smoothing_classes = 0; }},
        {"focal_gamma",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) {
             o.has_focal = 1;
             o.focal_gamma = -1;
         }},
        {"focal_alpha",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) {
             o.has_focal = 1;
             o.focal_alpha = 1.5;
         }},
        {"focal_alpha NaN",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) {
             o.has_focal = 1;
             o.focal_alpha = std::numeric_limits<double>::quiet_NaN();
         }},
        {"ignore_index NaN",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) {
             o.has_ignore_index = 1;
             o.ignore_index = std::numeric_limits<double>::quiet_NaN();
         }},
        {"pos_weight_mode",
         [](bce4j_options& o, const double*, const int64_t*, const int64_t*) { o.pos_weight_mode = 7; }},
        {"valid weight",
         [](bce4j_options& o, const double* w, const int64_t* shape, const int64_t*) {
             o.weight = w;
             o.weight_ndim = 1;
             o.weight_shape = shape;
         }},
        {"negative weight dimension",
         [](bce4j_options& o, const double* w, const int64_t*, const int64_t* negative) {
             o.weight = w;
             o.weight_ndim = 1;
             o.weight_shape = negative;
         }},
        {"pos_weight ndim",
         [](bce4j_options& o, const double* w, const int64_t* shape, const int64_t*) {
             o.pos_weight = w;
             o.pos_weight_ndim = BCE4J_MAX_DIMS + 1;
             o.pos_weight_shape = shape;
         }},
    };
    for (const Case& c : cases) {
        for (int32_t on_logits : {1, 0}) {
            bce4j_options o;
            bce4j_options_init(&o);
            c.spoil(o, weight, weight_shape, negative_shape);
            Fixture f;
            for (double& p : f.x) p = 0.5;  // valid probabilities for BCELoss
            const bce4j_status call = on_logits ? logits(&o, f)
                                                : bce4j_bce(&o, BCE4J_FLOAT64, 2, kShape, f.x, f.y, nullptr, nullptr,
                                                            &f.reduced, f.gi, nullptr);
            const std::string call_message = message();
            EXPECT_EQ(bce4j_check_options(&o, on_logits), call) << c.what << " logits=" << on_logits;
            EXPECT_EQ(message(), call_message) << c.what << " logits=" << on_logits;
        }
    }
    EXPECT_EQ(bce4j_check_options(nullptr, 1), BCE4J_OK);
}

// bce4j_prepare checks what a call checks before it reads data, with the same status and message; a prepared call
// made from valid options and shapes is stored, a failed prepare stores NULL.
TEST(ApiErrors, PrepareAgreesWithACall) {
    const int64_t weight_shape[2] = {1, 7};
    const int64_t wrong_shape[1] = {5};
    const int64_t negative[2] = {4, -7};
    const int64_t too_many[1] = {std::numeric_limits<int64_t>::max()};
    const int64_t huge[2] = {std::numeric_limits<int64_t>::max(), 2};
    const double weight[7] = {1, 1, 1, 1, 1, 1, 1};
    struct Case {
        const char* what;
        int32_t dtype;  // a bce4j_dtype, kept as int: an enum object holding 9 is undefined (UBSan says so)
        int32_t ndim;
        const int64_t* shape;
        int32_t reduction;
        const int64_t* weight_shape;  // weight of 1 or 2 dimensions (by the shape's first entry), or none
        int32_t weight_ndim;
        bool pos_weight;
    };
    const Case cases[] = {
        {"valid", BCE4J_FLOAT64, 2, kShape, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"valid weights", BCE4J_FLOAT32, 2, kShape, BCE4J_REDUCTION_SUM, weight_shape, 2, true},
        {"dtype", 9, 2, kShape, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"reduction", BCE4J_FLOAT64, 2, kShape, 17, nullptr, 0, false},
        {"ndim", BCE4J_FLOAT64, BCE4J_MAX_DIMS + 1, kShape, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"NULL shape", BCE4J_FLOAT64, 2, nullptr, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"negative dimension", BCE4J_FLOAT64, 2, negative, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"too many elements", BCE4J_FLOAT64, 2, huge, BCE4J_REDUCTION_MEAN, nullptr, 0, false},
        {"weight broadcast", BCE4J_FLOAT64, 2, kShape, BCE4J_REDUCTION_MEAN, wrong_shape, 1, false},
        {"pos_weight broadcast", BCE4J_FLOAT64, 2, kShape, BCE4J_REDUCTION_MEAN, wrong_shape, 1, true},
        {"weight shape", BCE4J_FLOAT64, 2, kShape, BCE4J_REDUCTION_MEAN, negative, 2, false},
        {"weight elements", BCE4J_FLOAT64, 2, kShape, BCE4J_REDUCTION_MEAN, too_many, 1, false},
    };
    for (const Case& c : cases) {
        for (int32_t on_logits : {1, 0}) {
            bce4j_options o;
            bce4j_options_init(&o);
            o.reduction = c.reduction;
            if (c.weight_shape != nullptr) {
                (c.pos_weight ? o.pos_weight : o.weight) = weight;
                (c.pos_weight ? o.pos_weight_ndim : o.weight_ndim) = c.weight_ndim;
                (c.pos_weight ? o.pos_weight_shape : o.weight_shape) = c.weight_shape;
            }
            Fixture f;
            for (double& p : f.x) p = 0.5;  // valid probabilities for BCELoss
            const auto call = on_logits ? bce4j_bce_with_logits : bce4j_bce;
            // Converted where passed, never held in a bce4j_dtype object (see Case::dtype).
            const bce4j_status status = call(&o, static_cast<bce4j_dtype>(c.dtype), c.ndim, c.shape, f.x, f.y, nullptr,
                                             nullptr, &f.reduced, f.gi, nullptr);
            const std::string call_message = message();
            bce4j_prepared* prepared = reinterpret_cast<bce4j_prepared*>(&f);  // must be overwritten
            EXPECT_EQ(bce4j_prepare(&o, on_logits, static_cast<bce4j_dtype>(c.dtype), c.ndim, c.shape, &prepared),
                      status)
                << c.what << " logits=" << on_logits;
            EXPECT_EQ(message(), call_message) << c.what << " logits=" << on_logits;
            EXPECT_EQ(prepared == nullptr, status != BCE4J_OK) << c.what << " logits=" << on_logits;
            bce4j_prepared_destroy(prepared);
        }
    }
}

TEST(ApiErrors, PrepareWantsNoWeightGradientOutputsAndAPlaceForItsResult) {
    double g = 0;
    bce4j_options o;
    bce4j_options_init(&o);
    o.grad_weight = &g;
    bce4j_prepared* prepared = nullptr;
    EXPECT_EQ(bce4j_prepare(&o, 1, BCE4J_FLOAT64, 2, kShape, &prepared), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_EQ(message(),
              "options.grad_weight is set; a prepared call takes grad_weight at each run (bce4j_prepared_run), so "
              "bce4j_prepare wants it NULL");
    EXPECT_EQ(prepared, nullptr);
    o.grad_weight = nullptr;
    o.grad_pos_weight = &g;
    EXPECT_EQ(bce4j_prepare(&o, 1, BCE4J_FLOAT64, 2, kShape, &prepared), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_TRUE(contains(message(), "options.grad_pos_weight is set")) << message();
    EXPECT_EQ(bce4j_prepare(nullptr, 1, BCE4J_FLOAT64, 2, kShape, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_EQ(message(), "prepared is NULL");
    bce4j_prepared_destroy(nullptr);  // nothing
}

TEST(ApiErrors, StructSizeTooSmallForReduction) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    for (size_t size : {size_t{0}, size_t{4}, offsetof(bce4j_options, reduction)}) {
        o.struct_size = size;
        EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION) << size;
        EXPECT_TRUE(contains(message(), "struct_size")) << message();
    }
}

TEST(ApiErrors, WeightWithMoreDimsThanInput) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    const double w[7] = {1, 1, 1, 1, 1, 1, 1};
    const int64_t wshape[3] = {1, 4, 7};
    o.weight = w;  // only 7 values, but the shape check fails first
    o.weight_ndim = 3;
    o.weight_shape = wshape;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_BROADCAST);
    EXPECT_TRUE(contains(message(), "weight")) << message();
    EXPECT_TRUE(contains(message(), "[1, 4, 7]")) << message();
    EXPECT_TRUE(contains(message(), "[4, 7]")) << message();
}

TEST(ApiErrors, NonBroadcastableWeightAndPosWeightNameBothShapes) {
    Fixture f;
    const double v[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const int64_t bad_shapes[][2] = {{1, 3}, {4, 3}, {7, 4}, {2, 7}};
    for (const auto& s : bad_shapes) {
        for (bool pos : {false, true}) {
            bce4j_options o;
            bce4j_options_init(&o);
            if (pos) {
                o.pos_weight = v, o.pos_weight_ndim = 2, o.pos_weight_shape = s;
            } else {
                o.weight = v, o.weight_ndim = 2, o.weight_shape = s;
            }
            EXPECT_EQ(logits(&o, f), BCE4J_ERROR_BROADCAST);
            const std::string m = message();
            EXPECT_TRUE(contains(m, pos ? "pos_weight" : "weight")) << m;
            EXPECT_TRUE(contains(m, "[" + std::to_string(s[0]) + ", " + std::to_string(s[1]) + "]")) << m;
            EXPECT_TRUE(contains(m, "[4, 7]")) << m;
        }
    }
    // An operand dimension that meets an input dimension of 1 must itself be 1.
    const int64_t column_shape[2] = {4, 1}, three[1] = {3};
    bce4j_options c;
    bce4j_options_init(&c);
    c.weight = v, c.weight_ndim = 1, c.weight_shape = three;
    EXPECT_EQ(bce4j_bce_with_logits(&c, BCE4J_FLOAT64, 2, column_shape, f.x, f.y, nullptr, nullptr, &f.reduced, nullptr,
                                    nullptr),
              BCE4J_ERROR_BROADCAST);
    EXPECT_TRUE(contains(message(), "[3]") && contains(message(), "[4, 1]")) << message();
    // A valid weight and a bad pos_weight: pos_weight is named.
    bce4j_options o;
    bce4j_options_init(&o);
    const int64_t good[1] = {7}, bad[1] = {5};
    o.weight = v, o.weight_ndim = 1, o.weight_shape = good;
    o.pos_weight = v, o.pos_weight_ndim = 1, o.pos_weight_shape = bad;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_BROADCAST);
    EXPECT_TRUE(contains(message(), "pos_weight shape [5]")) << message();
}

TEST(ApiErrors, BadWeightShapeArguments) {
    Fixture f;
    const double v[7] = {1, 1, 1, 1, 1, 1, 1};
    bce4j_options o;
    bce4j_options_init(&o);
    o.weight = v;
    o.weight_ndim = 1;
    o.weight_shape = nullptr;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_TRUE(contains(message(), "weight")) << message();
    const int64_t negative[1] = {-7};
    o.weight_shape = negative;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_SHAPE);
    EXPECT_TRUE(contains(message(), "weight")) << message();
    o.weight_ndim = -1;
    EXPECT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_SHAPE);
    EXPECT_TRUE(contains(message(), "weight")) << message();
    // The same checks apply to pos_weight.
    bce4j_options p;
    bce4j_options_init(&p);
    p.pos_weight = v;
    p.pos_weight_ndim = 2;
    p.pos_weight_shape = nullptr;
    EXPECT_EQ(logits(&p, f), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_TRUE(contains(message(), "pos_weight")) << message();
}

TEST(ApiErrors, WeightShapeIgnoredWhenWeightIsNull) {
    // weight = NULL means absent: its (garbage) shape fields must not be looked at.
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    o.weight_ndim = -5;
    o.weight_shape = nullptr;
    o.pos_weight_ndim = 1000;
    EXPECT_EQ(logits(&o, f), BCE4J_OK) << message();
}

TEST(ApiErrors, MessageIsNonEmptyOnFailureAndClearedBySuccess) {
    Fixture f;
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = 9;
    ASSERT_EQ(logits(&o, f), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_FALSE(message().empty());
    ASSERT_EQ(logits(nullptr, f), BCE4J_OK);
    EXPECT_STREQ(bce4j_last_error_message(), "");
    // A range error from BCELoss, then a successful BCELoss call.
    f.x[3] = 2.0;
    ASSERT_EQ(bce4j_bce(nullptr, BCE4J_FLOAT64, 2, kShape, f.x, f.y, nullptr, nullptr, &f.reduced, nullptr, nullptr),
              BCE4J_ERROR_OUT_OF_RANGE);
    EXPECT_TRUE(contains(message(), "input")) << message();
    f.x[3] = 0.5;
    for (double& v : f.x) v = 0.5;
    ASSERT_EQ(bce4j_bce(nullptr, BCE4J_FLOAT64, 2, kShape, f.x, f.y, nullptr, nullptr, &f.reduced, nullptr, nullptr),
              BCE4J_OK);
    EXPECT_STREQ(bce4j_last_error_message(), "");
}

TEST(ApiErrors, LogitsLossDoesNotRangeCheckTargets) {
    // PyTorch's BCEWithLogitsLoss has no target check; a target of 2 or -1 is just a linear extrapolation.
    Call<double> c;
    c.shape = {2};
    c.input = {0.5, -0.5};
    c.target = {2.0, -1.0};
    c.reduction = BCE4J_REDUCTION_NONE;
    const auto r = run(c);
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    expect_matches(c, r, expected(c));
}

// ---- Options ------------------------------------------------------------------------------------------------------

TEST(ApiOptions, InitSetsDefaultsAndNullOptionsMeanDefaults) {
    bce4j_options o;
    std::memset(&o, 0xAB, sizeof o);
    bce4j_options_init(&o);
    EXPECT_EQ(o.struct_size, sizeof(bce4j_options));
    EXPECT_EQ(o.reduction, BCE4J_REDUCTION_MEAN);
    EXPECT_EQ(o.num_threads, 0);
    EXPECT_EQ(o.weight, nullptr);
    EXPECT_EQ(o.pos_weight, nullptr);
    bce4j_options_init(nullptr);  // must not crash

    Fixture a, b;
    ASSERT_EQ(logits(nullptr, a), BCE4J_OK);
    ASSERT_EQ(logits(&o, b), BCE4J_OK);
    EXPECT_TRUE(bitwise_equal(a.reduced, b.reduced));
    EXPECT_EQ(0, std::memcmp(a.gi, b.gi, sizeof a.gi));
    // And NULL options really mean MEAN: compare with the reference.
    Call<double> c;
    c.shape = {4, 7};
    c.input.assign(a.x, a.x + 28);
    c.target.assign(a.y, a.y + 28);
    EXPECT_TRUE(close(a.reduced, expected(c).reduced, 0, 1e-13));
}

TEST(ApiOptions, ShortStructSizeGivesLaterFieldsTheirDefaults) {
    // An "old" caller that only knows struct_size, reduction and num_threads. The struct is placed right before a
    // PROT_NONE page, so the library would crash if it read past struct_size.
    const size_t known = offsetof(bce4j_options, weight);
    const long page = sysconf(_SC_PAGESIZE);
    char* mem = static_cast<char*>(mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ASSERT_NE(mem, MAP_FAILED);
    ASSERT_EQ(mprotect(mem + page, page, PROT_NONE), 0);
    char* at = mem + page - known;
    const int32_t sum = BCE4J_REDUCTION_SUM, threads = 1;
    std::memcpy(at + offsetof(bce4j_options, struct_size), &known, sizeof known);
    std::memcpy(at + offsetof(bce4j_options, reduction), &sum, sizeof sum);
    std::memcpy(at + offsetof(bce4j_options, num_threads), &threads, sizeof threads);

    Fixture f, g;
    ASSERT_EQ(logits(reinterpret_cast<const bce4j_options*>(at), f), BCE4J_OK) << message();
    bce4j_options full;
    bce4j_options_init(&full);
    full.reduction = BCE4J_REDUCTION_SUM;
    ASSERT_EQ(logits(&full, g), BCE4J_OK);
    EXPECT_TRUE(bitwise_equal(f.reduced, g.reduced)) << "the reduction SUM must be read, the weights defaulted";
    munmap(mem, 2 * page);

    // A struct_size that stops before the weights ignores whatever follows in memory.
    bce4j_options o;
    bce4j_options_init(&o);
    o.struct_size = known;
    o.reduction = BCE4J_REDUCTION_SUM;
    const double zero_weight[1] = {0.0};
    const int64_t bad_shape[1] = {99};
    o.weight = zero_weight;
    o.weight_ndim = 1;
    o.weight_shape = bad_shape;  // would be a broadcast error if it were read
    Fixture h;
    ASSERT_EQ(logits(&o, h), BCE4J_OK) << message();
    EXPECT_TRUE(bitwise_equal(h.reduced, g.reduced));
}

TEST(ApiOptions, LargerStructSizeFromANewerHeaderIsAccepted) {
    // A caller built against a future header with appended fields passes a bigger struct_size.
    struct Newer {
        bce4j_options base;
        int64_t future_field;
    } n;
    bce4j_options_init(&n.base);
    n.base.struct_size = sizeof n;
    n.base.reduction = BCE4J_REDUCTION_SUM;
    n.future_field = 42;
    Fixture f;
    EXPECT_EQ(logits(&n.base, f), BCE4J_OK) << message();
}

// ---- Informational functions ----------------------------------------------------------------------------------------

TEST(ApiInfo, StatusNamesVersionAndIsa) {
    const std::pair<bce4j_status, const char*> names[] = {
        {BCE4J_OK, "BCE4J_OK"},
        {BCE4J_ERROR_NULL_ARGUMENT, "BCE4J_ERROR_NULL_ARGUMENT"},
        {BCE4J_ERROR_INVALID_SHAPE, "BCE4J_ERROR_INVALID_SHAPE"},
        {BCE4J_ERROR_BROADCAST, "BCE4J_ERROR_BROADCAST"},
        {BCE4J_ERROR_OUT_OF_RANGE, "BCE4J_ERROR_OUT_OF_RANGE"},
        {BCE4J_ERROR_INVALID_OPTION, "BCE4J_ERROR_INVALID_OPTION"},
        {BCE4J_ERROR_INTERNAL, "BCE4J_ERROR_INTERNAL"},
    };
    for (const auto& [status, name] : names) EXPECT_STREQ(bce4j_status_name(status), name);
    const char* unknown = bce4j_status_name(static_cast<bce4j_status>(77));
    ASSERT_NE(unknown, nullptr);
    EXPECT_GT(std::strlen(unknown), 0u);

    const std::string version = std::to_string(BCE4J_VERSION_MAJOR) + "." + std::to_string(BCE4J_VERSION_MINOR) + "." +
                                std::to_string(BCE4J_VERSION_PATCH);
    EXPECT_EQ(std::string(bce4j_version()), version);
    // The dispatched instruction set (isa_kernels_test.cpp checks which one it must be).
    const std::string isa = bce4j_cpu_isa();
    EXPECT_TRUE(isa == "scalar" || isa == "avx2" || isa == "avx512" || isa == "neon") << isa;
    EXPECT_GE(bce4j_default_num_threads(), 1);
}

}  // namespace
