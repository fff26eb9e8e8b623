// The SIMD row kernels, written once over a lane-operations type and compiled once per instruction set: a file
// such as avx2_kernels.cpp defines BCE4J_SIMD_NAMESPACE and `template <typename T> struct Lanes` (T = float or
// double: the storage type, which is also the compute type) with the operations listed below, then includes
// this header, and widen_row / narrow_row for the 16-bit storage types (see converting_kernel.h). Everything
// here lives in that per-ISA namespace, so that code compiled with one ISA's flags is
// never linked in place of another's.
//
// Lanes<T> provides: V (a vector of T), M (a lane mask), kCount; splat, load, store (Lanes<float> also store_widened,
// add_widened and store_scaled: the lanes as doubles, for the weight-gradient terms); add, sub, mul, div,
// fma (a*b+c), fnma (c-a*b), max, abs, negate, negative_magnitude (-|v|); less, greater, equal, unordered (-> M),
// mask_or, any, select(m, yes, no); reciprocal (1/v, as accurate as a division or nearly); quotient (a/b, within about
// an ULP, without the divider where that is faster); ldexp (v * 2^n for integral n down to the exponent of half the
// smallest subnormal, rounded once); split_exponent (a positive normal v as 2^k * m, m in [1, 2), returning m and k as
// V); load_prefix, store_prefix and keep_prefix (the first n lanes; zeros elsewhere); Sum with zero_sum, add_to_sum
// (adds the lanes in double), add_sums and total (a fixed-order sum of the lanes).
//
// The formulas mirror element_math.h line by line (which is the specification); only exp and log are replaced
// by the polynomial versions of vector_math.h, computed in T. The outputs are checked for finiteness before they are
// stored: a vector holding an infinity or NaN anywhere (an infinite logit, a NaN, an overflow) is recomputed by
// the scalar reference, which owns the semantics of those cases (0 * inf = 0 under a zero coefficient, NaN
// propagation). The fast formulas therefore need no guards. The last n % kCount elements go through the same
// vector code with partial loads and stores.
//
// Accuracy (measured by isa_kernels_test over random inputs and extremes): float32 outputs within 4 epsilons of
// the scalar reference's correctly rounded result, relative to the magnitude of each output's own terms
// (cpp/test/term_magnitudes.h; measured worst about 2.6; focal rows about 3.2, with gamma 0 and label smoothing);
// float64 within 8 epsilons of them (focal rows: about 3.8). Loss sums are accumulated in double in a fixed order.
#ifndef BCE4J_SIMD_NAMESPACE
#error "define BCE4J_SIMD_NAMESPACE and Lanes<T> before including simd_kernels.h"
#endif

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "../element_math.h"
#include "row_kernel.h"
#include "vector_math.h"

