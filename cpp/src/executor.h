// Runs a row kernel over the whole input, in parallel when the input is large, with a deterministic sum.
#pragma once

#include <cstdint>
#include <vector>

#include "broadcast_plan.h"
#include "kernels/row_kernel.h"
#include "repro_sum.h"

namespace bce4j {

// Elements per reduction block. The input is cut into blocks of this many elements (by flat index); each block
// is summed in order and the block sums are added pairwise in a fixed order. The result therefore does not
// depend on the number of threads.
constexpr int64_t kReductionBlock = 8192;

// The reduction blocks of `count` elements, the last one possibly short.
constexpr int64_t block_count(int64_t count) { return (count + kReductionBlock - 1) / kReductionBlock; }

// Inputs smaller than this run on the calling thread: a parallel region costs more than it saves.
constexpr int64_t kParallelThreshold = 4 * kReductionBlock;

// One kernel call of a block: elements [flat, flat + n), with the operands' pointers at element flat (nullptr:
// absent) and their strides along the run (0 or 1).
template <typename T>
struct KernelRun {
    int64_t flat;
    int64_t n;
    const T* weight;
    int64_t weight_stride;
    const T* pos_weight;
    int64_t pos_weight_stride;
};

// How a block of the input is cut into kernel calls. When every operand is absent or constant, read per element
// (its offset is the flat index) or repeats with each innermost row (a [C] weight over [N, C]), a block is one call:
// a row-repeating operand is read from a tile, the row written out back to back, at the block's column. Otherwise
// each innermost row of the plan is a call of its own (for_each_run).
template <typename T>
class BlockRuns {
public:
    // `base` holds the operands' pointers at element 0. count must be > 0.
    BlockRuns(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base);

    // Calls visit(const KernelRun<T>&) for each kernel call of [begin, end), in order; stops when visit returns false.
    template <typename Visit>
    void for_each(int64_t begin, int64_t end, Visit&& visit) const {
        if (whole_blocks_) {
            visit(KernelRun<T>{begin, end - begin, weight_.at(begin), weight_.stride, pos_weight_.at(begin),
                               pos_weight_.stride});
            return;
        }
        const int64_t weight_step = plan_.weight_strides[plan_.ndim - 1];
        const int64_t pos_weight_step = plan_.pos_weight_strides[plan_.ndim - 1];
        for_each_run(plan_, begin, end, [&](int64_t flat, int64_t n, int64_t weight_offset, int64_t pos_weight_offset) {
            return visit(KernelRun<T>{flat, n, weight_.origin ? weight_.origin + weight_offset : nullptr, weight_step,
                                      pos_weight_.origin ? pos_weight_.origin + pos_weight_offset : nullptr,
                                      pos_weight_step});
        });
    }

private:
    // An operand as a whole-block call reads it: from origin + (period > 0 ? flat % period : flat * stride).
    struct Operand {
        const T* origin;
        int64_t stride;
        int64_t period;
        const T* at(int64_t flat) const {
            if (origin == nullptr) return nullptr;
            return origin + (period > 0 ? flat % period : flat * stride);
        }
    };
    BroadcastPlan plan_;
    bool whole_blocks_;
    Operand weight_, pos_weight_;
    std::vector<T> weight_tile_, pos_weight_tile_;
};

struct ExecutionResult {
    double loss_sum;
    int64_t first_invalid;  // flat index of the first element the kernel rejected, or -1
};

template <typename T>
class WeightGradientPass;  // weight_gradients.h

// The threads execute() and execute_partial() run `count` elements on, asked for num_threads: 1 below
// kParallelThreshold, and never more than there are blocks (more would idle; asking libgomp for them could end the
// process). With 1, the blocks run in order on the calling thread.
int execution_threads(int64_t count, int num_threads);

// `base` holds the operands' pointers at element 0; run-specific offsets are added here. count must be > 0. With
// `weight_gradients`, the kernel calls write each block's weight-gradient terms, which are handed to it after them.
template <typename T>
ExecutionResult execute(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads, WeightGradientPass<T>* weight_gradients = nullptr);

// The loss pass of a partial call (bce4j_*_partial): the kernels' per-element losses (RowArgs::loss_terms) block by
// block into a scratch block per thread, each block then added to that thread's order-independent sum, the threads'
// sums merged into *loss_sum at the end. Any thread count and any cut of the rows into calls give the same sum.
// Returns the first invalid element (flat index) or -1; *loss_sum is then unspecified. count must be > 0.
template <typename T>
int64_t execute_partial(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& base, RowKernel<T> kernel,
                        int num_threads, ReproSum* loss_sum);

}  // namespace bce4j
