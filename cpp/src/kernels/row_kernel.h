// The seam between the semantics layer and the per-ISA kernels. A row kernel processes one contiguous run of
// elements; the executor cuts the input's index space into such runs, so that a kernel never needs to know
// about shapes or broadcasting: within a run, weight and pos_weight are either contiguous (stride 1) or
// constant (stride 0).
#pragma once

#include <cstdint>
#include <type_traits>

#include "../element_math.h"
#include "../storage_types.h"

namespace bce4j {

// Where a row puts one operand's weight-gradient terms (RowArgs::weight_terms, pos_weight_terms), in double for every
// storage type, since they are summed in double: the scalar reference computes them in double, a SIMD kernel in its
// compute type's lanes (float32 for float32 and 16-bit storage), widened exactly. values == nullptr: not wanted.
// period 0: values[i] is element i's term. Otherwise they are added to partial sums that repeat with the period:
// element i's term to values[(column + i) % period], each sum taking its terms in element order (the weight-gradient
// pass's partials of an operand that repeats with each row, filled without a second pass over the terms). A period
// is at least 32 elements (WeightGradientPass::kMinimumRow), a whole vector on every ISA: the SIMD kernels step the
// column one vector at a time and wrap it with one subtraction.
struct TermSink {
    double* values = nullptr;
    int64_t period = 0;
    int64_t column = 0;
};

// The type of a kernel's per-element loss terms (RowArgs::loss_terms): its SIMD lanes' compute type.
template <typename T>
using LossTerm = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <typename T>
struct RowArgs {
    const T* input;
    const T* target;
    const T* weight;            // nullptr: weight 1
    int64_t weight_stride;      // 0 or 1
    const T* pos_weight;        // nullptr: pos_weight 1
    int64_t pos_weight_stride;  // 0 or 1
    const T* grad_output;       // per-element upstream gradient (reduction NONE); nullptr: use grad_scale
    double grad_scale;          // upstream gradient when grad_output is null (divided by the count for MEAN)
    T* loss;                    // per-element weighted losses; nullptr: not stored
    T* grad_input;              // nullptr: not wanted
    T* grad_target;             // nullptr: not wanted
    ElementParams params;       // the call's per-element options (element_math.h)
    // The weight-gradient terms (weight_gradients.h), per element; nullptr: not wanted. Both are taken under the
    // per-element upstream gradient (1 without one; grad_scale is applied to their sums) and are 0 for an ignored
    // element: d loss/d weight is the unweighted loss (ElementTerms::loss), d loss/d pos_weight is
    // ElementTerms::pos_weight_slope times the weight.
    TermSink weight_terms;
    TermSink pos_weight_terms;
    // Instead of a term sink, an operand's gradient itself where each of its elements has one term (an operand read
    // per element; float32 and float64 storage): element i's term times gradient_scale, computed in double and rounded
    // once to T, at weight_gradient[i] (pos_weight_gradient[i]); nullptr: not wanted.
    T* weight_gradient = nullptr;
    T* pos_weight_gradient = nullptr;
    double gradient_scale = 0;
    // Each element's weighted loss in its compute lanes' type (LossTerm<T>: float for float32 and 16-bit storage, the
    // float32 loss before narrowing; double for float64) at loss_terms[i]: exactly the value reduction NONE stores
    // for float32 and float64 (the scalar reference's double rounded as it stores it). nullptr: not wanted. A partial
    // call (bce4j_*_partial) sums these order-independently. Like the weight-gradient terms, left to the caller by
    // with_element_offset.
    LossTerm<T>* loss_terms = nullptr;
};

struct RowResult {
    double loss_sum;        // sum of the weighted losses of the run, accumulated in order in double; unspecified
                            // where the row stores loss_terms (their sum is the caller's: a SIMD row skips it)
    int64_t first_invalid;  // offset in the run of the first element with an input or target outside [0, 1]
                            // (probability kernels, and logits kernels validating targets; the run stops there),
                            // or -1
};

template <typename T>
using RowKernel = RowResult (*)(int64_t n, const RowArgs<T>& args);

// Row conversions between 16-bit storage and float: widening is exact; narrowing rounds to nearest even, overflows
// to infinity and keeps NaN a (quiet) NaN.
struct StorageConversions {
    void (*widen_f16)(const Float16* source, float* destination, int64_t n);
    void (*narrow_f16)(const float* source, Float16* destination, int64_t n);
    void (*widen_bf16)(const BFloat16* source, float* destination, int64_t n);
    void (*narrow_bf16)(const float* source, BFloat16* destination, int64_t n);
};

// The compile-time variants of a table's SIMD row kernels (simd_kernels.h), by name; the same for every dtype.
// The scalar reference has none: one loop serves every call.
struct KernelVariants {
    const char* (*name)(int index);  // index in [0, count)
    int count;
};

// The kernels of one instruction set: one row kernel per storage type, for both losses (RowArgs::params says which).
struct KernelTable {
    const char* isa;
    RowKernel<float> f32;
    RowKernel<double> f64;
    // 16-bit storage, float32 math (the scalar reference: double math, rounded once).
    RowKernel<Float16> f16;
    RowKernel<BFloat16> bf16;
    StorageConversions conversions;  // the ones the 16-bit kernels use
    KernelVariants variants;
};

// A table's kernel for storage type T.
template <typename T>
RowKernel<T> kernel_of(const KernelTable& t);
template <>
inline RowKernel<float> kernel_of<float>(const KernelTable& t) {
    return t.f32;
}
template <>
inline RowKernel<double> kernel_of<double>(const KernelTable& t) {
    return t.f64;
}
template <>
inline RowKernel<Float16> kernel_of<Float16>(const KernelTable& t) {
    return t.f16;
}
template <>
inline RowKernel<BFloat16> kernel_of<BFloat16>(const KernelTable& t) {
    return t.bf16;
}

// `a` moved on by i elements in the operands that have the input's shape; weight and pos_weight, and the
// weight-gradient terms, are left to the caller, whose offsets depend on the broadcast.
template <typename T>
RowArgs<T> with_element_offset(RowArgs<T> a, int64_t i) {
    a.input += i;
    a.target += i;
    if (a.grad_output) a.grad_output += i;
    if (a.loss) a.loss += i;
    if (a.grad_input) a.grad_input += i;
    if (a.grad_target) a.grad_target += i;
    return a;
}

// The scalar reference kernels: the readable specification the SIMD kernels are tested against.
const KernelTable& scalar_kernel_table();

#ifdef BCE4J_HAVE_AVX2
// The AVX2+FMA+F16C kernels (avx2_kernels.cpp). Only for a CPU that has all three; see kernel_table_for.
const KernelTable& avx2_kernel_table();
#endif

#ifdef BCE4J_HAVE_AVX512
// The AVX-512F kernels (avx512_kernels.cpp). Only for a CPU and OS that support AVX-512F.
const KernelTable& avx512_kernel_table();
#endif

#ifdef BCE4J_HAVE_NEON
// The Advanced SIMD kernels of aarch64 (neon_kernels.cpp). Only for a CPU with HWCAP_ASIMD.
const KernelTable& neon_kernel_table();
#endif

// The table of the instruction set named `isa` ("scalar", "avx2", "avx512", "neon"), or nullptr if it is not compiled
// in or this CPU lacks it.
const KernelTable* kernel_table_for(const char* isa);

// The table for a BCE4J_ISA value: the named one if kernel_table_for has it, otherwise (null, unknown or
// unsupported name) the best this CPU supports. The table's `isa` says which one it is.
const KernelTable& choose_kernel_table(const char* requested);

// The kernels chosen once, on first use, by choose_kernel_table(getenv("BCE4J_ISA")).
const KernelTable& active_kernel_table();

}  // namespace bce4j
