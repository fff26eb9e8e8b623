#include "executor.h"

#include <algorithm>
#include <vector>

namespace bce4j {
namespace {

template <typename T>
ExecutionResult run_range(const BroadcastPlan& plan, const RowArgs<T>& base, RowKernel<T> kernel, int64_t begin,
                          int64_t end) {
    ExecutionResult result = {0.0, -1};
    for_each_run(plan, begin, end, [&](int64_t flat, int64_t n, int64_t weight_offset, int64_t pos_weight_offset) {
        RowArgs<T> args = with_element_offset(base, flat);
        if (args.weight) args.weight += weight_offset;
        args.weight_stride = plan.weight_strides[plan.ndim - 1];
        if (args.pos_weight) args.pos_weight += pos_weight_offset;
        args.pos_weight_stride = plan.pos_weight_strides[plan.ndim - 1];
        const RowResult r = kernel(n, args);
        result.loss_sum += r.loss_sum;
        if (r.first_invalid >= 0) {
            result.first_invalid = flat + r.first_invalid;
            return false;
        }
        return true;
    });
    return result;
}

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

}  // namespace

template <typename T>
ExecutionResult execute(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads) {
    if (count <= kReductionBlock) return run_range(plan, base, kernel, 0, count);
    const int64_t blocks = (count + kReductionBlock - 1) / kReductionBlock;
    std::vector<double> block_sums(static_cast<size_t>(blocks));
    std::vector<int64_t> block_invalid(static_cast<size_t>(blocks));
    // More threads than blocks would only idle; asking libgomp for them could end the process.
    const int threads = static_cast<int>(std::min<int64_t>(num_threads, blocks));
    const bool parallel = count >= kParallelThreshold && threads > 1;
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t begin = b * kReductionBlock;
        const int64_t end = std::min(count, begin + kReductionBlock);
        const ExecutionResult r = run_range(plan, base, kernel, begin, end);
        block_sums[b] = r.loss_sum;
        block_invalid[b] = r.first_invalid;
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

template ExecutionResult execute<float>(const BroadcastPlan&, int64_t, const RowArgs<float>&, RowKernel<float>, int);
template ExecutionResult execute<double>(const BroadcastPlan&, int64_t, const RowArgs<double>&, RowKernel<double>, int);
template ExecutionResult execute<Float16>(const BroadcastPlan&, int64_t, const RowArgs<Float16>&, RowKernel<Float16>,
                                          int);
template ExecutionResult execute<BFloat16>(const BroadcastPlan&, int64_t, const RowArgs<BFloat16>&, RowKernel<BFloat16>,
                                           int);

}  // namespace bce4j
