// Per-element formulas of the binary cross-entropy losses: the one source of truth for the math.
// Every kernel (scalar reference, SIMD, CUDA) must agree with these functions; the tests compare them against
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
    R loss;
    R grad_input;   // d loss / d x
    R grad_target;  // d loss / d y
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

// Loss and gradients on a logit x and target y with positive-class weight p (1 when absent).
//
// With L = log1p(exp(-|x|)) = softplus(-|x|) and c = 1 + (p-1)*y, the loss
//   (1-y)*x + c*softplus(-x)
// is rewritten so that no two terms of opposite sign cancel (softplus(-x) = -x + L for x < 0):
//   x >= 0:  (1-y)*x   + c*L
//   x <  0:  p*y*(-x)  + c*L
// The gradient (1+(p-1)y)*sigmoid(x) - p*y equals sigmoid(x)*(1-y) - p*y*sigmoid(-x), again without
// cancellation, and d/dy = -x + (p-1)*softplus(-x) becomes (x >= 0 ? -x : p*(-x)) + (p-1)*L.
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> logits_terms(R x, R y, R p) {
    const LogitParts<R> f = logit_parts(x);
    const R c = R(1) + (p - R(1)) * y;
    ElementTerms<R> t;
    t.loss = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(p * y, f.magnitude)) + c * f.log_term;
    t.grad_input = f.sigmoid_x * (R(1) - y) - p * y * f.sigmoid_minus_x;
    t.grad_target = (f.non_negative ? -f.magnitude : scaled(p, f.magnitude)) + (p - R(1)) * f.log_term;
    return t;
}

// Paddle's logits loss up to 2.5, where pos_weight scaled the whole plain loss: with c = 1 + (p-1)*y and
//   l0 = (1-y)*x + softplus(-x)   (x >= 0: (1-y)*x + L;  x < 0: y*(-x) + L, again without cancellation)
// the loss is c*l0, d/dx = c*(sigmoid(x) - y) = c*(sigmoid(x)*(1-y) - y*sigmoid(-x)), and
// d/dy = (p-1)*l0 + c*(-x). Loss and d/dx equal logits_terms' for y = 0 or 1.
template <typename R>
BCE4J_HOST_DEVICE inline ElementTerms<R> logits_terms_paddle_legacy(R x, R y, R p) {
    const LogitParts<R> f = logit_parts(x);
    const R c = R(1) + (p - R(1)) * y;
    const R plain = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(y, f.magnitude)) + f.log_term;
    ElementTerms<R> t;
    t.loss = scaled(c, plain);
    t.grad_input = c * (f.sigmoid_x * (R(1) - y) - y * f.sigmoid_minus_x);
    t.grad_target = scaled(p - R(1), plain) + (f.non_negative ? -scaled(c, f.magnitude) : scaled(c, f.magnitude));
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
// infinite logit on its own label) the loss and both gradients are 0 for gamma > 0.
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
    ElementTerms<R> t;
    if (gamma == R(0)) {  // (1-p_t)^0 = 1 even where 1-p_t = 0
        t.loss = alpha_t * bce.loss;
        t.grad_input = alpha_t * bce.grad_input;
        t.grad_target = (has_alpha ? (R(2) * alpha - R(1)) * bce.loss : R(0)) + alpha_t * bce.grad_target;
        return t;
    }
    if (m == -std::numeric_limits<R>::infinity()) return {R(0), R(0), R(0)};
    const R modulation = exp(gamma * m);
    const R sigmoid_product_over = exp(log_sigmoid_x + log_sigmoid_minus_x - m);
    const R bce_over = exp(log(bce.loss) - m);
    t.loss = alpha_t * modulation * bce.loss;
    t.grad_input = alpha_t * modulation *
                   (bce.grad_input + gamma * bce.loss * (R(1) - R(2) * y) * sigmoid_product_over);
    t.grad_target = modulation * ((has_alpha ? (R(2) * alpha - R(1)) * bce.loss : R(0)) +
                                  alpha_t * (bce.grad_target + gamma * (f.sigmoid_minus_x - f.sigmoid_x) * bce_over));
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
    return t;
}

// True for a value outside [0, 1]; NaN is not out of range (it propagates instead).
template <typename R>
BCE4J_HOST_DEVICE inline bool outside_unit_interval(R v) {
    return v < R(0) || v > R(1);
}

// Weight gradients. Every loss above is linear in its weight w, so d l/d w is the element's loss computed with
// w = 1 (never l/w: w may be 0). The positive-class weight p enters the logits losses linearly too:
//   torch mode:          d l/d p = w * y * softplus(-x)
//   paddle-legacy mode:  d l/d p = w * y * l0,  l0 = (1-y)*x + softplus(-x)
// with y the smoothed target. Both are written, as the losses are, without cancelling terms. Focal loss multiplies
// the loss and d l/d p by focal_factor, which depends on neither w nor p.

// The loss of logits_terms (torch) or logits_terms_paddle_legacy, same expressions, from parts already computed:
// the weight-gradient pass needs the parts for the slopes too, and exp/log1p dominate its cost.
template <typename R>
BCE4J_HOST_DEVICE inline R logits_loss(const LogitParts<R>& f, R y, R p, bool paddle_legacy) {
    const R c = R(1) + (p - R(1)) * y;
    if (paddle_legacy) {
        const R plain = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(y, f.magnitude)) + f.log_term;
        return scaled(c, plain);
    }
    return (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(p * y, f.magnitude)) + c * f.log_term;
}

template <typename R>
BCE4J_HOST_DEVICE inline R logits_pos_weight_slope(const LogitParts<R>& f, R y, bool paddle_legacy) {
    if (paddle_legacy) {
        const R plain = (f.non_negative ? scaled(R(1) - y, f.magnitude) : scaled(y, f.magnitude)) + f.log_term;
        return scaled(y, plain);
    }
    const R softplus_minus_x = (f.non_negative ? R(0) : f.magnitude) + f.log_term;
    return scaled(y, softplus_minus_x);
}

// alpha_t * (1-p_t)^gamma, the factor focal_terms puts on a BCE element's loss (same log-space evaluation).
template <typename R>
BCE4J_HOST_DEVICE inline R focal_factor(const LogitParts<R>& f, R y, R gamma, R alpha) {
    using std::exp;
    using std::log;
    const bool has_alpha = !(alpha < R(0));
    const R alpha_t = has_alpha ? alpha * y + (R(1) - alpha) * (R(1) - y) : R(1);
    if (gamma == R(0)) return alpha_t;
    const R log_sigmoid_x = -(f.non_negative ? R(0) : f.magnitude) - f.log_term;
    const R log_sigmoid_minus_x = -(f.non_negative ? f.magnitude : R(0)) - f.log_term;
    const R m = log_add_exp(log_sigmoid_x + log(R(1) - y), log_sigmoid_minus_x + log(y));
    return m == -std::numeric_limits<R>::infinity() ? R(0) : alpha_t * exp(gamma * m);
}

}  // namespace bce4j::math
