// Every rule about a call's arguments and options, each checked once, here, with the message users see (the Java
// API relies on these): prepare_call those that need no tensor data, check_run those of each run.
// bce4j_check_options applies the rules that need no input shape either.
#include <cmath>
#include <limits>
#include <string>

#include "call.h"
#include "call_errors.h"
#include "options_abi.h"
#include "storage_types.h"

namespace bce4j {
namespace {

// The ranges of the options' values.
bce4j_status check_option_values(const bce4j_options& o) {
    if (bce4j_status s = check_reduction(o.reduction, "options.reduction")) return s;
    if (o.num_threads < 0 || o.num_threads > BCE4J_MAX_THREADS) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.num_threads is %d; expected 0 (default) to %d", o.num_threads,
                    BCE4J_MAX_THREADS);
    }
    if (o.pos_weight_mode != BCE4J_POS_WEIGHT_TORCH && o.pos_weight_mode != BCE4J_POS_WEIGHT_PADDLE_LEGACY) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.pos_weight_mode is %d; expected 0 (torch) or 1 (paddle-legacy)", o.pos_weight_mode);
    }
    if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.label_smoothing is %g; expected a value in [0, 1]",
                    o.label_smoothing);
    }
    if (o.has_focal && !(o.focal_gamma >= 0 && o.focal_gamma < HUGE_VAL)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.focal_gamma is %g; expected a finite value >= 0",
                    o.focal_gamma);
    }
    if (o.has_focal && !(o.focal_alpha <= 1)) {  // NaN too
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.focal_alpha is %g; expected a value in [0, 1], or < 0 for none", o.focal_alpha);
    }
    if (o.has_ignore_index && std::isnan(o.ignore_index)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.ignore_index is nan; no target equals NaN");
    }
    if (o.smoothing_classes < 1) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.smoothing_classes is %d; expected at least 1",
                    o.smoothing_classes);
    }
    return BCE4J_OK;
}

// The options a loss kind refuses.
bce4j_status check_loss_kind(LossKind kind, const bce4j_options& o) {
    if (kind == LossKind::kProbabilities && o.pos_weight != nullptr) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "pos_weight applies to the logits loss only, not to BCELoss");
    }
    if (kind == LossKind::kProbabilities && o.grad_pos_weight != nullptr) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.grad_pos_weight applies to the logits loss only, not to BCELoss (it has no pos_weight)");
    }
    return BCE4J_OK;
}

// Checks a shape argument and computes its element count.
bce4j_status check_shape(const char* name, int32_t ndim, const int64_t* dims, int64_t* count) {
    if (ndim < 0 || ndim > kMaxDims) {
        return fail(BCE4J_ERROR_INVALID_SHAPE, "%s has %d dimensions; expected 0 to %d", name, ndim, kMaxDims);
    }
    if (ndim > 0 && dims == nullptr) {
        return fail(BCE4J_ERROR_NULL_ARGUMENT, "%s shape is NULL but its ndim is %d", name, ndim);
    }
    bool empty = false;
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] < 0) {
            return fail(BCE4J_ERROR_INVALID_SHAPE, "%s shape %s has a negative dimension", name,
                        format_shape({ndim, dims}).c_str());
        }
        empty = empty || dims[i] == 0;
    }
    int64_t n = 1;
    for (int i = 0; i < ndim && !empty; ++i) {
        if (n > std::numeric_limits<int64_t>::max() / dims[i]) {
            return fail(BCE4J_ERROR_INVALID_SHAPE, "%s shape %s has more than 2^63-1 elements", name,
                        format_shape({ndim, dims}).c_str());
        }
        n *= dims[i];
    }
    *count = empty ? 0 : n;
    return BCE4J_OK;
}

// The shapes of the optional broadcast operands, checked on their own (bce4j_check_options has no input).
bce4j_status check_operand_shapes(const bce4j_options& o) {
    int64_t count = 0;
    if (o.weight != nullptr) {
        if (bce4j_status s = check_shape("weight", o.weight_ndim, o.weight_shape, &count)) return s;
    }
    if (o.pos_weight != nullptr) {
        if (bce4j_status s = check_shape("pos_weight", o.pos_weight_ndim, o.pos_weight_shape, &count)) return s;
    }
    return BCE4J_OK;
}

