// A prepared call on the CPU: what preparing resolves for it (kernels, threads, plan), and each run: the reduction's
// denominator, the element pass through the active kernels, the reduced loss, then the weight gradients when asked.
#include <omp.h>

#include <algorithm>
#include <memory>
#include <type_traits>

#include "call.h"
#include "executor.h"
#include "kernels/row_kernel.h"
#include "reduction.h"
#include "repro_sum.h"
#include "storage_types.h"
#include "thread_budget.h"
#include "weight_gradients.h"

namespace bce4j {
namespace {

// The operand elements a run of `batch` rows reads: the first `batch` rows of one that spans dimension 0.
int64_t operand_count(const Prepared& p, int64_t count, bool spans_rows, int64_t batch) {
    return spans_rows ? count / p.max_batch * batch : count;
}

// The reduction's denominator, computed before the pass (from the weight alone or from one read of the targets) so
// that the gradients can be scaled as they are written.
template <typename T>
double denominator_for(const Prepared& p, int64_t count, int64_t weight_count, const T* target) {
    double total = 0;
    if (denominator_reads_data(p.denominator, count)) {
        const bool of_targets = p.denominator == Denominator::kNotIgnored;
        const T* operand = of_targets ? target : static_cast<const T*>(p.o.weight);
        const int64_t n = of_targets ? count : weight_count;
        for (int64_t i = 0; i < n; ++i) {
            total += denominator_term(p.denominator, to_double(operand[i]), p.params.ignored_target);
        }
    }
    return denominator_from_total(p.denominator, count, weight_count, total);
}

// The plan for a run of `batch` rows. Dimension 0 of the input sits in the prepared plan's outermost dimension
// (merged with the ones after it, or alone), so fewer rows only shorten that one. An operand that spans dimension 0
// broadcasts differently over fewer rows, though (over one row it is constant along it), and the plan decides how
// the runs and the weight-gradient sums are cut: such a run is planned as the unprepared call on its shapes is, so
// that the bits are the same.
BroadcastPlan plan_for_batch(const Prepared& p, int64_t batch) {
    if (batch != p.max_batch && (p.weight_spans_rows || p.pos_weight_spans_rows)) {
        int64_t dims[kMaxDims], weight_dims[kMaxDims], pos_weight_dims[kMaxDims];
        const auto with_batch = [&](ShapeRef s, bool spans_rows, int64_t* into) {
            for (int i = 0; i < s.ndim; ++i) into[i] = s.dims[i];
            if (spans_rows) into[0] = batch;
            return ShapeRef{s.ndim, into};
        };
        const ShapeRef input = with_batch(p.input, true, dims);
        const ShapeRef weight = with_batch(p.weight_shape, p.weight_spans_rows, weight_dims);
        const ShapeRef pos_weight = with_batch(p.pos_weight_shape, p.pos_weight_spans_rows, pos_weight_dims);
        return plan_broadcast(input, p.o.weight ? &weight : nullptr, p.o.pos_weight ? &pos_weight : nullptr);
    }
    BroadcastPlan plan;
    plan.ndim = p.plan.ndim;
    for (int i = 0; i < plan.ndim; ++i) {
        plan.dims[i] = p.plan.dims[i];
        plan.weight_strides[i] = p.plan.weight_strides[i];
        plan.pos_weight_strides[i] = p.plan.pos_weight_strides[i];
    }
    if (batch != p.max_batch) plan.dims[0] = plan.dims[0] / p.max_batch * batch;
    return plan;
}

// The plan of `count` elements without weights, for the calls prepared without one: one row.
BroadcastPlan contiguous_plan(int64_t count) {
    BroadcastPlan plan;
    plan.ndim = 1;
    plan.dims[0] = count;
    plan.weight_strides[0] = 0;
    plan.pos_weight_strides[0] = 0;
    return plan;
}

// A run's operands and per-element options, with no outputs (and upstream gradient 1): what every pass reads.
template <typename T>
RowArgs<T> operands_of(const Prepared& p, const RunArgs& run) {
    RowArgs<T> args;
    args.input = static_cast<const T*>(run.input);
    args.target = static_cast<const T*>(run.target);
    args.weight = static_cast<const T*>(p.o.weight);
    args.weight_stride = 0;
    args.pos_weight = static_cast<const T*>(p.o.pos_weight);
    args.pos_weight_stride = 0;
    args.grad_output = nullptr;
    args.grad_scale = 1.0;
    args.loss = nullptr;
    args.grad_input = nullptr;
    args.grad_target = nullptr;
    args.params = p.params;
    return args;
}

template <typename T>
bce4j_status run_typed(const Prepared& p, const RunArgs& run, int64_t count) {
    const bce4j_options& o = p.o;
    const bool reduces = p.reduces;
    const int64_t weight_count = operand_count(p, p.weight_count, p.weight_spans_rows, run.batch);
    const int64_t pos_weight_count = operand_count(p, p.pos_weight_count, p.pos_weight_spans_rows, run.batch);
    const double upstream = reduces && run.grad_output ? to_double(*static_cast<const T*>(run.grad_output)) : 1.0;
    const double denominator = denominator_for<T>(p, count, weight_count, static_cast<const T*>(run.target));
    RowArgs<T> args = operands_of<T>(p, run);
    args.grad_output = reduces ? nullptr : static_cast<const T*>(run.grad_output);
    args.grad_scale = normalise(upstream, denominator, p.zero_when_empty);
    args.loss = reduces ? nullptr : static_cast<T*>(run.loss);
    args.grad_input = static_cast<T*>(run.grad_input);
    args.grad_target = static_cast<T*>(run.grad_target);

    const RowKernel<T> kernel = kernel_of<T>(*p.kernels);
    ExecutionResult r = {0.0, -1};
    // A run large enough for a parallel region takes its threads from the process's budget (thread_budget.h), so
    // that calls running at once share the cores; a smaller one stays on its caller's thread.
    const ThreadLease lease(count >= kParallelThreshold ? p.max_threads : 1, o.num_threads > 0);
    const int threads = lease.threads();
    const auto plan = [&] { return p.has_plan ? plan_for_batch(p, run.batch) : contiguous_plan(count); };
    // Weight gradients, when asked for: a pass that the executor feeds block by block. An absent operand is an
    // implicit scalar 1: one gradient element, at stride 0 in the plan.
    T* grad_weight = static_cast<T*>(run.grad_weight);
    T* grad_pos_weight = static_cast<T*>(run.grad_pos_weight);
    // The rows a shorter run does not read have gradient 0.
    if (grad_weight != nullptr) {
        for (int64_t i = weight_count; i < p.weight_count; ++i) grad_weight[i] = from_double<T>(0.0);
    }
    if (grad_pos_weight != nullptr) {
        for (int64_t i = pos_weight_count; i < p.pos_weight_count; ++i) grad_pos_weight[i] = from_double<T>(0.0);
    }
    // One weight scales S and W alike: S/W does not depend on it (and is 0 for W = 0). Exactly 0, where the
    // formula below would leave the rounding noise of sum - R*m.
    const bool weight_cancels =
        grad_weight != nullptr && o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && weight_count == 1;
    if (weight_cancels) grad_weight = nullptr;
    // On the heap, not in a std::optional: GCC 12's optional zero-fills its payload (about 1 KB here) even when it
    // stays empty, which cost every call without weight gradients about 10 ns.
    std::unique_ptr<WeightGradientPass<T>> weight_gradients;
    if (grad_weight != nullptr || grad_pos_weight != nullptr) {
        weight_gradients = std::make_unique<WeightGradientPass<T>>(
            count > 0 ? plan() : BroadcastPlan{}, count, OperandGradient<T>{grad_weight, weight_count},
            OperandGradient<T>{grad_pos_weight, pos_weight_count}, args.grad_scale,
            o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT, execution_threads(count, threads) == 1);
    }
    if (count > 0 && !p.has_plan && !weight_gradients) {
        // One contiguous row, as the executor would run it, without a plan: small calls are common.
        const RowResult row = kernel(count, args);
        r = {row.loss_sum, row.first_invalid};
    } else if (count > 0) {  // an empty input has nothing to plan (its other dimensions may not even have a product)
        r = execute<T>(plan(), count, args, kernel, threads, weight_gradients.get());
    }

    if (r.first_invalid >= 0) {
        int64_t dims[kMaxDims];
        const ShapeRef shape = {p.input.ndim, dims};
        for (int i = 0; i < p.input.ndim; ++i) dims[i] = i == 0 ? run.batch : p.dims[i];
        return fail_out_of_range(p.kind, shape, r.first_invalid, to_double(args.input[r.first_invalid]),
                                 to_double(args.target[r.first_invalid]));
    }
    const double reduced = normalise(r.loss_sum, denominator, p.zero_when_empty);
    if (reduces) {
        if (run.reduced_loss) *run.reduced_loss = reduced;
        if (run.loss) *static_cast<T*>(run.loss) = from_double<T>(reduced);
    }
    if (weight_cancels) *static_cast<T*>(run.grad_weight) = from_double<T>(0.0);
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

// A weight's elements (16-bit storage widened exactly) added to an order-independent sum.
template <typename T>
void add_values(ReproSum* sum, const T* values, int64_t n) {
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        repro_sum_add(sum, values, n);
    } else {
        constexpr int64_t kChunk = 512;
        float widened[kChunk];
        for (int64_t start = 0; start < n; start += kChunk) {
            const int64_t m = std::min(kChunk, n - start);
            for (int64_t i = 0; i < m; ++i) widened[i] = widen(values[start + i]);
            repro_sum_add(sum, widened, m);
        }
    }
}

// The sum of `times` copies of the values summed in `sum`: doubling and adding merges, exact unions of the values,
// so the result is the sum of the values repeated, bit for bit, in log2(times) merges.
ReproSum repeated(const ReproSum& sum, int64_t times) {
    ReproSum result, power = sum;
    repro_sum_init(&result);
    while (times > 0) {
        if (times & 1) repro_sum_merge(&result, power);
        times >>= 1;
        if (times > 0) {
            const ReproSum copy = power;
            repro_sum_merge(&power, copy);
        }
    }
    return result;
}

template <typename T>
bce4j_status run_partial_typed(const Prepared& p, const RunArgs& run, int64_t count, bce4j_partial* added) {
    const bce4j_options& o = p.o;
    bce4j_partial_init(added);
    added->count = count;
    added->valid_count = count;
    added->nonzero_weight_count = count;
    if (count == 0) return BCE4J_OK;
    const RowArgs<T> args = operands_of<T>(p, run);

    ReproSum loss_sum;
    {
        const ThreadLease lease(count >= kParallelThreshold ? p.max_threads : 1, o.num_threads > 0);
        const BroadcastPlan plan = p.has_plan ? plan_for_batch(p, run.batch) : contiguous_plan(count);
        const int64_t invalid =
            execute_partial<T>(plan, count, args, kernel_of<T>(*p.kernels), lease.threads(), &loss_sum);
        if (invalid >= 0) {
            return fail_out_of_range(p.kind, p.input, invalid, to_double(args.input[invalid]),
                                     to_double(args.target[invalid]));
        }
    }
    put_sum(loss_sum, added->loss_sum);

    // The weight sum and the nonzero weights: the weight's own, times count / weight_count, as it broadcasts.
    ReproSum weight_sum;
    repro_sum_init(&weight_sum);
    int64_t nonzero = 1;
    if (o.weight != nullptr) {
        const T* weight = static_cast<const T*>(o.weight);
        add_values(&weight_sum, weight, p.weight_count);
        nonzero = 0;
        for (int64_t i = 0; i < p.weight_count; ++i) {
            nonzero += static_cast<int64_t>(denominator_term(Denominator::kNonzeroWeights, to_double(weight[i]), 0));
        }
    } else {
        const double one = 1;
        repro_sum_add(&weight_sum, &one, 1);
    }
    const int64_t repeats = o.weight != nullptr ? count / p.weight_count : count;
    put_sum(repeated(weight_sum, repeats), added->weight_sum);
    added->nonzero_weight_count = nonzero * repeats;

    if (o.has_ignore_index) {
        int64_t ignored = 0;
        for (int64_t i = 0; i < count; ++i) {
            ignored += static_cast<int64_t>(
                denominator_term(Denominator::kNotIgnored, to_double(args.target[i]), p.params.ignored_target));
        }
        added->valid_count = count - ignored;
    }
    return BCE4J_OK;
}

// f(T{}) for the storage type T of a checked dtype.
template <typename F>
bce4j_status for_storage_type(int32_t dtype, F&& f) {
    switch (dtype) {
        case BCE4J_FLOAT32: return f(float{});
        case BCE4J_FLOAT64: return f(double{});
        case BCE4J_FLOAT16: return f(Float16{});
        case BCE4J_BFLOAT16: return f(BFloat16{});
    }
    return BCE4J_ERROR_INTERNAL;  // prepare_call accepts no other dtype
}

}  // namespace

void prepare_cpu_run(Prepared* p) {
    const bce4j_options& o = p->o;
    p->kernels = &active_kernel_table();
    // Asking OpenMP for its default costs more than a small call; such calls stay on this thread anyway.
    p->max_threads = o.num_threads > 0 ? o.num_threads : p->count >= kParallelThreshold ? omp_get_max_threads() : 1;
    p->has_plan = p->count > 0 && (p->count > kReductionBlock || o.weight != nullptr || o.pos_weight != nullptr);
    if (p->has_plan) {
        p->plan = plan_broadcast(p->input, o.weight ? &p->weight_shape : nullptr,
                                 o.pos_weight ? &p->pos_weight_shape : nullptr);
    }
}

bce4j_status run_partial_on_cpu(const Prepared& p, const RunArgs& run, int64_t count, bce4j_partial* added) {
    return for_storage_type(p.dtype,
                            [&](auto zero) { return run_partial_typed<decltype(zero)>(p, run, count, added); });
}

bce4j_status run_on_cpu(const Prepared& p, const RunArgs& run, int64_t count) {
    return for_storage_type(p.dtype, [&](auto zero) { return run_typed<decltype(zero)>(p, run, count); });
}

}  // namespace bce4j
