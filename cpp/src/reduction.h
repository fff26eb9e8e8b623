// What a reduction divides its sum by, for the CPU call (cpu_call.cpp) and the CUDA library alike: which
// denominator a reduction has, the one term each element of its operand adds, and the denominator from their total.
// Plain C++ and host-and-device code (the CUDA library sums the terms on the device).
#pragma once

#include <cstdint>

#include "bce4j/bce4j.h"
#include "element_math.h"

namespace bce4j {

enum class Denominator : int32_t {
    kOne = 0,             // NONE and SUM
    kCount = 1,           // MEAN, and the normalised means without the operand they need: the element count
    kWeightSum = 2,       // MEAN_BY_WEIGHT: the weight's elements summed, times count / weight_count
    kNonzeroWeights = 3,  // MEAN_BY_NONZERO_WEIGHT: its nonzero elements counted, times count / weight_count
    kNotIgnored = 4,      // MEAN_VALID with an ignore index: count minus the targets equal to it
};

// The denominator of `reduction` (a checked bce4j_reduction) for a call with or without a weight and an ignore index.
inline Denominator denominator_of(int32_t reduction, bool has_weight, bool has_ignore_index) {
    switch (reduction) {
        case BCE4J_REDUCTION_MEAN: return Denominator::kCount;
        case BCE4J_REDUCTION_MEAN_BY_WEIGHT: return has_weight ? Denominator::kWeightSum : Denominator::kCount;
        case BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT:
            return has_weight ? Denominator::kNonzeroWeights : Denominator::kCount;
        case BCE4J_REDUCTION_MEAN_VALID: return has_ignore_index ? Denominator::kNotIgnored : Denominator::kCount;
        default: return Denominator::kOne;
    }
}

// The normalised means give 0, never NaN, where their denominator is 0 (MEAN gives NaN for an empty input, as
// PyTorch does).
inline bool zero_for_zero_denominator(int32_t reduction) { return reduction >= BCE4J_REDUCTION_MEAN_BY_WEIGHT; }

// Whether the denominator needs a pass over data (otherwise denominator_from_total knows it from the counts).
BCE4J_HOST_DEVICE inline bool denominator_reads_data(Denominator kind, int64_t count) {
    return count > 0 && (kind == Denominator::kWeightSum || kind == Denominator::kNonzeroWeights ||
                         kind == Denominator::kNotIgnored);
}

// One element's term of a data-dependent denominator: a weight element (kWeightSum, kNonzeroWeights) or a target
// (kNotIgnored, which counts the ignored ones; compared in double with the ignored target).
BCE4J_HOST_DEVICE inline double denominator_term(Denominator kind, double value, double ignored_target) {
    switch (kind) {
        case Denominator::kWeightSum: return value;
        case Denominator::kNonzeroWeights: return value != 0 ? 1.0 : 0.0;
        case Denominator::kNotIgnored: return value == ignored_target ? 1.0 : 0.0;
        default: return 0.0;
    }
}

// The denominator of a call from the total of its terms (the total is unused for kOne and kCount). A weight
// broadcast to the input repeats each of its elements count / weight_count times. An empty input divides by 0 (MEAN
// then gives NaN, the normalised means 0).
BCE4J_HOST_DEVICE inline double denominator_from_total(Denominator kind, int64_t count, int64_t weight_count,
                                                       double total) {
    if (count == 0) return kind == Denominator::kOne ? 1.0 : 0.0;
    switch (kind) {
        case Denominator::kOne: return 1.0;
        case Denominator::kCount: return static_cast<double>(count);
        case Denominator::kNotIgnored: return static_cast<double>(count) - total;
        case Denominator::kWeightSum:
        case Denominator::kNonzeroWeights: return total * static_cast<double>(count / weight_count);
    }
    return 1.0;
}

// A value divided by the denominator; see zero_for_zero_denominator.
BCE4J_HOST_DEVICE inline double normalise(double value, double denominator, bool zero_for_zero_denominator) {
    return zero_for_zero_denominator && denominator == 0 ? 0.0 : value / denominator;
}

}  // namespace bce4j
