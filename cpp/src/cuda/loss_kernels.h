// The kernels of libbce4j_cuda, queued by enqueue_loss; library.cu owns memory, streams and errors.
#pragma once

#include <cuda_runtime.h>

#include "device_call.h"

namespace bce4j::cuda {

// Partial sums per reduction. The grid is a function of the element count alone (never of the device), and every
// thread, block and partial is summed in a fixed order: the reductions give the same bits on every run.
constexpr int kMaxBlocks = 4096;

// Device memory of one call besides its tensors.
struct DeviceScratch {
    double loss_partials[kMaxBlocks];
    double denominator_partials[kMaxBlocks];
    double denominator;
    struct Result {
        double reduced_loss;
        unsigned long long first_invalid;  // ULLONG_MAX: none
    } result;
};

// Queues the whole call on `stream`: the denominator (when it needs data), the fused pass over the elements, and
// the reduced loss into scratch->result (and into call.loss for the reductions). scratch->result.first_invalid
// must have been set to ULLONG_MAX; then the operand gradients, into `gradient_partials` (room for
// gradient_partial_count doubles) and the call's grad_weight / grad_pos_weight. Returns the first launch error.
cudaError_t enqueue_loss(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch,
                         double* gradient_partials);

}  // namespace bce4j::cuda
