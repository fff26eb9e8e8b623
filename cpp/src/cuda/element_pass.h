// One element of the fused CUDA pass, and the pieces of its reductions, as host-and-device code: the CUDA kernels
// run these functions, and the CPU tests run the very same functions (through the host emulation of libbce4j_cuda)
// against the scalar reference kernels. Compiles as plain C++ without CUDA.
#pragma once

#include <cmath>
#include <cstdint>

#include "../broadcast_plan.h"
#include "../element_math.h"
#include "../reduction.h"
#include "../storage_types.h"
#include "device_call.h"
#include "fast_divmod.h"

#if defined(__CUDACC__)
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#endif

namespace bce4j::cuda {

// How a storage type is computed in: float32 in float, float64 in double, and the 16-bit types (Float16, BFloat16)
// in float, as the CPU's SIMD kernels compute them: widened exactly, the results rounded once to nearest even.
template <typename S>
struct Storage {
    using Compute = S;
    BCE4J_HOST_DEVICE static Compute widen(S v) { return v; }
    BCE4J_HOST_DEVICE static S narrow(Compute v) { return v; }
    BCE4J_HOST_DEVICE static S from_double(double v) { return static_cast<S>(v); }
};

// On the device CUDA's conversion instructions, on the host (the emulation) storage_types.h's conversions, which the
// CPU's kernels are tested against: both are exact widening and IEEE round-to-nearest-even narrowing, overflow to
// infinity, subnormals kept, NaN a NaN (its payload bits may differ).
template <>
struct Storage<Float16> {
    using Compute = float;
    BCE4J_HOST_DEVICE static float widen(Float16 v) {
#ifdef __CUDA_ARCH__
        return __half2float(__ushort_as_half(v.bits));
#else
        return bce4j::widen(v);
#endif
    }
    BCE4J_HOST_DEVICE static Float16 narrow(float v) {
#ifdef __CUDA_ARCH__
        return Float16{__half_as_ushort(__float2half_rn(v))};
#else
        return bce4j::narrow<Float16>(v);
#endif
    }
    BCE4J_HOST_DEVICE static Float16 from_double(double v) {  // rounded once, as the CPU rounds a reduced loss
#ifdef __CUDA_ARCH__
        return Float16{__half_as_ushort(__double2half(v))};
#else
        return bce4j::narrow<Float16>(v);
#endif
    }
};

template <>
struct Storage<BFloat16> {
    using Compute = float;
    BCE4J_HOST_DEVICE static float widen(BFloat16 v) {
#ifdef __CUDA_ARCH__
        return __bfloat162float(__ushort_as_bfloat16(v.bits));
#else
        return bce4j::widen(v);
#endif
    }
    BCE4J_HOST_DEVICE static BFloat16 narrow(float v) {
#ifdef __CUDA_ARCH__
        return BFloat16{__bfloat16_as_ushort(__float2bfloat16_rn(v))};
#else
        return bce4j::narrow<BFloat16>(v);
#endif
    }
    BCE4J_HOST_DEVICE static BFloat16 from_double(double v) {
#ifdef __CUDA_ARCH__
        return BFloat16{__bfloat16_as_ushort(__double2bfloat16(v))};
#else
        return bce4j::narrow<BFloat16>(v);
#endif
    }
};

template <typename S>
using Compute = typename Storage<S>::Compute;

template <typename R>
struct ElementValues {
    R loss;        // weighted
    R grad_input;  // times weight and upstream gradient
    R grad_target;
    bool invalid;  // input (probabilities) or target outside [0, 1]: nothing else is meaningful
};

// Element (x, y) with weight w, positive-class weight p and upstream gradient g, composed by element_math.h's
// element_terms and weighted(), as every CPU pass composes it.
template <typename R>
BCE4J_HOST_DEVICE inline ElementValues<R> fused_element(const ElementParams& o, R x, R y, R w, R p, R g) {
    const math::Element<R> e = math::element_terms(o, x, y, p);
    if (e.state != math::ElementState::kComputed) return {R(0), R(0), R(0), e.state == math::ElementState::kInvalid};
    const math::ElementOutputs<R> out = math::weighted(e.terms, w, g);
    return {out.loss, out.grad_input, out.grad_target, false};
}

// The plan's dimensions as divisors, for operand_offsets: entry j divides by plan.dims[j] (j >= 1; the outermost
// index needs no division). Made once per call on the host.
struct PlanDivisors {
    FastDivisor dims[kMaxDims];
};

inline PlanDivisors plan_divisors(const BroadcastPlan& plan) {
    PlanDivisors d;
    for (int j = 1; j < plan.ndim; ++j) d.dims[j] = FastDivisor::of(static_cast<uint64_t>(plan.dims[j]));
    return d;
}

// Offsets of flat input element `flat` in weight and pos_weight under `plan`: its index along each dimension by the
// precomputed divisors (a multiply-high per dimension instead of a 64-bit division and modulo).
BCE4J_HOST_DEVICE inline void operand_offsets(const BroadcastPlan& plan, const PlanDivisors& divisors, int64_t flat,
                                              int64_t* weight_offset, int64_t* pos_weight_offset) {
    int64_t w = 0;
    int64_t p = 0;
    uint64_t rest = static_cast<uint64_t>(flat);
    for (int j = plan.ndim - 1; j > 0; --j) {
        const uint64_t outer = divisors.dims[j].quotient(rest);
        const auto index = static_cast<int64_t>(rest - outer * static_cast<uint64_t>(plan.dims[j]));
        rest = outer;
        w += index * plan.weight_strides[j];
        p += index * plan.pos_weight_strides[j];
    }
    *weight_offset = w + static_cast<int64_t>(rest) * plan.weight_strides[0];
    *pos_weight_offset = p + static_cast<int64_t>(rest) * plan.pos_weight_strides[0];
}

// Everything one pass over the elements reads and writes. Pointers are device pointers on the device.
template <typename T>
struct PassArgs {
    const T* input;
    const T* target;
    const T* grad_output;  // per element (reduction NONE), or nullptr: grad_scale
    const T* weight;       // nullptr: 1
    const T* pos_weight;   // nullptr: 1
    T* loss;               // per element, or nullptr
    T* grad_input;
    T* grad_target;
    int64_t count;
    BroadcastPlan plan;
    PlanDivisors divisors;  // of plan.dims
    bool broadcasts;        // weight or pos_weight present: offsets come from the plan
    ElementParams params;
};

template <typename T>
PassArgs<T> pass_args(const DeviceCall& d) {
    PassArgs<T> a;
    a.input = static_cast<const T*>(d.input);
    a.target = static_cast<const T*>(d.target);
    a.grad_output = d.grad_output_per_element ? static_cast<const T*>(d.grad_output) : nullptr;
    a.weight = static_cast<const T*>(d.weight);
    a.pos_weight = static_cast<const T*>(d.pos_weight);
    a.loss = d.loss_per_element ? static_cast<T*>(d.loss) : nullptr;
    a.grad_input = static_cast<T*>(d.grad_input);
    a.grad_target = static_cast<T*>(d.grad_target);
    a.count = d.count;
    a.plan = d.plan;
    a.broadcasts = d.weight != nullptr || d.pos_weight != nullptr;
    if (a.broadcasts) a.divisors = plan_divisors(d.plan);
    a.params = d.params;
    return a;
}

template <typename R>
BCE4J_HOST_DEVICE inline bool all_finite(const ElementValues<R>& v) {
    using std::isfinite;
    return isfinite(v.loss) && isfinite(v.grad_input) && isfinite(v.grad_target);
}

// Element (x, y) of a pass on storage type S, in its compute type C. float32 (and 16-bit storage) is computed in
// float; where that gives an infinity or NaN (an infinite or NaN operand, an overflow, an underflow meeting an
// infinity), the element is computed again in double and rounded to float, just as the CPU's SIMD kernels hand such
// elements to the scalar reference, which owns those cases' semantics. `grad_scale` is the upstream gradient of a
// reduced call (divided by its denominator), used when a.grad_output is null.
template <typename S, typename C = Compute<S>>
BCE4J_HOST_DEVICE inline ElementValues<C> element_values(const PassArgs<S>& a, C x, C y, C w, C p, C g,
                                                         double grad_scale) {
    const ElementValues<C> v = fused_element(a.params, x, y, w, p, a.grad_output ? g : static_cast<C>(grad_scale));
    if (sizeof(C) == sizeof(double) || v.invalid || all_finite(v)) return v;
    const ElementValues<double> d =
        fused_element(a.params, static_cast<double>(x), static_cast<double>(y), static_cast<double>(w),
                      static_cast<double>(p), a.grad_output ? static_cast<double>(g) : grad_scale);
    return {static_cast<C>(d.loss), static_cast<C>(d.grad_input), static_cast<C>(d.grad_target), false};
}

// Weight and pos_weight of element i (1 where absent), widened to the compute type.
template <typename S, typename C = Compute<S>>
BCE4J_HOST_DEVICE inline void operands_at(const PassArgs<S>& a, int64_t i, C* w, C* p) {
    *w = C(1);
    *p = C(1);
    if (!a.broadcasts) return;
    int64_t weight_offset = 0;
    int64_t pos_weight_offset = 0;
    operand_offsets(a.plan, a.divisors, i, &weight_offset, &pos_weight_offset);
    if (a.weight) *w = Storage<S>::widen(a.weight[weight_offset]);
    if (a.pos_weight) *p = Storage<S>::widen(a.pos_weight[pos_weight_offset]);
}

// Computes element i from memory, stores the outputs asked for (rounded to S), and returns its weighted loss (in
// double, for the sum: the compute type's value, before rounding to S, as the CPU sums it); *invalid is set when the
// element is out of range (nothing is stored then).
template <typename S>
BCE4J_HOST_DEVICE inline double run_element(const PassArgs<S>& a, int64_t i, double grad_scale, bool* invalid) {
    using C = Compute<S>;
    C w;
    C p;
    operands_at(a, i, &w, &p);
    const C g = a.grad_output ? Storage<S>::widen(a.grad_output[i]) : C(0);
    const ElementValues<C> v =
        element_values(a, Storage<S>::widen(a.input[i]), Storage<S>::widen(a.target[i]), w, p, g, grad_scale);
    if (v.invalid) {
        *invalid = true;
        return 0.0;
    }
    if (a.loss) a.loss[i] = Storage<S>::narrow(v.loss);
    if (a.grad_input) a.grad_input[i] = Storage<S>::narrow(v.grad_input);
    if (a.grad_target) a.grad_target[i] = Storage<S>::narrow(v.grad_target);
    return static_cast<double>(v.loss);
}

// Element i of a tensor of storage type S, in double (denominator terms, the out-of-range report).
template <typename S>
BCE4J_HOST_DEVICE inline double value_at(const S* values, int64_t i) {
    return static_cast<double>(Storage<S>::widen(values[i]));
}

// The operand whose elements denominator_term() sums (reduction.h), and how many it has.
inline const void* denominator_operand(const DeviceCall& d, int64_t* n) {
    const bool of_targets = d.denominator == Denominator::kNotIgnored;
    *n = of_targets ? d.count : d.weight_count;
    return of_targets ? d.target : d.weight;
}

// ---- Weight gradients --------------------------------------------------------------------------------------------
// d(result)/d(weight) and d(result)/d(pos_weight), summed over the broadcast to each operand's own shape (an absent
// operand: one element, an implicit scalar 1). Each operand element j is reached by `multiplicity` input elements;
// they are split into fixed chunks of kGradientChunk, each chunk's terms added in double in index order into one
// partial (element j, chunk c), and each element's partials added in chunk order at the end: the result depends on
// the sizes alone, never on the device or the thread count.
constexpr int64_t kGradientChunk = 1024;

// How one operand's elements map onto the input: its dimensions that index it (kept, where the plan's stride is not
// 0) and those it is broadcast along (spread), each with its stride in the row-major input.
struct OperandPreimage {
    int64_t count;         // operand elements
    int64_t multiplicity;  // input elements per operand element
    int64_t chunks;        // per operand element: ceil(multiplicity / kGradientChunk)
    int kept_ndim;
    int spread_ndim;
    int64_t kept_dims[kMaxDims];  // innermost first
    int64_t kept_input_strides[kMaxDims];
    FastDivisor kept_divisors[kMaxDims];
    int64_t spread_dims[kMaxDims];  // innermost first
    int64_t spread_input_strides[kMaxDims];
    FastDivisor spread_divisors[kMaxDims];
};

// The preimage of an operand of `count` elements with plan strides `strides` (count > 0 input elements). False when
// the plan does not lay the operand out row-major over its kept dimensions (the core's plans always do).
inline bool operand_preimage(const BroadcastPlan& plan, const int64_t* strides, int64_t count, int64_t input_count,
                             OperandPreimage* out) {
    OperandPreimage& o = *out;
    o = OperandPreimage{};
    o.count = count;
    int64_t input_stride = 1;
    int64_t operand_stride = 1;
    for (int k = plan.ndim - 1; k >= 0; --k) {
        if (plan.dims[k] > 1) {
            if (strides[k] != 0) {
                if (strides[k] != operand_stride) return false;
                o.kept_dims[o.kept_ndim] = plan.dims[k];
                o.kept_input_strides[o.kept_ndim] = input_stride;
                o.kept_divisors[o.kept_ndim++] = FastDivisor::of(static_cast<uint64_t>(plan.dims[k]));
                operand_stride *= plan.dims[k];
            } else {
                o.spread_dims[o.spread_ndim] = plan.dims[k];
                o.spread_input_strides[o.spread_ndim] = input_stride;
                o.spread_divisors[o.spread_ndim++] = FastDivisor::of(static_cast<uint64_t>(plan.dims[k]));
            }
        }
        input_stride *= plan.dims[k];
    }
    if (operand_stride != count || input_count % count != 0) return false;
    o.multiplicity = input_count / count;
    o.chunks = ceil_div(o.multiplicity, kGradientChunk);
    return true;
}

// The flat input index of `index` (innermost first) over `ndim` dimensions with the given input strides.
BCE4J_HOST_DEVICE inline int64_t input_offset(int ndim, const int64_t* dims, const int64_t* input_strides,
                                              const FastDivisor* divisors, uint64_t index) {
    int64_t offset = 0;
    for (int k = 0; k < ndim; ++k) {
        const uint64_t outer = divisors[k].quotient(index);
        offset += static_cast<int64_t>(index - outer * static_cast<uint64_t>(dims[k])) * input_strides[k];
        index = outer;
    }
    return offset;
}

// Element i's terms, in double as the CPU's scalar reference computes them: d loss/d weight is the loss at weight 1,
// d loss/d pos_weight the slope weighted as the loss is, each times the element's upstream gradient (NONE) or 1;
// an ignored or invalid element contributes exactly 0 (an invalid one fails the call anyway).
template <typename S>
BCE4J_HOST_DEVICE inline double weight_gradient_term(const PassArgs<S>& a, int64_t i, bool of_pos_weight) {
    Compute<S> w;
    Compute<S> p;
    operands_at(a, i, &w, &p);
    const math::Element<double> e =
        math::element_terms(a.params, value_at(a.input, i), value_at(a.target, i), static_cast<double>(p));
    if (e.state != math::ElementState::kComputed) return 0.0;
    const double g = a.grad_output ? value_at(a.grad_output, i) : 1.0;
    return of_pos_weight ? math::scaled(g, math::scaled(static_cast<double>(w), e.terms.pos_weight_slope))
                         : math::scaled(g, e.terms.loss);
}

// The partial of operand element j over chunk c of its preimage.
template <typename S>
BCE4J_HOST_DEVICE inline double weight_gradient_partial(const PassArgs<S>& a, const OperandPreimage& o,
                                                        bool of_pos_weight, int64_t j, int64_t c) {
    const int64_t base =
        input_offset(o.kept_ndim, o.kept_dims, o.kept_input_strides, o.kept_divisors, static_cast<uint64_t>(j));
    const int64_t end = (c + 1) * kGradientChunk < o.multiplicity ? (c + 1) * kGradientChunk : o.multiplicity;
    double sum = 0.0;
    for (int64_t r = c * kGradientChunk; r < end; ++r) {
        const int64_t i = base + input_offset(o.spread_ndim, o.spread_dims, o.spread_input_strides, o.spread_divisors,
                                              static_cast<uint64_t>(r));
        sum += weight_gradient_term(a, i, of_pos_weight);
    }
    return sum;
}

// Operand element j's gradient from its partials (partials[c * count + j], added in chunk order): minus
// MEAN_BY_WEIGHT's offset R * multiplicity (`offset`, 0 otherwise), times `scale` (the upstream gradient over the
// denominator, or 1 for NONE), rounded once, as WeightGradientPass::finish does on the CPU.
template <typename S>
BCE4J_HOST_DEVICE inline S finished_weight_gradient(const double* partials, int64_t count, int64_t chunks, int64_t j,
                                                    double scale, double offset) {
    double total = 0.0;
    for (int64_t c = 0; c < chunks; ++c) total += partials[c * count + j];
    return Storage<S>::from_double(math::scaled(scale, total - offset));
}

// One wanted operand gradient of a call: where it goes and how its elements map onto the input.
struct GradientTarget {
    void* out;  // count elements of the call's dtype
    bool of_pos_weight;
    bool subtracts_offset;  // the weight under MEAN_BY_WEIGHT
    OperandPreimage preimage;
};

// The operand gradients a call wants (the weight's first), with their preimages; false when a plan cannot be mapped.
// A weight gradient the core marked as cancelling (weight_gradient_cancels) is written as 0 by the caller instead.
inline bool gradient_targets(const DeviceCall& d, GradientTarget* targets, int* n) {
    *n = 0;
    const struct {
        void* out;
        bool of_pos_weight;
        const int64_t* strides;
        int64_t count;
    } operands[] = {{d.weight_gradient_cancels ? nullptr : d.grad_weight, false, d.plan.weight_strides,
                     d.weight ? d.weight_count : 1},
                    {d.grad_pos_weight, true, d.plan.pos_weight_strides, d.pos_weight ? d.pos_weight_count : 1}};
    for (const auto& o : operands) {
        if (o.out == nullptr) continue;
        GradientTarget& t = targets[(*n)++];
        t.out = o.out;
        t.of_pos_weight = o.of_pos_weight;
        t.subtracts_offset = !o.of_pos_weight && d.denominator == Denominator::kWeightSum;
        if (d.count == 0) {  // nothing to map: every element's sum is 0
            t.preimage = OperandPreimage{};
            t.preimage.count = o.count;
        } else if (!operand_preimage(d.plan, o.strides, o.count, d.count, &t.preimage)) {
            return false;
        }
    }
    return true;
}

// The doubles of partial sums the call's operand gradients need (0 when none is wanted); false when a plan cannot
// be mapped.
inline bool gradient_partial_count(const DeviceCall& d, int64_t* n) {
    GradientTarget targets[2];
    int wanted = 0;
    *n = 0;
    if (!gradient_targets(d, targets, &wanted)) return false;
    for (int t = 0; t < wanted; ++t) *n += targets[t].preimage.count * targets[t].preimage.chunks;
    return true;
}

}  // namespace bce4j::cuda
