// The neon kernel table: simd_kernels.h over the lane operations of neon_lanes.h (aarch64's Advanced SIMD, its
// baseline: no flags needed). Called only where HWCAP_ASIMD says the CPU has it.
#include "neon_lanes.h"
#include "simd_kernels.h"

namespace bce4j {

const KernelTable& neon_kernel_table() {
    static const KernelTable table = neon::simd_kernel_table("neon");
    return table;
}

}  // namespace bce4j
