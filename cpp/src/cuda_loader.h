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
    std::string library_path;  // the file loaded (as the dynamic loader found it), or the one that could not be
};

// Loads the library and probes the driver and devices the first time (thread-safe); the same answer afterwards.
// The library is the file named by the environment variable BCE4J_CUDA_LIBRARY when that is set and not empty (read
// once, on that first call), otherwise the one named by use_library before that call, otherwise libbce4j_cuda.so in
// the directory of libbce4j itself.
const Loaded& loaded();

// Names the library file for loaded() (bce4j_cuda_use_library). Returns "" when accepted: before the first load, or
// with the path named before it again. Otherwise returns why not, for the caller's error message.
std::string use_library(const std::string& path);

}  // namespace bce4j::cuda
