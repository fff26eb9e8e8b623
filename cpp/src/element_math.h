// Per-element formulas of the binary cross-entropy losses, and their composition into one element under a call's
// options (element_terms, at the end): the one source of truth for the math. Every pass (scalar reference, SIMD,
// CUDA, weight gradients) calls or mirrors these functions; the tests compare them against
// independent float64 computations. Written in plain C++ on a compute type R (double in the reference kernel,
// the storage type in the CUDA kernels); under nvcc every function is also device code (BCE4J_HOST_DEVICE), which
// needs --expt-relaxed-constexpr for std::numeric_limits.
#pragma once

#include <cmath>
#include <limits>

#if defined(__CUDACC__)
#define BCE4J_HOST_DEVICE __host__ __device__
#else
#define BCE4J_HOST_DEVICE
#endif

namespace bce4j {

// The per-element options of one call: built once per call from the checked bce4j_options by element_params()
// (call_checks.cpp), carried unchanged by every pass, and read only by element_terms below and its vector form in
// kernels/simd_kernels.h. Values in double; a pass computing in float converts them where it reads them.
struct ElementParams {
    bool probabilities = false;  // BCELoss: the inputs are probabilities (checked to lie in [0, 1])
    bool paddle_legacy = false;  // logits: pos_weight scales the whole loss (BCE4J_POS_WEIGHT_PADDLE_LEGACY)
    // Targets equal to this get loss and gradients 0 and no range check; NaN (equal to nothing): none. Always a
    // value of the call's dtype.
    double ignored_target = std::numeric_limits<double>::quiet_NaN();
    double smoothing_keep = 1;  // label smoothing: the loss sees y * smoothing_keep + smoothing_shift
    double smoothing_shift = 0;
    bool validate_targets = false;  // logits: a target outside [0, 1] is an error (BCELoss: always)
    bool focal = false;             // logits: sigmoid focal loss
    double focal_gamma = 2;
    double focal_alpha = -1;  // < 0: no alpha
};

}  // namespace bce4j

namespace bce4j::math {

// coefficient * magnitude, taking 0 * inf as 0: every such product comes from a formula whose coefficient is
// exactly zero there (a target of 0 or 1, a weight of 0), so the true limit is 0; PyTorch returns NaN for e.g.
// x = +inf, y = 1. A NaN magnitude still propagates.
template <typename R>
BCE4J_HOST_DEVICE inline R scaled(R coefficient, R magnitude) {
    using std::isnan;
    return coefficient == R(0) && !isnan(magnitude) ? R(0) : coefficient * magnitude;
}

// One element's loss and partial derivatives, before the weight and the upstream gradient are applied.
template <typename R>
struct ElementTerms {
    R loss;              // also d loss / d weight: every loss here is linear in its weight
    R grad_input;        // d loss / d x
    R grad_target;       // d loss / d y
    R pos_weight_slope;  // d loss / d pos_weight (0 for BCELoss)
};

// The functions of a logit x that both logits losses use, each computed without overflow or cancellation.
template <typename R>
struct LogitParts {
    R magnitude;        // |x|
    R log_term;         // L = log1p(exp(-|x|)) = softplus(-|x|)
    R sigmoid_x;        // sigmoid(x)
    R sigmoid_minus_x;  // sigmoid(-x)
    bool non_negative;  // x >= 0; NaN goes this way and propagates through log_term
};

template <typename R>
BCE4J_HOST_DEVICE inline LogitParts<R> logit_parts(R x) {
    using std::exp;
    using std::fabs;
    using std::log1p;
    LogitParts<R> f;
    f.magnitude = fabs(x);
    const R e = exp(-f.magnitude);  // in (0, 1]: never overflows
    f.log_term = log1p(e);
    const R sigmoid_of_magnitude = R(1) / (R(1) + e);
    const R sigmoid_of_minus_magnitude = e / (R(1) + e);
    f.non_negative = !(x < R(0));
    f.sigmoid_x = f.non_negative ? sigmoid_of_magnitude : sigmoid_of_minus_magnitude;
    f.sigmoid_minus_x = f.non_negative ? sigmoid_of_minus_magnitude : sigmoid_of_magnitude;
    return f;
}

// Loss and gradients on a logit x (its parts f) and target y with positive-class weight p (1 when absent).
//
// With L = log1p(exp(-|x|)) = softplus(-|x|) and c = 1 + (p-1)*y, the loss
//   (1-y)*x + c*softplus(-x)
// is rewritten so that no two terms of opposite sign cancel (softplus(-x) = -x + L for x < 0):
//   x >= 0:  (1-y)*x   + c*L
//   x <  0:  p*y*(-x)  + c*L
// The gradient (1+(p-1)y)*sigmoid(x) - p*y equals sigmoid(x)*(1-y) - p*y*sigmoid(-x), again without
// cancellation, and d/dy = -x + (p-1)*softplus(-x) becomes (x >= 0 ? -x : p*(-x)) + (p-1)*L. The loss is linear
// in p: d/dp = y*softplus(-x).
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> logits_terms(const LogitParts<R>& f, R y, R p) {
    const R c = R(1) + (p - R(1)) * y;
    ElementTerms<R> t;
    t.loss = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(p * y, f.magnitude)) + c * f.log_term;
    t.grad_input = f.sigmoid_x * (R(1) - y) - p * y * f.sigmoid_minus_x;
    t.grad_target = (f.non_negative ? -f.magnitude : scaled(p, f.magnitude)) + (p - R(1)) * f.log_term;
    t.pos_weight_slope = scaled(y, (f.non_negative ? R(0) : f.magnitude) + f.log_term);
    return t;
}

