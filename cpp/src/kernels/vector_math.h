// The vector math of the SIMD kernels: exp, log1p and log over a lane-operations type, computed in T (float or
// double), compiled once per instruction set like simd_kernels.h (which includes this file inside the ISA's
// namespace; see there for Lanes<T>). Each function states its valid range and its maximum error in ULP of the
// correctly rounded result (its contract); the per-ISA tests in cpp/test/vector_math_test.cpp hold them to it, one
// table row per function and dtype. A replaced function brings a new contract and row (measure it with that test);
// what stays fixed is the end-to-end accuracy the kernels promise (simd_kernels.h, the libtorch goldens).
#ifndef BCE4J_SIMD_NAMESPACE
#error "define BCE4J_SIMD_NAMESPACE and Lanes<T> before including vector_math.h"
#endif

#include <cstddef>
#include <type_traits>
#include <utility>

namespace bce4j::BCE4J_SIMD_NAMESPACE {
namespace {

// Polynomial coefficients, lowest degree first, fitted (near-minimax, Chebyshev) for each precision:
//   exp_tail:  (e^r - 1 - r) / r^2 on r in [-ln2/2, ln2/2], so e^r = 1 + r + r^2 * exp_tail(r);
//              relative error of e^r < 2e-8 (float, degree 4), < 3e-17 (double, degree 9).
//   atanh2:    2 atanh(s) / s as a polynomial in z = s^2 on z in [0, 1/9], so log1p(v) = s * atanh2(s^2) with
//              s = v / (2 + v) for v in [0, 1]; relative error < 5e-9 (float, degree 4), < 2e-18 (double,
//              degree 10).
//   log1p_over: log1p(v) / v on v in [0, 1] (float only), so log1p(v) = v * log1p_over(v) without a quotient;
//              relative error < 5e-9 (degree 9, fitted for relative error and evaluated with float coefficients).
template <typename T>
struct Polynomials;

template <>
struct Polynomials<float> {
    static constexpr float exp_tail[] = {0.5f, 0.1666657702559798819f, 0.041666554662050533982f,
                                         0.0083631730745137109028f, 0.0013926176119935578884f};
    static constexpr float atanh2[] = {2.0000000076817588809f, 0.66666321641377773156f, 0.40024595230703747912f,
                                       0.27965157745197268888f, 0.28157778363109080655f};
    static constexpr float log1p_over[] = {0.9999999953445257f,    -0.49999903275544255f, 0.3332998372490736f,
                                           -0.2495434138425316f,   0.19676963322623975f,  -0.15308448418634119f,
                                           0.10608358354779557f,   -0.05700487177284416f, 0.019875108323875304f,
                                           -0.0032491778690352273f};
    // ln 2 = kLn2High + kLn2Low, kLn2High with 12 significant bits so that k * kLn2High is exact for |k| < 2^11.
    static constexpr float kLn2High = 0.693359375f;
    static constexpr float kLn2Low = -2.12194440054690583e-4f;
    static constexpr float kSmallestNormal = 1.17549435e-38f;
    static constexpr float kSubnormalScale = 16777216.0f;  // 2^24
    static constexpr float kSubnormalExponent = 24.0f;
    static constexpr float kExpLowerBound = -104.0f;      // e^-104 is below half the smallest subnormal
    static constexpr float kRoundingShift = 12582912.0f;  // 1.5 * 2^23
};

template <>
struct Polynomials<double> {
    static constexpr double exp_tail[] = {
        0.50000000000000010211,   0.16666666666666667452,    0.041666666666624161903,    0.0083333333333300644495,
        0.0013888888917196719077, 0.00019841269863040545271, 0.000024801521322368693266, 2.7557268480310025526e-6,
        2.7620075879983366586e-7, 2.5100375832561233664e-8};
    static constexpr double atanh2[] = {2.0000000000000000024,   0.66666666666666149594, 0.40000000000185747468,
                                        0.28571428545454114534,  0.22222224080747673173, 0.1818174083250480451,
                                        0.15386614042304007762,  0.13300374032674624337, 0.12110168728069217655,
                                        0.083245065118608205757, 0.17044163562781398129};
    // For log1p_by_table: for the centres c_j = 1 + j/15 of v + 1 (j = 0..15), a double near 1/c_j (within 2^-38 of
    // it) whose -log is within 0.21 ULP of a double (Gal's accurate tables: the reduction uses that double, so that
    // log c_j is stored almost exactly), and that -log rounded; log1p_reduced: log1p(r) / r on r in [-1/32, 1/30],
    // the reduced arguments' range, relative error < 3e-17 (degree 8, Remez, as rounded to double).
    static constexpr double kLog1pCentres = 15.0;
    static constexpr double log1p_inverse_centre[] = {1.0,
                                                      0.9375000000000001,
                                                      0.8823529411742504,
                                                      0.8333333333333336,
                                                      0.7894736842127454,
                                                      0.7499999999999999,
                                                      0.7142857142857142,
                                                      0.6818181818204009,
                                                      0.6521739130456982,
                                                      0.6250000000022202,
                                                      0.5999999999977798,
                                                      0.576923076920857,
                                                      0.5555555555577759,
                                                      0.5357142857120664,
                                                      0.5172413793103443,
                                                      0.5};
    static constexpr double log1p_log_centre[] = {0.0,
                                                  0.06453852113757105,
                                                  0.12516314295652217,
                                                  0.18232155679395431,
                                                  0.2363887780614195,
                                                  0.28768207245178107,
                                                  0.33647223662121306,
                                                  0.38299225225285116,
                                                  0.4274440148235358,
                                                  0.4700036292421832,
                                                  0.5108256237696911,
                                                  0.5500463369231199,
                                                  0.5877866648981224,
                                                  0.6241543090771366,
                                                  0.659245628884265,
                                                  0.6931471805599453};
    static constexpr double log1p_reduced[] = {1.0,
                                               -0.499999999999996,
                                               0.33333333333348686,
                                               -0.2500000000511003,
                                               0.19999999913412517,
                                               -0.1666664885801568,
                                               0.14285862791563708,
                                               -0.12523077302951777,
                                               0.11041053370103622};
    // For exp_by_table: 2^(j/16) rounded to double, j = 0..15; exp_reduced: (e^r - 1 - r) / r^2 on r in
    // [-ln2/32, ln2/32], absolute error of 1 + r + r^2 exp_reduced(r) < 2^-64 (degree 5, Chebyshev nodes).
    static constexpr double kSixteenOverLn2 = 23.083120654223414;
    static constexpr double exp2_sixteenths[] = {1.0,
                                                 1.0442737824274138,
                                                 1.0905077326652577,
                                                 1.1387886347566916,
                                                 1.189207115002721,
                                                 1.241857812073484,
                                                 1.2968395546510096,
                                                 1.3542555469368927,
                                                 1.4142135623730951,
                                                 1.4768261459394993,
                                                 1.5422108254079407,
                                                 1.6104903319492543,
                                                 1.681792830507429,
                                                 1.7562521603732995,
                                                 1.8340080864093424,
                                                 1.9152065613971474};
    static constexpr double exp_reduced[] = {0.5000000000000001,  0.16666666666666669,   0.041666666663595475,
                                             0.00833333333299209, 0.0013889063440655327, 0.0001984146378747018};
    // fdlibm's split: n * kLn2High is exact for |n| < 2^20.
    static constexpr double kLn2High = 6.93147180369123816490e-01;
    static constexpr double kLn2Low = 1.90821492927058770002e-10;
    static constexpr double kSmallestNormal = 2.2250738585072014e-308;
    static constexpr double kSubnormalScale = 18014398509481984.0;  // 2^54
    static constexpr double kSubnormalExponent = 54.0;
    static constexpr double kExpLowerBound = -746.0;              // e^-746 is below half the smallest subnormal
    static constexpr double kRoundingShift = 6755399441055744.0;  // 1.5 * 2^52
};

template <typename T>
using V = typename Lanes<T>::V;

template <typename T, size_t kTerms>
[[gnu::always_inline]] inline V<T> polynomial(V<T> z, const T (&c)[kTerms]) {
    using L = Lanes<T>;
    V<T> result = L::splat(c[kTerms - 1]);
    for (size_t k = kTerms - 1; k-- > 0;) result = L::fma(result, z, L::splat(c[k]));
    return result;
}

// Whether Lanes L has lookup16(table, index): table[j] in each lane, j the low 4 bits of index's bit pattern, from
// registers (a permute, no memory access per lane).
template <typename L, typename = void>
struct HasLookup16 : std::false_type {};
template <typename L>
struct HasLookup16<L, std::void_t<decltype((void)L::lookup16(std::declval<const double (&)[16]>(), L::splat(0.0)))>>
    : std::true_type {};

// e^t for t <= 0 (the kernels need e^-|x|). t = n ln2 + r, |r| <= ln2/2, e^t = 2^n e^r with a subnormal result
// rounded once; double by exp_by_table instead where the ISA has lookup16 (avx512). NaN propagates.
// Contract: valid for every t <= 0; -inf gives 0, -0 gives 1, t below ln of half the smallest subnormal gives 0.
// Maximum error against the correctly rounded e^t, subnormal results included: float 1 ULP (every float input
// measured), double 2 ULP (1 measured, both ways). Both ISAs; vector_math_test.cpp's table holds it to this.
template <typename T>
[[gnu::always_inline]] inline V<T> exp_by_table(V<T> t);

template <typename T>
[[gnu::always_inline]] inline V<T> exp_nonpositive(V<T> t) {
    using L = Lanes<T>;
    using P = Polynomials<T>;
    if constexpr (std::is_same_v<T, double> && HasLookup16<L>::value) return exp_by_table<T>(t);
    t = L::max(L::splat(P::kExpLowerBound), t);  // this operand order keeps NaN
    // n = t / ln2 rounded to nearest by adding and subtracting 1.5 * 2^(digits-1): cheaper than a rounding
    // instruction (two uops on x86), and exact here, as |t / ln2| < 2^11.
    const V<T> magic = L::splat(P::kRoundingShift);
    const V<T> n = L::sub(L::fma(t, L::splat(T(1.4426950408889634)), magic), magic);
    V<T> r = L::fnma(n, L::splat(P::kLn2High), t);
    r = L::fnma(n, L::splat(P::kLn2Low), r);
    const V<T> e_r = L::fma(L::mul(r, r), polynomial<T>(r, P::exp_tail), L::add(r, L::splat(T(1))));
    return L::ldexp(e_r, n);
}

// log1p(v) for double v in [0, 1] without a quotient, where Lanes has lookup16: with j = round(15 v) and the table's
// 1/c_j and log c_j (c_j = 1 + j/15), log1p(v) = log c_j + log1p(r), r = (1 + v)/c_j - 1 = v/c_j + (1/c_j - 1) in
// one FMA (1/c_j - 1 is exact), |r| <= 1/30. For j = 0, 1/c_j = 1 and log c_j = 0: r = v exactly, so tiny v
// keep their relative accuracy. 14 uops (two of them permutes) where the atanh form takes 23 (its quotient 10);
// worst error measured 1.26 ULP of the exact value (near v = 1/30, where log c_1 and log1p(r) partly cancel).
template <typename T>
[[gnu::always_inline]] inline V<T> log1p_by_table(V<T> v) {
    using L = Lanes<T>;
    using P = Polynomials<T>;
    // j in the low bits of 15 v + 1.5 * 2^52 (rounded to nearest: 15 v < 2^51).
    const V<T> index = L::fma(v, L::splat(P::kLog1pCentres), L::splat(P::kRoundingShift));
    const V<T> inverse_centre = L::lookup16(P::log1p_inverse_centre, index);
    const V<T> r = L::fma(v, inverse_centre, L::sub(inverse_centre, L::splat(T(1))));
    return L::fma(r, polynomial<T>(r, P::log1p_reduced), L::lookup16(P::log1p_log_centre, index));
}

// e^t for double t <= 0 where Lanes has lookup16 (avx512): t = (16 m + j) ln2/16 + r, |r| <= ln2/32,
// e^t = 2^m 2^(j/16) e^r with 2^(j/16) from the table and e^r - 1 = r + r^2 exp_reduced(r): degree 5 where
// exp_nonpositive's single step needs 9 (16 uops where that takes 18). exp_nonpositive's contract; worst error
// measured 1.02 ULP of the exact value (2^(j/16) is rounded), against 1.31 for the single step.
template <typename T>
[[gnu::always_inline]] inline V<T> exp_by_table(V<T> t) {
    using L = Lanes<T>;
    using P = Polynomials<T>;
    t = L::max(L::splat(P::kExpLowerBound), t);  // this operand order keeps NaN
    // n = 16 m + j = 16 t / ln2 rounded to nearest (|n| < 2^15), j in the low 4 bits of `shifted`.
    const V<T> magic = L::splat(P::kRoundingShift);
    const V<T> shifted = L::fma(t, L::splat(P::kSixteenOverLn2), magic);
    const V<T> n = L::sub(shifted, magic);
    V<T> r = L::fnma(n, L::splat(P::kLn2High / 16), t);
    r = L::fnma(n, L::splat(P::kLn2Low / 16), r);
    const V<T> e_r_minus_one = L::fma(L::mul(r, r), polynomial<T>(r, P::exp_reduced), r);
    const V<T> power = L::lookup16(P::exp2_sixteenths, shifted);
    // 2^m with m = floor(n / 16): ldexp_floor takes the floor itself.
    return L::ldexp_floor(L::fma(power, e_r_minus_one, power), L::mul(n, L::splat(T(0.0625))));
}

// log1p(v) for v in [0, 1]: float as v * log1p_over(v); double by log1p_by_table where the ISA has lookup16
// (avx512), else as 2 atanh(s) with s = v / (2 + v) in [0, 1/3], the quotient by Lanes::quotient (vdivpd's
// throughput bounded the whole kernel). No cancellation anywhere, so the result is accurate relative to itself even
// for tiny v.
// Contract: valid for v in [0, 1], subnormals included (0 gives 0). Maximum error against the correctly rounded
// log1p(v): float 2 ULP (every float input measured), both ISAs; double: avx2 3 ULP (2 measured, with the quotient),
// avx512 2 ULP (1 measured, by the table).
template <typename T>
[[gnu::always_inline]] inline V<T> log1p_unit(V<T> v) {
    using L = Lanes<T>;
    if constexpr (std::is_same_v<T, float>) {
        // 10 FMA-port uops where the atanh form takes 14 (its quotient alone 7); double would need degree 20.
        return L::mul(v, polynomial<T>(v, Polynomials<T>::log1p_over));
    } else if constexpr (HasLookup16<L>::value) {
        return log1p_by_table<T>(v);
    } else {
        const V<T> s = L::quotient(v, L::add(L::splat(T(2)), v));
        return L::mul(s, polynomial<T>(L::mul(s, s), Polynomials<T>::atanh2));
    }
}

// log v for v in [0, 2] (-0 counts as 0); 0 gives a value below -100 (the kernels clamp there) instead of -inf.
// v = 2^k m with m in [sqrt(1/2), sqrt(2)), log m = 2 atanh((m-1)/(m+1)). Not NaN-safe: the callers' finiteness
// check sees the NaN input instead.
// Contract: valid for v in (0, 2], subnormals included (1 gives 0); +-0 give a finite value below -100. Maximum
// error against the correctly rounded log v: 3 ULP, float (every float input measured) and double (3 measured).
// Both ISAs.
template <typename T>
[[gnu::always_inline]] inline V<T> log_unit(V<T> v) {
    using L = Lanes<T>;
    using P = Polynomials<T>;
    v = L::abs(v);
    const auto subnormal = L::less(v, L::splat(P::kSmallestNormal));
    v = L::select(subnormal, L::mul(v, L::splat(P::kSubnormalScale)), v);
    V<T> k;
    V<T> m = L::split_exponent(v, k);
    k = L::select(subnormal, L::sub(k, L::splat(P::kSubnormalExponent)), k);
    const auto above_sqrt2 = L::greater(m, L::splat(T(1.4142135623730951)));
    m = L::select(above_sqrt2, L::mul(m, L::splat(T(0.5))), m);
    k = L::select(above_sqrt2, L::add(k, L::splat(T(1))), k);
    const V<T> s = L::quotient(L::sub(m, L::splat(T(1))), L::add(m, L::splat(T(1))));
    const V<T> log_m = L::mul(s, polynomial<T>(L::mul(s, s), P::atanh2));
    return L::fma(k, L::splat(P::kLn2High), L::fma(k, L::splat(P::kLn2Low), log_m));
}

// The transcendental parts of element_math.h's logits_terms, for one vector of logits x: e = exp(-|x|),
// log_term = log1p(e) = softplus(-|x|), and sigmoid(|x|) = 1 / (1 + e) when gradients are wanted.
//
// exp_of_minus_magnitude: e^-|x| for every x (+-inf give 0, NaN propagates), exp_nonpositive's error: float 1 ULP,
// double 2 ULP.
template <typename T>
[[gnu::always_inline]] inline V<T> exp_of_minus_magnitude(V<T> x) {
    return exp_nonpositive<T>(Lanes<T>::negative_magnitude(x));
}

// Whether Lanes L has reciprocal_in_float_range(v): 1/v for |v| in float's normal range, faster than its
// reciprocal (avx2 double, whose reciprocal divides).
template <typename L, typename = void>
struct HasReciprocalInFloatRange : std::false_type {};
template <typename L>
struct HasReciprocalInFloatRange<L, std::void_t<decltype((void)L::reciprocal_in_float_range(L::splat(0.0)))>>
    : std::true_type {};

// sigmoid_of_magnitude: 1 / (1 + e) for e in [0, 1] (exp_of_minus_magnitude's results), through the ISA's
// Lanes::reciprocal_in_float_range where it has one (avx2 double), else Lanes::reciprocal. Maximum error against the
// correctly rounded 1 / (1 + e): float 1 ULP on avx2 (two Newton steps from a 12-bit estimate), 2 ULP on avx512 (one
// from a 14-bit estimate; every float input measured for both); double 2 ULP (1 measured).
template <typename T>
[[gnu::always_inline]] inline V<T> sigmoid_of_magnitude(V<T> e) {
    // Not a division where the ISA has another way: log1p_unit's quotient may keep the divider busy already.
    using L = Lanes<T>;
    const V<T> one_plus_e = L::add(L::splat(T(1)), e);
    if constexpr (HasReciprocalInFloatRange<L>::value) return L::reciprocal_in_float_range(one_plus_e);
    return L::reciprocal(one_plus_e);
}

}  // namespace
}  // namespace bce4j::BCE4J_SIMD_NAMESPACE
