// Shared helpers for the bce4j tests: independent long double reference formulas, an index-by-index broadcast,
// a wrapper around the C API that owns every buffer, random data and tolerance checks.
//
// The references deliberately do NOT use element_math.h: they are written from the textbook definitions
//   BCEWithLogits: l = -w * (p*y*log(sigmoid(x)) + (1-y)*log(1-sigmoid(x)))
//                    = w * (p*y*softplus(-x) + (1-y)*softplus(x))
//   BCE:           l = -w * (y*max(log x, -100) + (1-y)*max(log(1-x), -100))
// and evaluated in long double.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "bce4j/bce4j.h"

namespace bce4j_test {

using LD = long double;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---------------------------------------------------------------------------------------------------------------
// Reference formulas (long double)
// ---------------------------------------------------------------------------------------------------------------

// log(1 + e^z), written as a sum of two non-negative terms so that it is accurate for every finite z.
inline LD ref_softplus(LD z) { return std::max(z, 0.0L) + std::log1p(std::exp(-std::fabs(z))); }

inline LD ref_sigmoid(LD z) { return 1.0L / (1.0L + std::exp(-z)); }

// Per-element values before weight and upstream gradient, plus the magnitude of the largest term of each value
// (so that a tolerance can be scaled to the problem's condition where two terms cancel, e.g. a gradient near 0).
struct RefTerms {
    LD loss, grad_input, grad_target;
    LD loss_scale, grad_input_scale, grad_target_scale;
};

// BCEWithLogits on logit x, target y, positive-class weight p, as
//   l     = p*y*softplus(-x) + (1-y)*softplus(x)           (= -p*y*log s(x) - (1-y)*log(1-s(x)))
//   dl/dx = (1-y)*s(x) - p*y*s(-x)
//   dl/dy = p*softplus(-x) - softplus(x)
// Unlike the algebraically equal (1-y)*x + (1+(p-1)y)*softplus(-x), this form does not cancel at x = -30, y = 0,
// so it stays accurate to ~1e-19 relative over the whole finite range. Infinite x is not handled here (0*inf).
inline RefTerms ref_logits(LD x, LD y, LD p) {
    const LD a = p * y * ref_softplus(-x);
    const LD b = (1 - y) * ref_softplus(x);
    const LD gi_pos = (1 - y) * ref_sigmoid(x);
    const LD gi_neg = p * y * ref_sigmoid(-x);
    const LD gt_pos = p * ref_softplus(-x);
    const LD gt_neg = ref_softplus(x);
    return {a + b,
            gi_pos - gi_neg,
            gt_pos - gt_neg,
            std::fabs(a) + std::fabs(b),
            std::fabs(gi_pos) + std::fabs(gi_neg),
            std::fabs(gt_pos) + std::fabs(gt_neg)};
}

// The brief's textbook form w*[(1-y)*x + (1+(p-1)*y)*(max(-x,0) + log1p(exp(-|x|)))], accurate for moderate x.
inline LD ref_logits_loss_textbook(LD x, LD y, LD p) {
    return (1 - y) * x + (1 + (p - 1) * y) * (std::max(-x, 0.0L) + std::log1p(std::exp(-std::fabs(x))));
}

// libtorch's lower bound on x*(1-x) in the BCELoss gradient: the float literal 1e-12f, widened.
constexpr LD kBceEps = static_cast<LD>(1e-12f);

// BCELoss on probability x and target y, logs clamped at -100.
inline RefTerms ref_bce(LD x, LD y) {
    const LD log_x = std::max(std::log(x), -100.0L);
    const LD log_1mx = std::max(std::log1p(-x), -100.0L);
    const LD a = -y * log_x;
    const LD b = -(1 - y) * log_1mx;
    const LD loss = a + b;
    const LD var = std::max(x * (1 - x), kBceEps);
    const LD gi = (x - y) / var;
    return {
        loss, gi, log_1mx - log_x, std::fabs(a) + std::fabs(b), std::fabs(gi), std::fabs(log_1mx) + std::fabs(log_x)};
}

// ---------------------------------------------------------------------------------------------------------------
// Shapes and broadcasting (index by index, the numpy rule)
// ---------------------------------------------------------------------------------------------------------------

inline int64_t numel(const std::vector<int64_t>& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

inline std::string shape_str(const std::vector<int64_t>& shape) {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
    s << "]";
    return s.str();
}

// The flat index into an operand of shape `op` that flat element `flat` of a tensor of shape `in` reads when `op`
// is broadcast right-aligned onto `in` (a size-1 operand dimension always reads index 0).
inline int64_t broadcast_source(const std::vector<int64_t>& in, const std::vector<int64_t>& op, int64_t flat) {
    std::vector<int64_t> index(in.size());
    for (size_t k = in.size(); k-- > 0;) {
        index[k] = flat % in[k];
        flat /= in[k];
    }
    const size_t offset = in.size() - op.size();
    int64_t source = 0;
    for (size_t j = 0; j < op.size(); ++j) {
        const int64_t i = op[j] == 1 ? 0 : index[offset + j];
        source = source * op[j] + i;
    }
    return source;
}

// ---------------------------------------------------------------------------------------------------------------
// Calling the library
// ---------------------------------------------------------------------------------------------------------------

enum class Loss { kLogits, kProbabilities };

template <typename T>
constexpr bce4j_dtype dtype_of() {
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>);
    return std::is_same_v<T, float> ? BCE4J_FLOAT32 : BCE4J_FLOAT64;
}

template <typename T>
struct Tensor {
    std::vector<int64_t> shape;
    std::vector<T> data;
};

// Everything one call needs. Vectors own the data; empty input/target vectors are passed as NULL.
template <typename T>
struct Call {
    Loss kind = Loss::kLogits;
    std::vector<int64_t> shape;
    std::vector<T> input, target;
    std::optional<Tensor<T>> weight, pos_weight;
    int32_t reduction = BCE4J_REDUCTION_MEAN;
    int32_t num_threads = 0;
    int32_t pos_weight_mode = BCE4J_POS_WEIGHT_TORCH;  // expected() assumes TORCH
    std::optional<std::vector<T>> grad_output;         // NONE: input-shaped; MEAN/SUM: one element; absent: NULL
    bool want_loss = true, want_grad_input = true, want_grad_target = true;
};

template <typename T>
struct Outcome {
    bce4j_status status = BCE4J_ERROR_INTERNAL;
    std::string message;
    std::vector<T> loss;  // input-sized for NONE, one element for MEAN/SUM
    double reduced = kNaN;
    std::vector<T> grad_input, grad_target;
};

template <typename T>
Outcome<T> run(const Call<T>& c) {
    const int64_t n = numel(c.shape);
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = c.reduction;
    o.num_threads = c.num_threads;
    o.pos_weight_mode = c.pos_weight_mode;
    if (c.weight) {
        o.weight = c.weight->data.data();
        o.weight_ndim = static_cast<int32_t>(c.weight->shape.size());
        o.weight_shape = c.weight->shape.data();
    }
    if (c.pos_weight) {
        o.pos_weight = c.pos_weight->data.data();
        o.pos_weight_ndim = static_cast<int32_t>(c.pos_weight->shape.size());
        o.pos_weight_shape = c.pos_weight->shape.data();
    }
    Outcome<T> r;
    const bool none = c.reduction == BCE4J_REDUCTION_NONE;
    const T sentinel = static_cast<T>(-12345.0);
    if (c.want_loss) r.loss.assign(none ? static_cast<size_t>(n) : 1u, sentinel);
    if (c.want_grad_input) r.grad_input.assign(static_cast<size_t>(n), sentinel);
    if (c.want_grad_target) r.grad_target.assign(static_cast<size_t>(n), sentinel);
    const int64_t* shape = c.shape.empty() ? nullptr : c.shape.data();
    const void* in = c.input.empty() ? nullptr : c.input.data();
    const void* tg = c.target.empty() ? nullptr : c.target.data();
    const void* go = c.grad_output ? c.grad_output->data() : nullptr;
    void* loss = c.want_loss ? r.loss.data() : nullptr;
    void* gi = c.want_grad_input ? r.grad_input.data() : nullptr;
    void* gt = c.want_grad_target ? r.grad_target.data() : nullptr;
    const auto fn = c.kind == Loss::kLogits ? bce4j_bce_with_logits : bce4j_bce;
    r.status = fn(&o, dtype_of<T>(), static_cast<int32_t>(c.shape.size()), shape, in, tg, go, loss, &r.reduced, gi, gt);
    r.message = bce4j_last_error_message();
    return r;
}

// ---------------------------------------------------------------------------------------------------------------
// Expected values, element by element, from the references and the index-by-index broadcast
// ---------------------------------------------------------------------------------------------------------------

struct Expected {
    std::vector<LD> loss, grad_input, grad_target;                    // per element, weighted and scaled by g
    std::vector<LD> loss_scale, grad_input_scale, grad_target_scale;  // magnitudes for tolerances
    LD sum = 0, sum_abs = 0;
    LD reduced = 0;  // sum (SUM) or sum/count (MEAN)
};

template <typename T>
Expected expected(const Call<T>& c) {
    const int64_t n = numel(c.shape);
    Expected e;
    e.loss.resize(n);
    e.grad_input.resize(n);
    e.grad_target.resize(n);
    e.loss_scale.resize(n);
    e.grad_input_scale.resize(n);
    e.grad_target_scale.resize(n);
    LD g_reduced = 1;
    if (c.reduction != BCE4J_REDUCTION_NONE && c.grad_output) g_reduced = (*c.grad_output)[0];
    if (c.reduction == BCE4J_REDUCTION_MEAN) g_reduced /= static_cast<LD>(n);
    for (int64_t i = 0; i < n; ++i) {
        const LD w = c.weight ? static_cast<LD>(c.weight->data[broadcast_source(c.shape, c.weight->shape, i)]) : 1;
        const LD p =
            c.pos_weight ? static_cast<LD>(c.pos_weight->data[broadcast_source(c.shape, c.pos_weight->shape, i)]) : 1;
        const LD g = c.reduction == BCE4J_REDUCTION_NONE ? (c.grad_output ? (*c.grad_output)[i] : T(1)) : g_reduced;
        const RefTerms t =
            c.kind == Loss::kLogits ? ref_logits(c.input[i], c.target[i], p) : ref_bce(c.input[i], c.target[i]);
        e.loss[i] = w * t.loss;
        e.grad_input[i] = g * w * t.grad_input;
        e.grad_target[i] = g * w * t.grad_target;
        e.loss_scale[i] = std::fabs(w) * t.loss_scale;
        e.grad_input_scale[i] = std::fabs(g * w) * t.grad_input_scale;
        e.grad_target_scale[i] = std::fabs(g * w) * t.grad_target_scale;
        e.sum += e.loss[i];
        e.sum_abs += e.loss_scale[i];
    }
    e.reduced = c.reduction == BCE4J_REDUCTION_MEAN ? e.sum / static_cast<LD>(n) : e.sum;
    return e;
}

// |got - want| <= rel * max(|want|, scale) + floor; NaN must match NaN and infinities must match exactly. `floor`
// (the storage type's smallest subnormal) admits results that correctly underflow, e.g. log1p(e^-10000) -> 0.
inline ::testing::AssertionResult close(double got, LD want, LD scale, double rel, double floor = 0) {
    if (std::isnan(static_cast<double>(want))) {
        if (std::isnan(got)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", want NaN";
    }
    if (std::isinf(static_cast<double>(want)) || std::isinf(got)) {
        if (got == static_cast<double>(want)) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure() << "got " << got << ", want " << static_cast<double>(want);
    }
    const LD err = std::fabs(static_cast<LD>(got) - want);
    const LD bound = rel * std::max(std::fabs(want), scale) + floor;
    if (err <= bound) return ::testing::AssertionSuccess();
    std::ostringstream s;
    s.precision(20);
    s << "got " << got << ", want " << static_cast<double>(want) << ", error " << static_cast<double>(err)
      << " > bound " << static_cast<double>(bound);
    return ::testing::AssertionFailure() << s.str();
}

// True when float32 is computed in double and rounded once: the scalar reference kernels (BCE4J_ISA=scalar). The
// SIMD kernels compute float32 in float32 lanes, within a few epsilons of that (simd_kernels.h).
inline bool float32_rounded_once() { return std::strcmp(bce4j_cpu_isa(), "scalar") == 0; }

// Per-element relative tolerance for a dtype: double results ~1e-12 of the largest term; float results one
// rounding of the double result (2^-23 relative, plus the double error), or 4 epsilons from the SIMD kernels.
template <typename T>
double tolerance() {
    if (!std::is_same_v<T, float>) return 1e-12;
    return float32_rounded_once() ? 1.2e-7 : 4 * std::numeric_limits<float>::epsilon();
}

// Relative tolerance of a reduced loss: always accumulated in double, so ~1e-12, but from float32 elements that
// are each within tolerance<float>() with the SIMD kernels.
template <typename T>
double reduced_tolerance() {
    return std::is_same_v<T, float> && !float32_rounded_once() ? tolerance<float>() : 1e-12;
}

// Compares every requested output of `r` with `e` (per element for NONE, the reduction otherwise).
template <typename T>
void expect_matches(const Call<T>& c, const Outcome<T>& r, const Expected& e, double rel = tolerance<T>(),
                    double reduced_rel = reduced_tolerance<T>()) {
    ASSERT_EQ(r.status, BCE4J_OK) << r.message;
    const int64_t n = numel(c.shape);
    const bool none = c.reduction == BCE4J_REDUCTION_NONE;
    const double floor = std::numeric_limits<T>::denorm_min();
    for (int64_t i = 0; i < n; ++i) {
        if (none && c.want_loss) {
            EXPECT_TRUE(close(r.loss[i], e.loss[i], e.loss_scale[i], rel, floor)) << "loss element " << i;
        }
        if (c.want_grad_input) {
            EXPECT_TRUE(close(r.grad_input[i], e.grad_input[i], e.grad_input_scale[i], rel, floor))
                << "grad_input element " << i;
        }
        if (c.want_grad_target) {
            EXPECT_TRUE(close(r.grad_target[i], e.grad_target[i], e.grad_target_scale[i], rel, floor))
                << "grad_target element " << i;
        }
        if (::testing::Test::HasFailure() && i > 20) break;  // keep failure output readable
    }
    if (!none) {
        const LD scale = c.reduction == BCE4J_REDUCTION_MEAN ? e.sum_abs / n : e.sum_abs;
        EXPECT_TRUE(close(r.reduced, e.reduced, scale, reduced_rel)) << "reduced_loss";
        if (c.want_loss) {
            // The stored reduced loss is the double reduction rounded to T.
            EXPECT_EQ(r.loss[0], static_cast<T>(r.reduced)) << "loss[0] for a reduction";
        }
    }
}

// Distance in units in the last place between two finite floats of the same sign region.
inline int64_t ulp_distance(float a, float b) {
    auto ordered = [](float f) {
        int32_t i;
        std::memcpy(&i, &f, sizeof i);
        return i < 0 ? static_cast<int64_t>(INT32_MIN) - i : static_cast<int64_t>(i);
    };
    const int64_t d = ordered(a) - ordered(b);
    return d < 0 ? -d : d;
}

// float32 outputs against the float64 outputs of the same (widened) inputs: one rounding apart when float32 is
// computed in double, otherwise within tolerance<float>() of the terms' magnitude (from `e`, the expected values
// of the float64 call).
inline void expect_float32_matches_float64(const std::vector<float>& f, const std::vector<double>& d,
                                           const std::vector<LD>& scale, const char* what) {
    ASSERT_EQ(f.size(), d.size());
    for (size_t i = 0; i < f.size(); ++i) {
        if (float32_rounded_once()) {
            EXPECT_LE(ulp_distance(f[i], static_cast<float>(d[i])), 1) << what << " element " << i;
        } else {
            EXPECT_TRUE(close(f[i], static_cast<LD>(d[i]), scale[i], tolerance<float>(),
                              std::numeric_limits<float>::denorm_min()))
                << what << " element " << i;
        }
    }
}

// Every output of a float32 call against the float64 call on the same values (see widened), as above.
inline void expect_float32_outcome_matches(const Outcome<float>& f, const Outcome<double>& d, const Expected& e) {
    ASSERT_EQ(f.status, BCE4J_OK) << f.message;
    ASSERT_EQ(d.status, BCE4J_OK) << d.message;
    expect_float32_matches_float64(f.loss, d.loss, e.loss_scale, "loss");
    expect_float32_matches_float64(f.grad_input, d.grad_input, e.grad_input_scale, "grad_input");
    expect_float32_matches_float64(f.grad_target, d.grad_target, e.grad_target_scale, "grad_target");
}

// The same call on float64: every float value widened (exactly), for comparing the two dtypes.
inline Call<double> widened(const Call<float>& f) {
    const auto widen = [](const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); };
    Call<double> d;
    d.kind = f.kind;
    d.shape = f.shape;
    d.input = widen(f.input);
    d.target = widen(f.target);
    if (f.weight) d.weight = Tensor<double>{f.weight->shape, widen(f.weight->data)};
    if (f.pos_weight) d.pos_weight = Tensor<double>{f.pos_weight->shape, widen(f.pos_weight->data)};
    d.reduction = f.reduction;
    d.num_threads = f.num_threads;
    d.pos_weight_mode = f.pos_weight_mode;
    if (f.grad_output) d.grad_output = widen(*f.grad_output);
    d.want_loss = f.want_loss;
    d.want_grad_input = f.want_grad_input;
    d.want_grad_target = f.want_grad_target;
    return d;
}

// ---------------------------------------------------------------------------------------------------------------
// Random data
// ---------------------------------------------------------------------------------------------------------------

template <typename T>
std::vector<T> uniform(int64_t n, double lo, double hi, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> d(lo, hi);
    std::vector<T> v(static_cast<size_t>(n));
    for (auto& x : v) x = static_cast<T>(d(gen));
    return v;
}

// Targets: a mix of hard labels 0/1 and soft labels in (0, 1).
template <typename T>
std::vector<T> labels(int64_t n, uint64_t seed) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> d(0.0, 1.0);
    std::vector<T> v(static_cast<size_t>(n));
    for (size_t i = 0; i < v.size(); ++i) {
        const double u = d(gen);
        v[i] = static_cast<T>(i % 3 == 0 ? u : (u < 0.5 ? 0.0 : 1.0));
    }
    return v;
}

template <typename T>
Tensor<T> random_operand(std::vector<int64_t> shape, double lo, double hi, uint64_t seed) {
    const int64_t n = numel(shape);
    return {std::move(shape), uniform<T>(n, lo, hi, seed)};
}

// Bitwise equality of two arrays (NaN-safe, distinguishes -0 from +0).
template <typename T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

inline bool bitwise_equal(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace bce4j_test
