#include "weight_gradients.h"

#include <algorithm>
#include <vector>

#include "element_math.h"
#include "executor.h"
#include "storage_types.h"

namespace bce4j {
namespace {

// A range [low, high] of operand elements that consecutive runs of one block touch, with their partial sums at
// OperandSums::sums[start...].
struct Segment {
    int64_t low;
    int64_t high;
    size_t start;
};

// Whether a run touching operand elements [low, high] continues `s`: the two ranges overlap or are adjacent.
inline bool continues(const Segment& s, int64_t low, int64_t high) { return low <= s.high + 1 && high + 1 >= s.low; }

// Where one operand's per-element contributions go. An operand with the input's element count (no broadcast)
// takes each element's value directly. Otherwise each block keeps partial sums in segments: a run joins the
// block's last segment when their ranges meet and starts a new one when the broadcast jumps (wraps around a
// row), so the partials of a block never cover more operand elements than it has elements. The partials are
// added up in block order, then segment order, afterwards.
template <typename T>
struct OperandSums {
    OperandGradient<T> gradient;
    bool direct = false;
    std::vector<std::vector<Segment>> segments;  // per block, in the order its runs reach them
    std::vector<double> sums;

    bool blocked() const { return gradient.out != nullptr && !direct; }
};

inline void add_run(std::vector<Segment>& segments, int64_t low, int64_t high) {
    if (!segments.empty() && continues(segments.back(), low, high)) {
        segments.back().low = std::min(segments.back().low, low);
        segments.back().high = std::max(segments.back().high, high);
    } else {
        segments.push_back({low, high, 0});
    }
}

template <typename T>
T finished(const WeightGradientTerms& terms, double sum, double offset) {
    return from_double<T>(math::scaled(terms.scale, sum - offset));
}

}  // namespace

template <typename T>
void compute_weight_gradients(const BroadcastPlan& plan, int64_t count, const RowArgs<T>& args,
                              const WeightGradientTerms& terms, OperandGradient<T> weight,
                              OperandGradient<T> pos_weight, int num_threads) {
    OperandSums<T> w_sums;
    OperandSums<T> p_sums;
    w_sums.gradient = weight;
    p_sums.gradient = pos_weight;
    w_sums.direct = weight.out != nullptr && count > 0 && weight.count == count;
    p_sums.direct = pos_weight.out != nullptr && count > 0 && pos_weight.count == count;

    const int64_t blocks = (count + kReductionBlock - 1) / kReductionBlock;
    const int threads = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(num_threads, blocks)));
    const bool parallel = count >= kParallelThreshold && threads > 1;
    const auto block_end = [count](int64_t b) { return std::min(count, (b + 1) * kReductionBlock); };
    // An empty input has no plan (ndim 0) and no runs.
    const int64_t weight_step = count > 0 ? plan.weight_strides[plan.ndim - 1] : 0;
    const int64_t pos_weight_step = count > 0 ? plan.pos_weight_strides[plan.ndim - 1] : 0;

    // The segments of each block, then room for their partial sums.
    for (OperandSums<T>* s : {&w_sums, &p_sums}) {
        if (s->blocked()) s->segments.resize(static_cast<size_t>(blocks));
    }
    const bool any_blocked = w_sums.blocked() || p_sums.blocked();
#pragma omp parallel for schedule(static) num_threads(threads) if (parallel && any_blocked)
    for (int64_t b = 0; b < (any_blocked ? blocks : 0); ++b) {
        for_each_run(plan, b * kReductionBlock, block_end(b), [&](int64_t, int64_t n, int64_t wo, int64_t po) {
            if (w_sums.blocked()) add_run(w_sums.segments[b], wo, wo + (n - 1) * weight_step);
            if (p_sums.blocked()) add_run(p_sums.segments[b], po, po + (n - 1) * pos_weight_step);
            return true;
        });
    }
    for (OperandSums<T>* s : {&w_sums, &p_sums}) {
        size_t total = 0;
        for (std::vector<Segment>& block : s->segments) {
            for (Segment& segment : block) {
                segment.start = total;
                total += static_cast<size_t>(segment.high - segment.low + 1);
            }
        }
        if (s->blocked()) s->sums.assign(total, 0.0);
    }

