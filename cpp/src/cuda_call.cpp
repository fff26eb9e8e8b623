// A prepared call through libbce4j_cuda, over its whole shape: the description the device executes
// (cuda/device_call.h), and its outcome turned into the call's status and outputs.
#include "cuda_call.h"

#include <new>

#include "call.h"
#include "call_errors.h"
#include "cuda/device_call.h"
#include "cuda_loader.h"

namespace bce4j {
namespace {

// The description of a checked run for the device, every result wanted the blocking way (the caller sets queue_only
// and its device words for a queued call).
bce4j_status device_call(const Prepared& c, const RunArgs& call, Device device, void* stream, cuda::DeviceCall* out,
                         bce4j_cuda_run_fn* run) {
    const bce4j_options& o = c.o;
    int64_t count = 0;
    if (bce4j_status s = check_run(c, call, &count)) return s;
    const cuda::Loaded& library = cuda::loaded();
    if (library.run == nullptr) return fail(BCE4J_ERROR_UNAVAILABLE, "CUDA is %s", library.description.c_str());

    cuda::DeviceCall& d = *out;
    d = cuda::DeviceCall{};
    d.dtype = c.dtype;
    d.host_memory = device == Device::kCudaHostBuffers;
    d.stream = stream;
    d.count = count;
    if (count > 0) {
        d.plan =
            plan_broadcast(c.input, o.weight ? &c.weight_shape : nullptr, o.pos_weight ? &c.pos_weight_shape : nullptr);
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
    d.denominator = c.denominator;
    d.zero_for_zero_denominator = c.zero_when_empty;
    d.params = c.params;
    d.grad_weight = call.grad_weight;
    d.grad_pos_weight = call.grad_pos_weight;
    // As the CPU path (cpu_call.cpp): one weight scales S and W alike.
    d.weight_gradient_cancels = call.grad_weight != nullptr && o.reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT &&
                                (o.weight == nullptr || d.weight_count == 1);
    *run = library.run;
    return BCE4J_OK;
}

bce4j_status run_device_call(bce4j_cuda_run_fn run, const cuda::DeviceCall& d, cuda::DeviceOutcome* outcome) {
    outcome->first_invalid = -1;
    const int32_t status = run(&d, outcome);
    if (status != BCE4J_OK) {
        outcome->message[cuda::kMessageCapacity - 1] = '\0';
        return fail(static_cast<bce4j_status>(status), "%s", outcome->message);
    }
    return BCE4J_OK;
}

}  // namespace

bce4j_status run_on_cuda(const Prepared& c, const RunArgs& call, Device device, void* stream) {
    cuda::DeviceCall d;
    bce4j_cuda_run_fn run = nullptr;
    if (bce4j_status s = device_call(c, call, device, stream, &d, &run)) return s;
    cuda::DeviceOutcome outcome{};
    if (bce4j_status s = run_device_call(run, d, &outcome)) return s;
    if (outcome.first_invalid >= 0) {
        return fail_out_of_range(c.kind, c.input, outcome.first_invalid, outcome.invalid_input, outcome.invalid_target);
    }
    if (c.reduces && call.reduced_loss) *call.reduced_loss = outcome.reduced_loss;
    return BCE4J_OK;
}

bce4j_status queued_cuda_call(LossKind kind, void* stream, const bce4j_options* options, bce4j_dtype dtype,
                              int32_t ndim, const int64_t* shape, const void* input, const void* target,
                              const void* grad_output, void* loss, double* reduced_loss_device, void* grad_input,
                              void* grad_target, int64_t* first_invalid_device) {
    clear_last_error();
    try {
        Prepared p;
        if (bce4j_status s = prepare_call(kind, Device::kCuda, options, dtype, ndim, shape, &p)) return s;
        const RunArgs run = {p.max_batch, input,      target,      grad_output,     loss,
                             nullptr,     grad_input, grad_target, p.o.grad_weight, p.o.grad_pos_weight};
        cuda::DeviceCall d;
        bce4j_cuda_run_fn run_fn = nullptr;
        if (first_invalid_device == nullptr) {
            // After the checks every call makes, so that their errors come first, as on the blocking path; before
            // availability, as every argument error.
            int64_t count = 0;
            if (bce4j_status s = check_run(p, run, &count)) return s;
            return fail(BCE4J_ERROR_NULL_ARGUMENT, "first_invalid is NULL");
        }
        if (bce4j_status s = device_call(p, run, Device::kCuda, stream, &d, &run_fn)) return s;
        d.queue_only = true;
        d.reduced_loss_device = reduced_loss_device;
        d.first_invalid_device = first_invalid_device;
        cuda::DeviceOutcome outcome{};
        return run_device_call(run_fn, d, &outcome);
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

}  // namespace bce4j