namespace bce4j::BCE4J_SIMD_NAMESPACE {
namespace {

// The compile-time variants: only what changes the inner loop's loads and formulas, the weight's stride and the
// pos_weight's stride and mode, plus the common plain calls (Variant::kLean). Everything else a row may ask
// for is a branch on a row constant (which outputs are stored, a per-element upstream gradient, target validation,
// whether gradients are computed at all) or a per-vector mask (ignore_index, label smoothing), so that one
// instantiation serves every such combination: kVariants below lists the kVariantCount instantiations per dtype, each
// with its name.
enum class PosWeight { kNone, kConstant, kPerElement };

// The plain calls' outputs, fixed at compile time (Variant::kLean): grad_input alone (training, no pos_weight), the
// loss without gradients (evaluation and inference, no pos_weight: its sum, and each element's when the row stores
// them), or grad_input and whichever weight-gradient terms the row asks for (training with a pos_weight read per
// element, as a [C] one is from the executor's tile, or with a weight's or pos_weight's gradient).
enum class Lean { kNo, kGradInput, kLoss, kTraining };

template <bool kWeightPerElementV, PosWeight kPosWeightV, bool kPaddleLegacyV, Lean kLeanV = Lean::kNo>
struct Variant {
    static constexpr bool kWeightPerElement = kWeightPerElementV;
    static constexpr PosWeight kPosWeight = kPosWeightV;
    static constexpr bool kPaddleLegacy = kPaddleLegacyV;  // pos_weight scales the whole loss (RowArgs::params)
    // The plain calls fixed at compile time: a constant upstream gradient, no ignore_index, label smoothing or target
    // validation, no pos_weight (kTraining: or one per element, PyTorch's mode), and the outputs Lean names
    // (variant_of). Their inner loops have none of the branches and masks above: they are the most common calls, and
    // those cost the training call about 5% and 4 vector operations in 50, the loss without gradients (which
    // computed gradients it did not store) 30-50%, the weight-gradient call about a third of what its terms add (a
    // [1000] weight or pos_weight over 64K float32 elements).
    static constexpr Lean kLean = kLeanV;
    static constexpr bool kPlainTargets = kLeanV != Lean::kNo;
};

// A term sink (row_kernel.h) moved on by i elements.
inline TermSink advanced(TermSink s, int64_t i) {
    if (s.period != 0) {
        s.column += i;
    } else if (s.values) {
        s.values += i;
    }
    return s;
}

// `a` moved on by i elements, weights included (within a run they step by their stride). Defined here rather
// than taken from row_kernel.h so that no inline function is compiled with this ISA's flags outside this
// namespace.
template <typename T>
RowArgs<T> advanced(RowArgs<T> a, int64_t i) {
    a.input += i;
    a.target += i;
    if (a.grad_output) a.grad_output += i;
    if (a.loss) a.loss += i;
    if (a.grad_input) a.grad_input += i;
    if (a.grad_target) a.grad_target += i;
    a.weight_terms = advanced(a.weight_terms, i);
    a.pos_weight_terms = advanced(a.pos_weight_terms, i);
    if (a.weight_gradient) a.weight_gradient += i;
    if (a.pos_weight_gradient) a.pos_weight_gradient += i;
    if (a.loss_terms) a.loss_terms += i;
    if (a.weight) a.weight += i * a.weight_stride;
    if (a.pos_weight) a.pos_weight += i * a.pos_weight_stride;
    return a;
}

// One vector of outputs: the weighted loss (always, for the sum), the scaled gradients the variant stores and the
// weight-gradient terms the row asks for (RowArgs::weight_terms, pos_weight_terms).
template <typename T>
struct VectorTerms {
    V<T> loss, grad_input, grad_target, weight_term, pos_weight_term;
};

// The operands and choices of a row that do not change from vector to vector.
template <typename T>
struct RowConstants {
    V<T> weight, pos_weight, upstream, ignored_target, smoothing_keep, smoothing_shift;
    bool store_loss, store_grad_input, store_grad_target, wants_gradients, upstream_per_element, validate_targets,
        store_weight_terms, store_pos_weight_terms, store_loss_terms;
    // Only a constant operand is read here: a per-element one may point past the end of an empty row.
    explicit RowConstants(const RowArgs<T>& a)
        : weight(Lanes<T>::splat(a.weight && a.weight_stride == 0 ? *a.weight : T(1))),
          pos_weight(Lanes<T>::splat(a.pos_weight && a.pos_weight_stride == 0 ? *a.pos_weight : T(1))),
          upstream(Lanes<T>::splat(static_cast<T>(a.grad_scale))),
          ignored_target(Lanes<T>::splat(static_cast<T>(a.params.ignored_target))),
          smoothing_keep(Lanes<T>::splat(static_cast<T>(a.params.smoothing_keep))),
          smoothing_shift(Lanes<T>::splat(static_cast<T>(a.params.smoothing_shift))),
          store_loss(a.loss != nullptr),
          store_grad_input(a.grad_input != nullptr),
          store_grad_target(a.grad_target != nullptr),
          wants_gradients(a.grad_input != nullptr || a.grad_target != nullptr),
          upstream_per_element(a.grad_output != nullptr),
          validate_targets(a.params.validate_targets),
          store_weight_terms(a.weight_terms.values != nullptr || a.weight_gradient != nullptr),
          store_pos_weight_terms(a.pos_weight_terms.values != nullptr || a.pos_weight_gradient != nullptr),
          store_loss_terms(a.loss_terms != nullptr) {}
};

// The row constants' choices as variant Vt sees them: fixed at compile time for the lean variants.
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_loss(const RowConstants<T>& c) {
    return (Vt::kLean == Lean::kNo || Vt::kLean == Lean::kLoss) && c.store_loss;
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_loss_terms(const RowConstants<T>& c) {
    return Vt::kLean == Lean::kNo && c.store_loss_terms;
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_grad_input(const RowConstants<T>& c) {
    return Vt::kLean == Lean::kGradInput || Vt::kLean == Lean::kTraining ||
           (Vt::kLean == Lean::kNo && c.store_grad_input);
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_grad_target(const RowConstants<T>& c) {
    return Vt::kLean == Lean::kNo && c.store_grad_target;
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool wants_gradients(const RowConstants<T>& c) {
    return Vt::kLean == Lean::kGradInput || Vt::kLean == Lean::kTraining ||
           (Vt::kLean == Lean::kNo && c.wants_gradients);
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool upstream_per_element(const RowConstants<T>& c) {
    return Vt::kLean == Lean::kNo && c.upstream_per_element;
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_weight_terms(const RowConstants<T>& c) {
    return (Vt::kLean == Lean::kNo || Vt::kLean == Lean::kTraining) && c.store_weight_terms;
}
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool stores_pos_weight_terms(const RowConstants<T>& c) {
    return (Vt::kLean == Lean::kNo || Vt::kLean == Lean::kTraining) && c.store_pos_weight_terms;
}

// Lanes outside [0, 1] (NaN is not), of v with the ignored elements' lanes taken as 0.
template <typename T>
[[gnu::always_inline]] inline auto outside_unit_interval(V<T> v, decltype(Lanes<T>::less(v, v)) ignored) {
    using L = Lanes<T>;
    const V<T> checked = L::select(ignored, L::splat(T(0)), v);
    return L::mask_or(L::less(checked, L::splat(T(0))), L::greater(checked, L::splat(T(1))));
}

// A logits row that validates its targets (ElementParams::validate_targets) holds one outside [0, 1] at element i.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline bool invalid_target(const RowArgs<T>& a, int64_t i, const Access& io,
                                                  const RowConstants<T>& c) {
    if (Vt::kPlainTargets || !c.validate_targets) return false;
    const V<T> y = io.load(a.target + i);
    return Lanes<T>::any(outside_unit_interval<T>(y, Lanes<T>::equal(y, c.ignored_target)));
}

// The target as given (ignore_index is compared with it) and as the loss sees it (label smoothing).
template <typename T>
struct Targets {
    V<T> given, smoothed;
};

template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline Targets<T> load_targets(const RowArgs<T>& a, int64_t i, const Access& io,
                                                      const RowConstants<T>& c) {
    const V<T> y = io.load(a.target + i);
    if (Vt::kPlainTargets) return {y, y};  // no smoothing
    return {y, Lanes<T>::fma(y, c.smoothing_keep, c.smoothing_shift)};
}

// element_math.h's weighted(), with element_terms' ignore_index and label-smoothing chain rule, and the
// weight-gradient terms the row asks for (the scalar reference's, from the loss and pos_weight_slope). An ignored
// element gets weight 0; where that meets an infinite term the outputs are NaN, and the reference (which writes exact
// zeros) takes the vector over.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> weighted(const RowArgs<T>& a, int64_t i, const Access& io,
                                                      const RowConstants<T>& c, const Targets<T>& y, V<T> loss,
                                                      V<T> grad_input, V<T> grad_target, V<T> pos_weight_slope) {
    using L = Lanes<T>;
    const auto ignored = L::equal(y.given, c.ignored_target);
    const V<T> given_weight = Vt::kWeightPerElement ? io.load(a.weight + i) : c.weight;
    const V<T> w = Vt::kPlainTargets ? given_weight : L::select(ignored, L::splat(T(0)), given_weight);
    grad_target = L::mul(grad_target, c.smoothing_keep);
    const V<T> g = upstream_per_element<Vt>(c) ? io.load(a.grad_output + i) : c.upstream;
    const V<T> scale = L::mul(g, w);
    VectorTerms<T> t = {L::mul(w, loss), L::mul(scale, grad_input), L::mul(scale, grad_target), loss, loss};
    // The terms take the per-element upstream gradient only: grad_scale is applied to their sums.
    const V<T> term_upstream = upstream_per_element<Vt>(c) ? g : L::splat(T(1));
    if (stores_weight_terms<Vt>(c)) {
        t.weight_term = Vt::kPlainTargets ? loss : L::select(ignored, L::splat(T(0)), L::mul(term_upstream, loss));
    }
    if (stores_pos_weight_terms<Vt>(c)) {
        t.pos_weight_term =
            Vt::kPlainTargets ? L::mul(w, pos_weight_slope) : L::mul(term_upstream, L::mul(w, pos_weight_slope));
    }
    return t;
}

// `probe` plus 0 times each output the row stores: NaN in a lane from the first vector holding an infinite or NaN
// output in that lane on (v * 0 is NaN exactly for such a v; a NaN input always makes the loss NaN), else 0.
template <typename Vt, typename T>
[[gnu::always_inline]] inline V<T> probed(const VectorTerms<T>& t, const RowConstants<T>& c, V<T> probe) {
    using L = Lanes<T>;
    const V<T> zero = L::splat(T(0));
    probe = L::fma(t.loss, zero, probe);
    if (stores_grad_input<Vt>(c)) probe = L::fma(t.grad_input, zero, probe);
    if (stores_grad_target<Vt>(c)) probe = L::fma(t.grad_target, zero, probe);
    if (stores_weight_terms<Vt>(c)) probe = L::fma(t.weight_term, zero, probe);
    if (stores_pos_weight_terms<Vt>(c)) probe = L::fma(t.pos_weight_term, zero, probe);
    return probe;
}

// True when every output the row stores is finite.
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool all_finite(const VectorTerms<T>& t, const RowConstants<T>& c) {
    return !Lanes<T>::any(Lanes<T>::unordered(probed<Vt>(t, c, Lanes<T>::splat(T(0)))));
}

// Whether a chunk's outputs may be stored before they are checked (finish_chunk_checked_after): when redoing the
// chunk vector by vector rewrites the same outputs (the outputs never overlap the inputs), i.e. no term is added
// to periodic partial sums, and no invalid target has to stop the row where it is.
template <typename Vt, typename T>
[[gnu::always_inline]] inline bool checks_per_chunk(const RowArgs<T>& a, const RowConstants<T>& c) {
    if (Vt::kLean == Lean::kGradInput || Vt::kLean == Lean::kLoss) return true;
    return !c.validate_targets && (!stores_weight_terms<Vt>(c) || a.weight_terms.period == 0) &&
           (!stores_pos_weight_terms<Vt>(c) || a.pos_weight_terms.period == 0);
}

// element_math.h's logits_terms on one vector at element i, from those parts, before weighted(); with the parts
// focal_terms_vector reuses. Without gradients (c.wants_gradients false) sigmoid_of_magnitude is not computed and the
// gradients are meaningless.
template <typename T>
struct LogitsTerms {
    Targets<T> targets;
    V<T> one_minus_y, sigmoid_of_minus_magnitude, sigmoid_x, sigmoid_minus_x;
    typename Lanes<T>::M negative;
    V<T> loss, grad_input, grad_target, pos_weight_slope;
};

template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline LogitsTerms<T> logits_terms_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                                 const RowConstants<T>& c, V<T> e, V<T> log_term,
                                                                 V<T> sigmoid_of_magnitude) {
    using L = Lanes<T>;
    const V<T> one = L::splat(T(1));
    const V<T> x = io.load(a.input + i);
    LogitsTerms<T> t;
    t.targets = load_targets<Vt>(a, i, io, c);
    const V<T> y = t.targets.smoothed;
    const V<T> magnitude = L::abs(x);
    const auto negative = L::less(x, L::splat(T(0)));
    t.negative = negative;
    const V<T> one_minus_y = L::sub(one, y);
    t.one_minus_y = one_minus_y;
    const V<T> sigmoid_of_minus_magnitude = L::mul(e, sigmoid_of_magnitude);
    t.sigmoid_of_minus_magnitude = sigmoid_of_minus_magnitude;
    const V<T> sigmoid_x = L::select(negative, sigmoid_of_minus_magnitude, sigmoid_of_magnitude);
    const V<T> sigmoid_minus_x = L::select(negative, sigmoid_of_magnitude, sigmoid_of_minus_magnitude);
    t.sigmoid_x = sigmoid_x;
    t.sigmoid_minus_x = sigmoid_minus_x;

    V<T> loss, grad_input, grad_target;
    // logits_terms' pos_weight_slope, y * ((x < 0 ? |x| : 0) + L), when the row asks for it (paddle mode: y * l0).
    const auto slope = [&] {
        return stores_pos_weight_terms<Vt>(c)
                   ? L::mul(y, L::add(L::select(negative, magnitude, L::splat(T(0))), log_term))
                   : L::splat(T(0));
    };
    V<T> pos_weight_slope;
    if constexpr (Vt::kPosWeight == PosWeight::kNone) {
        // p = 1: c = 1, and d/dy = -x exactly (0 - x: +0 at x = +-0, as in the reference).
        loss = L::fma(L::select(negative, y, one_minus_y), magnitude, log_term);
        grad_input = L::fnma(y, sigmoid_minus_x, L::mul(sigmoid_x, one_minus_y));
        grad_target = L::sub(L::splat(T(0)), x);
        // Without a pos_weight the loss is paddle mode's plain loss too, and so is its slope's factor.
        pos_weight_slope = a.params.paddle_legacy ? L::mul(y, loss) : slope();
    } else if constexpr (Vt::kPaddleLegacy) {
        // logits_terms_paddle_legacy: c times the plain loss l0 and its d/dx; d/dy = (p-1)*l0 + (x >= 0 ? -c : c)*|x|.
        const V<T> p = Vt::kPosWeight == PosWeight::kPerElement ? io.load(a.pos_weight + i) : c.pos_weight;
        const V<T> p_minus_one = L::sub(p, one);
        const V<T> coefficient = L::fma(p_minus_one, y, one);
        const V<T> plain = L::fma(L::select(negative, y, one_minus_y), magnitude, log_term);
        loss = L::mul(coefficient, plain);
        grad_input = L::mul(coefficient, L::fnma(y, sigmoid_minus_x, L::mul(sigmoid_x, one_minus_y)));
        grad_target =
            L::fma(p_minus_one, plain, L::mul(L::select(negative, coefficient, L::negate(coefficient)), magnitude));
        pos_weight_slope = L::mul(y, plain);
    } else {
        const V<T> p = Vt::kPosWeight == PosWeight::kPerElement ? io.load(a.pos_weight + i) : c.pos_weight;
        const V<T> p_minus_one = L::sub(p, one);
        const V<T> p_y = L::mul(p, y);
        const V<T> coefficient = L::fma(p_minus_one, y, one);
        loss = L::fma(coefficient, log_term, L::mul(L::select(negative, p_y, one_minus_y), magnitude));
        grad_input = L::fnma(p_y, sigmoid_minus_x, L::mul(sigmoid_x, one_minus_y));
        grad_target = L::fma(p_minus_one, log_term, L::mul(L::select(negative, p, L::splat(T(-1))), magnitude));
        pos_weight_slope = slope();
    }
    t.loss = loss;
    t.grad_input = grad_input;
    t.grad_target = grad_target;
    t.pos_weight_slope = pos_weight_slope;
    return t;
}

// The rest of element_math.h's logits_terms on one vector at element i, from those parts; weighted.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> logits_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                           const RowConstants<T>& c, V<T> e, V<T> log_term,
                                                           V<T> sigmoid_of_magnitude) {
    const LogitsTerms<T> t = logits_terms_vector<Vt>(a, i, io, c, e, log_term, sigmoid_of_magnitude);
    return weighted<Vt>(a, i, io, c, t.targets, t.loss, t.grad_input, t.grad_target, t.pos_weight_slope);
}

// The whole of logits_terms on one vector, in registers.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> logits_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                           const RowConstants<T>& c) {
    const V<T> e = exp_of_minus_magnitude<T>(io.load(a.input + i));
    const V<T> sigmoid = wants_gradients<Vt>(c) ? sigmoid_of_magnitude<T>(e) : Lanes<T>::splat(T(1));
    return logits_vector<Vt>(a, i, io, c, e, log1p_unit<T>(e), sigmoid);
}

// element_math.h's probability_terms on one vector at element i, weighted.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> probabilities_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                                  const RowConstants<T>& c) {
    using L = Lanes<T>;
    const V<T> one = L::splat(T(1));
    const V<T> clamp = L::splat(T(-100));
    const V<T> x = io.load(a.input + i);
    const Targets<T> targets = load_targets<Vt>(a, i, io, c);
    const V<T> y = targets.smoothed;
    // PyTorch's clamp of the logs at -100 (element_math.h).
    const V<T> log_x = L::max(clamp, log_unit<T>(x));
    // log1p(-x) = log(1 - x) plus the rounding error of 1 - x (exact, as x <= 1) over 1 - x; that error is 0
    // whenever 1 - x < 0.5, so dividing by max(1 - x, 0.5) avoids 0/0 at x = 1.
    const V<T> one_minus_x = L::sub(one, x);
    const V<T> rounding_error = L::sub(L::sub(one, one_minus_x), x);
    const V<T> log_one_minus_x =
        L::max(clamp, L::add(log_unit<T>(one_minus_x), L::div(rounding_error, L::max(L::splat(T(0.5)), one_minus_x))));
    const V<T> loss = L::negate(L::fma(y, log_x, L::mul(L::sub(one, y), log_one_minus_x)));
    V<T> grad_input = one;
    if (stores_grad_input<Vt>(c)) {
        const V<T> variance = L::max(L::splat(math::kProbabilityGradEpsilon<T>), L::mul(x, one_minus_x));
        grad_input = L::div(L::sub(x, y), variance);
    }
    // BCELoss has no pos_weight: its slope is 0.
    return weighted<Vt>(a, i, io, c, targets, loss, grad_input, L::sub(log_one_minus_x, log_x), L::splat(T(0)));
}

// Where the vector at element i puts its terms in a row's periodic term sinks (TermSink::period != 0): the column of
// each sink. A loop steps it from vector to vector (step_columns) instead of taking `(column + i) % period` for every
// vector: two 64-bit divisions per vector, about a tenth of a call with a [16] or [1000] weight's and pos_weight's
// gradients (avx512).
struct SinkColumns {
    int64_t weight, pos_weight;
    bool periodic;  // some sink is periodic: the columns are read
    template <typename T>
    SinkColumns(const RowArgs<T>& a, int64_t i)
        : weight(column_at(a.weight_terms, i)),
          pos_weight(column_at(a.pos_weight_terms, i)),
          periodic(a.weight_terms.period != 0 || a.pos_weight_terms.period != 0) {}

private:
    static int64_t column_at(const TermSink& s, int64_t i) { return s.period == 0 ? 0 : (s.column + i) % s.period; }
};

// A period is at least one vector long (TermSink), so one subtraction wraps a column.
template <typename T>
[[gnu::always_inline]] inline int64_t stepped(const TermSink& s, int64_t column) {
    column += Lanes<T>::kCount;
    return column >= s.period ? column - s.period : column;
}

// The columns on to the next vector's, in a row with a periodic sink: both without a branch each (faster on avx2
// than testing them one by one), and nothing in other rows (the calls without weight-gradient outputs paid 1-3%).
template <typename Vt, typename T>
[[gnu::always_inline]] inline void step_columns(SinkColumns& columns, const RowArgs<T>& a, const RowConstants<T>& c) {
    if ((!stores_weight_terms<Vt>(c) && !stores_pos_weight_terms<Vt>(c)) || !columns.periodic) return;
    columns.weight = stepped<T>(a.weight_terms, columns.weight);
    columns.pos_weight = stepped<T>(a.pos_weight_terms, columns.pos_weight);
}

template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline void store(const RowArgs<T>& a, int64_t i, const Access& io, const RowConstants<T>& c,
                                         const VectorTerms<T>& t, const SinkColumns& columns) {
    if (stores_loss<Vt>(c)) io.store(a.loss + i, t.loss);
    if (stores_loss_terms<Vt>(c)) io.store(a.loss_terms + i, t.loss);
    if (stores_grad_input<Vt>(c)) io.store(a.grad_input + i, t.grad_input);
    if (stores_grad_target<Vt>(c)) io.store(a.grad_target + i, t.grad_target);
    if (stores_weight_terms<Vt>(c)) {
        if (a.weight_gradient) {
            io.store_scaled(a.weight_gradient + i, t.weight_term, a.gradient_scale);
        } else {
            io.put_terms(a.weight_terms, i, columns.weight, t.weight_term);
        }
    }
    if (stores_pos_weight_terms<Vt>(c)) {
        if (a.pos_weight_gradient) {
            io.store_scaled(a.pos_weight_gradient + i, t.pos_weight_term, a.gradient_scale);
        } else {
            io.put_terms(a.pos_weight_terms, i, columns.pos_weight, t.pos_weight_term);
        }
    }
}

// The first n lanes of v (n <= kCount) into a term sink at element i, whose column is `column` (SinkColumns), lane
// by lane, in lane order: for a vector whose partial sums wrap around the period, and for a row's last partial vector.
template <typename T>
[[gnu::noinline]] void put_terms_by_lane(const TermSink& s, int64_t i, int64_t column, int n, V<T> v) {
    alignas(64) T lanes[Lanes<T>::kCount];
    Lanes<T>::store(lanes, v);
    if (s.period == 0) {
        for (int k = 0; k < n; ++k) s.values[i + k] = lanes[k];
        return;
    }
    for (int k = 0; k < n; ++k) {
        s.values[column] += lanes[k];
        if (++column == s.period) column = 0;
    }
}

// The first n lanes of v times `scale`, in double, rounded once to T (RowArgs::weight_gradient), lane by lane.
template <typename T>
[[gnu::noinline]] void store_scaled_by_lane(T* p, int n, V<T> v, double scale) {
    alignas(64) T lanes[Lanes<T>::kCount];
    Lanes<T>::store(lanes, v);
    for (int k = 0; k < n; ++k) p[k] = static_cast<T>(scale * static_cast<double>(lanes[k]));
}

// How the vector functions read and write operands: whole vectors, or the first n lanes of a row's last partial
// vector (zeros read beyond n, nothing written there; the loss sum must then skip those lanes). put_terms hands
// weight-gradient terms to their sink, in double for every T: stored, or added to the periodic partial sums from
// the column SinkColumns gives; store_scaled writes them as an operand's gradient (RowArgs::weight_gradient).
template <typename T>
struct WholeVectors {
    V<T> load(const T* p) const { return Lanes<T>::load(p); }
    void store(T* p, V<T> v) const { Lanes<T>::store(p, v); }
    void put_terms(const TermSink& s, int64_t i, int64_t column, V<T> v) const {
        using L = Lanes<T>;
        if (s.period == 0) {
            if constexpr (std::is_same_v<T, double>) {
                L::store(s.values + i, v);
            } else {
                L::store_widened(s.values + i, v);
            }
            return;
        }
        if (column + L::kCount > s.period) return put_terms_by_lane<T>(s, i, column, L::kCount, v);
        double* sums = s.values + column;
        if constexpr (std::is_same_v<T, double>) {
            L::store(sums, L::add(L::load(sums), v));
        } else {
            L::add_widened(sums, v);
        }
    }
    void store_scaled(T* p, V<T> v, double scale) const {
        using L = Lanes<T>;
        if constexpr (std::is_same_v<T, double>) {
            L::store(p, L::mul(v, L::splat(scale)));
        } else {
            L::store_scaled(p, v, scale);
        }
    }
};

template <typename T>
struct FirstLanes {
    int n;
    V<T> load(const T* p) const { return Lanes<T>::load_prefix(p, n); }
    void store(T* p, V<T> v) const { Lanes<T>::store_prefix(p, n, v); }
    void put_terms(const TermSink& s, int64_t i, int64_t column, V<T> v) const {
        put_terms_by_lane<T>(s, i, column, n, v);
    }
    void store_scaled(T* p, V<T> v, double scale) const { store_scaled_by_lane<T>(p, n, v, scale); }
};

// The vectors of [begin, n) up to the first that vector_at(i, terms) rejects (outputs not all finite, an invalid
// probability): computed, stored and summed. Returns where it stopped. Free of calls, so that the sums and
// constants stay in registers.
template <typename Vt, typename T, typename VectorFunction>
[[gnu::always_inline]] inline int64_t finite_run(int64_t begin, int64_t n, const RowArgs<T>& a,
                                                 const RowConstants<T>& c, typename Lanes<T>::Sum& sums,
                                                 VectorFunction vector_at) {
    using L = Lanes<T>;
    typename L::Sum run_sums = L::zero_sum();
    SinkColumns columns(a, begin);
    int64_t i = begin;
    for (; i + L::kCount <= n; i += L::kCount, step_columns<Vt>(columns, a, c)) {
        VectorTerms<T> t;
        if (!vector_at(i, t)) break;
        store<Vt>(a, i, WholeVectors<T>{}, c, t, columns);
        if (!stores_loss_terms<Vt>(c)) L::add_to_sum(run_sums, t.loss);  // a partial sums the terms itself
    }
    L::add_sums(sums, run_sums);
    return i;
}

// Asks for the cache line holding p, which may lie past the end of its array (the address is not dereferenced).
template <typename T>
[[gnu::always_inline]] inline void prefetch(const T* p) {
    __builtin_prefetch(p);
}

// The last pass over a chunk [i, i + count) of whole vectors: vector_at(k) gives the terms of the vector at
// i + k, which are checked (all finite, a valid target), stored and summed. Returns the chunk offset of the first
// vector rejected, or count.
template <typename Vt, typename T, typename VectorAt>
[[gnu::always_inline]] inline int64_t finish_chunk(const RowArgs<T>& a, int64_t i, int64_t count,
                                                   const RowConstants<T>& c, typename Lanes<T>::Sum& run_sums,
                                                   VectorAt vector_at) {
    using L = Lanes<T>;
    const WholeVectors<T> io;
    SinkColumns columns(a, i);
    for (int64_t k = 0; k < count; k += L::kCount, step_columns<Vt>(columns, a, c)) {
        const VectorTerms<T> t = vector_at(k);
        if (!all_finite<Vt>(t, c) || invalid_target<Vt>(a, i + k, io, c)) return k;
        store<Vt>(a, i + k, io, c, t, columns);
        if (!stores_loss_terms<Vt>(c)) L::add_to_sum(run_sums, t.loss);  // a partial sums the terms itself
    }
    return count;
}

// finish_chunk's work with one check for the whole chunk at its end: the per-vector check's compare and mask test
// (2 of the plain training call's 50 vector operations) become one per chunk. Returns false, with the chunk's
// outputs stored but meaningless and run_sums changed, when some vector's outputs are not all finite: the caller then
// restores run_sums and redoes the chunk with finish_chunk, which rewrites them.
template <typename Vt, typename T, typename VectorAt>
[[gnu::always_inline]] inline bool finish_chunk_checked_after(const RowArgs<T>& a, int64_t i, int64_t count,
                                                              const RowConstants<T>& c,
                                                              typename Lanes<T>::Sum& run_sums, VectorAt vector_at) {
    using L = Lanes<T>;
    const WholeVectors<T> io;
    V<T> probe = L::splat(T(0));
    SinkColumns columns(a, i);
    for (int64_t k = 0; k < count; k += L::kCount, step_columns<Vt>(columns, a, c)) {
        const VectorTerms<T> t = vector_at(k);
        probe = probed<Vt>(t, c, probe);
        store<Vt>(a, i + k, io, c, t, columns);
        if (!stores_loss_terms<Vt>(c)) L::add_to_sum(run_sums, t.loss);  // a partial sums the terms itself
    }
    return !L::any(L::unordered(probe));
}

// The vectors of [begin, n) up to the first whose outputs are not all finite, or that holds an invalid target
// (when the row validates them): computed, stored and summed; returns
// where it stopped. The work is cut into chunks of kChunk elements, each done in three passes through scratch
// arrays in L1: e = exp(-|x|); log1p(e) and sigmoid(|x|); the rest. One pass over all of it would be bound by
// latency: its dependency chain (two polynomials, two divisions) is so long that the out-of-order window holds
// only two or three vectors. Three short chains overlap far better, for a few extra L1 loads and stores.
template <typename Vt, typename T>
int64_t logits_finite_run(int64_t begin, int64_t n, const RowArgs<T>& a, const RowConstants<T>& c,
                          typename Lanes<T>::Sum& sums) {
    using L = Lanes<T>;
    constexpr int64_t kChunk = 2048 / sizeof(T);
    alignas(64) T exps[kChunk], log_terms[kChunk], sigmoids[kChunk];
    const WholeVectors<T> io;
    typename L::Sum run_sums = L::zero_sum();
    int64_t i = begin;
    while (i + L::kCount <= n) {
        const int64_t count = std::min(kChunk, (n - i) / L::kCount * L::kCount);
        for (int64_t k = 0; k < count; k += L::kCount) {
            L::store(exps + k, exp_of_minus_magnitude<T>(L::load(a.input + i + k)));
            // The next chunk's input and target into L1 while this one computes: the hardware prefetchers alone
            // leave a long row about 10% slower (1M float32 on Sapphire Rapids). A hint: past the end it does
            // nothing.
            prefetch(a.input + i + k + kChunk);
            prefetch(a.target + i + k + kChunk);
        }
        for (int64_t k = 0; k < count; k += L::kCount) {
            const V<T> e = L::load(exps + k);
            L::store(log_terms + k, log1p_unit<T>(e));
            if (wants_gradients<Vt>(c)) L::store(sigmoids + k, sigmoid_of_magnitude<T>(e));
        }
        const auto vector_at = [&](int64_t k) {
            const V<T> sigmoid = wants_gradients<Vt>(c) ? L::load(sigmoids + k) : L::splat(T(1));
            return logits_vector<Vt>(a, i + k, io, c, L::load(exps + k), L::load(log_terms + k), sigmoid);
        };
        int64_t done = count;
        const typename L::Sum chunk_start = run_sums;
        if (!checks_per_chunk<Vt>(a, c) || !finish_chunk_checked_after<Vt>(a, i, count, c, run_sums, vector_at)) {
            run_sums = chunk_start;
            done = finish_chunk<Vt>(a, i, count, c, run_sums, vector_at);
        }
        if (done < count) {
            L::add_sums(sums, run_sums);
            return i + done;
        }
        i += count;
    }
    L::add_sums(sums, run_sums);
    return i;
}

// The scalar reference on n elements, for the rows' fallbacks. Looked up here, when a fallback is taken, rather than
// at the top of every row: that call (a vzeroupper, spilled vectors) is a measurable part of a short row.
template <typename T>
[[gnu::noinline]] RowResult reference(int64_t n, const RowArgs<T>& a) {
    return kernel_of<T>(scalar_kernel_table())(n, a);
}

// The row's last n < kCount elements, [i, i + n), through the vector code with partial loads and stores; falls
// back to the reference when the outputs are not all finite. Returns their loss sum.
template <typename Vt, typename T, typename VectorFunction>
double partial_vector(const RowArgs<T>& a, int64_t i, int n, const RowConstants<T>& c, VectorFunction vector_at) {
    using L = Lanes<T>;
    const FirstLanes<T> io{n};
    const VectorTerms<T> t = vector_at(io);
    if (!all_finite<Vt>(t, c)) return reference(n, advanced(a, i)).loss_sum;
    store<Vt>(a, i, io, c, t, SinkColumns(a, i));
    typename L::Sum sum = L::zero_sum();
    L::add_to_sum(sum, L::keep_prefix(t.loss, n));
    return L::total(sum);
}

// ---- Sigmoid focal loss ------------------------------------------------------------------------------------------
// element_math.h's focal_terms on top of logits_terms_vector, in the same instantiations as the plain rows (the
// variant still fixes weight and pos_weight) behind one row-level branch (logits_row), so that the plain inner loops
// are unchanged. Everything focal adds is a row constant (FocalConstants): how (1-p_t)^gamma is raised, whether
// there is an alpha.
//
// The reference works in log space; here 1 - p_t = sigmoid(x)(1-y) + sigmoid(-x)y is taken apart as
// sigmoid(|x|) * ratio, ratio = (1-y) + e*y for x >= 0 and y + e*(1-y) for x < 0 (e = exp(-|x|)): a sum of two
// non-negative terms, without cancellation. Then
//   sigmoid(x)sigmoid(-x)/(1-p_t) = sigmoid(-|x|) / ratio,   bce/(1-p_t) = bce * (1+e) / ratio,
// and (1-p_t)^gamma is a product of 1-p_t with itself for gamma in 1..4, exp(gamma * (log ratio - log1p(e))) for
// any other gamma > 0. A ratio below twice the smallest normal (a hard label with |x| beyond about 87 in float32,
// 708 in float64) would carry a subnormal's rounding; so would an e that small, whose few bits the division by a
// normal ratio scales up (a nearly hard label: bce/(1-p_t) ~ e/y). Such a lane is made NaN, and the reference
// recomputes its vector, as it does for a target outside [0, 1] (NaN in the reference; kept from ignored elements).

enum class FocalPower { kZero, kOne, kTwo, kThree, kFour, kGeneral };

// The focal options of a row, in T.
template <typename T>
struct FocalConstants {
    FocalPower power;
    bool has_alpha;
    V<T> gamma, minus_gamma, alpha, one_minus_alpha, alpha_slope, smallest_ratio, not_a_number;
    explicit FocalConstants(const ElementParams& p)
        : power(p.focal_gamma == 0   ? FocalPower::kZero
                : p.focal_gamma == 1 ? FocalPower::kOne
                : p.focal_gamma == 2 ? FocalPower::kTwo
                : p.focal_gamma == 3 ? FocalPower::kThree
                : p.focal_gamma == 4 ? FocalPower::kFour
                                     : FocalPower::kGeneral),
          has_alpha(!(p.focal_alpha < 0)),
          gamma(Lanes<T>::splat(static_cast<T>(p.focal_gamma))),
          minus_gamma(Lanes<T>::splat(-static_cast<T>(p.focal_gamma))),
          alpha(Lanes<T>::splat(static_cast<T>(p.focal_alpha))),
          one_minus_alpha(Lanes<T>::splat(T(1) - static_cast<T>(p.focal_alpha))),
          alpha_slope(Lanes<T>::splat(T(2) * static_cast<T>(p.focal_alpha) - T(1))),  // d alpha_t / dy
          smallest_ratio(Lanes<T>::splat(T(2) * std::numeric_limits<T>::min())),
          not_a_number(Lanes<T>::splat(std::numeric_limits<T>::quiet_NaN())) {}
};

// True when focal loss changes a row's terms: gamma 0 without alpha is the plain loss (focal_terms multiplies by 1).
inline bool focal_changes_terms(const ElementParams& p) {
    return p.focal && (p.focal_gamma != 0 || !(p.focal_alpha < 0));
}

// (1 - p_t) / sigmoid(|x|), from e = exp(-|x|) and the targets: in [e, 1] for a target in [0, 1]. An ignored
// element's outputs are multiplied by weight 0: a ratio of 1 keeps its factor finite.
template <typename T>
[[gnu::always_inline]] inline V<T> focal_ratio(const RowConstants<T>& c, const Targets<T>& y, V<T> one_minus_y,
                                               typename Lanes<T>::M negative, V<T> e) {
    using L = Lanes<T>;
    const V<T> ratio =
        L::fma(e, L::select(negative, one_minus_y, y.smoothed), L::select(negative, y.smoothed, one_minus_y));
    return L::select(L::equal(y.given, c.ignored_target), L::splat(T(1)), ratio);
}

// log v for a normal v in (0, 1] (focal_ratio's values, see above). float: without log_unit's division, with which
// focal rows of a general gamma took 15-25% longer (avx512, n = 1M): v = 2^k (1 + f), f in [sqrt(1/2) - 1, sqrt(2) -
// 1), and log(1 + f) = f - f^2/2 + f^3 P(f) with Cephes' logf polynomial P (relative error about 1e-7); double:
// log_unit.
template <typename T>
[[gnu::always_inline]] inline V<T> log_of_normal(V<T> v) {
    if constexpr (std::is_same_v<T, float>) {
        using L = Lanes<float>;
        static constexpr float kLogTail[] = {3.3333331174e-1f,  -2.4999993993e-1f, 2.0000714765e-1f,
                                             -1.6668057665e-1f, 1.4249322787e-1f,  -1.2420140846e-1f,
                                             1.1676998740e-1f,  -1.1514610310e-1f, 7.0376836292e-2f};
        V<T> k;
        V<T> m = L::split_exponent(v, k);
        const auto above_sqrt2 = L::greater(m, L::splat(1.41421356f));
        m = L::select(above_sqrt2, L::mul(m, L::splat(0.5f)), m);
        k = L::select(above_sqrt2, L::add(k, L::splat(1.0f)), k);
        const V<T> f = L::sub(m, L::splat(1.0f));
        const V<T> f2 = L::mul(f, f);
        // f + (k ln2_low - f^2/2 + f^3 P(f)) + k ln2_high, the small terms first
        V<T> low =
            L::fma(L::mul(f, f2), polynomial<float>(f, kLogTail), L::mul(k, L::splat(Polynomials<float>::kLn2Low)));
        low = L::fnma(L::splat(0.5f), f2, low);
        return L::fma(k, L::splat(Polynomials<float>::kLn2High), L::add(f, low));
    } else {
        return log_unit<T>(v);
    }
}

// focal_terms applied to t (logits_terms_vector's), from the logit parts e = exp(-|x|) and sigmoid(|x|), and for
// FocalPower::kGeneral (1 - p_t)^gamma = exp(focal_exponent_at) (unused otherwise).
template <typename Vt, typename T>
[[gnu::always_inline]] inline void focal_terms_vector(LogitsTerms<T>& t, const RowConstants<T>& c,
                                                      const FocalConstants<T>& f, V<T> e, V<T> sigmoid_of_magnitude,
                                                      V<T> general_modulation) {
    using L = Lanes<T>;
    const V<T> one = L::splat(T(1));
    const V<T> y = t.targets.smoothed;
    V<T> alpha_t = one, alpha_slope = L::splat(T(0));
    if (f.has_alpha) {
        alpha_t = L::fma(f.alpha, y, L::mul(f.one_minus_alpha, t.one_minus_y));
        alpha_slope = L::mul(f.alpha_slope, t.loss);
    }
    if (f.power == FocalPower::kZero) {  // (1-p_t)^0 = 1; with an alpha (focal_changes_terms)
        t.grad_target = L::fma(alpha_t, t.grad_target, alpha_slope);
        t.grad_input = L::mul(alpha_t, t.grad_input);
        t.loss = L::mul(alpha_t, t.loss);
        t.pos_weight_slope = L::mul(alpha_t, t.pos_weight_slope);
        return;
    }
    const V<T> ratio = focal_ratio(c, t.targets, t.one_minus_y, t.negative, e);
    const auto ignored = L::equal(t.targets.given, c.ignored_target);
    const auto unusable = L::mask_or(outside_unit_interval<T>(y, ignored),  // see above
                                     L::mask_or(L::less(ratio, f.smallest_ratio), L::less(e, f.smallest_ratio)));
    V<T> modulation = general_modulation;
    if (f.power != FocalPower::kGeneral) {
        const V<T> one_minus_p_t = L::mul(sigmoid_of_magnitude, ratio);
        const V<T> square = L::mul(one_minus_p_t, one_minus_p_t);
        modulation = f.power == FocalPower::kOne     ? one_minus_p_t
                     : f.power == FocalPower::kTwo   ? square
                     : f.power == FocalPower::kThree ? L::mul(square, one_minus_p_t)
                                                     : L::mul(square, square);
    }
    modulation = L::select(unusable, f.not_a_number, modulation);
    const V<T> factor = f.has_alpha ? L::mul(alpha_t, modulation) : modulation;
    if (wants_gradients<Vt>(c)) {
        const V<T> over_ratio = L::reciprocal(ratio);
        // d/dx: factor * (dbce/dx + gamma * bce * (1-2y) * sigmoid(-|x|)/ratio)
        const V<T> sigmoid_product_over = L::mul(t.sigmoid_of_minus_magnitude, over_ratio);
        const V<T> gamma_loss = L::mul(f.gamma, t.loss);
        t.grad_input = L::mul(
            factor, L::fma(L::mul(gamma_loss, L::fnma(L::splat(T(2)), y, one)), sigmoid_product_over, t.grad_input));
        // d/dy: modulation * (alpha_slope + alpha_t * (dbce/dy + gamma * (sigmoid(-x)-sigmoid(x)) * bce/(1-p_t)))
        const V<T> bce_over = L::mul(L::mul(t.loss, L::add(one, e)), over_ratio);
        const V<T> inner = L::fma(L::mul(f.gamma, L::sub(t.sigmoid_minus_x, t.sigmoid_x)), bce_over, t.grad_target);
        t.grad_target = L::mul(modulation, f.has_alpha ? L::fma(alpha_t, inner, alpha_slope) : inner);
    }
    t.loss = L::mul(factor, t.loss);
    // The factor depends on neither weight nor pos_weight: it scales d/dp as it scales the loss (d/dw).
    t.pos_weight_slope = L::mul(factor, t.pos_weight_slope);
}

// logits_vector with focal loss, from the logit parts (general_modulation: see focal_terms_vector); weighted.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> focal_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                          const RowConstants<T>& c, const FocalConstants<T>& f, V<T> e,
                                                          V<T> log_term, V<T> sigmoid_of_magnitude,
                                                          V<T> general_modulation) {
    using L = Lanes<T>;
    LogitsTerms<T> t = logits_terms_vector<Vt>(a, i, io, c, e, log_term, sigmoid_of_magnitude);
    focal_terms_vector<Vt>(t, c, f, e, sigmoid_of_magnitude, general_modulation);
    VectorTerms<T> out = weighted<Vt>(a, i, io, c, t.targets, t.loss, t.grad_input, t.grad_target, t.pos_weight_slope);
    // The reference's ignored element has outputs +0; weight 0 alone leaves -0 after a negative term (its target,
    // -100 say, is outside [0, 1]) or upstream gradient.
    const auto ignored = L::equal(t.targets.given, c.ignored_target);
    out.loss = L::select(ignored, L::splat(T(0)), out.loss);
    out.grad_input = L::select(ignored, L::splat(T(0)), out.grad_input);
    out.grad_target = L::select(ignored, L::splat(T(0)), out.grad_target);
    return out;
}

// gamma * log(1 - p_t) = gamma * (log ratio - log1p(e)) <= 0 at element i (for FocalPower::kGeneral), from e and
// log_term; the rounding of a ratio of 1 cannot take it above. With ratio = first + e * second (focal_ratio's terms,
// second = 1 - first), a vector of hard labels (first * second = 0 in every lane) has log ratio = -|x| * second
// exactly and needs neither the ratio nor a log. An ignored lane there gets some exponent <= 0 (or NaN at an
// infinite x, which the reference then recomputes): its outputs are set to 0.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline V<T> focal_exponent_at(const RowArgs<T>& a, int64_t i, const Access& io,
                                                     const RowConstants<T>& c, const FocalConstants<T>& f, V<T> e,
                                                     V<T> log_term) {
    using L = Lanes<T>;
    const V<T> zero = L::splat(T(0));
    const Targets<T> targets = load_targets<Vt>(a, i, io, c);
    const V<T> x = io.load(a.input + i);
    const V<T> one_minus_y = L::sub(L::splat(T(1)), targets.smoothed);
    const auto negative = L::less(x, zero);
    const V<T> first = L::select(negative, targets.smoothed, one_minus_y);
    const V<T> second = L::sub(L::splat(T(1)), first);
    V<T> log_ratio = L::mul(L::negative_magnitude(x), second);
    if (L::any(L::greater(L::mul(first, second), zero))) {
        log_ratio = log_of_normal<T>(focal_ratio(c, targets, one_minus_y, negative, e));
    }
    // -gamma * max(0, log1p(e) - log ratio): max's operand order keeps NaN.
    return L::mul(f.minus_gamma, L::max(zero, L::sub(log_term, log_ratio)));
}

