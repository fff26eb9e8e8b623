// AVX2+FMA kernels. Compiled with -mavx2 -mfma (this file only, see CMakeLists.txt) and called only where the
// CPU has both.
//
// Both storage types compute in double lanes, four elements per step: float32 inputs are widened on load and the
// results rounded once on store. Computing in float32 would be twice as wide but would break the library's
// contract (float32 outputs within one rounding of the double result; reductions within ~1e-12 of the double
// sum) that the API tests check through whichever table is dispatched. The formulas mirror element_math.h line
// by line; only exp, log and log1p are replaced by the vector versions below, accurate to a few double ulps,
// so that float32 outputs are within 1 ulp of the scalar reference and float64 outputs within ~1e-15 relative
// of it (isa_kernels_test.cpp measures both).
//
// The last n % 4 elements, and a probability vector holding an invalid element, are handed to the scalar
// reference, which also finds the exact first invalid offset.
#include <immintrin.h>

#include <cstdint>
#include <utility>

#include "../element_math.h"
#include "row_kernel.h"

namespace bce4j {
namespace {

constexpr int64_t kLanes = 4;

inline __m256d splat(double v) { return _mm256_set1_pd(v); }

inline __m256d load_lanes(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline __m256d load_lanes(const double* p) { return _mm256_loadu_pd(p); }
inline void store_lanes(float* p, __m256d v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
inline void store_lanes(double* p, __m256d v) { _mm256_storeu_pd(p, v); }

inline __m256d is_nan(__m256d v) { return _mm256_cmp_pd(v, v, _CMP_UNORD_Q); }

// element_math.h's scaled(): coefficient * magnitude, but +0 where the coefficient is 0 and the magnitude is not
// NaN (0 * inf = 0).
inline __m256d scaled(__m256d coefficient, __m256d magnitude) {
    const __m256d zero_coefficient = _mm256_cmp_pd(coefficient, _mm256_setzero_pd(), _CMP_EQ_OQ);
    const __m256d masked = _mm256_andnot_pd(is_nan(magnitude), zero_coefficient);
    return _mm256_andnot_pd(masked, _mm256_mul_pd(coefficient, magnitude));
}

// ln 2 split so that n * kLn2High is exact for |n| < 2^20 (fdlibm's constants).
constexpr double kLn2High = 6.93147180369123816490e-01;
constexpr double kLn2Low = 1.90821492927058770002e-10;

// 2^k for integer k in [-1022, 1023], k in int32 lanes.
inline __m256d power_of_two(__m128i k) {
    const __m256i biased = _mm256_cvtepi32_epi64(_mm_add_epi32(k, _mm_set1_epi32(1023)));
    return _mm256_castsi256_pd(_mm256_slli_epi64(biased, 52));
}

// e^t for t <= 0 (the kernels need e^-|x|); NaN propagates. t = n*ln2 + r with |r| <= ln2/2, e^r by its
// degree-12 Taylor polynomial (truncation < 2e-16 relative), and 2^n applied as two factors so that subnormal
// results are rounded once, correctly. Measured max error over t in [-745, 0]: 2.7 ulp (double).
[[gnu::always_inline]] inline __m256d exp_nonpositive(__m256d t) {
    t = _mm256_max_pd(splat(-750.0), t);  // e^-750 rounds to 0; this operand order returns NaN as NaN
    const __m256d n = _mm256_round_pd(_mm256_mul_pd(t, splat(1.4426950408889634)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d r = _mm256_fnmadd_pd(n, splat(kLn2High), t);
    r = _mm256_fnmadd_pd(n, splat(kLn2Low), r);
    constexpr double kInverseFactorials[] = {
        1.0,         1.0,          1.0 / 2,         1.0 / 6,          1.0 / 24,          1.0 / 120,         1.0 / 720,
        1.0 / 5040,  1.0 / 40320,  1.0 / 362880,    1.0 / 3628800,    1.0 / 39916800,    1.0 / 479001600,
    };
    // Horner in r^2 over pairs c_2j + c_2j+1 r: half the dependency chain of plain Horner.
    const __m256d r2 = _mm256_mul_pd(r, r);
    __m256d poly = splat(kInverseFactorials[12]);
    for (int k = 10; k >= 0; k -= 2) {
        const __m256d pair = _mm256_fmadd_pd(r, splat(kInverseFactorials[k + 1]), splat(kInverseFactorials[k]));
        poly = _mm256_fmadd_pd(poly, r2, pair);
    }
    const __m128i whole = _mm256_cvtpd_epi32(n);  // in [-1082, 0]
    const __m128i half = _mm_srai_epi32(whole, 1);
    return _mm256_mul_pd(_mm256_mul_pd(poly, power_of_two(half)), power_of_two(_mm_sub_epi32(whole, half)));
}

// log v for v in [0, 2] (-0 counts as 0); NaN propagates. v = 2^k * m with m in [sqrt(1/2), sqrt(2)) and
// log m = 2 atanh(s), s = (m-1)/(m+1), |s| < 0.1716, by its series through s^19 (truncation < 3e-17 relative).
// Zero and subnormal v give a finite value below -700 instead of -inf: the kernels only use it clamped at -100.
// Measured max error over v in [e^-700, 2]: 3.7 ulp (double).
[[gnu::always_inline]] inline __m256d log_of(__m256d v) {
    const __m256i bits = _mm256_and_si256(_mm256_castpd_si256(v), _mm256_set1_epi64x(0x7fffffffffffffff));
    const __m256i fraction = _mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffff));
    // In [1, 2), then halved above sqrt(2).
    __m256d mantissa = _mm256_castsi256_pd(_mm256_or_si256(fraction, _mm256_set1_epi64x(0x3ff0000000000000)));
    // The biased exponent as a double: its bits placed in the mantissa of 2^52.
    const __m256i exponent_bits =
        _mm256_or_si256(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(0x4330000000000000));
    __m256d k = _mm256_sub_pd(_mm256_castsi256_pd(exponent_bits), splat(4503599627370496.0 + 1023.0));
    const __m256d above_sqrt2 = _mm256_cmp_pd(mantissa, splat(1.4142135623730951), _CMP_GT_OQ);
    mantissa = _mm256_blendv_pd(mantissa, _mm256_mul_pd(mantissa, splat(0.5)), above_sqrt2);
    k = _mm256_add_pd(k, _mm256_and_pd(above_sqrt2, splat(1.0)));

    const __m256d s = _mm256_div_pd(_mm256_sub_pd(mantissa, splat(1.0)), _mm256_add_pd(mantissa, splat(1.0)));
    const __m256d s2 = _mm256_mul_pd(s, s);
    // 1 + s^2/3 + ... + s^18/19, Horner in s^4 over pairs (as in exp_nonpositive).
    const __m256d s4 = _mm256_mul_pd(s2, s2);
    __m256d series = _mm256_fmadd_pd(s2, splat(1.0 / 19), splat(1.0 / 17));
    for (int j = 13; j >= 1; j -= 4) {
        const __m256d pair = _mm256_fmadd_pd(s2, splat(1.0 / (j + 2)), splat(1.0 / j));
        series = _mm256_fmadd_pd(series, s4, pair);
    }
    const __m256d log_mantissa = _mm256_mul_pd(_mm256_add_pd(s, s), series);
    const __m256d result = _mm256_fmadd_pd(k, splat(kLn2High), _mm256_fmadd_pd(k, splat(kLn2Low), log_mantissa));
    return _mm256_blendv_pd(result, v, is_nan(v));
}

// Which operands a kernel variant reads element by element and which outputs it writes: one instantiation per
// combination, so that the inner loop has no branches. Operands not read per element are broadcast once (a null
// weight or pos_weight is a broadcast 1, a null grad_output the broadcast grad_scale).
constexpr unsigned kWeightPerElement = 1;
constexpr unsigned kUpstreamPerElement = 2;
constexpr unsigned kStoreLoss = 4;
constexpr unsigned kStoreGradInput = 8;
constexpr unsigned kStoreGradTarget = 16;
constexpr unsigned kPosWeightPerElement = 32;  // last, so that probability kernels (no pos_weight) need only 32

template <typename T>
unsigned variant_of(const RowArgs<T>& a) {
    return (a.weight && a.weight_stride == 1 ? kWeightPerElement : 0) |
           (a.grad_output ? kUpstreamPerElement : 0) | (a.loss ? kStoreLoss : 0) |
           (a.grad_input ? kStoreGradInput : 0) | (a.grad_target ? kStoreGradTarget : 0) |
           (a.pos_weight && a.pos_weight_stride == 1 ? kPosWeightPerElement : 0);
}

template <typename T>
__m256d constant_operand(const T* p, double absent) {
    return splat(p ? static_cast<double>(*p) : absent);
}

// `a` moved on by i elements, weights included (within a run they step by their stride).
template <typename T>
RowArgs<T> advanced(RowArgs<T> a, int64_t i) {
    a = with_element_offset(a, i);
    if (a.weight) a.weight += i * a.weight_stride;
    if (a.pos_weight) a.pos_weight += i * a.pos_weight_stride;
    return a;
}

// Sums the four lane sums in a fixed order, then finishes elements [i, n) with the scalar reference.
template <typename T>
RowResult finish_with_reference(RowKernel<T> reference, int64_t n, const RowArgs<T>& a, int64_t i,
                                __m256d lane_sums) {
    alignas(32) double lanes[kLanes];
    _mm256_store_pd(lanes, lane_sums);
    const double vector_sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    if (i == n) return {vector_sum, -1};
    const RowResult rest = reference(n - i, advanced(a, i));
    return {vector_sum + rest.loss_sum, rest.first_invalid < 0 ? -1 : i + rest.first_invalid};
}

// element_math.h's store_element on four lanes: applies weight and upstream gradient, stores what the variant
// wants and returns the weighted losses.
template <unsigned kVariant, typename T>
__m256d store_terms(const RowArgs<T>& a, int64_t i, __m256d weight, __m256d upstream, __m256d loss_term,
                    __m256d grad_input_term, __m256d grad_target_term) {
    const __m256d loss = scaled(weight, loss_term);
    if constexpr ((kVariant & kStoreLoss) != 0) store_lanes(a.loss + i, loss);
    const __m256d scale = _mm256_mul_pd(upstream, weight);
    if constexpr ((kVariant & kStoreGradInput) != 0) store_lanes(a.grad_input + i, scaled(scale, grad_input_term));
    if constexpr ((kVariant & kStoreGradTarget) != 0) store_lanes(a.grad_target + i, scaled(scale, grad_target_term));
    return loss;
}

template <typename T, unsigned kVariant>
RowResult logits_row(int64_t n, const RowArgs<T>& a) {
    __m256d sums = _mm256_setzero_pd();
    int64_t i = 0;
    if (n >= kLanes) {
        const __m256d weight_constant = constant_operand(a.weight, 1.0);
        const __m256d pos_weight_constant = constant_operand(a.pos_weight, 1.0);
        const __m256d upstream_constant = splat(a.grad_scale);
        const __m256d one = splat(1.0);
        const __m256d sign_bit = splat(-0.0);
        for (; i + kLanes <= n; i += kLanes) {
            const __m256d x = load_lanes(a.input + i);
            const __m256d y = load_lanes(a.target + i);
            const __m256d p = (kVariant & kPosWeightPerElement) ? load_lanes(a.pos_weight + i) : pos_weight_constant;
            const __m256d w = (kVariant & kWeightPerElement) ? load_lanes(a.weight + i) : weight_constant;
            const __m256d g = (kVariant & kUpstreamPerElement) ? load_lanes(a.grad_output + i) : upstream_constant;

            const __m256d magnitude = _mm256_andnot_pd(sign_bit, x);
            const __m256d e = exp_nonpositive(_mm256_xor_pd(magnitude, sign_bit));
            const __m256d one_plus_e = _mm256_add_pd(one, e);
            const __m256d reciprocal = _mm256_div_pd(one, one_plus_e);
            // log1p(e) = log(1 + e) plus the rounding error of 1 + e (exact, as e <= 1) over 1 + e.
            const __m256d rounding_error = _mm256_sub_pd(e, _mm256_sub_pd(one_plus_e, one));
            const __m256d log_term = _mm256_fmadd_pd(rounding_error, reciprocal, log_of(one_plus_e));
            const __m256d sigmoid_of_magnitude = reciprocal;
            const __m256d sigmoid_of_minus_magnitude = _mm256_mul_pd(e, reciprocal);
            const __m256d negative = _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_LT_OQ);  // NaN: not negative
            const __m256d sigmoid_x = _mm256_blendv_pd(sigmoid_of_magnitude, sigmoid_of_minus_magnitude, negative);
            const __m256d sigmoid_minus_x =
                _mm256_blendv_pd(sigmoid_of_minus_magnitude, sigmoid_of_magnitude, negative);
            const __m256d p_minus_one = _mm256_sub_pd(p, one);
            const __m256d one_minus_y = _mm256_sub_pd(one, y);
            const __m256d p_y = _mm256_mul_pd(p, y);
            const __m256d c = _mm256_add_pd(one, _mm256_mul_pd(p_minus_one, y));

            const __m256d linear_coefficient = _mm256_blendv_pd(one_minus_y, p_y, negative);
            const __m256d loss_term = _mm256_fmadd_pd(c, log_term, scaled(linear_coefficient, magnitude));
            const __m256d grad_input_term =
                _mm256_fnmadd_pd(p_y, sigmoid_minus_x, _mm256_mul_pd(sigmoid_x, one_minus_y));
            const __m256d target_coefficient = _mm256_blendv_pd(splat(-1.0), p, negative);
            const __m256d grad_target_term =
                _mm256_fmadd_pd(p_minus_one, log_term, scaled(target_coefficient, magnitude));
            sums = _mm256_add_pd(sums, store_terms<kVariant>(a, i, w, g, loss_term, grad_input_term, grad_target_term));
        }
    }
    return finish_with_reference(KernelsOf<T>::logits(scalar_kernel_table()), n, a, i, sums);
}

template <typename T, unsigned kVariant>
RowResult probabilities_row(int64_t n, const RowArgs<T>& a) {
    __m256d sums = _mm256_setzero_pd();
    int64_t i = 0;
    if (n >= kLanes) {
        const __m256d weight_constant = constant_operand(a.weight, 1.0);
        const __m256d upstream_constant = splat(a.grad_scale);
        const __m256d zero = _mm256_setzero_pd();
        const __m256d one = splat(1.0);
        const __m256d clamp = splat(-100.0);
        for (; i + kLanes <= n; i += kLanes) {
            const __m256d x = load_lanes(a.input + i);
            const __m256d y = load_lanes(a.target + i);
            // Outside [0, 1] (NaN is not): leave this vector to the reference, which stops at the first one.
            const __m256d invalid = _mm256_or_pd(
                _mm256_or_pd(_mm256_cmp_pd(x, zero, _CMP_LT_OQ), _mm256_cmp_pd(x, one, _CMP_GT_OQ)),
                _mm256_or_pd(_mm256_cmp_pd(y, zero, _CMP_LT_OQ), _mm256_cmp_pd(y, one, _CMP_GT_OQ)));
            if (_mm256_movemask_pd(invalid) != 0) break;
            const __m256d w = (kVariant & kWeightPerElement) ? load_lanes(a.weight + i) : weight_constant;
            const __m256d g = (kVariant & kUpstreamPerElement) ? load_lanes(a.grad_output + i) : upstream_constant;

            // PyTorch's clamp of the logs at -100 (element_math.h); this max operand order keeps NaN.
            const __m256d log_x = _mm256_max_pd(clamp, log_of(x));
            // log1p(-x) = log(1 - x) plus the rounding error of 1 - x (exact, as x <= 1) over 1 - x; that error
            // is 0 whenever 1 - x < 0.5, so dividing by max(1 - x, 0.5) avoids 0/0 at x = 1.
            const __m256d one_minus_x = _mm256_sub_pd(one, x);
            const __m256d rounding_error = _mm256_sub_pd(_mm256_sub_pd(one, one_minus_x), x);
            const __m256d log_one_minus_x = _mm256_max_pd(
                clamp, _mm256_add_pd(log_of(one_minus_x),
                                     _mm256_div_pd(rounding_error, _mm256_max_pd(splat(0.5), one_minus_x))));
            const __m256d variance =
                _mm256_max_pd(splat(math::kProbabilityGradEpsilon<double>), _mm256_mul_pd(x, one_minus_x));

            const __m256d loss_term = _mm256_xor_pd(
                splat(-0.0), _mm256_fmadd_pd(y, log_x, _mm256_mul_pd(_mm256_sub_pd(one, y), log_one_minus_x)));
            const __m256d grad_input_term = _mm256_div_pd(_mm256_sub_pd(x, y), variance);
            const __m256d grad_target_term = _mm256_sub_pd(log_one_minus_x, log_x);
            sums = _mm256_add_pd(sums, store_terms<kVariant>(a, i, w, g, loss_term, grad_input_term, grad_target_term));
        }
    }
    return finish_with_reference(KernelsOf<T>::probabilities(scalar_kernel_table()), n, a, i, sums);
}

// Calls the variant that `a` needs; the table lists one instantiation per combination of variant bits.
template <typename T, unsigned... kVariants>
RowResult call_logits_variant(int64_t n, const RowArgs<T>& a, std::integer_sequence<unsigned, kVariants...>) {
    static constexpr RowKernel<T> kVariantTable[] = {logits_row<T, kVariants>...};
    return kVariantTable[variant_of(a)](n, a);
}

template <typename T, unsigned... kVariants>
RowResult call_probabilities_variant(int64_t n, const RowArgs<T>& a, std::integer_sequence<unsigned, kVariants...>) {
    static constexpr RowKernel<T> kVariantTable[] = {probabilities_row<T, kVariants>...};
    return kVariantTable[variant_of(a) & ~kPosWeightPerElement](n, a);
}

template <typename T>
RowResult logits_kernel(int64_t n, const RowArgs<T>& a) {
    return call_logits_variant(n, a, std::make_integer_sequence<unsigned, 2 * kPosWeightPerElement>{});
}

template <typename T>
RowResult probabilities_kernel(int64_t n, const RowArgs<T>& a) {
    return call_probabilities_variant(n, a, std::make_integer_sequence<unsigned, kPosWeightPerElement>{});
}

}  // namespace

const KernelTable& avx2_kernel_table() {
    static const KernelTable table = {
        "avx2", logits_kernel<float>, logits_kernel<double>, probabilities_kernel<float>, probabilities_kernel<double>,
    };
    return table;
}

}  // namespace bce4j
