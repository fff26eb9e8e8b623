#include "cuda_loader.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "bce4j/bce4j.h"

namespace bce4j::cuda {
namespace {

// What bce4j_cuda_use_library named, and whether loading has begun (after which it is fixed).
struct Request {
    std::mutex mutex;
    std::string path;
    bool load_started = false;
};

Request& request() {
    static Request r;
    return r;
}

// The directory this library was loaded from, with a trailing '/', or "" (then dlopen searches the usual path).
std::string own_directory() {
    Dl_info info;
    if (dladdr(reinterpret_cast<const void*>(&loaded), &info) == 0 || info.dli_fname == nullptr) return "";
    const std::string path = info.dli_fname;
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// The file a handle's symbol lives in, as the dynamic loader found it (a bare name becomes the path searched out).
std::string file_of(const void* symbol, const std::string& fallback) {
    Dl_info info;
    if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr || info.dli_fname[0] == '\0') {
        return fallback;
    }
    return info.dli_fname;
}

Loaded unavailable(int32_t state, const std::string& reason, const std::string& path) {
    return {state, 0, "unavailable (" + reason + ")", nullptr, path};
}

Loaded load() {
    std::string named;
    {
        Request& r = request();
        std::lock_guard<std::mutex> lock(r.mutex);
        r.load_started = true;
        named = r.path;
    }
    const char* override_path = std::getenv("BCE4J_CUDA_LIBRARY");
    const std::string path = override_path != nullptr && override_path[0] != '\0' ? override_path
                             : !named.empty()                                     ? named
                                              : own_directory() + "libbce4j_cuda.so";
    // Never closed: the CUDA runtime inside keeps state (contexts, streams) for the life of the process.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        const char* error = dlerror();
        return unavailable(BCE4J_CUDA_LIBRARY_ABSENT,
                           "the CUDA library could not be loaded: " + std::string(error ? error : path), path);
    }
    const auto interface_version =
        reinterpret_cast<bce4j_cuda_interface_version_fn>(dlsym(handle, BCE4J_CUDA_INTERFACE_VERSION_SYMBOL));
    const auto probe = reinterpret_cast<bce4j_cuda_probe_fn>(dlsym(handle, BCE4J_CUDA_PROBE_SYMBOL));
    const auto run = reinterpret_cast<bce4j_cuda_run_fn>(dlsym(handle, BCE4J_CUDA_RUN_SYMBOL));
    if (probe == nullptr || run == nullptr) {
        return unavailable(BCE4J_CUDA_ERROR, path + " is not a bce4j CUDA library (its entry points are missing)",
                           path);
    }
    const std::string file = file_of(reinterpret_cast<const void*>(probe), path);
    // Before anything else of the library runs: one of another interface would fill a Probe of another layout.
    if (interface_version == nullptr) {
        return unavailable(BCE4J_CUDA_ERROR,
                           path + " was built for an interface version before 3 and this libbce4j for " +
                               std::to_string(kInterfaceVersion),
                           file);
    }
    const int32_t version = interface_version();
    if (version != kInterfaceVersion) {
        return unavailable(BCE4J_CUDA_ERROR,
                           path + " was built for interface version " + std::to_string(version) +
                               " and this libbce4j for " + std::to_string(kInterfaceVersion),
                           file);
    }
    Probe p{};
    probe(&p);
    p.description[kMessageCapacity - 1] = '\0';
    const bool available = p.state == BCE4J_CUDA_AVAILABLE;
    return {p.state, available ? p.device_count : 0, p.description, available ? run : nullptr, file};
}

}  // namespace

const Loaded& loaded() {
    // A function-local static is initialised exactly once, and other threads wait for it.
    static const Loaded result = load();
    return result;
}

std::string use_library(const std::string& path) {
    {
        Request& r = request();
        std::lock_guard<std::mutex> lock(r.mutex);
        if (!r.load_started) {
            r.path = path;
            return "";
        }
        if (path == r.path) return "";
    }
    // Loading has begun, so loaded() no longer needs the lock (it may still be running in another thread).
    return "an earlier CUDA call already chose the CUDA library, " + loaded().library_path +
           ", so bce4j_cuda_use_library comes too late: call it before the first CUDA call";
}

}  // namespace bce4j::cuda

extern "C" {

int32_t bce4j_cuda_availability(void) { return bce4j::cuda::loaded().state; }

const char* bce4j_cuda_description(void) { return bce4j::cuda::loaded().description.c_str(); }

int32_t bce4j_cuda_device_count(void) { return bce4j::cuda::loaded().device_count; }

const char* bce4j_cuda_library_path(void) { return bce4j::cuda::loaded().library_path.c_str(); }

}  // extern "C"
