// The private interface between libbce4j and libbce4j_cuda: plain C++ types only, no CUDA headers, so that the
// core compiles without a CUDA toolkit. The core checks every argument and option and plans the broadcast
// (cuda_call.cpp); the CUDA library receives that prepared description and only executes it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../broadcast_plan.h"
#include "../element_math.h"
#include "../reduction.h"

namespace bce4j::cuda {

// Raised whenever DeviceCall, DeviceOutcome, Probe or the entry points change, so that a core never runs a CUDA
// library of another build. 3: the version has an entry point of its own, asked before the probe. 4: queued calls.
// 5: float16 and bfloat16 storage (a library of 4 would read them as float64). 6: weight gradients.
constexpr int32_t kInterfaceVersion = 6;

constexpr size_t kMessageCapacity = 512;

struct DeviceCall {
    int32_t dtype;       // a bce4j_dtype: FLOAT32, FLOAT64, FLOAT16 or BFLOAT16
    bool host_memory;    // true: every tensor pointer is host memory, to be staged through the device
    void* stream;        // cudaStream_t (device memory only)
    int64_t count;       // elements of the input (0 for an empty input: only the reduction's value is computed)
    BroadcastPlan plan;  // weight and pos_weight over the input's index space
    const void* input;
    const void* target;
    const void* grad_output;       // NULL = 1
    bool grad_output_per_element;  // reduction NONE: input-shaped; otherwise one element
    const void* weight;            // NULL = 1
    int64_t weight_count;          // elements of weight's own shape
    const void* pos_weight;        // NULL = 1
    int64_t pos_weight_count;
    void* loss;  // NONE: input-shaped; otherwise one element for the reduced loss; NULL = not wanted
    bool loss_per_element;
    void* grad_input;         // NULL = not wanted
    void* grad_target;        // NULL = not wanted
    bool reduces;             // the loss is summed (every reduction but NONE)
    Denominator denominator;  // reduction.h; the normalised means' data-dependent ones computed on the device
    bool zero_for_zero_denominator;
    ElementParams params;  // the per-element options (element_math.h)
    // Device memory only: queue the work and return without waiting; the results go to the two device words.
    bool queue_only;
    void* reduced_loss_device;   // queue_only: a double, the reduced loss (reductions only); NULL = not wanted
    void* first_invalid_device;  // queue_only: an int64, the first out-of-range element's flat index, or -1
    // d(result)/d(weight) and d(result)/d(pos_weight) in the operand's own shape (one element for an absent operand);
    // NULL = not wanted.
    void* grad_weight;
    void* grad_pos_weight;
    // MEAN_BY_WEIGHT with one weight element: S/W does not depend on it, its gradient is exactly 0.
    bool weight_gradient_cancels;
};

// libbce4j and libbce4j_cuda must agree on this layout, ElementParams included: a new per-element option changes
// it, and then kInterfaceVersion must be raised with the size below.
static_assert(sizeof(void*) != 8 || sizeof(DeviceCall) == 1016, "DeviceCall changed: raise kInterfaceVersion");

struct DeviceOutcome {
    double reduced_loss;    // the reduced loss (only when call.reduces)
    int64_t first_invalid;  // flat index of the first input or target outside [0, 1], or -1
    double invalid_input;   // the input and target at first_invalid
    double invalid_target;
    char message[kMessageCapacity];  // for a failed run: what the CUDA runtime said
};

struct Probe {
    int32_t state;  // a bce4j_cuda_state
    int32_t device_count;
    char description[kMessageCapacity];  // "available (...)" or "unavailable (...)"
};

}  // namespace bce4j::cuda

// The symbols libbce4j_cuda exports for libbce4j, which finds them with dlsym.
extern "C" {
// The interface version the library was built with. The core asks it first, and calls nothing else of a library of
// another version: the other entry points' structures may differ, and a library would write past them.
typedef int32_t (*bce4j_cuda_interface_version_fn)(void);
// Fills `probe`.
typedef void (*bce4j_cuda_probe_fn)(bce4j::cuda::Probe* probe);
// Runs a prepared call on the calling thread's current device; returns a bce4j_status (OK, OUT_OF_RANGE is left
// to the caller through outcome->first_invalid, DEVICE or INTERNAL with outcome->message).
typedef int32_t (*bce4j_cuda_run_fn)(const bce4j::cuda::DeviceCall* call, bce4j::cuda::DeviceOutcome* outcome);
}

#define BCE4J_CUDA_INTERFACE_VERSION_SYMBOL "bce4j_cuda_impl_interface_version"
#define BCE4J_CUDA_PROBE_SYMBOL "bce4j_cuda_impl_probe"
#define BCE4J_CUDA_RUN_SYMBOL "bce4j_cuda_impl_run"