// The same, in registers.
template <typename Vt, typename T, typename Access>
[[gnu::always_inline]] inline VectorTerms<T> focal_vector(const RowArgs<T>& a, int64_t i, const Access& io,
                                                          const RowConstants<T>& c, const FocalConstants<T>& f) {
    const V<T> e = exp_of_minus_magnitude<T>(io.load(a.input + i));
    const V<T> log_term = log1p_unit<T>(e);
    const V<T> general_modulation = f.power == FocalPower::kGeneral
                                        ? exp_nonpositive<T>(focal_exponent_at<Vt>(a, i, io, c, f, e, log_term))
                                        : Lanes<T>::splat(T(1));
    return focal_vector<Vt>(a, i, io, c, f, e, log_term, sigmoid_of_magnitude<T>(e), general_modulation);
}

// logits_finite_run for focal rows: its passes, the sigmoid always (the loss needs it), and for FocalPower::kGeneral
// the exponent with them and its exponential in a pass of its own (in one pass with the rest, the chain of log,
// exp and the rest is too long for the out-of-order window: measured 1.2x the time without gradients, 2.9x with).
template <typename Vt, typename T>
int64_t focal_finite_run(int64_t begin, int64_t n, const RowArgs<T>& a, const RowConstants<T>& c,
                         const FocalConstants<T>& f, typename Lanes<T>::Sum& sums) {
    using L = Lanes<T>;
    constexpr int64_t kChunk = 2048 / sizeof(T);
    alignas(64) T exps[kChunk], log_terms[kChunk], sigmoids[kChunk], modulations[kChunk];
    const bool general = f.power == FocalPower::kGeneral;
    const WholeVectors<T> io;
    typename L::Sum run_sums = L::zero_sum();
    int64_t i = begin;
    while (i + L::kCount <= n) {
        const int64_t count = std::min(kChunk, (n - i) / L::kCount * L::kCount);
        for (int64_t k = 0; k < count; k += L::kCount) {
            L::store(exps + k, exp_of_minus_magnitude<T>(L::load(a.input + i + k)));
        }
        for (int64_t k = 0; k < count; k += L::kCount) {
            const V<T> e = L::load(exps + k);
            const V<T> log_term = log1p_unit<T>(e);
            L::store(log_terms + k, log_term);
            L::store(sigmoids + k, sigmoid_of_magnitude<T>(e));
            if (general) L::store(modulations + k, focal_exponent_at<Vt>(a, i + k, io, c, f, e, log_term));
        }
        if (general) {
            for (int64_t k = 0; k < count; k += L::kCount) {
                L::store(modulations + k, exp_nonpositive<T>(L::load(modulations + k)));
            }
        }
        const int64_t done = finish_chunk<Vt>(a, i, count, c, run_sums, [&](int64_t k) {
            const V<T> modulation = general ? L::load(modulations + k) : L::splat(T(1));
            return focal_vector<Vt>(a, i + k, io, c, f, L::load(exps + k), L::load(log_terms + k),
                                    L::load(sigmoids + k), modulation);
        });
        if (done < count) {
            L::add_sums(sums, run_sums);
            return i + done;
        }
        i += count;
    }
    L::add_sums(sums, run_sums);
    return i;
}

