// The C ABI: argument checking, options, broadcast planning and reductions — the semantics of every call —
// in one place, in front of the kernels.
#include <omp.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <limits>
#include <new>
#include <string>

#include "bce4j/bce4j.h"
#include "broadcast_plan.h"
#include "cuda/element_pass.h"
#include "cuda_loader.h"
#include "element_math.h"
#include "executor.h"
#include "kernels/row_kernel.h"
#include "weight_gradients.h"

namespace bce4j {
namespace {

// A plain array rather than a std::string: a thread_local with a trivial constructor needs no initialisation
// guard, which every call (clearing the message) would otherwise pay for.
constexpr size_t kMessageCapacity = 512;
thread_local char last_error[kMessageCapacity];

bce4j_status fail(bce4j_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));

bce4j_status fail(bce4j_status status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(last_error, kMessageCapacity, format, args);
    va_end(args);
    return status;
}

std::string format_shape(ShapeRef s) {
    std::string out = "[";
    for (int i = 0; i < s.ndim; ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(s.dims[i]);
    }
    return out + "]";
}

// The index of flat element `flat` in a tensor of shape `s`, e.g. "[1, 2]".
std::string format_index(ShapeRef s, int64_t flat) {
    std::string out;
    for (int i = s.ndim - 1; i >= 0; --i) {
        const std::string digit = std::to_string(flat % s.dims[i]);
        out = i == s.ndim - 1 ? digit : digit + ", " + out;
        flat /= s.dims[i];
    }
    return "[" + out + "]";
}

// Checks a shape argument and computes its element count.
bce4j_status check_shape(const char* name, int32_t ndim, const int64_t* dims, int32_t max_ndim, int64_t* count) {
    if (ndim < 0 || ndim > max_ndim) {
        return fail(BCE4J_ERROR_INVALID_SHAPE, "%s has %d dimensions; expected 0 to %d", name, ndim, max_ndim);
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

// True when a struct_size smaller than ours ends inside a field: no header version ever had such a size.
bool splits_a_field(size_t size) {
#define BCE4J_FIELD(f) {offsetof(bce4j_options, f), sizeof(bce4j_options::f)}
    static const struct { size_t offset, size; } fields[] = {
        BCE4J_FIELD(struct_size), BCE4J_FIELD(reduction), BCE4J_FIELD(num_threads),
        BCE4J_FIELD(weight), BCE4J_FIELD(weight_ndim), BCE4J_FIELD(weight_shape),
        BCE4J_FIELD(pos_weight), BCE4J_FIELD(pos_weight_ndim), BCE4J_FIELD(pos_weight_shape),
        BCE4J_FIELD(pos_weight_mode), BCE4J_FIELD(has_ignore_index), BCE4J_FIELD(ignore_index),
        BCE4J_FIELD(label_smoothing), BCE4J_FIELD(smoothing_classes), BCE4J_FIELD(validate_targets),
        BCE4J_FIELD(has_focal), BCE4J_FIELD(focal_gamma), BCE4J_FIELD(focal_alpha),
        BCE4J_FIELD(grad_weight), BCE4J_FIELD(grad_pos_weight),
    };
#undef BCE4J_FIELD
    for (const auto& f : fields) {
        if (size > f.offset && size < f.offset + f.size) return true;
    }
    return false;
}

// Reads the caller's options, taking defaults for the fields past its struct_size.
bce4j_status read_options(const bce4j_options* given, bce4j_options* options) {
    bce4j_options_init(options);
    if (given == nullptr) return BCE4J_OK;
    if (given->struct_size < offsetof(bce4j_options, reduction) + sizeof(int32_t) ||
        splits_a_field(given->struct_size)) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.struct_size is %zu; initialise options with bce4j_options_init()", given->struct_size);
    }
    std::memcpy(options, given, std::min(given->struct_size, sizeof(bce4j_options)));
    options->struct_size = sizeof(bce4j_options);
    if (options->reduction < BCE4J_REDUCTION_NONE || options->reduction > BCE4J_REDUCTION_MEAN_VALID) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.reduction is %d; expected 0 (none), 1 (mean), 2 (sum), 3 (mean by weight), "
                    "4 (mean by nonzero weight) or 5 (mean valid)",
                    options->reduction);
    }
    if (options->num_threads < 0 || options->num_threads > BCE4J_MAX_THREADS) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.num_threads is %d; expected 0 (default) to %d",
                    options->num_threads, BCE4J_MAX_THREADS);
    }
    if (options->pos_weight_mode != BCE4J_POS_WEIGHT_TORCH &&
        options->pos_weight_mode != BCE4J_POS_WEIGHT_PADDLE_LEGACY) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.pos_weight_mode is %d; expected 0 (torch) or 1 (paddle-legacy)",
                    options->pos_weight_mode);
    }
    if (!(options->label_smoothing >= 0 && options->label_smoothing <= 1)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.label_smoothing is %g; expected a value in [0, 1]",
                    options->label_smoothing);
    }
    if (options->has_focal && !(options->focal_gamma >= 0 && options->focal_gamma < HUGE_VAL)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.focal_gamma is %g; expected a finite value >= 0",
                    options->focal_gamma);
    }
    if (options->has_focal && options->focal_alpha > 1) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.focal_alpha is %g; expected a value in [0, 1], or < 0 for none",
                    options->focal_alpha);
    }
    if (options->smoothing_classes < 1) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.smoothing_classes is %d; expected at least 1",
                    options->smoothing_classes);
    }
    return BCE4J_OK;
}

