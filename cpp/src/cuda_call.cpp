// A prepared call through libbce4j_cuda, over its whole shape: the description the device executes
// (cuda/device_call.h), and its outcome turned into the call's status and outputs.
#include "call.h"
#include "call_errors.h"
#include "cuda/device_call.h"
#include "cuda_loader.h"

namespace bce4j {

bce4j_status run_on_cuda(const Prepared& c, const RunArgs& call, Device device, void* stream) {
    const bce4j_options& o = c.o;
    int64_t count = 0;
    if (bce4j_status s = check_run(c, call, &count)) return s;
    if (call.grad_weight != nullptr || call.grad_pos_weight != nullptr) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "options.%s is not supported on the CUDA path yet",
                    call.grad_weight != nullptr ? "grad_weight" : "grad_pos_weight");
    }
    const cuda::Loaded& library = cuda::loaded();
    if (library.run == nullptr) return fail(BCE4J_ERROR_UNAVAILABLE, "CUDA is %s", library.description.c_str());

    cuda::DeviceCall d{};
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

    cuda::DeviceOutcome outcome{};
    outcome.first_invalid = -1;
    const int32_t status = library.run(&d, &outcome);
    if (status != BCE4J_OK) {
        outcome.message[cuda::kMessageCapacity - 1] = '\0';
        return fail(static_cast<bce4j_status>(status), "%s", outcome.message);
    }
    if (outcome.first_invalid >= 0) {
        return fail_out_of_range(c.kind, c.input, outcome.first_invalid, outcome.invalid_input, outcome.invalid_target);
    }
    if (c.reduces && call.reduced_loss) *call.reduced_loss = outcome.reduced_loss;
    return BCE4J_OK;
}

}  // namespace bce4j
