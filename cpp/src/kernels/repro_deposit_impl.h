// The deposit of repro_sum.h, written once over an instruction set's lane operations `Ops`:
//   using V = a vector of Ops::kLanes doubles;
//   V load(const double*), V load(const float*) (widened exactly), V splat(double), V add(V, V), V sub(V, V),
//   V or_low_bit(V) (the bits of each lane with bit 0 set), void store(double*, V);
//   kAccumulators: how many vectors of lane accumulators the registers hold beside the loop's others.
// Included by each instruction set's file inside a namespace of its own, after Ops and after <algorithm>, <cstring>
// and repro_deposit.h; everything here is in an unnamed namespace so that no copy compiled with one instruction
// set's flags can stand in for another's.
#pragma once

namespace {

// A lane accumulator takes at most this many slices (each of magnitude <= 2^39 units) between flushes, so that it
// stays within 2^51 units of its anchor 1.5 * 2^52 units: inside its binade, where its unit is the bin's.
constexpr int64_t kSlicesPerFlush = 2048;

// The integer a lane accumulator holds: its distance from the anchor in units of the bin, which (both being in
// the binade [2^52 g, 2^53 g)) is the difference of their bits.
inline int64_t accumulated_units(double accumulator, double anchor) {
    uint64_t a, b;
    std::memcpy(&a, &accumulator, sizeof a);
    std::memcpy(&b, &anchor, sizeof b);
    return static_cast<int64_t>(a - b);
}

// The bits of a float's value as a double (a scan's result for float32 values).
inline uint64_t double_bits_of_float_bits(uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    const double d = f;
    uint64_t out;
    std::memcpy(&out, &d, sizeof out);
    return out;
}

// One vector of values into the accumulators of kBins bins. The bins above the lowest take the remainder rounded
// to their unit (ties away from zero, by the low bit: see repro_sum.h); the lowest adds it exactly, or rounded
// where kLastRounds.
template <typename Ops, int kBins, bool kLastRounds>
inline void deposit_vector(typename Ops::V* accumulators, typename Ops::V remainder) {
    for (int k = 0; k < kBins - 1; ++k) {
        const typename Ops::V sum = Ops::add(accumulators[k], Ops::or_low_bit(remainder));
        remainder = Ops::sub(remainder, Ops::sub(sum, accumulators[k]));
        accumulators[k] = sum;
    }
    accumulators[kBins - 1] = Ops::add(accumulators[kBins - 1], kLastRounds ? Ops::or_low_bit(remainder) : remainder);
}

template <typename Ops, int kBins, bool kLastRounds, typename T>
void deposit_bins(const T* values, int64_t n, const ReproPlan& plan, int64_t* slices) {
    using V = typename Ops::V;
    // Independent accumulator groups, as many as the registers hold up to 8: each bin's adds form one chain per
    // group, and 8 chains cover an add's latency (4 cycles) at two adds per cycle.
    constexpr int kGroups = std::max(1, std::min(8, Ops::kAccumulators / kBins));
    constexpr int64_t kStep = Ops::kLanes * kGroups;
    V anchors[kBins];
    for (int k = 0; k < kBins; ++k) anchors[k] = Ops::splat(plan.anchors[k]);
    int64_t i = 0;
    while (i < n) {
        V accumulators[kGroups][kBins];
        for (int g = 0; g < kGroups; ++g) {
            for (int k = 0; k < kBins; ++k) accumulators[g][k] = anchors[k];
        }
        const int64_t end = std::min(n, i + kStep * kSlicesPerFlush);
        for (; i + kStep <= end; i += kStep) {
            for (int g = 0; g < kGroups; ++g) {
                deposit_vector<Ops, kBins, kLastRounds>(accumulators[g], Ops::load(values + i + g * Ops::kLanes));
            }
        }
        if (i < end) {
            // The last partial step from a zero-padded copy: a zero's slices are all zero.
            T tail[kStep] = {};
            std::copy(values + i, values + end, tail);
            for (int g = 0; g < kGroups; ++g) {
                deposit_vector<Ops, kBins, kLastRounds>(accumulators[g], Ops::load(tail + g * Ops::kLanes));
            }
            i = end;
        }
        for (int k = 0; k < kBins; ++k) {
            for (int g = 0; g < kGroups; ++g) {
                double lanes[Ops::kLanes];
                Ops::store(lanes, accumulators[g][k]);
                for (double lane : lanes) slices[k] += accumulated_units(lane, plan.anchors[k]);
            }
        }
    }
}

template <typename Ops, typename T>
void deposit(const T* values, int64_t n, const ReproPlan& plan, int64_t* slices) {
    if (plan.bins == 1) {
        deposit_bins<Ops, 1, false>(values, n, plan, slices);
    } else if (plan.bins == 2) {
        deposit_bins<Ops, 2, false>(values, n, plan, slices);
    } else if (!plan.last_rounds) {
        deposit_bins<Ops, 3, false>(values, n, plan, slices);
    } else {
        deposit_bins<Ops, 3, true>(values, n, plan, slices);
    }
}

}  // namespace
