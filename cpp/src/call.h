// One loss call through the C ABI, from the entry point's arguments to a checked description that the CPU pass
// (cpu_call.cpp) or the CUDA library (cuda_call.cpp) runs.
#pragma once

#include <cstdint>

#include "bce4j/bce4j.h"
#include "broadcast_plan.h"
#include "element_math.h"

namespace bce4j {

enum class LossKind { kLogits, kProbabilities };

// Where a call runs: the CPU, a CUDA device on device pointers, or a CUDA device on host buffers staged through it.
enum class Device { kCpu, kCuda, kCudaHostBuffers };

// An entry point's arguments, as given.
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
    ShapeRef weight_shape;  // {0, nullptr} when there is no weight
    ShapeRef pos_weight_shape;
    bool reduces;
    ElementParams params;
};

// Checks everything about `call` that needs no tensor data (call_checks.cpp), with the message of the first rule it
// breaks, and builds its element parameters.
bce4j_status check_call(const Call& call, bce4j_dtype dtype, Checked* checked);

// The element count of a shape that passed the checks (a 0 among its dimensions makes it 0, whatever the others).
int64_t element_count(ShapeRef s);

// The error for the first element whose input (BCELoss) or target is outside [0, 1].
bce4j_status fail_out_of_range(LossKind kind, ShapeRef input, int64_t index, double x, double y);

// Runs a checked call on the CPU (cpu_call.cpp), for T = float, double, Float16, BFloat16.
template <typename T>
bce4j_status run_on_cpu(const Call& call, const Checked& checked);

// Runs a checked float32 or float64 call through libbce4j_cuda (cuda_call.cpp).
bce4j_status run_on_cuda(const Call& call, const Checked& checked, bce4j_dtype dtype);

}  // namespace bce4j
