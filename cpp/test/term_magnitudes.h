// The magnitude of the terms that make up each output of one element: the tolerance scale of the tests that compare
// a kernel computing in float (SIMD lanes, the CUDA pass) with the scalar reference. Each output is a sum of
// products; its magnitude is the sum of the products' absolute values, so a result near 0 made of large terms may
// differ by a few epsilons of those terms, and one made of small terms (a 2e-9 loss at x = 20) only by epsilons of
// itself. A product with an exactly zero factor is 0 (the kernels' 0 * inf = 0), so an infinite weight, pos_weight
// or upstream gradient gives an infinite magnitude only where the output itself is infinite or NaN; the tests then
// compare exactly.
#pragma once

#include <algorithm>
#include <cmath>
#include <limits>

#include "element_math.h"

namespace bce4j_test {

struct Magnitudes {
    double loss, grad_input, grad_target;
    // Of the loss's derivative in pos_weight (the weight-gradient pass's term, before the upstream gradient): the
    // weight times y * ((x < 0 ? |x| : 0) + log1p(e^-|x|)), or y times the plain loss in paddle mode, times the
    // focal factor; 0 for BCELoss.
    double pos_weight_slope;
};

// a * b, 0 when either is 0.
inline double times(double a, double b) { return a == 0 || b == 0 ? 0 : a * b; }

// Element (x, y) with weight w, pos_weight p (1 when absent) and upstream gradient g under the options `o`, as
// element_terms and weighted() compose it.
inline Magnitudes term_magnitudes(const bce4j::ElementParams& o, double x, double y_given, double w, double p,
                                  double g) {
    using std::fabs;
    if (y_given == o.ignored_target) return {0, 0, 0, 0};  // exact zeros
    // Without smoothing the target is a stored value and 1 - y is exact or one rounding; with it, y*keep + shift
    // is rounded in the kernel's type, so 1 - y counts as its two terms.
    const bool smoothed = !(o.smoothing_keep == 1 && o.smoothing_shift == 0);
    const double y = y_given * o.smoothing_keep + o.smoothing_shift;
    const double ay = fabs(y);
    const double one_minus_y = smoothed ? 1 + ay : fabs(1 - y);
    double loss, grad_input, grad_target, pos_weight_slope = 0;
    if (o.probabilities) {
        const double log_x = fabs(std::max(std::log(x), -100.0));
        const double log_1mx = fabs(std::max(std::log1p(-x), -100.0));
        loss = times(ay, log_x) + times(one_minus_y, log_1mx);
        grad_input = (fabs(x) + ay) / std::max(x * (1 - x), 1e-12);
        grad_target = log_1mx + log_x;
    } else {
        const bce4j::math::LogitParts<double> parts = bce4j::math::logit_parts(x);
        // The parts made from e = exp(-|x|), L = log1p(e) and the smaller sigmoid e/(1+e), carry the exponential's
        // error, which grows with its argument (its reduction to [-ln2/2, ln2/2]): a relative (1 + |x|) on them.
        bce4j::math::LogitParts<double> f = parts;
        const double exp_error = 1 + parts.magnitude;
        f.log_term = times(f.log_term, exp_error);
        double& smaller_sigmoid = parts.non_negative ? f.sigmoid_minus_x : f.sigmoid_x;
        smaller_sigmoid = times(smaller_sigmoid, exp_error);
        const bool negative = !f.non_negative;
        const double ap = fabs(p);
        const double ap_minus_one = fabs(p - 1);
        const double c = 1 + times(ap_minus_one, ay);  // 1 + (p-1)*y
        if (!o.paddle_legacy) {
            pos_weight_slope = times(ay, (negative ? f.magnitude : 0) + f.log_term);
            loss = times(negative ? times(ap, ay) : one_minus_y, f.magnitude) + times(c, f.log_term);
            grad_input = times(f.sigmoid_x, one_minus_y) + times(times(ap, ay), f.sigmoid_minus_x);
            grad_target = times(negative ? ap : 1, f.magnitude) + times(ap_minus_one, f.log_term);
        } else {
            const double plain = times(negative ? ay : one_minus_y, f.magnitude) + f.log_term;
            pos_weight_slope = times(ay, plain);
            loss = times(c, plain);
            grad_input = times(c, times(f.sigmoid_x, one_minus_y) + times(ay, f.sigmoid_minus_x));
            grad_target = times(ap_minus_one, plain) + times(c, f.magnitude);
        }
        if (o.focal) {
            // The focal factor alpha_t * exp(gamma * m) is computed in log space: m's terms (the logs of the
            // sigmoids and of y, 1 - y) carry its error into the factor times gamma.
            const double log_sigmoid_x = (negative ? f.magnitude : 0) + f.log_term;
            const double log_sigmoid_minus_x = (negative ? 0 : f.magnitude) + f.log_term;
            const double log_terms = log_sigmoid_x + log_sigmoid_minus_x + (y > 0 ? fabs(std::log(y)) : 0) +
                                     (y < 1 ? fabs(std::log1p(-y)) : 0);
            const double m =
                bce4j::math::log_add_exp(-((negative ? parts.magnitude : 0) + parts.log_term) + std::log1p(-y),
                                         -((negative ? 0 : parts.magnitude) + parts.log_term) + std::log(y));
            const double gamma = o.focal_gamma;
            if (gamma > 0 && m == -std::numeric_limits<double>::infinity()) return {0, 0, 0, 0};  // exact zeros
            const bool has_alpha = !(o.focal_alpha < 0);
            const double alpha_t =
                has_alpha ? times(fabs(o.focal_alpha), ay) + times(fabs(1 - o.focal_alpha), one_minus_y) : 1;
            const double modulation = (gamma == 0 ? 1 : std::exp(gamma * m)) * (1 + gamma * log_terms);
            const double bce_loss = o.paddle_legacy ? bce4j::math::logits_terms_paddle_legacy(parts, y, p).loss
                                                    : bce4j::math::logits_terms(parts, y, p).loss;
            const double bce_over = gamma == 0 || bce_loss == 0
                                        ? 0
                                        : std::exp(std::log(bce_loss) - m) * (1 + log_terms + fabs(std::log(bce_loss)));
            grad_target = modulation * ((has_alpha ? fabs(2 * o.focal_alpha - 1) * loss : 0) +
                                        alpha_t * (grad_target + gamma * (f.sigmoid_x + f.sigmoid_minus_x) * bce_over));
            grad_input = times(alpha_t * modulation, grad_input + gamma * loss * (1 + 2 * ay) * (1 + log_terms));
            loss = times(alpha_t * modulation, loss);
            pos_weight_slope = times(alpha_t * modulation, pos_weight_slope);
        }
    }
    const double scale = times(fabs(g), fabs(w));
    return {times(fabs(w), loss), times(scale, grad_input), times(times(scale, grad_target), o.smoothing_keep),
            times(fabs(w), pos_weight_slope)};
}

}  // namespace bce4j_test