#pragma omp parallel for schedule(static) num_threads(threads) if (parallel)
    for (int64_t b = 0; b < blocks; ++b) {
        // The segment each run joined, found again as the runs come in the same order.
        size_t w_segment = 0;
        size_t p_segment = 0;
        for_each_run(plan, b * kReductionBlock, block_end(b), [&](int64_t flat, int64_t n, int64_t wo, int64_t po) {
            double* w_partial = nullptr;
            double* p_partial = nullptr;
            if (w_sums.blocked()) {
                const std::vector<Segment>& segments = w_sums.segments[b];
                if (!continues(segments[w_segment], wo, wo + (n - 1) * weight_step)) ++w_segment;
                w_partial = w_sums.sums.data() + segments[w_segment].start - segments[w_segment].low;
            }
            if (p_sums.blocked()) {
                const std::vector<Segment>& segments = p_sums.segments[b];
                if (!continues(segments[p_segment], po, po + (n - 1) * pos_weight_step)) ++p_segment;
                p_partial = p_sums.sums.data() + segments[p_segment].start - segments[p_segment].low;
            }
            for (int64_t k = 0; k < n; ++k) {
                const int64_t i = flat + k;
                const int64_t wj = wo + k * weight_step;
                const int64_t pj = po + k * pos_weight_step;
                // d l/d w is the element's unweighted loss; d l/d p carries the weight. An ignored element
                // contributes exactly 0, whatever its weight and upstream gradient.
                const double p = args.pos_weight ? to_double(args.pos_weight[pj]) : 1.0;
                const math::Element<double> e =
                    math::element_terms(args.params, to_double(args.input[i]), to_double(args.target[i]), p);
                double w_contribution = 0;
                double p_contribution = 0;
                if (e.state == math::ElementState::kComputed) {
                    const double w = args.weight ? to_double(args.weight[wj]) : 1.0;
                    const double g = args.grad_output ? to_double(args.grad_output[i]) : 1.0;
                    w_contribution = math::scaled(g, e.terms.loss);
                    p_contribution = math::scaled(g, math::scaled(w, e.terms.pos_weight_slope));
                }
                if (w_partial) {
                    w_partial[wj] += w_contribution;
                } else if (w_sums.direct) {
                    weight.out[i] = finished<T>(terms, w_contribution, terms.weight_sum_offset);
                }
                if (p_partial) {
                    p_partial[pj] += p_contribution;
                } else if (p_sums.direct) {
                    pos_weight.out[i] = finished<T>(terms, p_contribution, 0.0);
                }
            }
            return true;
        });
    }

    // The operand-shaped sums: each element's partials added in block and segment order, whatever thread
    // computed them.
    for (OperandSums<T>* s : {&w_sums, &p_sums}) {
        if (s->gradient.out == nullptr || s->direct) continue;
        std::vector<double> total(static_cast<size_t>(s->gradient.count), 0.0);
        for (const std::vector<Segment>& block : s->segments) {
            for (const Segment& segment : block) {
                const double* partial = s->sums.data() + segment.start;
                for (int64_t j = segment.low; j <= segment.high; ++j) total[j] += partial[j - segment.low];
            }
        }
        const double offset = s == &w_sums ? terms.weight_sum_offset : 0.0;
        for (int64_t j = 0; j < s->gradient.count; ++j) s->gradient.out[j] = finished<T>(terms, total[j], offset);
    }
}

template void compute_weight_gradients<float>(const BroadcastPlan&, int64_t, const RowArgs<float>&,
                                              const WeightGradientTerms&, OperandGradient<float>,
                                              OperandGradient<float>, int);
template void compute_weight_gradients<double>(const BroadcastPlan&, int64_t, const RowArgs<double>&,
                                               const WeightGradientTerms&, OperandGradient<double>,
                                               OperandGradient<double>, int);
template void compute_weight_gradients<Float16>(const BroadcastPlan&, int64_t, const RowArgs<Float16>&,
                                                const WeightGradientTerms&, OperandGradient<Float16>,
                                                OperandGradient<Float16>, int);
template void compute_weight_gradients<BFloat16>(const BroadcastPlan&, int64_t, const RowArgs<BFloat16>&,
                                                 const WeightGradientTerms&, OperandGradient<BFloat16>,
                                                 OperandGradient<BFloat16>, int);

}  // namespace bce4j