// logits_row for a row whose terms focal loss changes (focal_changes_terms).
template <typename T, typename Vt>
RowResult focal_logits_row(int64_t n, const RowArgs<T>& a) {
    using L = Lanes<T>;
    const RowConstants<T> constants(a);
    const FocalConstants<T> focal(a.params);
    typename L::Sum sums = L::zero_sum();
    double exact_sum = 0;
    const auto rest_by_reference = [&](int64_t from) {
        const RowResult r = reference(n - from, advanced(a, from));
        return RowResult{L::total(sums) + exact_sum + r.loss_sum, r.first_invalid < 0 ? -1 : from + r.first_invalid};
    };
    const WholeVectors<T> whole;
    int64_t i = 0;
    while (i + L::kCount <= n) {
        i = focal_finite_run<Vt>(i, n, a, constants, focal, sums);
        if (i + L::kCount > n) break;
        if (invalid_target<Vt>(a, i, whole, constants)) return rest_by_reference(i);
        exact_sum += reference(L::kCount, advanced(a, i)).loss_sum;
        i += L::kCount;
    }
    if (i < n) {
        if (invalid_target<Vt>(a, i, FirstLanes<T>{static_cast<int>(n - i)}, constants)) return rest_by_reference(i);
        exact_sum += partial_vector<Vt>(a, i, static_cast<int>(n - i), constants, [&](const FirstLanes<T>& io) {
            return focal_vector<Vt>(a, i, io, constants, focal);
        });
    }
    return {L::total(sums) + exact_sum, -1};
}