// The element count of a shape already checked by check_shape (whose other dimensions beside a 0 may have no
// product).
int64_t element_count(ShapeRef s) {
    int64_t n = 1;
    for (int i = 0; i < s.ndim; ++i) {
        if (s.dims[i] == 0) return 0;
    }
    for (int i = 0; i < s.ndim; ++i) n *= s.dims[i];
    return n;
}

// Checks an optional broadcast operand (weight or pos_weight) against the input's shape.
bce4j_status check_operand(const char* name, const void* data, int32_t ndim, const int64_t* dims, ShapeRef input,
                           ShapeRef* shape) {
    if (data == nullptr) return BCE4J_OK;
    int64_t count = 0;
    if (bce4j_status s = check_shape(name, ndim, dims, kMaxDims, &count)) return s;
    *shape = {ndim, dims};
    int bad_dim = -1;
    switch (check_broadcast(*shape, input, &bad_dim)) {
        case BroadcastCheck::kOk:
            return BCE4J_OK;
        case BroadcastCheck::kTooManyDims:
            return fail(BCE4J_ERROR_BROADCAST,
                        "%s shape %s does not broadcast to input shape %s (it has more dimensions, and broadcasting "
                        "may not enlarge the input)",
                        name, format_shape(*shape).c_str(), format_shape(input).c_str());
        case BroadcastCheck::kIncompatible:
            break;
    }
    const long long input_dim = input.dims[input.ndim - ndim + bad_dim];
    const std::string expected = input_dim == 1 ? "1" : "1 or " + std::to_string(input_dim);
    return fail(BCE4J_ERROR_BROADCAST, "%s shape %s does not broadcast to input shape %s (dimension %d is %lld; expected %s)",
                name, format_shape(*shape).c_str(), format_shape(input).c_str(), bad_dim,
                static_cast<long long>(dims[bad_dim]), expected.c_str());
}

enum class LossKind { kLogits, kProbabilities };

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

