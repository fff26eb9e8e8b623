// The avx512 kernel table: simd_kernels.h over the lane operations of avx512_lanes.h. Compiled with that
// instruction set's flags (this file only, see CMakeLists.txt) and called only where the CPU has it.
#include "avx512_lanes.h"
#include "simd_kernels.h"

namespace bce4j {

const KernelTable& avx512_kernel_table() {
    static const KernelTable table = avx512::simd_kernel_table("avx512");
    return table;
}

}  // namespace bce4j
