// Scalar reference kernels: straightforward loops over element_math.h, computing in double for every storage
// type so that they are as exact as the formulas allow.
#include "../element_math.h"
#include "row_kernel.h"

namespace bce4j {
namespace {

template <typename T>
double weight_at(const T* weight, int64_t stride, int64_t i) {
    return weight == nullptr ? 1.0 : static_cast<double>(weight[i * stride]);
}

template <typename T>
double upstream_at(const RowArgs<T>& a, int64_t i) {
    return a.grad_output == nullptr ? a.grad_scale : static_cast<double>(a.grad_output[i]);
}

// Applies element i's weight and upstream gradient, stores what is wanted and returns the weighted loss.
template <typename T>
double store_element(const RowArgs<T>& a, int64_t i, const math::ElementTerms<double>& t) {
    const double w = weight_at(a.weight, a.weight_stride, i);
    const double loss = math::scaled(w, t.loss);  // a weight of 0 masks the element, even at infinite logits
    if (a.loss) a.loss[i] = static_cast<T>(loss);
    const double scale = upstream_at(a, i) * w;
    if (a.grad_input) a.grad_input[i] = static_cast<T>(math::scaled(scale, t.grad_input));
    if (a.grad_target) a.grad_target[i] = static_cast<T>(math::scaled(scale, t.grad_target));
    return loss;
}

// An ignored element: loss and gradients exactly 0, whatever its other operands hold.
template <typename T>
void store_ignored(const RowArgs<T>& a, int64_t i) {
    if (a.loss) a.loss[i] = T(0);
    if (a.grad_input) a.grad_input[i] = T(0);
    if (a.grad_target) a.grad_target[i] = T(0);
}

// The target the loss sees (label smoothing), and the chain rule back to the given target.
template <typename T>
double smoothed(const RowArgs<T>& a, double y) {
    return y * a.smoothing_keep + a.smoothing_shift;
}

template <typename T>
math::ElementTerms<double> to_given_target(const RowArgs<T>& a, math::ElementTerms<double> t) {
    t.grad_target *= a.smoothing_keep;
    return t;
}

template <typename T>
RowResult logits_row(int64_t n, const RowArgs<T>& a) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        if (a.target[i] == a.ignored_target) {
            store_ignored(a, i);
            continue;
        }
        if (a.validate_targets && math::outside_unit_interval(a.target[i])) return {sum, i};
        const double p = weight_at(a.pos_weight, a.pos_weight_stride, i);
        const double x = a.input[i];
        const double y = smoothed(a, a.target[i]);
        math::ElementTerms<double> t =
            a.paddle_legacy ? math::logits_terms_paddle_legacy(x, y, p) : math::logits_terms(x, y, p);
        if (a.focal) t = math::focal_terms(t, math::logit_parts(x), y, a.focal_gamma, a.focal_alpha);
        sum += store_element(a, i, to_given_target(a, t));
    }
    return {sum, -1};
}

template <typename T>
RowResult probabilities_row(int64_t n, const RowArgs<T>& a) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        if (a.target[i] == a.ignored_target) {
            store_ignored(a, i);
            continue;
        }
        const double x = a.input[i];
        const double y = a.target[i];
        if (math::outside_unit_interval(x) || math::outside_unit_interval(y)) return {sum, i};
        sum += store_element(a, i, to_given_target(a, math::probability_terms(x, smoothed(a, y))));
    }
    return {sum, -1};
}

}  // namespace

const KernelTable& scalar_kernel_table() {
    static const KernelTable table = {
        "scalar", logits_row<float>, logits_row<double>, probabilities_row<float>, probabilities_row<double>,
    };
    return table;
}

}  // namespace bce4j
