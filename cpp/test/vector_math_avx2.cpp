// vector_math.h on avx2_lanes.h, for vector_math_test.cpp. Compiled with -mavx2 -mfma -mf16c (CMakeLists.txt) and
// called only where the CPU has all three.
#include "kernels/avx2_lanes.h"
#include "vector_math_evaluate.h"
