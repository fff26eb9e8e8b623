// The interface between vector_math_test.cpp (tables, references, GoogleTest; compiled for any x86-64 CPU) and
// the per-instruction-set files vector_math_<isa>.cpp, which compile the kernels' vector_math.h with that ISA's
// flags and nothing else: no GoogleTest or std:: templates, whose inline copies the linker could otherwise pick
// for the whole test program and run on a CPU without those instructions.
#pragma once

#include <cstddef>

namespace bce4j_test {

// The functions of vector_math.h, each applied lane by lane to a vector of inputs.
enum class VectorFunction {
    kExpNonpositive,       // exp_nonpositive(t)
    kExpOfMinusMagnitude,  // exp_of_minus_magnitude(x)
    kLog1pUnit,            // log1p_unit(v)
    kLogUnit,              // log_unit(v)
    kSigmoidOfMagnitude,   // sigmoid_of_magnitude(e)
};

// out[i] = f(in[i]) for i < n, through the ISA's Lanes<T>: full vectors, then one partial vector.
#define BCE4J_TEST_DECLARE_VECTOR_MATH(isa)                                   \
    namespace isa {                                                           \
    void evaluate(VectorFunction f, const float* in, float* out, size_t n);   \
    void evaluate(VectorFunction f, const double* in, double* out, size_t n); \
    }

#ifdef BCE4J_HAVE_AVX2
BCE4J_TEST_DECLARE_VECTOR_MATH(avx2)
#endif
#ifdef BCE4J_HAVE_AVX512
BCE4J_TEST_DECLARE_VECTOR_MATH(avx512)
#endif
#ifdef BCE4J_HAVE_NEON
BCE4J_TEST_DECLARE_VECTOR_MATH(neon)
#endif

#undef BCE4J_TEST_DECLARE_VECTOR_MATH

}  // namespace bce4j_test
