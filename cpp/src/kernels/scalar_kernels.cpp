// Scalar reference kernels: straightforward loops over element_math.h, computing in double for every storage
// type (16-bit ones included: widened exactly, rounded once on the way out) so that they are as exact as the
// formulas allow.
#include "../element_math.h"
#include "row_kernel.h"

namespace bce4j {
namespace {

template <typename T>
double weight_at(const T* weight, int64_t stride, int64_t i) {
    return weight == nullptr ? 1.0 : to_double(weight[i * stride]);
}

template <typename T>
double upstream_at(const RowArgs<T>& a, int64_t i) {
    return a.grad_output == nullptr ? a.grad_scale : to_double(a.grad_output[i]);
}

// Applies element i's weight and upstream gradient, stores what is wanted and returns the weighted loss.
template <typename T>
double store_element(const RowArgs<T>& a, int64_t i, const math::ElementTerms<double>& t) {
    const double w = weight_at(a.weight, a.weight_stride, i);
    const double loss = math::scaled(w, t.loss);  // a weight of 0 masks the element, even at infinite logits
    if (a.loss) a.loss[i] = from_double<T>(loss);
    const double scale = upstream_at(a, i) * w;
    if (a.grad_input) a.grad_input[i] = from_double<T>(math::scaled(scale, t.grad_input));
    if (a.grad_target) a.grad_target[i] = from_double<T>(math::scaled(scale, t.grad_target));
    return loss;
}

// An ignored element: loss and gradients exactly 0, whatever its other operands hold.
template <typename T>
void store_ignored(const RowArgs<T>& a, int64_t i) {
    if (a.loss) a.loss[i] = from_double<T>(0);
    if (a.grad_input) a.grad_input[i] = from_double<T>(0);
    if (a.grad_target) a.grad_target[i] = from_double<T>(0);
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
    const double ignored = to_double(a.ignored_target);
    for (int64_t i = 0; i < n; ++i) {
        const double given = to_double(a.target[i]);
        if (given == ignored) {
            store_ignored(a, i);
            continue;
        }
        if (a.validate_targets && math::outside_unit_interval(given)) return {sum, i};
        const double p = weight_at(a.pos_weight, a.pos_weight_stride, i);
        const double x = to_double(a.input[i]);
        const double y = smoothed(a, given);
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
    const double ignored = to_double(a.ignored_target);
    for (int64_t i = 0; i < n; ++i) {
        const double y = to_double(a.target[i]);
        if (y == ignored) {
            store_ignored(a, i);
            continue;
        }
        const double x = to_double(a.input[i]);
        if (math::outside_unit_interval(x) || math::outside_unit_interval(y)) return {sum, i};
        sum += store_element(a, i, to_given_target(a, math::probability_terms(x, smoothed(a, y))));
    }
    return {sum, -1};
}

template <typename S>
void widen_row(const S* source, float* destination, int64_t n) {
    for (int64_t i = 0; i < n; ++i) destination[i] = widen(source[i]);
}

template <typename S>
void narrow_row(const float* source, S* destination, int64_t n) {
    for (int64_t i = 0; i < n; ++i) destination[i] = narrow<S>(source[i]);
}

}  // namespace

const KernelTable& scalar_kernel_table() {
    static const KernelTable table = {
        "scalar",
        logits_row<float>,
        logits_row<double>,
        probabilities_row<float>,
        probabilities_row<double>,
        logits_row<Float16>,
        logits_row<BFloat16>,
        probabilities_row<Float16>,
        probabilities_row<BFloat16>,
        {widen_row<Float16>, narrow_row<Float16>, widen_row<BFloat16>, narrow_row<BFloat16>},
    };
    return table;
}

}  // namespace bce4j
