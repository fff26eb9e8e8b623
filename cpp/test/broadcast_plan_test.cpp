// Unit tests of the broadcast planner (compiled into the test binary): check_broadcast accepts exactly the numpy
// shapes that do not enlarge the input, and plan_broadcast coalesces dimensions without changing which operand
// element each input element reads.
#include <gtest/gtest.h>

#include <vector>

#include "broadcast_plan.h"
#include "test_util.h"

namespace {

using bce4j::BroadcastCheck;
using bce4j::BroadcastPlan;
using bce4j::ShapeRef;
using bce4j_test::broadcast_source;
using bce4j_test::numel;
using Shape = std::vector<int64_t>;

ShapeRef ref(const Shape& s) { return {static_cast<int32_t>(s.size()), s.empty() ? nullptr : s.data()}; }

BroadcastCheck check(const Shape& operand, const Shape& input, int* bad_dim) {
    return bce4j::check_broadcast(ref(operand), ref(input), bad_dim);
}

BroadcastPlan plan(const Shape& input, const Shape* weight, const Shape* pos_weight) {
    ShapeRef w = weight ? ref(*weight) : ShapeRef{0, nullptr};
    ShapeRef p = pos_weight ? ref(*pos_weight) : ShapeRef{0, nullptr};
    return bce4j::plan_broadcast(ref(input), weight ? &w : nullptr, pos_weight ? &p : nullptr);
}

std::vector<int64_t> dims_of(const BroadcastPlan& p) { return {p.dims, p.dims + p.ndim}; }
std::vector<int64_t> wstrides_of(const BroadcastPlan& p) { return {p.weight_strides, p.weight_strides + p.ndim}; }
std::vector<int64_t> pstrides_of(const BroadcastPlan& p) {
    return {p.pos_weight_strides, p.pos_weight_strides + p.ndim};
}

// Walks the plan's coalesced index space in C order and checks, for every flat input element, that the operand
// offsets it implies equal the index-by-index numpy broadcast. This is the plan's whole contract.
void expect_plan_reads_like_numpy(const Shape& input, const Shape* weight, const Shape* pos_weight) {
    SCOPED_TRACE("input " + bce4j_test::shape_str(input) + " weight " +
                 (weight ? bce4j_test::shape_str(*weight) : "none") + " pos_weight " +
                 (pos_weight ? bce4j_test::shape_str(*pos_weight) : "none"));
    const BroadcastPlan p = plan(input, weight, pos_weight);
    ASSERT_GE(p.ndim, 1);
    const int64_t n = numel(input);
    int64_t plan_count = 1;
    for (int j = 0; j < p.ndim; ++j) plan_count *= p.dims[j];
    ASSERT_EQ(plan_count, n) << "the plan must cover exactly the input's elements";
    // Innermost strides are 0 or 1 so that a kernel sees contiguous or constant rows.
    EXPECT_TRUE(p.weight_strides[p.ndim - 1] == 0 || p.weight_strides[p.ndim - 1] == 1);
    EXPECT_TRUE(p.pos_weight_strides[p.ndim - 1] == 0 || p.pos_weight_strides[p.ndim - 1] == 1);
    for (int64_t flat = 0; flat < n; ++flat) {
        int64_t rest = flat, w = 0, q = 0;
        for (int j = p.ndim - 1; j >= 0; --j) {
            const int64_t i = rest % p.dims[j];
            rest /= p.dims[j];
            w += i * p.weight_strides[j];
            q += i * p.pos_weight_strides[j];
        }
        EXPECT_EQ(w, weight ? broadcast_source(input, *weight, flat) : 0) << "weight offset at " << flat;
        EXPECT_EQ(q, pos_weight ? broadcast_source(input, *pos_weight, flat) : 0) << "pos_weight offset at " << flat;
        if (::testing::Test::HasFailure()) return;
    }
}

TEST(CheckBroadcast, AcceptsNumpyShapesThatDoNotEnlargeTheInput) {
    int bad = 99;
    for (const Shape& op : {Shape{4, 7}, Shape{7}, Shape{1, 7}, Shape{4, 1}, Shape{1}, Shape{}, Shape{1, 1}}) {
        EXPECT_EQ(check(op, {4, 7}, &bad), BroadcastCheck::kOk) << bce4j_test::shape_str(op);
    }
    for (const Shape& op : {Shape{2, 1, 5}, Shape{3, 1}, Shape{1, 3, 5}, Shape{5}, Shape{2, 3, 5}}) {
        EXPECT_EQ(check(op, {2, 3, 5}, &bad), BroadcastCheck::kOk) << bce4j_test::shape_str(op);
    }
    EXPECT_EQ(check({}, {}, &bad), BroadcastCheck::kOk);       // scalar over scalar
    EXPECT_EQ(check({0}, {3, 0}, &bad), BroadcastCheck::kOk);  // empty dims must match too
    EXPECT_EQ(check({1}, {3, 0}, &bad), BroadcastCheck::kOk);
}

TEST(CheckBroadcast, RejectsMoreDimsThanTheInputEvenWhenAllOnes) {
    // PyTorch multiplies weights into an input-shaped tensor in place, so [1,4,7] may not widen [4,7].
    int bad = 99;
    EXPECT_EQ(check({1, 4, 7}, {4, 7}, &bad), BroadcastCheck::kTooManyDims);
    EXPECT_EQ(bad, -1);
    bad = 99;
    EXPECT_EQ(check({1}, {}, &bad), BroadcastCheck::kTooManyDims);
    EXPECT_EQ(bad, -1);
}

TEST(CheckBroadcast, ReportsTheFirstIncompatibleOperandDimension) {
    int bad = 99;
    EXPECT_EQ(check({3}, {4, 7}, &bad), BroadcastCheck::kIncompatible);
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(check({4, 3}, {4, 7}, &bad), BroadcastCheck::kIncompatible);
    EXPECT_EQ(bad, 1);  // operand dimension index, not input dimension index
    EXPECT_EQ(check({2, 5, 5}, {2, 3, 5}, &bad), BroadcastCheck::kIncompatible);
    EXPECT_EQ(bad, 1);
    EXPECT_EQ(check({7, 4}, {4, 7}, &bad), BroadcastCheck::kIncompatible);  // transposed is not broadcastable
    EXPECT_EQ(bad, 0);
    EXPECT_EQ(check({0}, {3}, &bad), BroadcastCheck::kIncompatible);  // 0 is neither 1 nor 3
    EXPECT_EQ(bad, 0);
}

TEST(PlanBroadcast, NoOperandsIsOneDimensionOfAllElements) {
    const BroadcastPlan p = plan({6, 5, 4}, nullptr, nullptr);
    EXPECT_EQ(dims_of(p), (Shape{120}));
    EXPECT_EQ(wstrides_of(p), (Shape{0}));
    EXPECT_EQ(pstrides_of(p), (Shape{0}));
}

TEST(PlanBroadcast, ScalarAndAllOnesInputsAreOneElement) {
    for (const Shape& in : {Shape{}, Shape{1}, Shape{1, 1, 1}}) {
        const Shape scalar{};
        const BroadcastPlan p = plan(in, &scalar, nullptr);
        EXPECT_EQ(dims_of(p), (Shape{1})) << bce4j_test::shape_str(in);
        EXPECT_EQ(wstrides_of(p), (Shape{0}));
    }
}

TEST(PlanBroadcast, ClassWeightOverBatchIsTwoDimsWithStrides0And1) {
    const Shape in{5, 7}, w{7};
    const BroadcastPlan p = plan(in, &w, nullptr);
    EXPECT_EQ(dims_of(p), (Shape{5, 7}));
    EXPECT_EQ(wstrides_of(p), (Shape{0, 1}));
    EXPECT_EQ(pstrides_of(p), (Shape{0, 0}));
}

TEST(PlanBroadcast, PerRowWeightHasStrides1And0) {
    const Shape in{5, 7}, w{5, 1};
    const BroadcastPlan p = plan(in, &w, nullptr);
    EXPECT_EQ(dims_of(p), (Shape{5, 7}));
    EXPECT_EQ(wstrides_of(p), (Shape{1, 0}));
}

TEST(PlanBroadcast, FullShapeOperandCoalescesToOneContiguousDim) {
    const Shape in{3, 4, 5}, w{3, 4, 5}, pw{3, 4, 5};
    const BroadcastPlan p = plan(in, &w, &pw);
    EXPECT_EQ(dims_of(p), (Shape{60}));
    EXPECT_EQ(wstrides_of(p), (Shape{1}));
    EXPECT_EQ(pstrides_of(p), (Shape{1}));
}

TEST(PlanBroadcast, SizeOneInputDimsAreDropped) {
    // [1,5,1,7] with weight [7]: the two size-1 dims contribute no index.
    const Shape in{1, 5, 1, 7}, w{7};
    const BroadcastPlan p = plan(in, &w, nullptr);
    EXPECT_EQ(dims_of(p), (Shape{5, 7}));
    EXPECT_EQ(wstrides_of(p), (Shape{0, 1}));
    // A trailing size-1 dim is dropped too, leaving the class dim innermost with stride 1.
    const Shape in2{5, 7, 1}, w2{7, 1};
    const BroadcastPlan p2 = plan(in2, &w2, nullptr);
    EXPECT_EQ(dims_of(p2), (Shape{5, 7}));
    EXPECT_EQ(wstrides_of(p2), (Shape{0, 1}));
}

TEST(PlanBroadcast, ScalarOperandsCoalesceToOneConstantRun) {
    const Shape in{4, 6, 3}, w{1}, pw{};
    const BroadcastPlan p = plan(in, &w, &pw);
    EXPECT_EQ(dims_of(p), (Shape{72}));
    EXPECT_EQ(wstrides_of(p), (Shape{0}));
    EXPECT_EQ(pstrides_of(p), (Shape{0}));
}

TEST(PlanBroadcast, NeighbouringBroadcastDimsMergeButMixedOnesDoNot) {
    // weight [A,1,1] over [A,B,C]: B and C are both broadcast, so they merge into one stride-0 dim of B*C.
    const Shape in{2, 3, 5}, w{2, 1, 1};
    const BroadcastPlan p = plan(in, &w, nullptr);
    EXPECT_EQ(dims_of(p), (Shape{2, 15}));
    EXPECT_EQ(wstrides_of(p), (Shape{1, 0}));
    // weight [A,1,C]: the middle dim separates the two runs.
    const Shape w2{2, 1, 5};
    const BroadcastPlan p2 = plan(in, &w2, nullptr);
    EXPECT_EQ(dims_of(p2), (Shape{2, 3, 5}));
    EXPECT_EQ(wstrides_of(p2), (Shape{5, 0, 1}));
    // weight [B,C] over [A,B,C]: B and C merge (contiguous), A is broadcast.
    const Shape w3{3, 5};
    const BroadcastPlan p3 = plan(in, &w3, nullptr);
    EXPECT_EQ(dims_of(p3), (Shape{2, 15}));
    EXPECT_EQ(wstrides_of(p3), (Shape{0, 1}));
}

TEST(PlanBroadcast, DimsMergeOnlyWhereBothOperandsAllowIt) {
    // weight [B,C] would merge B and C, pos_weight [B,1] would not: the plan must keep them apart.
    const Shape in{2, 3, 5}, w{3, 5}, pw{3, 1};
    const BroadcastPlan p = plan(in, &w, &pw);
    EXPECT_EQ(dims_of(p), (Shape{2, 3, 5}));
    EXPECT_EQ(wstrides_of(p), (Shape{0, 5, 1}));
    EXPECT_EQ(pstrides_of(p), (Shape{0, 1, 0}));
}

TEST(PlanBroadcast, EveryShapeCombinationReadsLikeNumpy) {
    const std::vector<Shape> inputs = {{6}, {4, 7}, {1, 7}, {4, 1}, {2, 3, 5}, {3, 1, 4}, {2, 3, 1, 4}, {1, 2, 1}};
    for (const Shape& in : inputs) {
        // Every operand shape that broadcasts to `in`: each suffix of `in`, with each subset of dims set to 1.
        std::vector<Shape> operands;
        for (size_t k = 0; k <= in.size(); ++k) {
            const Shape suffix(in.end() - k, in.end());
            for (unsigned mask = 0; mask < (1u << k); ++mask) {
                Shape s = suffix;
                for (size_t j = 0; j < k; ++j) {
                    if (mask & (1u << j)) s[j] = 1;
                }
                operands.push_back(s);
            }
        }
        expect_plan_reads_like_numpy(in, nullptr, nullptr);
        for (const Shape& w : operands) {
            expect_plan_reads_like_numpy(in, &w, nullptr);
            expect_plan_reads_like_numpy(in, nullptr, &w);
            for (const Shape& pw : operands) expect_plan_reads_like_numpy(in, &w, &pw);
        }
    }
}

}  // namespace
