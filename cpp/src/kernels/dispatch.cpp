// Chooses the kernels once: the best instruction set this CPU supports, unless the environment variable
// BCE4J_ISA names another available one (e.g. BCE4J_ISA=scalar to compare against the reference).
#include <cstdlib>
#include <cstring>

#include "row_kernel.h"

namespace bce4j {
namespace {

#ifdef BCE4J_HAVE_AVX2
bool cpu_has_avx2() {
    // F16C (16-bit storage conversions) came with or before AVX2 on every x86 CPU that has both.
    static const bool has =
        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    return has;
}
#endif

#ifdef BCE4J_HAVE_AVX512
bool cpu_has_avx512() {
    // libgcc's check includes the OS's support for the AVX-512 register state (XCR0).
    static const bool has = __builtin_cpu_supports("avx512f");
    return has;
}
#endif

}  // namespace

const KernelTable* kernel_table_for(const char* isa) {
    if (isa == nullptr) return nullptr;
    if (std::strcmp(isa, "scalar") == 0) return &scalar_kernel_table();
#ifdef BCE4J_HAVE_AVX2
    if (std::strcmp(isa, "avx2") == 0 && cpu_has_avx2()) return &avx2_kernel_table();
#endif
#ifdef BCE4J_HAVE_AVX512
    if (std::strcmp(isa, "avx512") == 0 && cpu_has_avx512()) return &avx512_kernel_table();
#endif
    return nullptr;
}

const KernelTable& choose_kernel_table(const char* requested) {
    if (const KernelTable* forced = kernel_table_for(requested)) return *forced;
    // avx512 is left out until its kernels have passed the test suite on an AVX-512 CPU (none was available when
    // they were written): until then it runs only when BCE4J_ISA=avx512 asks for it.
    static constexpr const char* kBestFirst[] = {"avx2"};
    for (const char* isa : kBestFirst) {
        if (const KernelTable* table = kernel_table_for(isa)) return *table;
    }
    return scalar_kernel_table();
}

const KernelTable& active_kernel_table() {
    static const KernelTable& table = choose_kernel_table(std::getenv("BCE4J_ISA"));
    return table;
}

}  // namespace bce4j