template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> logits_terms(R x, R y, R p) {
    return logits_terms(logit_parts(x), y, p);
}

// Paddle's logits loss up to 2.5, where pos_weight scaled the whole plain loss: with c = 1 + (p-1)*y and
//   l0 = (1-y)*x + softplus(-x)   (x >= 0: (1-y)*x + L;  x < 0: y*(-x) + L, again without cancellation)
// the loss is c*l0, d/dx = c*(sigmoid(x) - y) = c*(sigmoid(x)*(1-y) - y*sigmoid(-x)),
// d/dy = (p-1)*l0 + c*(-x) and d/dp = y*l0. Loss and d/dx equal logits_terms' for y = 0 or 1.
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> logits_terms_paddle_legacy(const LogitParts<R>& f, R y, R p) {
    const R c = R(1) + (p - R(1)) * y;
    const R plain = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(y, f.magnitude)) + f.log_term;
    ElementTerms<R> t;
    t.loss = scaled(c, plain);
    t.grad_input = c * (f.sigmoid_x * (R(1) - y) - y * f.sigmoid_minus_x);
    t.grad_target = scaled(p - R(1), plain) + (f.non_negative ? -scaled(c, f.magnitude) : scaled(c, f.magnitude));
    t.pos_weight_slope = scaled(y, plain);
    return t;
}

// log(exp(a) + exp(b)) without overflow; -inf terms drop out.
template <typename R>
BCE4J_HOST_DEVICE inline R log_add_exp(R a, R b) {
    using std::exp;
    using std::log1p;
    const R high = a > b ? a : b;
    const R low = a > b ? b : a;
    if (high == -std::numeric_limits<R>::infinity()) return high;
    return high + log1p(exp(low - high));
}

// Sigmoid focal loss (torchvision's sigmoid_focal_loss) on top of a BCE element `bce` (loss and gradients) at
// logit parts f, target y:  l = alpha_t * (1-p_t)^gamma * bce  with  1 - p_t = sigmoid(x)(1-y) + sigmoid(-x)y
// and alpha_t = alpha*y + (1-alpha)*(1-y) (1 when alpha < 0). Everything that can under- or overflow is taken
// in log space, so logits of +-1e4 and soft labels give finite values:
//   m = log(1-p_t) = logaddexp(log sigmoid(x) + log(1-y), log sigmoid(-x) + log y)
//   d/dx = alpha_t (1-p_t)^gamma (dbce/dx + gamma * bce * (1-2y) * sigmoid(x)sigmoid(-x)/(1-p_t))
//   d/dy = (1-p_t)^gamma ((2alpha-1) bce [alpha >= 0] + alpha_t (dbce/dy + gamma * (sigmoid(-x)-sigmoid(x)) *
//          bce/(1-p_t)))
// sigmoid(x)sigmoid(-x)/(1-p_t) is at most 1; bce/(1-p_t) is evaluated as exp(log bce - m). Where 1-p_t is 0 (an
// infinite logit on its own label) the loss and all gradients are 0 for gamma > 0. The factor alpha_t (1-p_t)^gamma
// depends on neither weight nor pos_weight, so it scales the loss (d/dw) and d/dp alike, a zero factor masking
// an infinite loss as a zero weight does.
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> focal_terms(const ElementTerms<R>& bce, const LogitParts<R>& f, R y, R gamma,
                                                     R alpha) {
    using std::exp;
    using std::log;
    const R log_sigmoid_x = -(f.non_negative ? R(0) : f.magnitude) - f.log_term;
    const R log_sigmoid_minus_x = -(f.non_negative ? f.magnitude : R(0)) - f.log_term;
    const R m = log_add_exp(log_sigmoid_x + log(R(1) - y), log_sigmoid_minus_x + log(y));
    const bool has_alpha = !(alpha < R(0));
    const R alpha_t = has_alpha ? alpha * y + (R(1) - alpha) * (R(1) - y) : R(1);
    const R alpha_slope = has_alpha ? (R(2) * alpha - R(1)) * bce.loss : R(0);  // d alpha_t/dy * bce
    ElementTerms<R> t;
    if (gamma == R(0)) {  // (1-p_t)^0 = 1 even where 1-p_t = 0
        t.loss = scaled(alpha_t, bce.loss);
        t.grad_input = alpha_t * bce.grad_input;
        t.grad_target = alpha_slope + alpha_t * bce.grad_target;
        t.pos_weight_slope = scaled(alpha_t, bce.pos_weight_slope);
        return t;
    }
    if (m == -std::numeric_limits<R>::infinity()) return {R(0), R(0), R(0), R(0)};
    const R modulation = exp(gamma * m);
    const R sigmoid_product_over = exp(log_sigmoid_x + log_sigmoid_minus_x - m);
    const R bce_over = exp(log(bce.loss) - m);
    const R factor = alpha_t * modulation;
    t.loss = scaled(factor, bce.loss);
    t.grad_input = factor * (bce.grad_input + gamma * bce.loss * (R(1) - R(2) * y) * sigmoid_product_over);
    t.grad_target =
        modulation * (alpha_slope + alpha_t * (bce.grad_target + gamma * (f.sigmoid_minus_x - f.sigmoid_x) * bce_over));
    t.pos_weight_slope = scaled(factor, bce.pos_weight_slope);
    return t;
}

