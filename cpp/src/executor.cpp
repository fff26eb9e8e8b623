#include "executor.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "weight_gradients.h"

namespace bce4j {
namespace {

// Sums v[begin, end) pairwise: the order is fixed by the length alone.
double pairwise_sum(const std::vector<double>& v, size_t begin, size_t end) {
    if (end - begin <= 8) {
        double s = 0.0;
        for (size_t i = begin; i < end; ++i) s += v[i];
        return s;
    }
    const size_t mid = begin + (end - begin) / 2;
    return pairwise_sum(v, begin, mid) + pairwise_sum(v, mid, end);
}

// The kernel's outputs for block b = [begin, end), with its weight-gradient terms (weight_gradients: nullptr when
// not wanted) put where the pass says, `terms` being the block's scratch.
// loss_terms: the block's loss sink (element begin at loss_terms[0]), or nullptr.
template <typename T>
ExecutionResult run_range(const BlockRuns<T>& runs, const RowArgs<T>& base, RowKernel<T> kernel, int64_t b,
                          int64_t begin, int64_t end, WeightGradientPass<T>* weight_gradients, BlockTerms terms,
                          LossTerm<T>* loss_terms = nullptr) {
    ExecutionResult result = {0.0, -1};
    const auto run_kernel = [&](const KernelRun<T>& run) {
        RowArgs<T> args = with_element_offset(base, run.flat);
        args.weight = run.weight;
        args.weight_stride = run.weight_stride;
        args.pos_weight = run.pos_weight;
        args.pos_weight_stride = run.pos_weight_stride;
        if (loss_terms) args.loss_terms = loss_terms + (run.flat - begin);
        if (weight_gradients) {
            const typename WeightGradientPass<T>::Sinks sinks = weight_gradients->sinks(b, begin, run.flat, terms);
            args.weight_terms = sinks.weight;
            args.pos_weight_terms = sinks.pos_weight;
            args.weight_gradient = sinks.weight_gradient;
            args.pos_weight_gradient = sinks.pos_weight_gradient;
            args.gradient_scale = sinks.gradient_scale;
        }
        const RowResult r = kernel(run.n, args);
        result.loss_sum += r.loss_sum;
        if (r.first_invalid >= 0) {
            result.first_invalid = run.flat + r.first_invalid;
            return false;
        }
        return true;
    };
    runs.for_each(begin, end, run_kernel);
    return result;
}

}  // namespace

template <typename T>
BlockRuns<T>::BlockRuns(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base)
    : plan_(plan), weight_{base.weight, 0, 0}, pos_weight_{base.pos_weight, 0, 0} {
    const int64_t row = plan.dims[plan.ndim - 1];
    whole_blocks_ = true;
    const auto classify = [&](Operand& operand, const int64_t* strides, std::vector<T>& tile) {
        if (operand.origin == nullptr || reads_constant(plan, strides)) return;
        if (reads_per_element(plan, strides)) {
            operand.stride = 1;
        } else if (repeats_each_row(plan, strides) && row < kReductionBlock) {
            // The row repeated until it covers a block starting at any column: copied row by row (a remainder per
            // element cost a [1000] operand's call about 50 us, more than its kernels at 64K elements).
            tile.resize(static_cast<size_t>(row + std::min(count, kReductionBlock)));
            for (size_t t = 0; t < tile.size(); t += static_cast<size_t>(row)) {
                std::copy_n(operand.origin, std::min(static_cast<size_t>(row), tile.size() - t), tile.data() + t);
            }
            operand = {tile.data(), 1, row};
        } else {
            whole_blocks_ = false;
        }
    };
    classify(weight_, plan.weight_strides, weight_tile_);
    classify(pos_weight_, plan.pos_weight_strides, pos_weight_tile_);
    if (!whole_blocks_) {
        weight_ = {base.weight, 0, 0};
        pos_weight_ = {base.pos_weight, 0, 0};
    }
}

int execution_threads(int64_t count, int num_threads) {
    if (count < kParallelThreshold) return 1;
    return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, block_count(count))));
}

