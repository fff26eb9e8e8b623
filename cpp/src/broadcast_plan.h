// Broadcast planning: how weight and pos_weight map onto the input's elements.
#pragma once

#include <algorithm>
#include <cstdint>

#include "bce4j/bce4j.h"

namespace bce4j {

constexpr int kMaxDims = BCE4J_MAX_DIMS;

// A shape as the caller gave it.
struct ShapeRef {
    int32_t ndim;
    const int64_t* dims;  // may be null when ndim == 0
};

// The input's index space after dropping size-1 dimensions and merging neighbours that every operand walks
// contiguously. Element (i_0, ..., i_{n-1}) of the coalesced space is flat input element
// sum_j i_j * prod_{k>j} dims[k]; an operand's element is sum_j i_j * strides[j]. The innermost stride of a
// broadcast operand is always 0 or 1, so a kernel sees each innermost row as a contiguous run or a constant.
// Only the first ndim entries of each array are meaningful; the rest stay uninitialised, since zeroing them
// would cost every call more than the whole plan does.
struct BroadcastPlan {
    int ndim;
    int64_t dims[kMaxDims];
    int64_t weight_strides[kMaxDims];
    int64_t pos_weight_strides[kMaxDims];
};

enum class BroadcastCheck {
    kOk,
    kTooManyDims,   // operand has more dimensions than the input: broadcasting would enlarge the input
    kIncompatible,  // a dimension is neither 1 nor the input's
};

// Checks that `operand` broadcasts to `input` without enlarging it; on failure sets *bad_dim to the offending
// operand dimension (or -1 for kTooManyDims).
BroadcastCheck check_broadcast(ShapeRef operand, ShapeRef input, int* bad_dim);

// Builds the plan for shapes already checked with check_broadcast. A null operand shape means "absent"
// (its strides are all 0 and it constrains nothing).
BroadcastPlan plan_broadcast(ShapeRef input, const ShapeRef* weight, const ShapeRef* pos_weight);

// Calls visit(flat, n, weight_offset, pos_weight_offset) for each run of the flat range [begin, end) that lies in
// one innermost row of the plan, in order; along a run the operands' offsets advance by the plan's innermost
// strides. The walk stops early when visit returns false. Every pass over a plan (the executor's kernels, the
// weight gradients) walks it this way.
template <typename Visit>
inline void for_each_run(const BroadcastPlan& plan, int64_t begin, int64_t end, Visit&& visit) {
    const int inner_dim = plan.ndim - 1;
    const int64_t row_length = plan.dims[inner_dim];
    int64_t row = begin / row_length;
    int64_t column = begin % row_length;
    int64_t index[kMaxDims];
    int64_t weight_offset = 0;
    int64_t pos_weight_offset = 0;
    for (int j = inner_dim - 1; j >= 0; --j) {
        index[j] = row % plan.dims[j];
        row /= plan.dims[j];
        weight_offset += index[j] * plan.weight_strides[j];
        pos_weight_offset += index[j] * plan.pos_weight_strides[j];
    }
    const int64_t weight_step = plan.weight_strides[inner_dim];
    const int64_t pos_weight_step = plan.pos_weight_strides[inner_dim];
    for (int64_t flat = begin; flat < end;) {
        const int64_t n = std::min(row_length - column, end - flat);
        if (!visit(flat, n, weight_offset + column * weight_step, pos_weight_offset + column * pos_weight_step)) return;
        flat += n;
        column = 0;
        for (int j = inner_dim - 1; j >= 0; --j) {  // next row
            weight_offset += plan.weight_strides[j];
            pos_weight_offset += plan.pos_weight_strides[j];
            if (++index[j] < plan.dims[j]) break;
            weight_offset -= plan.weight_strides[j] * plan.dims[j];
            pos_weight_offset -= plan.pos_weight_strides[j] * plan.dims[j];
            index[j] = 0;
        }
    }
}

// How one operand (its strides in `plan`) reads the input's index space, for the passes that take a whole block at
// once: the same element everywhere (absent operands have stride 0 throughout); the flat index itself (the input's
// own C-order strides); or the innermost row's column (stride 1 along it, 0 along every other dimension).
inline bool reads_constant(const BroadcastPlan& plan, const int64_t* strides) {
    for (int j = 0; j < plan.ndim; ++j) {
        if (strides[j] != 0) return false;
    }
    return true;
}

inline bool reads_per_element(const BroadcastPlan& plan, const int64_t* strides) {
    int64_t stride = 1;
    for (int j = plan.ndim - 1; j >= 0; --j) {
        if (strides[j] != stride) return false;
        stride *= plan.dims[j];
    }
    return true;
}

inline bool repeats_each_row(const BroadcastPlan& plan, const int64_t* strides) {
    if (plan.ndim < 2 || strides[plan.ndim - 1] != 1) return false;
    for (int j = 0; j < plan.ndim - 1; ++j) {
        if (strides[j] != 0) return false;
    }
    return true;
}

}  // namespace bce4j
