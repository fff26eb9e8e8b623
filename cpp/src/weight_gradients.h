// Gradients with respect to weight and pos_weight, summed back to each operand's own (broadcast) shape. The row
// kernels compute each element's terms (RowArgs::weight_terms, pos_weight_terms) in the pass that computes the
// losses, each in its own compute type (the SIMD kernels: float32 lanes for float32 and 16-bit storage; the scalar
// reference: double), and hand them over in double: an operand that repeats with each row (or is one value) has
// them added to its block's partial sums by the kernel itself; for the others the kernel writes them to the block's
// scratch, which the executor hands to the WeightGradientPass right after the block's kernel calls, while they are
// still in cache.
#pragma once

#include <cstdint>
#include <memory>
#include <type_traits>
#include <vector>

#include "broadcast_plan.h"
#include "executor.h"

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

// Which operands' terms a pass needs per element, in a block's scratch.
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
    // `weight_offset_later`: the weight's sums get a weight_sum_offset that is known only after the pass;
    // `blocks_in_order`: the executor runs the blocks one after another on one thread (execution_threads is 1).
    WeightGradientPass(const BroadcastPlan& plan, int64_t count, OperandGradient<T> weight,
                       OperandGradient<T> pos_weight, double scale, bool weight_offset_later, bool blocks_in_order);

    BlockTermsWanted wanted() const { return {needs_scratch(weight_), needs_scratch(pos_weight_)}; }

    // Where the kernel call at element `flat` of block b (which starts at `begin`) puts each operand's terms: the
    // block's partial sums for an operand laid out by period, the gradient itself for one whose elements each take
    // one term (float32 and float64, with a nonzero scale known now), `scratch` otherwise (nothing when not wanted).
    struct Sinks {
        TermSink weight, pos_weight;
        T* weight_gradient;
        T* pos_weight_gradient;
        double gradient_scale;
    };
    Sinks sinks(int64_t b, int64_t begin, int64_t flat, BlockTerms scratch);

    // Block b, from any thread, before its kernel calls.
    void begin_block(int64_t b);

    // Block b = [begin, end), from any thread, after its kernel calls: adds the terms they wrote to `scratch` to the
    // block's partial sums.
    void add_block(int64_t b, int64_t begin, int64_t end, BlockTerms scratch);

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
    // per block, a multiple of its `period` of at least kMinimumRow, which the kernels add the terms to (TermSink);
    // with the blocks in order, one block's partials only, added to `ordered_total` as each block ends, in the order
    // finish would add them (a [1000] operand over 1M elements: 8 KB where every block's took 1 MB and a pass).
    // Otherwise (kSegmented) each block keeps partial
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
        double* periodic_sums = nullptr;             // kPeriodic: kept_period partial sums per block (or one)
        std::vector<double> ordered_total;           // kPeriodic with the blocks in order: the sums so far
        std::unique_ptr<double[]> periodic_owned;    // their storage, where the thread's kept storage is too small
    };
    static constexpr int64_t kMinimumRow = 32;
    // The kernels write the gradient of a kDirect operand themselves, from float32 or float64 lanes (RowArgs::
    // weight_gradient), unless its sums are finished later or the scale is 0 (math::scaled's exceptions).
    bool written_by_kernels(const OperandSums& s) const {
        return s.layout == Layout::kDirect && !s.finish_later && scale_ != 0 &&
               (std::is_same_v<T, float> || std::is_same_v<T, double>);
    }
    // The operand's terms go to periodic partial sums (TermSink) rather than to the kernels' scratch.
    static bool has_periodic_sums(const OperandSums& s) {
        return s.gradient.out != nullptr && s.layout == Layout::kPeriodic;
    }
    double* block_partials(const OperandSums& s, int64_t b) const {
        return s.periodic_sums + (blocks_in_order_ ? 0 : b * s.kept_period);
    }
    bool needs_scratch(const OperandSums& s) const {
        return s.gradient.out != nullptr && s.layout != Layout::kPeriodic && !written_by_kernels(s);
    }
    TermSink sink(OperandSums& s, int64_t b, int64_t begin, int64_t flat, double* scratch);
    void plan_operand(OperandSums& s, const int64_t* strides, bool offset_later);
    void add_terms(OperandSums& s, int64_t b, int64_t begin, int64_t end, const double* terms);
    // Adds one block's periodic partials to `total` (period elements), row by row: the order that fixes the bits.
    static void add_periodic_partials(const OperandSums& s, const double* partial, double* total);

    const BroadcastPlan plan_;
    const int64_t count_;
    const int64_t blocks_;
    const double scale_;
    const bool blocks_in_order_;
    OperandSums weight_, pos_weight_;
};

}  // namespace bce4j
