// What this build of libbce4j is and where its parts were loaded from (bce4j.h, "Native information"): each answer
// is computed once, on the first call, and kept for the life of the process.
#include <dlfcn.h>
#include <omp.h>

#include <cstdlib>  // and so, with glibc, <features.h>: __GLIBC__, __GLIBC_MINOR__
#include <string>

#include "bce4j/bce4j.h"
#include "kernels/dispatch.h"

#define BCE4J_INFO_STRINGIFY_(x) #x
#define BCE4J_INFO_STRINGIFY(x) BCE4J_INFO_STRINGIFY_(x)

namespace {

// The file holding `symbol`, as the dynamic loader recorded it, or "" when that is unknown.
std::string file_of(const void* symbol) {
    Dl_info info;
    if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
    return info.dli_fname;
}

// JavaCPP's platform names (Loader.getPlatform()), for the platforms this code compiles for.
#if defined(__linux__)
#define BCE4J_INFO_OS "linux"
#elif defined(__APPLE__)
#define BCE4J_INFO_OS "macosx"
#elif defined(_WIN32)
#define BCE4J_INFO_OS "windows"
#else
#define BCE4J_INFO_OS "unknown"
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define BCE4J_INFO_ARCH "x86_64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define BCE4J_INFO_ARCH "arm64"
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
#define BCE4J_INFO_ARCH "ppc64le"
#elif defined(__powerpc64__)
#define BCE4J_INFO_ARCH "ppc64"
#elif defined(__riscv) && __riscv_xlen == 64
#define BCE4J_INFO_ARCH "riscv64"
#elif defined(__s390x__)
#define BCE4J_INFO_ARCH "s390x"
#elif defined(__i386__) || defined(_M_IX86)
#define BCE4J_INFO_ARCH "x86"
#elif defined(__arm__)
#define BCE4J_INFO_ARCH "armhf"
#else
#define BCE4J_INFO_ARCH "unknown"
#endif

}  // namespace

extern "C" {

const char* bce4j_library_path(void) {
    // A function of internal linkage: its address is in this very file, even where another copy of libbce4j (or
    // a library that interposes bce4j_* symbols) is loaded too.
    static const std::string path = file_of(reinterpret_cast<const void*>(&file_of));
    return path.c_str();
}

const char* bce4j_platform(void) { return BCE4J_INFO_OS "-" BCE4J_INFO_ARCH; }

const char* bce4j_glibc_baseline(void) {
#if defined(BCE4J_GLIBC_BASELINE)
    // Set by the build (CMake's BCE4J_GLIBC_BASELINE), e.g. where it links against an older glibc than its headers.
    return BCE4J_INFO_STRINGIFY(BCE4J_GLIBC_BASELINE);
#elif defined(__GLIBC__)
    // The glibc this was compiled and linked against: no symbol it uses can be newer.
    return BCE4J_INFO_STRINGIFY(__GLIBC__) "." BCE4J_INFO_STRINGIFY(__GLIBC_MINOR__);
#else
    return "";
#endif
}

const char* bce4j_compiler(void) {
#if defined(__clang__)
    return "Clang " __clang_version__;
#elif defined(__GNUC__)
    return "GCC " __VERSION__;
#else
    return "unknown";
#endif
}

const char* bce4j_openmp_library_path(void) {
    static const std::string path = file_of(reinterpret_cast<const void*>(&omp_get_max_threads));
    return path.c_str();
}

const char* bce4j_cpu_isas_available(void) { return bce4j::available_isas().c_str(); }

const char* bce4j_cpu_isa_request(void) { return bce4j::active_kernel_choice().request.c_str(); }

const char* bce4j_cpu_isa_reason(void) { return bce4j::active_kernel_choice().reason.c_str(); }

}  // extern "C"
