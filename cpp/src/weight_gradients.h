// Gradients with respect to weight and pos_weight, summed back to each operand's own (broadcast) shape. The
// executor hands each block's per-element terms (RowArgs::weight_terms, pos_weight_terms) to a WeightGradientPass
// right after the block's kernel calls, while its operands are still in cache: a float64 kernel writes them itself;
// for the other dtypes the pass computes them with the float64 kernel from the block's widened operands, so that
// every dtype's gradients are the float64 ones (of the same values) rounded once.
#pragma once

#include <cstdint>
#include <vector>

#include "broadcast_plan.h"
#include "executor.h"
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

// Which terms a pass needs per element.
struct BlockTermsWanted {
    bool weight = false;
    bool pos_weight = false;
};

// One block's terms, indexed from the block's first element; nullptr: not wanted.
struct BlockTerms {
    double* weight;
    double* pos_weight;
};

// A thread's room for one block's terms.
class BlockTermsScratch {
public:
    explicit BlockTermsScratch(BlockTermsWanted wanted)
        : weight_(wanted.weight ? kReductionBlock : 0), pos_weight_(wanted.pos_weight ? kReductionBlock : 0) {}
    BlockTerms terms() {
        return {weight_.empty() ? nullptr : weight_.data(), pos_weight_.empty() ? nullptr : pos_weight_.data()};
    }

private:
    std::vector<double> weight_, pos_weight_;
};

// The sums of one call. Each operand element's terms are added in double, in flat order within each 8192-element
// block, and the block partials in block order afterwards, so the result does not depend on the number of threads.
template <typename T>
class WeightGradientPass {
public:
    // `plan` covers both operands (absent ones with stride 0); count > 0. `scale` is WeightGradientTerms::scale;
    // `weight_offset_later`: the weight's sums get a weight_sum_offset that is known only after the pass.
    WeightGradientPass(const BroadcastPlan& plan, int64_t count, OperandGradient<T> weight,
                       OperandGradient<T> pos_weight, double scale, bool weight_offset_later);

    BlockTermsWanted wanted() const { return {weight_.gradient.out != nullptr, pos_weight_.gradient.out != nullptr}; }

    // Block b = [begin, end), from any thread, after its kernel calls (`runs` and `base` are theirs): computes its
    // terms unless the kernel wrote them (float64), and adds them to the block's partial sums.
    void add_block(int64_t b, int64_t begin, int64_t end, const BlockRuns<T>& runs, const RowArgs<T>& base,
                   BlockTerms terms);

    // After every block: the outputs.
    void finish(const WeightGradientTerms& terms);

private:
    // A range [low, high] of operand elements that consecutive runs of one block touch, with their partial sums at
    // OperandSums::sums[start...].
    struct Segment {
        int64_t low;
        int64_t high;
        size_t start;
    };
    // Where one operand's terms go. An operand with the input's element count (kDirect) takes each element's term
    // directly. One that reads a constant or the innermost row's column (kPeriodic) keeps `kept_period` partial sums
    // per block, a multiple of its `period` of at least kMinimumRow. Otherwise (kSegmented) each block keeps partial
    // sums in segments: a run joins the block's last segment when their ranges meet and starts a new one when the
    // broadcast jumps, so that the partials of a block never cover more operand elements than it has elements.
    enum class Layout { kDirect, kPeriodic, kSegmented };
    struct OperandSums {
        OperandGradient<T> gradient;
        Layout layout = Layout::kSegmented;
        int64_t period = 0;
        int64_t kept_period = 0;
        int64_t step = 0;                            // the plan's innermost stride (kSegmented)
        bool finish_later = false;                   // kDirect: sums kept in `sums` until finish
        std::vector<std::vector<Segment>> segments;  // kSegmented: per block, in the order its runs reach them
        std::vector<double> sums;                    // the partial sums (kDirect: the terms, when finish_later)
    };
    static constexpr int64_t kMinimumRow = 32;
    void plan_operand(OperandSums& s, const int64_t* strides, bool offset_later);
    void add_terms(OperandSums& s, int64_t b, int64_t begin, int64_t end, const double* terms);

    const BroadcastPlan plan_;
    const int64_t count_;
    const int64_t blocks_;
    const double scale_;
    OperandSums weight_, pos_weight_;
};

}  // namespace bce4j
