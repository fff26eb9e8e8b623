// A checked call on the CPU: the reduction's denominator, the element pass through the active kernels, the reduced
// loss, then the weight gradients when asked for.
#include <omp.h>

#include <optional>

#include "call.h"
#include "executor.h"
#include "kernels/row_kernel.h"
#include "reduction.h"
#include "storage_types.h"
#include "weight_gradients.h"

namespace bce4j {
namespace {

// The reduction's denominator, computed before the pass (from the weight alone or from one read of the targets) so
// that the gradients can be scaled as they are written.
template <typename T>
double denominator_for(Denominator kind, const Checked& c, const T* target) {
    const int64_t weight_count = c.o.weight ? element_count(c.weight_shape) : 1;
    double total = 0;
    if (denominator_reads_data(kind, c.count)) {
        const bool of_targets = kind == Denominator::kNotIgnored;
        const T* operand = of_targets ? target : static_cast<const T*>(c.o.weight);
        const int64_t n = of_targets ? c.count : weight_count;
        for (int64_t i = 0; i < n; ++i) total += denominator_term(kind, to_double(operand[i]), c.params.ignored_target);
    }
    return denominator_from_total(kind, c.count, weight_count, total);
}

}  // namespace

template <typename T>
bce4j_status run_on_cpu(const Call& call, const Checked& c) {
    const bce4j_options& o = c.o;
    const int64_t count = c.count;
    const bool reduces = c.reduces;
    const double upstream = reduces && call.grad_output ? to_double(*static_cast<const T*>(call.grad_output)) : 1.0;
    const double denominator =
        denominator_for<T>(denominator_of(o.reduction, o.weight != nullptr, o.has_ignore_index != 0), c,
                           static_cast<const T*>(call.target));
    const bool zero_when_empty = zero_for_zero_denominator(o.reduction);
    RowArgs<T> args;
    args.input = static_cast<const T*>(call.input);
    args.target = static_cast<const T*>(call.target);
    args.weight = static_cast<const T*>(o.weight);
    args.weight_stride = 0;
    args.pos_weight = static_cast<const T*>(o.pos_weight);
    args.pos_weight_stride = 0;
    args.grad_output = reduces ? nullptr : static_cast<const T*>(call.grad_output);
    args.grad_scale = normalise(upstream, denominator, zero_when_empty);
    args.loss = reduces ? nullptr : static_cast<T*>(call.loss);
    args.grad_input = static_cast<T*>(call.grad_input);
    args.grad_target = static_cast<T*>(call.grad_target);
    args.params = c.params;

    const RowKernel<T> kernel = kernel_of<T>(active_kernel_table());
    ExecutionResult r = {0.0, -1};
    // Asking OpenMP for its default costs more than a small call; such calls stay on this thread anyway.
    const auto thread_count = [&] {
        return o.num_threads > 0 ? o.num_threads : count >= kParallelThreshold ? omp_get_max_threads() : 1;
    };
    const auto broadcast_plan = [&] {
        return plan_broadcast(c.input, o.weight ? &c.weight_shape : nullptr,
                              o.pos_weight ? &c.pos_weight_shape : nullptr);
    };
    // Weight gradients, when asked for: a pass that the executor feeds block by block. An absent operand is an
    // implicit scalar 1: one gradient element, at stride 0 in the plan.
    const int64_t weight_count = o.weight ? element_count(c.weight_shape) : 1;
    const int64_t pos_weight_count = o.pos_weight ? element_count(c.pos_weight_shape) : 1;
    T* grad_weight = static_cast<T*>(o.grad_weight);
    // One weight scales S and W alike: S/W does not depend on it (and is 0 for W = 0). Exactly 0, where the
    // formula below would leave the rounding noise of sum - R*m.
    const bool weight_cancels =
        grad_weight != nullptr && o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && weight_count == 1;
    if (weight_cancels) grad_weight = nullptr;
    std::optional<WeightGradientPass<T>> weight_gradients;
    if (grad_weight != nullptr || o.grad_pos_weight != nullptr) {
        weight_gradients.emplace(count > 0 ? broadcast_plan() : BroadcastPlan{}, count,
                                 OperandGradient<T>{grad_weight, weight_count},
                                 OperandGradient<T>{static_cast<T*>(o.grad_pos_weight), pos_weight_count},
                                 args.grad_scale, o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT);
    }
    if (count > 0 && count <= kReductionBlock && o.weight == nullptr && o.pos_weight == nullptr && !weight_gradients) {
        // One contiguous row, as the executor would run it, without building a plan: small calls are common.
        const RowResult row = kernel(count, args);
        r = {row.loss_sum, row.first_invalid};
    } else if (count > 0) {  // an empty input has nothing to plan (its other dimensions may not even have a product)
        r = execute<T>(broadcast_plan(), count, args, kernel, thread_count(),
                       weight_gradients ? &*weight_gradients : nullptr);
    }

    if (r.first_invalid >= 0) {
        return fail_out_of_range(call.kind, c.input, r.first_invalid, to_double(args.input[r.first_invalid]),
                                 to_double(args.target[r.first_invalid]));
    }
    const double reduced = normalise(r.loss_sum, denominator, zero_when_empty);
    if (reduces) {
        if (call.reduced_loss) *call.reduced_loss = reduced;
        if (call.loss) *static_cast<T*>(call.loss) = from_double<T>(reduced);
    }
    if (weight_cancels) *static_cast<T*>(o.grad_weight) = from_double<T>(0.0);
    if (weight_gradients) {
        WeightGradientTerms terms;
        terms.scale = args.grad_scale;
        // d(S/W)/dw_j = (sum over j's elements of the unweighted losses - R * m_j) / W, with W the sum of the
        // broadcast weights, R = S/W the reduced loss and m_j = count / weight_count how often w_j is repeated.
        terms.weight_sum_offset = o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && count > 0
                                      ? reduced * static_cast<double>(count / weight_count)
                                      : 0.0;
        weight_gradients->finish(terms);
    }
    return BCE4J_OK;
}

template bce4j_status run_on_cpu<float>(const Call&, const Checked&);
template bce4j_status run_on_cpu<double>(const Call&, const Checked&);
template bce4j_status run_on_cpu<Float16>(const Call&, const Checked&);
template bce4j_status run_on_cpu<BFloat16>(const Call&, const Checked&);

}  // namespace bce4j
