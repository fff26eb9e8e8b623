// The body of vector_math_<isa>.cpp: bce4j_test::<isa>::evaluate over the kernels' own vector_math.h and the ISA's
// Lanes<T>. Include the ISA's lanes header first (it defines BCE4J_SIMD_NAMESPACE). Everything here other than
// evaluate has internal linkage, so no code compiled with the ISA's flags can stand in for anyone else's.
#pragma once

#ifndef BCE4J_SIMD_NAMESPACE
#error "include the ISA's <isa>_lanes.h before vector_math_evaluate.h"
#endif

#include "kernels/vector_math.h"
#include "vector_math_test.h"

namespace bce4j_test::BCE4J_SIMD_NAMESPACE {
namespace {

namespace isa = bce4j::BCE4J_SIMD_NAMESPACE;

template <typename T>
typename isa::Lanes<T>::V apply(VectorFunction f, typename isa::Lanes<T>::V v) {
    switch (f) {
        case VectorFunction::kExpNonpositive: return isa::exp_nonpositive<T>(v);
        case VectorFunction::kExpOfMinusMagnitude: return isa::exp_of_minus_magnitude<T>(v);
        case VectorFunction::kLog1pUnit: return isa::log1p_unit<T>(v);
        case VectorFunction::kLogUnit: return isa::log_unit<T>(v);
        case VectorFunction::kSigmoidOfMagnitude: return isa::sigmoid_of_magnitude<T>(v);
    }
    return v;
}

template <typename T>
void evaluate_lanes(VectorFunction f, const T* in, T* out, size_t n) {
    using L = isa::Lanes<T>;
    size_t i = 0;
    for (; i + L::kCount <= n; i += L::kCount) L::store(out + i, apply<T>(f, L::load(in + i)));
    if (i < n) {
        const int rest = static_cast<int>(n - i);
        L::store_prefix(out + i, rest, apply<T>(f, L::load_prefix(in + i, rest)));
    }
}

}  // namespace

void evaluate(VectorFunction f, const float* in, float* out, size_t n) { evaluate_lanes<float>(f, in, out, n); }
void evaluate(VectorFunction f, const double* in, double* out, size_t n) { evaluate_lanes<double>(f, in, out, n); }

}  // namespace bce4j_test::BCE4J_SIMD_NAMESPACE
