#include "broadcast_plan.h"

namespace bce4j {

BroadcastCheck check_broadcast(ShapeRef operand, ShapeRef input, int* bad_dim) {
    if (operand.ndim > input.ndim) {
        *bad_dim = -1;
        return BroadcastCheck::kTooManyDims;
    }
    const int offset = input.ndim - operand.ndim;
    for (int j = 0; j < operand.ndim; ++j) {
        const int64_t d = operand.dims[j];
        if (d != 1 && d != input.dims[offset + j]) {
            *bad_dim = j;
            return BroadcastCheck::kIncompatible;
        }
    }
    return BroadcastCheck::kOk;
}

namespace {

// The operand's stride along each input dimension: 0 where it broadcasts, its own C-order stride elsewhere.
void operand_strides(ShapeRef input, const ShapeRef* operand, int64_t* strides) {
    for (int i = 0; i < input.ndim; ++i) strides[i] = 0;
    if (operand == nullptr) return;
    const int offset = input.ndim - operand->ndim;
    int64_t stride = 1;
    for (int j = operand->ndim - 1; j >= 0; --j) {
        const int64_t d = operand->dims[j];
        strides[offset + j] = d == 1 ? 0 : stride;
        stride *= d;
    }
}

}  // namespace

BroadcastPlan plan_broadcast(ShapeRef input, const ShapeRef* weight, const ShapeRef* pos_weight) {
    int64_t w[kMaxDims];
    int64_t p[kMaxDims];
    operand_strides(input, weight, w);
    operand_strides(input, pos_weight, p);

    BroadcastPlan plan;
    plan.ndim = 0;
    for (int i = 0; i < input.ndim; ++i) {
        const int64_t d = input.dims[i];
        if (d == 1) continue;  // contributes no index
        if (plan.ndim > 0) {
            const int last = plan.ndim - 1;
            // Merge dimension i into the previous one when both operands step through them as one run.
            const bool merges = plan.weight_strides[last] == w[i] * d && plan.pos_weight_strides[last] == p[i] * d;
            if (merges) {
                plan.dims[last] *= d;
                plan.weight_strides[last] = w[i];
                plan.pos_weight_strides[last] = p[i];
                continue;
            }
        }
        plan.dims[plan.ndim] = d;
        plan.weight_strides[plan.ndim] = w[i];
        plan.pos_weight_strides[plan.ndim] = p[i];
        ++plan.ndim;
    }
    if (plan.ndim == 0) {  // a scalar, or all dimensions 1: one element
        plan.ndim = 1;
        plan.dims[0] = 1;
        plan.weight_strides[0] = 0;
        plan.pos_weight_strides[0] = 0;
    }
    return plan;
}

}  // namespace bce4j