// The denominator of a normalised mean (MEAN_BY_WEIGHT, MEAN_BY_NONZERO_WEIGHT, MEAN_VALID): computed before the
// pass, from the weight alone or from one read of the targets, so that the gradients can be scaled as they are
// written. A weight broadcast to the input repeats each of its elements count / weight_count times.
template <typename T>
double normalising_denominator(const bce4j_options& o, int64_t count, const T* target, ShapeRef weight_shape) {
    if (o.reduction == BCE4J_REDUCTION_MEAN_VALID) {
        if (!o.has_ignore_index) return static_cast<double>(count);
        int64_t ignored = 0;
        for (int64_t i = 0; i < count; ++i) ignored += to_double(target[i]) == o.ignore_index;
        return static_cast<double>(count - ignored);
    }
    if (o.weight == nullptr) return static_cast<double>(count);
    const int64_t weight_count = element_count(weight_shape);
    const T* w = static_cast<const T*>(o.weight);
    double total = 0;
    for (int64_t i = 0; i < weight_count; ++i) {
        const double value = to_double(w[i]);
        total += o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT ? value : (value != 0 ? 1 : 0);
    }
    return total * static_cast<double>(count / weight_count);
}

template <typename T>
RowKernel<T> kernel_for(const KernelTable& table, LossKind kind) {
    return kind == LossKind::kLogits ? KernelsOf<T>::logits(table) : KernelsOf<T>::probabilities(table);
}

// Where a call runs: the CPU, a CUDA device on device pointers, or a CUDA device on host buffers staged through it.
enum class Device { kCpu, kCuda, kCudaHostBuffers };

struct Call {
    LossKind kind;
    Device device;
    void* stream;  // kCuda only
    const bce4j_options* options;
    int32_t ndim;
    const int64_t* shape;
    const void* input;
    const void* target;
    const void* grad_output;
    void* loss;
    double* reduced_loss;
    void* grad_input;
    void* grad_target;
};

// A call's arguments and options once checked, before any tensor data is read: the same for every device.
struct Checked {
    bce4j_options o;
    int64_t count;
    ShapeRef input;
    ShapeRef weight_shape;
    ShapeRef pos_weight_shape;
    bool reduces;
    bool ignores;  // an ignore index that the dtype can hold: one it cannot hold exactly matches no target
};

template <typename T>
bce4j_status check_call(const Call& call, Checked* c) {
    bce4j_options& o = c->o;
    if (bce4j_status s = read_options(call.options, &o)) return s;

    if (bce4j_status s = check_shape("input", call.ndim, call.shape, kMaxDims, &c->count)) return s;
    c->input = {call.ndim, call.shape};
    if (c->count > 0 && call.input == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "input is NULL");
    if (c->count > 0 && call.target == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "target is NULL");

    if (bce4j_status s = check_loss_kind(call.kind, o)) return s;
    c->weight_shape = {0, nullptr};
    c->pos_weight_shape = {0, nullptr};
    if (bce4j_status s = check_operand("weight", o.weight, o.weight_ndim, o.weight_shape, c->input, &c->weight_shape)) {
        return s;
    }
    if (bce4j_status s = check_operand("pos_weight", o.pos_weight, o.pos_weight_ndim, o.pos_weight_shape, c->input,
                                       &c->pos_weight_shape)) {
        return s;
    }
    c->reduces = o.reduction != BCE4J_REDUCTION_NONE;
    c->ignores = o.has_ignore_index && to_double(from_double<T>(o.ignore_index)) == o.ignore_index;
    return BCE4J_OK;
}

// The CPU and the CUDA library divide by a reduction's denominator alike.
using cuda::normalise;

// The error for the first element whose input (probabilities) or target is outside [0, 1].
bce4j_status fail_out_of_range(LossKind kind, ShapeRef input, int64_t index, double x, double y) {
    const bool input_bad = kind == LossKind::kProbabilities && math::outside_unit_interval(x);
    return fail(BCE4J_ERROR_OUT_OF_RANGE, "%s element %lld (index %s) is %.9g; expected a value in [0, 1]",
                input_bad ? "input" : "target", static_cast<long long>(index), format_index(input, index).c_str(),
                input_bad ? x : y);
}