// Checks that an operand (weight or pos_weight) with a valid shape broadcasts to the input's shape.
bce4j_status check_broadcasts(const char* name, ShapeRef shape, ShapeRef input) {
    int bad_dim = -1;
    switch (check_broadcast(shape, input, &bad_dim)) {
        case BroadcastCheck::kOk: return BCE4J_OK;
        case BroadcastCheck::kTooManyDims:
            return fail(BCE4J_ERROR_BROADCAST,
                        "%s shape %s does not broadcast to input shape %s (it has more dimensions, and broadcasting "
                        "may not enlarge the input)",
                        name, format_shape(shape).c_str(), format_shape(input).c_str());
        case BroadcastCheck::kIncompatible: break;
    }
    const long long input_dim = input.dims[input.ndim - shape.ndim + bad_dim];
    const std::string expected = input_dim == 1 ? "1" : "1 or " + std::to_string(input_dim);
    return fail(BCE4J_ERROR_BROADCAST,
                "%s shape %s does not broadcast to input shape %s (dimension %d is %lld; expected %s)", name,
                format_shape(shape).c_str(), format_shape(input).c_str(), bad_dim,
                static_cast<long long>(shape.dims[bad_dim]), expected.c_str());
}

// Whether `value` is a value of `dtype`: an ignore index that is not matches no target.
bool representable(bce4j_dtype dtype, double value) {
    switch (dtype) {
        case BCE4J_FLOAT32: return static_cast<double>(static_cast<float>(value)) == value;
        case BCE4J_FLOAT16: return to_double(from_double<Float16>(value)) == value;
        case BCE4J_BFLOAT16: return to_double(from_double<BFloat16>(value)) == value;
        default: return true;
    }
}

// The parameter builder: the per-element options of a call, from its checked options.
ElementParams element_params(const bce4j_options& o, LossKind kind, bce4j_dtype dtype) {
    const bool logits = kind == LossKind::kLogits;
    ElementParams p;
    p.probabilities = !logits;
    p.paddle_legacy = logits && o.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    if (o.has_ignore_index && representable(dtype, o.ignore_index)) p.ignored_target = o.ignore_index;
    p.smoothing_keep = 1 - o.label_smoothing;
    p.smoothing_shift = o.label_smoothing / o.smoothing_classes;
    p.validate_targets = logits && o.validate_targets != 0;
    p.focal = logits && o.has_focal != 0;
    p.focal_gamma = o.focal_gamma;
    p.focal_alpha = o.focal_alpha;
    return p;
}

// Copies a checked operand shape into `dims`.
ShapeRef copy_shape(int32_t ndim, const int64_t* shape, int64_t* dims) {
    for (int i = 0; i < ndim; ++i) dims[i] = shape[i];
    return {ndim, dims};
}

// Whether an operand of `shape` broadcast to `input` has dimension 0's size there, with more than one row: a run of
// fewer rows reads only its first ones.
bool spans_rows(ShapeRef shape, ShapeRef input) {
    return shape.ndim == input.ndim && input.ndim > 0 && input.dims[0] > 1 && shape.dims[0] == input.dims[0];
}

bce4j_status check_dtype(bce4j_dtype dtype) {
    switch (dtype) {
        case BCE4J_FLOAT32:
        case BCE4J_FLOAT64:
        case BCE4J_FLOAT16:
        case BCE4J_BFLOAT16: return BCE4J_OK;
    }
    return fail(BCE4J_ERROR_INVALID_OPTION,
                "dtype is %d; expected 0 (float32), 1 (float64), 2 (float16) or 3 (bfloat16)", static_cast<int>(dtype));
}

}  // namespace

bce4j_status check_reduction(int32_t reduction, const char* name) {
    if (reduction < BCE4J_REDUCTION_NONE || reduction > BCE4J_REDUCTION_MEAN_VALID) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "%s is %d; expected 0 (none), 1 (mean), 2 (sum), 3 (mean by weight), "
                    "4 (mean by nonzero weight) or 5 (mean valid)",
                    name, reduction);
    }
    return BCE4J_OK;
}

bce4j_status check_no_weight_gradients(const bce4j_options& o, const char* why) {
    if (o.grad_weight != nullptr || o.grad_pos_weight != nullptr) {
        const char* name = o.grad_weight != nullptr ? "grad_weight" : "grad_pos_weight";
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.%s is set; %s", name, why);
    }
    return BCE4J_OK;
}

