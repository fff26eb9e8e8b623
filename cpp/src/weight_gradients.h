// Gradients with respect to weight and pos_weight, summed back to each operand's own (broadcast) shape: a
// separate deterministic pass over the input, run only for calls that ask for them.
#pragma once

#include <cstdint>

#include "broadcast_plan.h"
#include "kernels/row_kernel.h"

namespace bce4j {

// One operand's gradient output: `out` holds `count` elements of the call's dtype (1 for an absent operand,
// which then stands for an implicit scalar 1 at plan stride 0). nullptr: not wanted.
template <typename T>
struct OperandGradient {
    T* out;
    int64_t count;
};

struct WeightGradientTerms {
    // What every operand-shaped sum is multiplied by: the upstream gradient over the reduction's denominator
    // (args.grad_scale), or 1 for NONE with a per-element grad_output.
    double scale;
    // MEAN_BY_WEIGHT only: R * m, the reduced loss times each weight element's multiplicity, subtracted from each
    // weight sum before scaling, since the denominator W = sum of broadcast weights depends on the weight too.
    double weight_sum_offset;
};

// Fills the wanted outputs. `args` are the call's row arguments at element 0 (weight and pos_weight unshifted);
// `plan` must cover both operands (absent ones with stride 0). Elements are taken in fixed 8192-element blocks
// whose partial sums are added in block order, so the result does not depend on num_threads.
template <typename T>
void compute_weight_gradients(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& args,
                              const WeightGradientTerms& terms, OperandGradient<T> weight,
                              OperandGradient<T> pos_weight, int num_threads);

}  // namespace bce4j