// `a` is read where it is, not copied: its caller has just written it, and a copy (which GCC makes with 64-byte
// loads) cannot be forwarded from those narrower stores, so it would wait for them to retire, and with them for
// whatever the previous call still computes: a small call then loses its overlap with the next (about 30 ns of a
// one-element call on avx512). Stores through the T* outputs cannot change its pointers (another type), so those
// stay in registers as they would in a copy.
template <typename T, typename Vt>
RowResult logits_row(int64_t n, const RowArgs<T>& a) {
    using L = Lanes<T>;
    if (n <= 0) return {0.0, -1};  // its operand pointers may all point past the end
    if (focal_changes_terms(a.params)) return focal_logits_row<T, Vt>(n, a);
    const RowConstants<T> constants(a);
    typename L::Sum sums = L::zero_sum();
    double exact_sum = 0;  // of the vectors the reference recomputed, and of the tail
    // From an invalid target on, the reference finishes the row and stops at the first one.
    const auto rest_by_reference = [&](int64_t from) {
        const RowResult r = reference(n - from, advanced(a, from));
        return RowResult{L::total(sums) + exact_sum + r.loss_sum, r.first_invalid < 0 ? -1 : from + r.first_invalid};
    };
    int64_t i = 0;
    // A row of one whole vector is done faster in one pass in registers than in logits_finite_run's three; from
    // two vectors on, the three passes overlap better (float32, avx512, a prepared call of 64 elements: 60 ns in
    // the C driver where four vectors in registers took 73-107).
    constexpr int64_t kShortRow = L::kCount;
    const WholeVectors<T> whole;
    for (; n <= kShortRow && i + L::kCount <= n; i += L::kCount) {
        if (invalid_target<Vt>(a, i, whole, constants)) return rest_by_reference(i);
        const VectorTerms<T> t = logits_vector<Vt>(a, i, whole, constants);
        if (all_finite<Vt>(t, constants)) {
            store<Vt>(a, i, whole, constants, t, SinkColumns(a, i));
            L::add_to_sum(sums, t.loss);
        } else {
            exact_sum += reference(L::kCount, advanced(a, i)).loss_sum;
        }
    }
    while (i + L::kCount <= n) {
        i = logits_finite_run<Vt>(i, n, a, constants, sums);
        if (i + L::kCount > n) break;
        if (invalid_target<Vt>(a, i, whole, constants)) return rest_by_reference(i);
        exact_sum += reference(L::kCount, advanced(a, i)).loss_sum;
        i += L::kCount;
    }
    if (i < n) {
        if (invalid_target<Vt>(a, i, FirstLanes<T>{static_cast<int>(n - i)}, constants)) return rest_by_reference(i);
        exact_sum += partial_vector<Vt>(a, i, static_cast<int>(n - i), constants, [&](const FirstLanes<T>& io) {
            return logits_vector<Vt>(a, i, io, constants);
        });
    }
    return {L::total(sums) + exact_sum, -1};
}