template <typename T>
ExecutionResult execute(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads, WeightGradientPass<T>* weight_gradients) {
    const BlockRuns<T> runs(plan, count, base);
    const int64_t blocks = block_count(count);
    const int threads = execution_threads(count, num_threads);
    const bool parallel = threads > 1;
    const BlockTermsWanted wanted = weight_gradients ? weight_gradients->wanted() : BlockTermsWanted{};
    // Block b's kernel calls, which put its weight-gradient terms in the pass's sinks (`scratch`: one per thread),
    // then the sums of those in the scratch.
    const auto run_block = [&](int64_t b, BlockTermsScratch& scratch) {
        const int64_t begin = b * kReductionBlock;
        const int64_t end = std::min(count, begin + kReductionBlock);
        BlockTerms terms = scratch.terms();
        if (weight_gradients) weight_gradients->begin_block(b);
        const ExecutionResult r = run_range(runs, base, kernel, b, begin, end, weight_gradients, terms);
        // A call with an invalid element fails: its gradients are never read.
        if (weight_gradients && r.first_invalid < 0) weight_gradients->add_block(b, begin, end, terms);
        return r;
    };
    if (blocks == 1) {
        BlockTermsScratch scratch(wanted);
        return run_block(0, scratch);
    }
    std::vector<double> block_sums(static_cast<size_t>(blocks));
    std::vector<int64_t> block_invalid(static_cast<size_t>(blocks));
#pragma omp parallel num_threads(threads) if (parallel)
    {
        BlockTermsScratch scratch(wanted);
#pragma omp for schedule(static)
        for (int64_t b = 0; b < blocks; ++b) {
            const ExecutionResult r = run_block(b, scratch);
            block_sums[b] = r.loss_sum;
            block_invalid[b] = r.first_invalid;
        }
    }
    ExecutionResult result = {pairwise_sum(block_sums, 0, block_sums.size()), -1};
    for (int64_t invalid : block_invalid) {
        if (invalid >= 0) {
            result.first_invalid = invalid;  // blocks are in index order: the first hit is the smallest
            break;
        }
    }
    return result;
}

template <typename T>
int64_t execute_partial(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads, ReproSum* loss_sum) {
    const BlockRuns<T> runs(plan, count, base);
    const int64_t blocks = block_count(count);
    const int threads = execution_threads(count, num_threads);
    const bool parallel = threads > 1;
    std::vector<ReproSum> thread_sums(static_cast<size_t>(threads));
    for (ReproSum& s : thread_sums) repro_sum_init(&s);
    std::vector<int64_t> block_invalid(static_cast<size_t>(blocks), -1);
#pragma omp parallel num_threads(threads) if (parallel)
    {
        // Each thread's own scratch and sum: which thread ran a block cannot change the sum.
        std::vector<LossTerm<T>> losses(static_cast<size_t>(std::min(count, kReductionBlock)));
        ReproSum& sum = thread_sums[static_cast<size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
        for (int64_t b = 0; b < blocks; ++b) {
            const int64_t begin = b * kReductionBlock;
            const int64_t end = std::min(count, begin + kReductionBlock);
            const ExecutionResult r =
                run_range(runs, base, kernel, b, begin, end, static_cast<WeightGradientPass<T>*>(nullptr),
                          BlockTerms{nullptr, nullptr}, losses.data());
            block_invalid[static_cast<size_t>(b)] = r.first_invalid;
            if (r.first_invalid < 0) repro_sum_add(&sum, losses.data(), end - begin);
        }
    }
    for (int64_t invalid : block_invalid) {
        if (invalid >= 0) return invalid;  // blocks are in index order: the first hit is the smallest
    }
    repro_sum_init(loss_sum);
    for (const ReproSum& s : thread_sums) repro_sum_merge(loss_sum, s);
    return -1;
}

template class BlockRuns<float>;
template class BlockRuns<double>;
template class BlockRuns<Float16>;
template class BlockRuns<BFloat16>;

template ExecutionResult execute<float>(const BroadcastPlan&, int64_t, const RowArgs<float>&, RowKernel<float>, int,
                                        WeightGradientPass<float>*);
template ExecutionResult execute<double>(const BroadcastPlan&, int64_t, const RowArgs<double>&, RowKernel<double>, int,
                                         WeightGradientPass<double>*);
template ExecutionResult execute<Float16>(const BroadcastPlan&, int64_t, const RowArgs<Float16>&, RowKernel<Float16>,
                                          int, WeightGradientPass<Float16>*);
template ExecutionResult execute<BFloat16>(const BroadcastPlan&, int64_t, const RowArgs<BFloat16>&, RowKernel<BFloat16>,
                                           int, WeightGradientPass<BFloat16>*);

template int64_t execute_partial<float>(const BroadcastPlan&, int64_t, const RowArgs<float>&, RowKernel<float>, int,
                                        ReproSum*);
template int64_t execute_partial<double>(const BroadcastPlan&, int64_t, const RowArgs<double>&, RowKernel<double>, int,
                                         ReproSum*);
template int64_t execute_partial<Float16>(const BroadcastPlan&, int64_t, const RowArgs<Float16>&, RowKernel<Float16>,
                                          int, ReproSum*);
template int64_t execute_partial<BFloat16>(const BroadcastPlan&, int64_t, const RowArgs<BFloat16>&, RowKernel<BFloat16>,
                                           int, ReproSum*);

}  // namespace bce4j