template <typename T>
bce4j_status run_on_cpu(const Call& call, const Checked& c) {
    const bce4j_options& o = c.o;
    const int64_t count = c.count;
    const bool reduces = c.reduces;
    const double upstream = reduces && call.grad_output ? to_double(*static_cast<const T*>(call.grad_output)) : 1.0;
    // What the sum is divided by (1: none).
    double denominator = 1;
    bool zero_when_empty = false;
    if (o.reduction == BCE4J_REDUCTION_MEAN) {
        denominator = static_cast<double>(count);
    } else if (o.reduction >= BCE4J_REDUCTION_MEAN_BY_WEIGHT) {
        denominator = count > 0 ? normalising_denominator<T>(o, count, static_cast<const T*>(call.target),
                                                              c.weight_shape)
                                : 0;
        zero_when_empty = true;
    }
    RowArgs<T> args;
    args.input = static_cast<const T*>(call.input);
    args.target = static_cast<const T*>(call.target);
    args.weight = static_cast<const T*>(o.weight);
    args.weight_stride = 0;
    args.pos_weight = static_cast<const T*>(o.pos_weight);
    args.pos_weight_stride = 0;
    args.grad_output = reduces ? nullptr : static_cast<const T*>(call.grad_output);
    args.grad_scale = normalise(upstream, denominator, zero_when_empty);
    args.loss = reduces ? nullptr : static_cast<T*>(call.loss);
    args.grad_input = static_cast<T*>(call.grad_input);
    args.grad_target = static_cast<T*>(call.grad_target);
    args.paddle_legacy = call.kind == LossKind::kLogits && o.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    if (c.ignores) args.ignored_target = from_double<T>(o.ignore_index);
    args.smoothing_keep = 1 - o.label_smoothing;
    args.smoothing_shift = o.label_smoothing / o.smoothing_classes;
    args.validate_targets = call.kind == LossKind::kLogits && o.validate_targets != 0;
    args.focal = call.kind == LossKind::kLogits && o.has_focal != 0;
    args.focal_gamma = o.focal_gamma;
    args.focal_alpha = o.focal_alpha;

    const RowKernel<T> kernel = kernel_for<T>(active_kernel_table(), call.kind);
    ExecutionResult r = {0.0, -1};
    // Asking OpenMP for its default costs more than a small call; such calls stay on this thread anyway.
    const auto thread_count = [&] {
        return o.num_threads > 0 ? o.num_threads : count >= kParallelThreshold ? omp_get_max_threads() : 1;
    };
    const auto broadcast_plan = [&] {
        return plan_broadcast(c.input, o.weight ? &c.weight_shape : nullptr,
                              o.pos_weight ? &c.pos_weight_shape : nullptr);
    };
    if (count > 0 && count <= kReductionBlock && o.weight == nullptr && o.pos_weight == nullptr) {
        // One contiguous row, as the executor would run it, without building a plan: small calls are common.
        const RowResult row = kernel(count, args);
        r = {row.loss_sum, row.first_invalid};
    } else if (count > 0) {  // an empty input has nothing to plan (its other dimensions may not even have a product)
        r = execute<T>(broadcast_plan(), count, args, kernel, thread_count());
    }

    if (r.first_invalid >= 0) {
        return fail_out_of_range(call.kind, c.input, r.first_invalid, to_double(args.input[r.first_invalid]),
                                 to_double(args.target[r.first_invalid]));
    }
    const double reduced = normalise(r.loss_sum, denominator, zero_when_empty);
    if (reduces) {
        if (call.reduced_loss) *call.reduced_loss = reduced;
        if (call.loss) *static_cast<T*>(call.loss) = from_double<T>(reduced);
    }
    if (o.grad_weight != nullptr || o.grad_pos_weight != nullptr) {
        // An absent operand is an implicit scalar 1: one gradient element, at stride 0 in the plan.
        const int64_t weight_count = o.weight ? element_count(c.weight_shape) : 1;
        const int64_t pos_weight_count = o.pos_weight ? element_count(c.pos_weight_shape) : 1;
        WeightGradientTerms terms;
        terms.probabilities = call.kind == LossKind::kProbabilities;
        terms.scale = args.grad_scale;
        // d(S/W)/dw_j = (sum over j's elements of the unweighted losses - R * m_j) / W, with W the sum of the
        // broadcast weights, R = S/W the reduced loss and m_j = count / weight_count how often w_j is repeated.
        terms.weight_sum_offset = o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && count > 0
                                      ? reduced * static_cast<double>(count / weight_count)
                                      : 0.0;
        T* grad_weight = static_cast<T*>(o.grad_weight);
        if (grad_weight != nullptr && o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT && weight_count == 1) {
            // One weight scales S and W alike: S/W does not depend on it (and is 0 for W = 0). Exactly 0, where
            // the formula above would leave the rounding noise of sum - R*m.
            *grad_weight = from_double<T>(0.0);
            grad_weight = nullptr;
        }
        if (grad_weight != nullptr || o.grad_pos_weight != nullptr) {
            const BroadcastPlan plan = count > 0 ? broadcast_plan() : BroadcastPlan{};
            compute_weight_gradients<T>(plan, count, args, terms, {grad_weight, weight_count},
                                        {static_cast<T*>(o.grad_pos_weight), pos_weight_count}, thread_count());
        }
    }
    return BCE4J_OK;
}