template <typename T, typename Vt>
RowResult probabilities_row(int64_t n, const RowArgs<T>& a) {  // `a` not copied: see logits_row
    using L = Lanes<T>;
    if (n <= 0) return {0.0, -1};  // its operand pointers may all point past the end
    const RowConstants<T> constants(a);
    // An input or target outside [0, 1] (NaN is not), apart from ignored elements.
    const auto any_invalid = [&](int64_t at, const auto& io) {
        const V<T> y = io.load(a.target + at);
        const auto ignored = L::equal(y, constants.ignored_target);
        return L::any(
            L::mask_or(outside_unit_interval<T>(io.load(a.input + at), ignored), outside_unit_interval<T>(y, ignored)));
    };
    const WholeVectors<T> whole;
    typename L::Sum sums = L::zero_sum();
    double exact_sum = 0;
    int64_t i = 0;
    while (true) {
        i = finite_run<Vt>(i, n, a, constants, sums, [&](int64_t at, VectorTerms<T>& t) {
            if (any_invalid(at, whole)) return false;
            t = probabilities_vector<Vt>(a, at, whole, constants);
            return all_finite<Vt>(t, constants);
        });
        // A vector holding an invalid element: the reference finishes the row and stops at the first one.
        if (i + L::kCount > n || any_invalid(i, whole)) break;
        exact_sum += reference(L::kCount, advanced(a, i)).loss_sum;
        i += L::kCount;
    }
    if (i < n) {
        const int tail = n - i < L::kCount ? static_cast<int>(n - i) : 0;
        if (tail > 0 && !any_invalid(i, FirstLanes<T>{tail})) {
            exact_sum += partial_vector<Vt>(a, i, tail, constants, [&](const FirstLanes<T>& io) {
                return probabilities_vector<Vt>(a, i, io, constants);
            });
            return {L::total(sums) + exact_sum, -1};
        }
        const RowResult r = reference(n - i, advanced(a, i));
        return {L::total(sums) + exact_sum + r.loss_sum, r.first_invalid < 0 ? -1 : i + r.first_invalid};
    }
    return {L::total(sums) + exact_sum, -1};
}

