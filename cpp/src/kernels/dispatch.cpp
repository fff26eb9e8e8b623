// Chooses the kernels once, at load time. Only the scalar reference exists so far; SIMD tables join here,
// picked by CPU detection.
#include "row_kernel.h"

namespace bce4j {

const KernelTable& active_kernel_table() {
    static const KernelTable& table = scalar_kernel_table();
    return table;
}

}  // namespace bce4j