// The CUDA path: the call checked here, executed by libbce4j_cuda from a prepared description.
template <typename T>
bce4j_status run_on_cuda(const Call& call, const Checked& c, bce4j_dtype dtype) {
    const bce4j_options& o = c.o;
    if (o.grad_weight != nullptr || o.grad_pos_weight != nullptr) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.%s is not supported on the CUDA path yet",
                    o.grad_weight != nullptr ? "grad_weight" : "grad_pos_weight");
    }
    const cuda::Loaded& library = cuda::loaded();
    if (library.run == nullptr) return fail(BCE4J_ERROR_UNAVAILABLE, "CUDA is %s", library.description.c_str());

    cuda::DeviceCall d{};
    d.dtype = dtype;
    d.loss_kind = call.kind == LossKind::kLogits ? cuda::DeviceLoss::kLogits : cuda::DeviceLoss::kProbabilities;
    d.host_memory = call.device == Device::kCudaHostBuffers;
    d.stream = call.stream;
    d.count = c.count;
    if (c.count > 0) {
        d.plan = plan_broadcast(c.input, o.weight ? &c.weight_shape : nullptr,
                                o.pos_weight ? &c.pos_weight_shape : nullptr);
    }
    d.input = call.input;
    d.target = call.target;
    d.grad_output = call.grad_output;
    d.grad_output_per_element = !c.reduces;
    d.weight = o.weight;
    d.weight_count = o.weight ? element_count(c.weight_shape) : 0;
    d.pos_weight = o.pos_weight;
    d.pos_weight_count = o.pos_weight ? element_count(c.pos_weight_shape) : 0;
    d.loss = call.loss;
    d.loss_per_element = !c.reduces;
    d.grad_input = call.grad_input;
    d.grad_target = call.grad_target;
    d.reduces = c.reduces;
    switch (o.reduction) {
        case BCE4J_REDUCTION_MEAN: d.denominator = cuda::Denominator::kCount; break;
        case BCE4J_REDUCTION_MEAN_BY_WEIGHT:
            d.denominator = o.weight ? cuda::Denominator::kWeightSum : cuda::Denominator::kCount;
            break;
        case BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT:
            d.denominator = o.weight ? cuda::Denominator::kNonzeroWeights : cuda::Denominator::kCount;
            break;
        case BCE4J_REDUCTION_MEAN_VALID:
            // As on the CPU, the targets are compared with the ignore index as given, in double.
            d.denominator = o.has_ignore_index ? cuda::Denominator::kNotIgnored : cuda::Denominator::kCount;
            break;
        default: d.denominator = cuda::Denominator::kOne; break;
    }
    d.zero_for_zero_denominator = o.reduction >= BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    d.has_ignored_target = c.ignores;
    d.ignored_target = o.ignore_index;
    d.smoothing_keep = 1 - o.label_smoothing;
    d.smoothing_shift = o.label_smoothing / o.smoothing_classes;
    d.validate_targets = call.kind == LossKind::kLogits && o.validate_targets != 0;
    d.paddle_legacy = call.kind == LossKind::kLogits && o.pos_weight_mode == BCE4J_POS_WEIGHT_PADDLE_LEGACY;
    d.focal = call.kind == LossKind::kLogits && o.has_focal != 0;
    d.focal_gamma = o.focal_gamma;
    d.focal_alpha = o.focal_alpha;

    cuda::DeviceOutcome outcome{};
    outcome.first_invalid = -1;
    const int32_t status = library.run(&d, &outcome);
    if (status != BCE4J_OK) {
        outcome.message[cuda::kMessageCapacity - 1] = '\0';
        return fail(static_cast<bce4j_status>(status), "%s", outcome.message);
    }
    if (outcome.first_invalid >= 0) {
        return fail_out_of_range(call.kind, c.input, outcome.first_invalid, outcome.invalid_input,
                                 outcome.invalid_target);
    }
    if (c.reduces && call.reduced_loss) *call.reduced_loss = outcome.reduced_loss;
    return BCE4J_OK;
}

