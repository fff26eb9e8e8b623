// vector_math.h on neon_lanes.h, for vector_math_test.cpp. Advanced SIMD is aarch64's baseline (no flags); called
// only where the CPU has it.
#include "kernels/neon_lanes.h"
#include "vector_math_evaluate.h"