bce4j_status prepare_call(LossKind kind, Device device, const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                          const int64_t* shape, Prepared* p) {
    if (bce4j_status s = check_dtype(dtype)) return s;
    p->kind = kind;
    p->dtype = dtype;
    bce4j_options& o = p->o;
    if (bce4j_status s = read_options(options, &o)) return s;
    if (bce4j_status s = check_option_values(o)) return s;

    if (bce4j_status s = check_shape("input", ndim, shape, &p->count)) return s;
    p->input = copy_shape(ndim, shape, p->dims);
    p->max_batch = ndim == 0 ? 1 : shape[0];
    // Dimension 0 may be 0 beside dimensions whose product overflows: count / dimension 0 only where it is not.
    p->row_count = ndim == 0 ? 1 : p->count == 0 ? 0 : p->count / shape[0];

    if (bce4j_status s = check_loss_kind(kind, o)) return s;
    p->weight_shape = {0, nullptr};
    p->pos_weight_shape = {0, nullptr};
    p->weight_count = 1;
    p->pos_weight_count = 1;
    if (o.weight != nullptr) {
        if (bce4j_status s = check_shape("weight", o.weight_ndim, o.weight_shape, &p->weight_count)) return s;
        p->weight_shape = copy_shape(o.weight_ndim, o.weight_shape, p->weight_dims);
        o.weight_shape = p->weight_dims;
        if (bce4j_status s = check_broadcasts("weight", p->weight_shape, p->input)) return s;
    }
    if (o.pos_weight != nullptr) {
        if (bce4j_status s = check_shape("pos_weight", o.pos_weight_ndim, o.pos_weight_shape, &p->pos_weight_count)) {
            return s;
        }
        p->pos_weight_shape = copy_shape(o.pos_weight_ndim, o.pos_weight_shape, p->pos_weight_dims);
        o.pos_weight_shape = p->pos_weight_dims;
        if (bce4j_status s = check_broadcasts("pos_weight", p->pos_weight_shape, p->input)) return s;
    }
    p->weight_spans_rows = o.weight != nullptr && spans_rows(p->weight_shape, p->input);
    p->pos_weight_spans_rows = o.pos_weight != nullptr && spans_rows(p->pos_weight_shape, p->input);
    p->reduces = o.reduction != BCE4J_REDUCTION_NONE;
    p->denominator = denominator_of(o.reduction, o.weight != nullptr, o.has_ignore_index != 0);
    p->zero_when_empty = zero_for_zero_denominator(o.reduction);
    p->params = element_params(o, kind, dtype);
    if (device == Device::kCpu) prepare_cpu_run(p);
    return BCE4J_OK;
}

bce4j_status check_run(const Prepared& p, const RunArgs& run, int64_t* count) {
    if (run.batch < 0 || run.batch > p.max_batch || (p.input.ndim == 0 && run.batch != 1)) {
        if (p.input.ndim == 0) {
            return fail(BCE4J_ERROR_INVALID_SHAPE, "batch is %lld; expected 1 (the prepared input is a scalar)",
                        static_cast<long long>(run.batch));
        }
        return fail(
            BCE4J_ERROR_INVALID_SHAPE, "batch is %lld; expected 0 to %lld (dimension 0 of the prepared shape %s)",
            static_cast<long long>(run.batch), static_cast<long long>(p.max_batch), format_shape(p.input).c_str());
    }
    *count = run.batch == p.max_batch ? p.count : run.batch * p.row_count;
    if (*count > 0 && run.input == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "input is NULL");
    if (*count > 0 && run.target == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "target is NULL");
    if (p.kind == LossKind::kProbabilities && run.grad_pos_weight != nullptr) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "grad_pos_weight applies to the logits loss only, not to BCELoss (it has no pos_weight)");
    }
    return BCE4J_OK;
}

int64_t element_count(ShapeRef s) {
    for (int i = 0; i < s.ndim; ++i) {
        if (s.dims[i] == 0) return 0;
    }
    int64_t n = 1;
    for (int i = 0; i < s.ndim; ++i) n *= s.dims[i];
    return n;
}

bce4j_status fail_out_of_range(LossKind kind, ShapeRef input, int64_t index, double x, double y) {
    const bool input_bad = kind == LossKind::kProbabilities && math::outside_unit_interval(x);
    return fail(BCE4J_ERROR_OUT_OF_RANGE, "%s element %lld (index %s) is %.9g; expected a value in [0, 1]",
                input_bad ? "input" : "target", static_cast<long long>(index), format_index(input, index).c_str(),
                input_bad ? x : y);
}

}  // namespace bce4j

extern "C" bce4j_status bce4j_check_options(const bce4j_options* options, int32_t logits) {
    using namespace bce4j;
    clear_last_error();
    bce4j_options o;
    if (bce4j_status s = read_options(options, &o)) return s;
    if (bce4j_status s = check_option_values(o)) return s;
    if (bce4j_status s = check_loss_kind(logits ? LossKind::kLogits : LossKind::kProbabilities, o)) return s;
    return check_operand_shapes(o);
}
