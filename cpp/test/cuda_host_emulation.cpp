// A stand-in for libbce4j_cuda, for tests on machines without a GPU: the same two entry points, running the CUDA
// library's own per-element and denominator functions (cpp/src/cuda/element_pass.h) in a plain loop over host
// memory. Loaded through BCE4J_CUDA_LIBRARY, it puts the whole CUDA path of libbce4j under test — the checks and
// the prepared DeviceCall of cuda_call.cpp, the loader, the element math as the kernels compose it, the denominators,
// the reduced loss and the out-of-range report, queued calls' device words — everything except the kernels' launches,
// memory and block sums. Every pointer it receives is host memory, for the device entry points too.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "bce4j/bce4j.h"
#include "cuda/device_call.h"
#include "cuda/element_pass.h"

namespace {

using namespace bce4j;
using namespace bce4j::cuda;

// The operand gradients as the kernels compute them (loss_kernels.cu): every (element, chunk) partial, then each
// element's partials in chunk order, offset, scaled and rounded once.
template <typename T>
int32_t weight_gradients(const DeviceCall& call, const PassArgs<T>& args, double grad_scale, double reduced,
                         DeviceOutcome* out) {
    if (call.weight_gradient_cancels) *static_cast<T*>(call.grad_weight) = Storage<T>::from_double(0.0);
    GradientTarget targets[2];
    int wanted = 0;
    if (!gradient_targets(call, targets, &wanted)) {
        std::snprintf(out->message, kMessageCapacity, "the broadcast plan does not map the weight gradients' operands");
        return BCE4J_ERROR_INTERNAL;
    }
    for (int t = 0; t < wanted; ++t) {
        const OperandPreimage& o = targets[t].preimage;
        std::vector<double> partials(static_cast<size_t>(o.count * o.chunks));
        for (int64_t item = 0; item < o.count * o.chunks; ++item) {
            const int64_t chunk = item / o.count;
            partials[item] = weight_gradient_partial(args, o, targets[t].of_pos_weight, item - chunk * o.count, chunk);
        }
        const double offset =
            targets[t].subtracts_offset && call.count > 0 ? reduced * static_cast<double>(o.multiplicity) : 0.0;
        for (int64_t j = 0; j < o.count; ++j) {
            static_cast<T*>(targets[t].out)[j] =
                finished_weight_gradient<T>(partials.data(), o.count, o.chunks, j, grad_scale, offset);
        }
    }
    return BCE4J_OK;
}

template <typename T>
int32_t run(const DeviceCall& call, DeviceOutcome* out) {
    double denominator = denominator_from_total(call.denominator, call.count, call.weight_count, 0.0);
    if (denominator_reads_data(call.denominator, call.count)) {
        int64_t n = 0;
        const T* operand = static_cast<const T*>(denominator_operand(call, &n));
        double total = 0.0;
        for (int64_t i = 0; i < n; ++i)
            total += denominator_term(call.denominator, value_at(operand, i), call.params.ignored_target);
        denominator = denominator_from_total(call.denominator, call.count, call.weight_count, total);
    }
    const PassArgs<T> args = pass_args<T>(call);
    const double upstream =
        !call.grad_output_per_element && call.grad_output ? value_at(static_cast<const T*>(call.grad_output), 0) : 1.0;
    const double grad_scale = normalise(upstream, denominator, call.zero_for_zero_denominator);
    double sum = 0.0;
    out->first_invalid = -1;
    for (int64_t i = 0; i < call.count; ++i) {
        bool invalid = false;
        sum += run_element(args, i, grad_scale, &invalid);
        if (invalid) {
            if (call.queue_only) {  // a queued call reports it in its device word, as the library does
                *static_cast<int64_t*>(call.first_invalid_device) = i;
                return BCE4J_OK;
            }
            out->first_invalid = i;
            out->invalid_input = value_at(args.input, i);
            out->invalid_target = value_at(args.target, i);
            return BCE4J_OK;
        }
    }
    if (call.reduces) {
        out->reduced_loss = normalise(sum, denominator, call.zero_for_zero_denominator);
        if (call.loss) *static_cast<T*>(call.loss) = Storage<T>::from_double(out->reduced_loss);
    }
    if (int32_t status = weight_gradients(call, args, grad_scale, out->reduced_loss, out)) return status;
    if (call.queue_only) {
        *static_cast<int64_t*>(call.first_invalid_device) = -1;
        if (call.reduces && call.reduced_loss_device)
            *static_cast<double*>(call.reduced_loss_device) = out->reduced_loss;
    }
    return BCE4J_OK;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_interface_version(void) { return kInterfaceVersion; }

__attribute__((visibility("default"))) void bce4j_cuda_impl_probe(Probe* probe) {
    *probe = Probe{};
    probe->state = BCE4J_CUDA_AVAILABLE;
    probe->device_count = 1;
    std::snprintf(probe->description, kMessageCapacity, "available (1 device: host emulation for tests)");
}

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_run(const DeviceCall* call, DeviceOutcome* outcome) {
    switch (call->dtype) {
        case BCE4J_FLOAT32: return run<float>(*call, outcome);
        case BCE4J_FLOAT64: return run<double>(*call, outcome);
        case BCE4J_FLOAT16: return run<Float16>(*call, outcome);
        case BCE4J_BFLOAT16: return run<BFloat16>(*call, outcome);
    }
    return BCE4J_ERROR_INTERNAL;
}

}  // extern "C"
