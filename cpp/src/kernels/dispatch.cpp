// Chooses the kernels once: the widest instruction set this CPU supports (on x86-64 avx512 where it has AVX-512F,
// else avx2 where it has AVX2, FMA and F16C; on aarch64 neon where it has Advanced SIMD; else scalar), unless the
// environment variable BCE4J_ISA names another available one (e.g. BCE4J_ISA=scalar to compare against the
// reference). A BCE4J_ISA value that cannot be followed is reported once on stderr.
#include "dispatch.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifdef BCE4J_HAVE_NEON
#include <sys/auxv.h>
#endif

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
    // The avx512 kernels are compiled with -mavx512f alone (AVX512_BF16 is checked where it is used). libgcc's check
    // includes the OS's support for the AVX-512 register state (XCR0).
    static const bool has = __builtin_cpu_supports("avx512f");
    return has;
}
#endif

#ifdef BCE4J_HAVE_NEON
bool cpu_has_neon() {
    // Advanced SIMD with its floating point (FCVTL/FCVTN for fp16 storage are base AArch64); every AArch64 Linux CPU
    // has both, the check is for the odd emulator or kernel that says otherwise.
    static const bool has = (getauxval(AT_HWCAP) & (HWCAP_ASIMD | HWCAP_FP)) == (HWCAP_ASIMD | HWCAP_FP);
    return has;
}
#endif

// Every kernel name a build for this architecture knows, in the order they are listed.
#if defined(__aarch64__)
constexpr const char* kKnownIsas[] = {"scalar", "neon"};
#else
constexpr const char* kKnownIsas[] = {"scalar", "avx2", "avx512"};
#endif

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
#ifdef BCE4J_HAVE_NEON
    if (std::strcmp(isa, "neon") == 0) return true;
#endif
    return false;
}

// Widest first. The avx512 kernels were faster than avx2 on every AVX-512 CPU measured (AMD Zen 4, an Intel
// Sapphire Rapids class Xeon; see the README), so the CPU's features alone decide.
#if defined(__aarch64__)
constexpr const char* kDefaultOrder[] = {"neon"};
#else
constexpr const char* kDefaultOrder[] = {"avx512", "avx2"};
#endif

const KernelTable& default_kernel_table() {
    for (const char* isa : kDefaultOrder) {
        if (const KernelTable* table = kernel_table_for(isa)) return *table;
    }
    return scalar_kernel_table();
}

// Why the default is what it is: the CPU features its kernels need, or what the CPU lacks for wider ones.
std::string default_reason() {
    const std::string isa = default_kernel_table().isa;
    if (isa == "neon") return "the default for this CPU, which has Advanced SIMD";
    if (built_with("neon")) return "the default for this CPU, which lacks Advanced SIMD";
    if (isa == "avx512") return "the default for this CPU, which has AVX-512F";
    if (isa == "avx2") {
        return built_with("avx512") ? "the default for this CPU, which has AVX2, FMA and F16C but not AVX-512F"
                                    : "the default for this CPU, which has AVX2, FMA and F16C";
    }
    return built_with("avx2") ? "the default for this CPU, which lacks AVX2, FMA or F16C"
                              : "the default for this build, which has no SIMD kernels";
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
#ifdef BCE4J_HAVE_NEON
    if (std::strcmp(isa, "neon") == 0 && cpu_has_neon()) return &neon_kernel_table();
#endif
    return nullptr;
}

KernelChoice choose_kernels(const char* request) {
    if (request == nullptr || request[0] == '\0') return {&default_kernel_table(), "", default_reason()};
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
    const KernelTable& fallback = default_kernel_table();
    return {&fallback, named,
            "BCE4J_ISA=" + named + " ignored: " + why + "; running " + fallback.isa + ", " + default_reason()};
}

const KernelTable& choose_kernel_table(const char* requested) { return *choose_kernels(requested).table; }

const KernelChoice& active_kernel_choice() {
    static const KernelChoice choice = [] {
        KernelChoice c = choose_kernels(std::getenv("BCE4J_ISA"));
        // A request that was not followed is never silent: one line, once per process.
        if (!c.request.empty() && kernel_table_for(c.request.c_str()) == nullptr)
            std::fprintf(stderr, "bce4j: %s\n", c.reason.c_str());
        return c;
    }();
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
