// Finds and loads libbce4j_cuda, once, on the first CUDA call; CPU calls never come here.
#pragma once

#include <cstdint>
#include <string>

#include "cuda/device_call.h"

namespace bce4j::cuda {

struct Loaded {
    int32_t state;             // a bce4j_cuda_state
    int32_t device_count;      // 0 unless available
    std::string description;   // "available (...)" or "unavailable (...)"
    bce4j_cuda_run_fn run;     // non-null only when available
};

// Loads the library and probes the driver and devices the first time (thread-safe); the same answer afterwards.
// The library is libbce4j_cuda.so in the directory of libbce4j itself, or the file named by the environment
// variable BCE4J_CUDA_LIBRARY when that is set and not empty (read once, on that first call).
const Loaded& loaded();

}  // namespace bce4j::cuda
