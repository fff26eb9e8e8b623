// Scalar reference kernels: straightforward loops over element_math.h, computing in double for every storage
// type (16-bit ones included: widened exactly, rounded once on the way out) so that they are as exact as the
// formulas allow.
#include "../element_math.h"
#include "row_kernel.h"

namespace bce4j {
namespace {

// Element i's term into its operand's gradient (scaled, rounded once) or sink (row_kernel.h).
template <typename T>
void put_term(T* gradient, double gradient_scale, const TermSink& s, int64_t i, double term) {
    if (gradient) {
        gradient[i] = from_double<T>(math::scaled(gradient_scale, term));
    } else if (s.period == 0) {
        s.values[i] = term;
    } else {
        s.values[(s.column + i) % s.period] += term;
    }
}

template <typename T>
double weight_at(const T* weight, int64_t stride, int64_t i) {
    return weight == nullptr ? 1.0 : to_double(weight[i * stride]);
}

// One row, element by element through element_terms. Logits rows check the targets only when asked to (the
// composition knows); BCELoss rows always check both operands.
template <typename T>
RowResult row(int64_t n, const RowArgs<T>& a) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) {
        const double p = weight_at(a.pos_weight, a.pos_weight_stride, i);
        const math::Element<double> e = math::element_terms(a.params, to_double(a.input[i]), to_double(a.target[i]), p);
        if (e.state == math::ElementState::kInvalid) return {sum, i};
        const double w = weight_at(a.weight, a.weight_stride, i);
        const double g = a.grad_output == nullptr ? a.grad_scale : to_double(a.grad_output[i]);
        // An ignored element stores exact zeros, whatever its other operands hold.
        const math::ElementOutputs<double> out = e.state == math::ElementState::kIgnored
                                                     ? math::ElementOutputs<double>{0, 0, 0}
                                                     : math::weighted(e.terms, w, g);
        if (a.loss) a.loss[i] = from_double<T>(out.loss);
        if (a.loss_terms) a.loss_terms[i] = static_cast<LossTerm<T>>(out.loss);
        if (a.grad_input) a.grad_input[i] = from_double<T>(out.grad_input);
        if (a.grad_target) a.grad_target[i] = from_double<T>(out.grad_target);
        if (a.weight_terms.values || a.pos_weight_terms.values || a.weight_gradient || a.pos_weight_gradient) {
            // d loss/d weight is the loss at weight 1, d loss/d pos_weight the slope weighted as the loss is; an
            // ignored element contributes exactly 0, whatever its weight and upstream gradient.
            const bool computed = e.state == math::ElementState::kComputed;
            const double g_term = a.grad_output == nullptr ? 1.0 : to_double(a.grad_output[i]);
            if (a.weight_terms.values || a.weight_gradient) {
                put_term(a.weight_gradient, a.gradient_scale, a.weight_terms, i,
                         computed ? math::scaled(g_term, e.terms.loss) : 0.0);
            }
            if (a.pos_weight_terms.values || a.pos_weight_gradient) {
                put_term(a.pos_weight_gradient, a.gradient_scale, a.pos_weight_terms, i,
                         computed ? math::scaled(g_term, math::scaled(w, e.terms.pos_weight_slope)) : 0.0);
            }
        }
        sum += out.loss;
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
        "scalar",      row<float>,
        row<double>,   row<Float16>,
        row<BFloat16>, {widen_row<Float16>, narrow_row<Float16>, widen_row<BFloat16>, narrow_row<BFloat16>},
        {nullptr, 0},
    };
    return table;
}

}  // namespace bce4j