template <typename T>
bce4j_status run(const Call& call, bce4j_dtype dtype) {
    Checked c;
    if (bce4j_status s = check_call<T>(call, &c)) return s;
    return call.device == Device::kCpu ? run_on_cpu<T>(call, c) : run_on_cuda<T>(call, c, dtype);
}

bce4j_status dispatch(bce4j_dtype dtype, const Call& call) {
    last_error[0] = '\0';
    try {
        switch (dtype) {
            case BCE4J_FLOAT32:
                return run<float>(call, dtype);
            case BCE4J_FLOAT64:
                return run<double>(call, dtype);
            case BCE4J_FLOAT16:
            case BCE4J_BFLOAT16:
                if (call.device != Device::kCpu) {
                    return fail(BCE4J_ERROR_INVALID_OPTION, "dtype %s is not supported on the CUDA path yet",
                                dtype == BCE4J_FLOAT16 ? "float16" : "bfloat16");
                }
                return dtype == BCE4J_FLOAT16 ? run<Float16>(call, dtype) : run<BFloat16>(call, dtype);
        }
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "dtype is %d; expected 0 (float32), 1 (float64), 2 (float16) or 3 (bfloat16)",
                    static_cast<int>(dtype));
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

}  // namespace
}  // namespace bce4j

using bce4j::Call;
using bce4j::Device;
using bce4j::LossKind;

