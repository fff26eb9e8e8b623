// The avx2 kernel table: simd_kernels.h over the lane operations of avx2_lanes.h. Compiled with that
// instruction set's flags (this file only, see CMakeLists.txt) and called only where the CPU has it.
#include "avx2_lanes.h"
#include "simd_kernels.h"

namespace bce4j {

const KernelTable& avx2_kernel_table() {
    static const KernelTable table = avx2::simd_kernel_table("avx2");
    return table;
}

}  // namespace bce4j