// The variants, by name (variant_of picks one for a row). "[i]" marks an operand read per element; an operand without
// it is one value for the whole row (absent: 1).
template <typename T>
struct NamedKernel {
    const char* name;
    RowKernel<T> kernel;
};

template <typename T>
constexpr NamedKernel<T> kVariants[] = {
    {"logits", logits_row<T, Variant<false, PosWeight::kNone, false>>},
    {"logits weight[i]", logits_row<T, Variant<true, PosWeight::kNone, false>>},
    {"logits pos_weight", logits_row<T, Variant<false, PosWeight::kConstant, false>>},
    {"logits weight[i] pos_weight", logits_row<T, Variant<true, PosWeight::kConstant, false>>},
    {"logits pos_weight[i]", logits_row<T, Variant<false, PosWeight::kPerElement, false>>},
    {"logits weight[i] pos_weight[i]", logits_row<T, Variant<true, PosWeight::kPerElement, false>>},
    {"logits paddle_pos_weight", logits_row<T, Variant<false, PosWeight::kConstant, true>>},
    {"logits weight[i] paddle_pos_weight", logits_row<T, Variant<true, PosWeight::kConstant, true>>},
    {"logits paddle_pos_weight[i]", logits_row<T, Variant<false, PosWeight::kPerElement, true>>},
    {"logits weight[i] paddle_pos_weight[i]", logits_row<T, Variant<true, PosWeight::kPerElement, true>>},
    {"logits grad_input-only", logits_row<T, Variant<false, PosWeight::kNone, false, Lean::kGradInput>>},
    {"logits weight[i] grad_input-only", logits_row<T, Variant<true, PosWeight::kNone, false, Lean::kGradInput>>},
    {"logits loss-only", logits_row<T, Variant<false, PosWeight::kNone, false, Lean::kLoss>>},
    {"logits weight[i] loss-only", logits_row<T, Variant<true, PosWeight::kNone, false, Lean::kLoss>>},
    {"logits training", logits_row<T, Variant<false, PosWeight::kNone, false, Lean::kTraining>>},
    {"logits weight[i] training", logits_row<T, Variant<true, PosWeight::kNone, false, Lean::kTraining>>},
    {"logits pos_weight[i] training", logits_row<T, Variant<false, PosWeight::kPerElement, false, Lean::kTraining>>},
    {"logits weight[i] pos_weight[i] training",
     logits_row<T, Variant<true, PosWeight::kPerElement, false, Lean::kTraining>>},
    {"probabilities", probabilities_row<T, Variant<false, PosWeight::kNone, false>>},
    {"probabilities weight[i]", probabilities_row<T, Variant<true, PosWeight::kNone, false>>},
};
constexpr int kGradInputOnlyVariants = 10;  // index of "logits grad_input-only"
constexpr int kLossOnlyVariants = 12;
constexpr int kTrainingVariants = 14;  // then weight[i], pos_weight[i], both
constexpr int kProbabilitiesVariants = 18;
constexpr int kVariantCount = sizeof(kVariants<float>) / sizeof(kVariants<float>[0]);