extern "C" {

void bce4j_options_init(bce4j_options* options) {
    if (options == nullptr) return;
    std::memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->reduction = BCE4J_REDUCTION_MEAN;
    options->ignore_index = -100;
    options->smoothing_classes = 2;
    options->focal_gamma = 2;
    options->focal_alpha = -1;
}

bce4j_status bce4j_check_options(const bce4j_options* options, int32_t logits) {
    using namespace bce4j;
    bce4j_options o;
    if (bce4j_status s = read_options(options, &o)) return s;
    if (bce4j_status s = check_loss_kind(logits ? LossKind::kLogits : LossKind::kProbabilities, o)) return s;
    int64_t count = 0;
    if (o.weight != nullptr) {
        if (bce4j_status s = check_shape("weight", o.weight_ndim, o.weight_shape, kMaxDims, &count)) return s;
    }
    if (o.pos_weight != nullptr) {
        if (bce4j_status s = check_shape("pos_weight", o.pos_weight_ndim, o.pos_weight_shape, kMaxDims, &count)) {
            return s;
        }
    }
    return BCE4J_OK;
}

bce4j_status bce4j_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                   const int64_t* shape, const void* input, const void* target,
                                   const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                   void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCpu, nullptr, options, ndim, shape, input, target,
                                       grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                       const void* input, const void* target, const void* grad_output, void* loss,
                       double* reduced_loss, void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCpu, nullptr, options, ndim, shape, input,
                                       target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                        const int64_t* shape, const void* input, const void* target,
                                        const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                        void* grad_target, void* stream) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCuda, stream, options, ndim, shape, input, target,
                                       grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                            const void* input, const void* target, const void* grad_output, void* loss,
                            double* reduced_loss, void* grad_input, void* grad_target, void* stream) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCuda, stream, options, ndim, shape, input,
                                       target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_with_logits_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                             const int64_t* shape, const void* input, const void* target,
                                             const void* grad_output, void* loss, double* reduced_loss,
                                             void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCudaHostBuffers, nullptr, options, ndim, shape,
                                       input, target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                 const int64_t* shape, const void* input, const void* target,
                                 const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                 void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCudaHostBuffers, nullptr, options, ndim,
                                       shape, input, target, grad_output, loss, reduced_loss, grad_input,
                                       grad_target});
}

const char* bce4j_last_error_message(void) { return bce4j::last_error; }

const char* bce4j_status_name(bce4j_status status) {
    switch (status) {
        case BCE4J_OK: return "BCE4J_OK";
        case BCE4J_ERROR_NULL_ARGUMENT: return "BCE4J_ERROR_NULL_ARGUMENT";
        case BCE4J_ERROR_INVALID_SHAPE: return "BCE4J_ERROR_INVALID_SHAPE";
        case BCE4J_ERROR_BROADCAST: return "BCE4J_ERROR_BROADCAST";
        case BCE4J_ERROR_OUT_OF_RANGE: return "BCE4J_ERROR_OUT_OF_RANGE";
        case BCE4J_ERROR_INVALID_OPTION: return "BCE4J_ERROR_INVALID_OPTION";
        case BCE4J_ERROR_INTERNAL: return "BCE4J_ERROR_INTERNAL";
        case BCE4J_ERROR_UNAVAILABLE: return "BCE4J_ERROR_UNAVAILABLE";
        case BCE4J_ERROR_DEVICE: return "BCE4J_ERROR_DEVICE";
    }
    return "BCE4J_UNKNOWN_STATUS";
}

#define BCE4J_STRINGIFY_(x) #x
#define BCE4J_STRINGIFY(x) BCE4J_STRINGIFY_(x)

const char* bce4j_version(void) {
    return BCE4J_STRINGIFY(BCE4J_VERSION_MAJOR) "." BCE4J_STRINGIFY(BCE4J_VERSION_MINOR) "." BCE4J_STRINGIFY(
        BCE4J_VERSION_PATCH);
}

const char* bce4j_cpu_isa(void) { return bce4j::active_kernel_table().isa; }

int32_t bce4j_default_num_threads(void) { return omp_get_max_threads(); }

bce4j_status bce4j_cuda_use_library(const char* path) {
    using bce4j::fail;
    bce4j::last_error[0] = '\0';
    if (path == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "path is NULL");
    if (path[0] == '\0') return fail(BCE4J_ERROR_INVALID_OPTION, "path is empty");
    try {
        const std::string refused = bce4j::cuda::use_library(path);
        if (!refused.empty()) return fail(BCE4J_ERROR_INVALID_OPTION, "%s", refused.c_str());
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
    return BCE4J_OK;
}

}  // extern "C"
