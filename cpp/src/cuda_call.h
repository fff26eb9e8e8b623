// The queued CUDA call (bce4j_cuda_bce_with_logits_queued / bce4j_cuda_bce_queued): checked and prepared as the
// blocking one, then queued on the caller's stream with its results written to device memory (cuda_call.cpp).
#pragma once

#include <cstdint>

#include "bce4j/bce4j.h"
#include "call.h"

namespace bce4j {

bce4j_status queued_cuda_call(LossKind kind, void* stream, const bce4j_options* options, bce4j_dtype dtype,
                              int32_t ndim, const int64_t* shape, const void* input, const void* target,
                              const void* grad_output, void* loss, double* reduced_loss_device, void* grad_input,
                              void* grad_target, int64_t* first_invalid_device);

}  // namespace bce4j
