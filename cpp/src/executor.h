// Runs a row kernel over the whole input, in parallel when the input is large, with a deterministic sum.
#pragma once

#include <cstdint>

#include "broadcast_plan.h"
#include "kernels/row_kernel.h"

namespace bce4j {

// Elements per reduction block. The input is cut into blocks of this many elements (by flat index); each block
// is summed in order and the block sums are added pairwise in a fixed order. The result therefore does not
// depend on the number of threads.
constexpr int64_t kReductionBlock = 8192;

// Inputs smaller than this run on the calling thread: a parallel region costs more than it saves.
constexpr int64_t kParallelThreshold = 4 * kReductionBlock;

struct ExecutionResult {
    double loss_sum;
    int64_t first_invalid;  // flat index of the first element the kernel rejected, or -1
};

// `base` holds the operands' pointers at element 0; run-specific offsets are added here. count must be > 0.
template <typename T>
ExecutionResult execute(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads);

}  // namespace bce4j