// PyTorch clamps each log of BCELoss at -100 so that a probability of exactly 0 or 1 gives a finite loss.
template <typename R>
BCE4J_HOST_DEVICE inline R clamped_log(R v) {
    using std::log;
    const R l = log(v);
    return l < R(-100) ? R(-100) : l;
}

template <typename R>
BCE4J_HOST_DEVICE inline R clamped_log1m(R v) {
    using std::log1p;
    const R l = log1p(-v);
    return l < R(-100) ? R(-100) : l;
}

// libtorch's lower bound on x*(1-x) in the BCELoss gradient is the float literal 1e-12 for every dtype.
template <typename R>
inline constexpr R kProbabilityGradEpsilon = static_cast<R>(1e-12f);

// Loss and gradients on a probability x in [0, 1] and target y in [0, 1].
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> probability_terms(R x, R y) {
    const R log_x = clamped_log(x);
    const R log_1mx = clamped_log1m(x);
    const R variance = x * (R(1) - x);
    ElementTerms<R> t;
    t.loss = -(y * log_x + (R(1) - y) * log_1mx);
    t.grad_input = (x - y) / (variance < kProbabilityGradEpsilon<R> ? kProbabilityGradEpsilon<R> : variance);
    t.grad_target = log_1mx - log_x;
    t.pos_weight_slope = R(0);
    return t;
}

// True for a value outside [0, 1]; NaN is not out of range (it propagates instead).
template <typename R>
BCE4J_HOST_DEVICE inline bool outside_unit_interval(R v) {
    return v < R(0) || v > R(1);
}

// ---- One element, composed --------------------------------------------------------------------------------------
// Every pass (the scalar reference kernels, the CUDA pass, the weight-gradient pass; the SIMD kernels in vector form)
// computes an element as element_terms composes it: ignored target, range check, label smoothing, the loss's terms,
// focal loss, the smoothing's chain rule; then weighted() applies the weight and the upstream gradient.

enum class ElementState { kComputed, kIgnored, kInvalid };

template <typename R>
struct Element {
    ElementState state;
    ElementTerms<R> terms;  // before weight and upstream gradient; all 0 unless kComputed
};

// Element (x, y) with positive-class weight p (1 when absent) under the call's options. An ignored target gives
// zeros and is not range-checked; kInvalid: the input (BCELoss) or the target (when checked) is outside [0, 1].
template <typename R>
BCE4J_HOST_DEVICE inline Element<R> element_terms(const ElementParams& o, R x, R y, R p) {
    if (y == static_cast<R>(o.ignored_target)) return {ElementState::kIgnored, {R(0), R(0), R(0), R(0)}};
    const bool invalid = o.probabilities ? outside_unit_interval(x) || outside_unit_interval(y)
                                         : o.validate_targets && outside_unit_interval(y);
    if (invalid) return {ElementState::kInvalid, {R(0), R(0), R(0), R(0)}};
    const R keep = static_cast<R>(o.smoothing_keep);
    const R seen = y * keep + static_cast<R>(o.smoothing_shift);
    ElementTerms<R> t;
    if (o.probabilities) {
        t = probability_terms(x, seen);
    } else {
        const LogitParts<R> f = logit_parts(x);
        t = o.paddle_legacy ? logits_terms_paddle_legacy(f, seen, p) : logits_terms(f, seen, p);
        if (o.focal) t = focal_terms(t, f, seen, static_cast<R>(o.focal_gamma), static_cast<R>(o.focal_alpha));
    }
    t.grad_target *= keep;  // d seen / d y
    return {ElementState::kComputed, t};
}

// What an element stores: its loss times the weight w, its gradients times w and the upstream gradient g.
template <typename R>
struct ElementOutputs {
    R loss;
    R grad_input;
    R grad_target;
};

template <typename R>
BCE4J_HOST_DEVICE inline ElementOutputs<R> weighted(const ElementTerms<R>& t, R w, R g) {
    const R scale = g * w;
    return {scaled(w, t.loss), scaled(scale, t.grad_input), scaled(scale, t.grad_target)};  // w = 0 masks infinities
}

}  // namespace bce4j::math
