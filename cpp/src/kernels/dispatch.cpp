// Chooses the kernels once: the best instruction set this CPU supports, unless the environment variable
// BCE4J_ISA names another available one (e.g. BCE4J_ISA=scalar to compare against the reference).
#include "dispatch.h"

#include <cstdlib>
#include <cstring>

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

// Every kernel name any build knows, in the order they are listed.
constexpr const char* kKnownIsas[] = {"scalar", "avx2", "avx512"};

// The known names that `keep` accepts, joined by `separator`.
template <typename Keep>
std::string known_isas(const char* separator, Keep keep) {
    std::string out;
    for (const char* isa : kKnownIsas) {
        if (!keep(isa)) continue;
        if (!out.empty()) out += separator;
        out += isa;
    }
    return out;
}

bool built_with(const char* isa) {
    if (std::strcmp(isa, "scalar") == 0) return true;
#ifdef BCE4J_HAVE_AVX2
    if (std::strcmp(isa, "avx2") == 0) return true;
#endif
#ifdef BCE4J_HAVE_AVX512
    if (std::strcmp(isa, "avx512") == 0) return true;
#endif
    return false;
}

const KernelTable& default_kernel_table() {
    // avx512 is left out until its kernels have passed the test suite on an AVX-512 CPU (none was available when
    // they were written): until then it runs only when BCE4J_ISA=avx512 asks for it.
    static constexpr const char* kBestFirst[] = {"avx2"};
    for (const char* isa : kBestFirst) {
        if (const KernelTable* table = kernel_table_for(isa)) return *table;
    }
    return scalar_kernel_table();
}

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

KernelChoice choose_kernels(const char* request) {
    static const std::string kDefault = "the default for this CPU";
    if (request == nullptr || request[0] == '\0') return {&default_kernel_table(), "", kDefault};
    const std::string named = request;
    if (const KernelTable* forced = kernel_table_for(request)) return {forced, named, "forced by BCE4J_ISA=" + named};
    bool known = false;
    for (const char* isa : kKnownIsas) known = known || named == isa;
    std::string why;
    if (!known) {
        why = "not a kernel name (" + known_isas(", ", [](const char*) { return true; }) + ")";
    } else if (!built_with(request)) {
        why = "this build has no " + named + " kernels";
    } else {
        why = "this CPU cannot run the " + named + " kernels";
    }
    return {&default_kernel_table(), named, "BCE4J_ISA=" + named + " ignored: " + why + "; " + kDefault};
}

const KernelTable& choose_kernel_table(const char* requested) { return *choose_kernels(requested).table; }

const KernelChoice& active_kernel_choice() {
    static const KernelChoice choice = choose_kernels(std::getenv("BCE4J_ISA"));
    return choice;
}

const KernelTable& active_kernel_table() {
    static const KernelTable& table = *active_kernel_choice().table;
    return table;
}

const std::string& available_isas() {
    static const std::string list = known_isas(",", [](const char* isa) { return kernel_table_for(isa) != nullptr; });
    return list;
}

}  // namespace bce4j
