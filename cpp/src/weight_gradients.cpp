#include "weight_gradients.h"

#include <algorithm>
#include <vector>

#include "element_math.h"
#include "storage_types.h"

namespace bce4j {
namespace {

template <typename Segment>
bool continues(const Segment& s, int64_t low, int64_t high) {  // the ranges overlap or are adjacent
    return low <= s.high + 1 && high + 1 >= s.low;
}

template <typename Segment>
void add_run(std::vector<Segment>& segments, int64_t low, int64_t high) {
    if (!segments.empty() && continues(segments.back(), low, high)) {
        segments.back().low = std::min(segments.back().low, low);
        segments.back().high = std::max(segments.back().high, high);
    } else {
        segments.push_back({low, high, 0});
    }
}

// Storage for a call's periodic partial sums (slot 0: weight, 1: pos_weight), kept by the calling thread between its
// calls: allocated per call, the partials of a call whose blocks run in parallel (one set per block: a megabyte for a
// [1000] operand over 1M elements) cost a fresh page per 4 KiB every time, some 12% of the call. Up to kKeptBytes per
// slot stay allocated until the thread ends; a larger request is the call's own.
double* periodic_storage(int slot, size_t count, std::unique_ptr<double[]>& call_owned) {
    constexpr size_t kKeptBytes = size_t{4} << 20;
    struct Kept {
        std::unique_ptr<double[]> values;
        size_t capacity = 0;
    };
    thread_local Kept kept[2];
    if (count * sizeof(double) > kKeptBytes) {
        call_owned.reset(new double[count]);
        return call_owned.get();
    }
    Kept& k = kept[slot];
    if (k.capacity < count) {
        k.values.reset(new double[count]);
        k.capacity = count;
    }
    return k.values.get();
}

template <typename T>
T finished(double scale, double sum, double offset) {
    return from_double<T>(math::scaled(scale, sum - offset));
}

}  // namespace

template <typename T>
WeightGradientPass<T>::WeightGradientPass(const BroadcastPlan& plan, int64_t count, OperandGradient<T> weight,
                                          OperandGradient<T> pos_weight, double scale, bool weight_offset_later,
                                          bool blocks_in_order)
    : plan_(plan), count_(count), blocks_(block_count(count)), scale_(scale), blocks_in_order_(blocks_in_order) {
    weight_.gradient = weight;
    pos_weight_.gradient = pos_weight;
    plan_operand(weight_, plan_.weight_strides, weight_offset_later);
    plan_operand(pos_weight_, plan_.pos_weight_strides, false);
}

template <typename T>
void WeightGradientPass<T>::plan_operand(OperandSums& s, const int64_t* strides, bool offset_later) {
    if (s.gradient.out == nullptr) return;
    if (s.gradient.count == count_) {
        s.layout = Layout::kDirect;
        s.finish_later = offset_later;
        if (offset_later) s.sums.resize(static_cast<size_t>(count_));
        return;
    }
    if (reads_constant(plan_, strides) || repeats_each_row(plan_, strides)) {
        s.layout = Layout::kPeriodic;
        s.period = s.gradient.count;  // 1, or the innermost row's length
        // A short period is kept as several: element j's partials at j, j + period, ..., so that the kernels'
        // vectors of up to 16 terms add to at least two in turn, in independent chains (TermSink).
        s.kept_period = s.period * ((kMinimumRow + s.period - 1) / s.period);
        // Zeroed block by block as each starts (begin_block), by the thread that fills them, in its cache.
        const int slot = &s == &weight_ ? 0 : 1;
        const int64_t kept_blocks = blocks_in_order_ ? 1 : blocks_;
        s.periodic_sums = periodic_storage(slot, static_cast<size_t>(kept_blocks * s.kept_period), s.periodic_owned);
        if (blocks_in_order_) s.ordered_total.assign(static_cast<size_t>(s.period), 0.0);
        return;
    }
    // The segments of each block, then room for their partial sums.
    s.layout = Layout::kSegmented;
    s.step = strides[plan_.ndim - 1];
    s.segments.resize(static_cast<size_t>(blocks_));
    size_t total = 0;
    for (int64_t b = 0; b < blocks_; ++b) {
        std::vector<Segment>& block = s.segments[b];
        for_each_run(plan_, b * kReductionBlock, std::min(count_, (b + 1) * kReductionBlock),
                     [&](int64_t, int64_t n, int64_t wo, int64_t po) {
                         const int64_t offset = strides == plan_.weight_strides ? wo : po;
                         add_run(block, offset, offset + (n - 1) * s.step);
                         return true;
                     });
        for (Segment& segment : block) {
            segment.start = total;
            total += static_cast<size_t>(segment.high - segment.low + 1);
        }
    }
    s.sums.assign(total, 0.0);
}

template <typename T>
void WeightGradientPass<T>::begin_block(int64_t b) {
    for (OperandSums* s : {&weight_, &pos_weight_}) {
        if (has_periodic_sums(*s)) std::fill_n(block_partials(*s, b), s->kept_period, 0.0);
    }
}

template <typename T>
TermSink WeightGradientPass<T>::sink(OperandSums& s, int64_t b, int64_t begin, int64_t flat, double* scratch) {
    if (s.gradient.out == nullptr || written_by_kernels(s)) return {};
    // Within a block, the partials' element j is at j + period * k: element `flat`'s term goes to flat % kept_period.
    if (s.layout == Layout::kPeriodic) {
        return {block_partials(s, b), s.kept_period, flat % s.kept_period};
    }
    return {scratch + (flat - begin), 0, 0};
}

template <typename T>
typename WeightGradientPass<T>::Sinks WeightGradientPass<T>::sinks(int64_t b, int64_t begin, int64_t flat,
                                                                   BlockTerms scratch) {
    const auto gradient = [&](const OperandSums& s) { return written_by_kernels(s) ? s.gradient.out + flat : nullptr; };
    return {sink(weight_, b, begin, flat, scratch.weight), sink(pos_weight_, b, begin, flat, scratch.pos_weight),
            gradient(weight_), gradient(pos_weight_), scale_};
}

template <typename T>
void WeightGradientPass<T>::add_block(int64_t b, int64_t begin, int64_t end, BlockTerms scratch) {
    if (needs_scratch(weight_)) add_terms(weight_, b, begin, end, scratch.weight);
    if (needs_scratch(pos_weight_)) add_terms(pos_weight_, b, begin, end, scratch.pos_weight);
    if (!blocks_in_order_) return;
    for (OperandSums* s : {&weight_, &pos_weight_}) {  // the block's periodic partials, added up now
        if (has_periodic_sums(*s)) add_periodic_partials(*s, block_partials(*s, b), s->ordered_total.data());
    }
}

template <typename T>
void WeightGradientPass<T>::add_terms(OperandSums& s, int64_t b, int64_t begin, int64_t end, const double* terms) {
    const int64_t n = end - begin;
    switch (s.layout) {
        case Layout::kDirect:
            if (s.finish_later) {
                std::copy(terms, terms + n, s.sums.begin() + begin);
            } else if (scale_ != 0) {  // math::scaled, with its one branch taken out of the loop
                for (int64_t k = 0; k < n; ++k) s.gradient.out[begin + k] = from_double<T>(scale_ * terms[k]);
            } else {
                for (int64_t k = 0; k < n; ++k) s.gradient.out[begin + k] = finished<T>(scale_, terms[k], 0.0);
            }
            return;
        case Layout::kPeriodic:  // the kernels added them (sinks)
            return;
        case Layout::kSegmented: {
            // The segment each run joined, found again as the runs come in the same order.
            const std::vector<Segment>& segments = s.segments[b];
            const bool is_weight = &s == &weight_;
            size_t segment = 0;
            for_each_run(plan_, begin, end, [&](int64_t flat, int64_t length, int64_t wo, int64_t po) {
                const int64_t offset = is_weight ? wo : po;
                if (!continues(segments[segment], offset, offset + (length - 1) * s.step)) ++segment;
                double* partial = s.sums.data() + segments[segment].start - segments[segment].low;
                const double* run_terms = terms + (flat - begin);
                for (int64_t k = 0; k < length; ++k) partial[offset + k * s.step] += run_terms[k];
                return true;
            });
            return;
        }
    }
}

template <typename T>
void WeightGradientPass<T>::finish(const WeightGradientTerms& terms) {
    for (OperandSums* s : {&weight_, &pos_weight_}) {
        if (s->gradient.out == nullptr) continue;
        const double offset = s == &weight_ ? terms.weight_sum_offset : 0.0;
        if (s->layout == Layout::kDirect) {
            if (s->finish_later) {
                for (int64_t i = 0; i < count_; ++i) s->gradient.out[i] = finished<T>(terms.scale, s->sums[i], offset);
            }
            continue;
        }
        // The operand-shaped sums: each element's partials added in block (and segment) order, whatever thread
        // computed them. With the blocks in order, the periodic partials were added as each block ended (add_block).
        const bool added_up = s->layout == Layout::kPeriodic && blocks_in_order_;
        std::vector<double> sums(added_up ? 0 : static_cast<size_t>(s->gradient.count), 0.0);
        if (s->layout == Layout::kPeriodic && !added_up) {
            for (int64_t b = 0; b < blocks_; ++b) add_periodic_partials(*s, block_partials(*s, b), sums.data());
        } else if (s->layout == Layout::kSegmented) {
            for (const std::vector<Segment>& block : s->segments) {
                for (const Segment& segment : block) {
                    const double* partial = s->sums.data() + segment.start;
                    for (int64_t j = segment.low; j <= segment.high; ++j) sums[j] += partial[j - segment.low];
                }
            }
        }
        const double* total = added_up ? s->ordered_total.data() : sums.data();
        for (int64_t j = 0; j < s->gradient.count; ++j) s->gradient.out[j] = finished<T>(terms.scale, total[j], offset);
    }
}

template <typename T>
void WeightGradientPass<T>::add_periodic_partials(const OperandSums& s, const double* partial, double* total) {
    for (int64_t row = 0; row < s.kept_period; row += s.period) {
        for (int64_t j = 0; j < s.period; ++j) total[j] += partial[row + j];
    }
}

template class WeightGradientPass<float>;
template class WeightGradientPass<double>;
template class WeightGradientPass<Float16>;
template class WeightGradientPass<BFloat16>;

}  // namespace bce4j
