// vector_math.h on avx512_lanes.h, for vector_math_test.cpp. Compiled with -mavx512f (CMakeLists.txt) and called
// only where the CPU and the OS support AVX-512F.
#include "kernels/avx512_lanes.h"
#include "vector_math_evaluate.h"
