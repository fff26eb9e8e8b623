#include "executor.h"

#include <algorithm>
#include <vector>

namespace bce4j {
namespace {

template <typename T>
ExecutionResult run_range(const BroadcastPlan& plan, const RowArgs<T>& base, RowKernel<T> kernel,
                          int64_t begin, int64_t end) {
    const int inner_dim = plan.ndim - 1;
    const int64_t row_length = plan.dims[inner_dim];
    int64_t row = begin / row_length;
    int64_t column = begin % row_length;

    // The outer index of `row`, digit by digit, and the operands' offsets at the row's start.
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
    ExecutionResult result = {0.0, -1};
    for (int64_t flat = begin; flat < end;) {
        const int64_t n = std::min(row_length - column, end - flat);
        RowArgs<T> args = with_element_offset(base, flat);
        if (args.weight) args.weight += weight_offset + column * weight_step;
        args.weight_stride = weight_step;
        if (args.pos_weight) args.pos_weight += pos_weight_offset + column * pos_weight_step;
        args.pos_weight_stride = pos_weight_step;

        const RowResult r = kernel(n, args);
        result.loss_sum += r.loss_sum;
        if (r.first_invalid >= 0) {
            result.first_invalid = flat + r.first_invalid;
            return result;
        }
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
template ExecutionResult execute<double>(const BroadcastPlan&, int64_t, const RowArgs<double>&, RowKernel<double>,
                                         int);
template ExecutionResult execute<Float16>(const BroadcastPlan&, int64_t, const RowArgs<Float16>&, RowKernel<Float16>,
                                          int);
template ExecutionResult execute<BFloat16>(const BroadcastPlan&, int64_t, const RowArgs<BFloat16>&,
                                           RowKernel<BFloat16>, int);

}  // namespace bce4j