// The variant a row runs.
template <typename T>
int variant_of(const RowArgs<T>& a) {
    const int weight_per_element = a.weight != nullptr && a.weight_stride == 1;
    if (a.params.probabilities) return kProbabilitiesVariants + weight_per_element;
    const int pos_weight_state = a.pos_weight == nullptr ? 0 : a.pos_weight_stride == 0 ? 1 : 2;
    const ElementParams& p = a.params;
    const bool plain_targets = !p.validate_targets && p.ignored_target != p.ignored_target &&  // NaN: none ignored
                               p.smoothing_keep == 1 && p.smoothing_shift == 0;
    const int paddle = pos_weight_state > 0 && a.params.paddle_legacy ? 2 : 0;
    if (plain_targets && paddle == 0 && !a.grad_target && !a.grad_output && !a.loss_terms) {
        const bool terms =
            a.weight_terms.values || a.pos_weight_terms.values || a.weight_gradient || a.pos_weight_gradient;
        if (pos_weight_state == 0 && !terms && !a.grad_input) return kLossOnlyVariants + weight_per_element;
        if (pos_weight_state == 0 && !terms && !a.loss) return kGradInputOnlyVariants + weight_per_element;
        if (a.grad_input && !a.loss && pos_weight_state != 1) {  // with terms, or a pos_weight[i]
            return kTrainingVariants + weight_per_element + (pos_weight_state == 2 ? 2 : 0);
        }
    }
    return 2 * (pos_weight_state + paddle) + weight_per_element;
}

template <typename T>
RowResult row_kernel(int64_t n, const RowArgs<T>& a) {
    return kVariants<T>[variant_of(a)].kernel(n, a);
}

// The name of variant `index` (the same for every dtype).
const char* variant_name(int index) { return kVariants<float>[index].name; }

}  // namespace
}  // namespace bce4j::BCE4J_SIMD_NAMESPACE

#include "converting_kernel.h"

namespace bce4j::BCE4J_SIMD_NAMESPACE {

// This ISA's kernel table, named `isa`.
inline KernelTable simd_kernel_table(const char* isa) {
    return {isa,
            row_kernel<float>,
            row_kernel<double>,
            converting_row<Float16, row_kernel<float>>,
            converting_row<BFloat16, row_kernel<float>>,
            {widen_row, narrow_row, widen_row, narrow_row},
            {variant_name, kVariantCount}};
}

}  // namespace bce4j::BCE4J_SIMD_NAMESPACE
