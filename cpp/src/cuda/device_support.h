// The decisions libbce4j_cuda makes from what the CUDA runtime reports, as plain host C++ that needs no GPU: what the
// probe says about the driver and the devices, which devices this build's code runs on, and whether a pointer may be
// handed to the kernels. library.cu feeds them the runtime's answers; the tests feed them described devices.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"

namespace bce4j::cuda {

// The code the library's fatbin holds, from CMake's CUDA_ARCHITECTURES of the target ("75-real,80-real,120-virtual";
// an entry without a suffix is both; "90a-real" is arch-specific machine code, which runs on 9.0 only). A list CMake
// resolves only inside the compiler ("all", "native", ...) leaves `known` false, and then every device is assumed
// to run the code (a failed launch still says why).
struct BuiltCode {
    struct Entry {
        int arch;            // 75 = compute capability 7.5
        bool exact = false;  // "a" suffix: that capability only
    };
    std::vector<Entry> machine_code;  // sm_XY cubins: run on capability X.Y to X.9
    std::vector<Entry> ptx;           // compute_XY PTX: compiled by the driver for X.Y and every later capability
    bool known = false;
};

inline BuiltCode parse_architectures(const std::string& list) {
    BuiltCode code;
    code.known = true;
    size_t begin = 0;
    while (begin <= list.size()) {
        size_t end = list.find_first_of(",;", begin);
        if (end == std::string::npos) end = list.size();
        const std::string entry = list.substr(begin, end - begin);
        begin = end + 1;
        if (entry.empty()) continue;
        size_t digits = 0;
        while (digits < entry.size() && entry[digits] >= '0' && entry[digits] <= '9') ++digits;
        if (digits == 0) return BuiltCode{};  // "all", "native", ...: not known here
        BuiltCode::Entry e;
        e.arch = std::stoi(entry.substr(0, digits));
        std::string rest = entry.substr(digits);
        if (!rest.empty() && (rest[0] == 'a' || rest[0] == 'f')) {
            e.exact = rest[0] == 'a';  // "f" (family) code runs on the later minors of its major, as plain code does
            rest = rest.substr(1);
        }
        if (rest.empty() || rest == "-real") code.machine_code.push_back(e);
        if (rest.empty() || rest == "-virtual") code.ptx.push_back(e);
        if (!rest.empty() && rest != "-real" && rest != "-virtual") return BuiltCode{};
    }
    if (code.machine_code.empty() && code.ptx.empty()) return BuiltCode{};
    return code;
}

inline bool runs_on(const BuiltCode& code, int major, int minor) {
    if (!code.known) return true;
    const int capability = major * 10 + minor;
    for (const BuiltCode::Entry& e : code.machine_code) {
        if (e.exact ? capability == e.arch : major == e.arch / 10 && minor >= e.arch % 10) return true;
    }
    for (const BuiltCode::Entry& e : code.ptx) {
        if (e.exact ? capability == e.arch : capability >= e.arch) return true;
    }
    return false;
}

inline std::string capability_text(int major, int minor) { return std::to_string(major) + "." + std::to_string(minor); }

// "machine code for sm_75 sm_80 and PTX for compute_120"
inline std::string describe_code(const BuiltCode& code) {
    std::string text;
    const auto list = [](const std::vector<BuiltCode::Entry>& entries, const char* prefix) {
        std::string names;
        for (const BuiltCode::Entry& e : entries) {
            names += (names.empty() ? "" : " ") + (prefix + std::to_string(e.arch)) + (e.exact ? "a" : "");
        }
        return names;
    };
    if (!code.machine_code.empty()) text = "machine code for " + list(code.machine_code, "sm_");
    if (!code.ptx.empty()) text += (text.empty() ? "" : " and ") + ("PTX for " + list(code.ptx, "compute_"));
    return text;
}

struct DeviceDescription {
    std::string name;
    int major = 0;
    int minor = 0;
    bool described = true;  // false: the runtime could not describe it (then it is assumed usable)
};

// Why device `ordinal` cannot run this build's kernels, or "" when it can.
inline std::string device_unusable(const BuiltCode& code, int ordinal, const DeviceDescription& d) {
    if (!d.described || runs_on(code, d.major, d.minor)) return "";
    return "CUDA device " + std::to_string(ordinal) + " (" + d.name + ", compute capability " +
           capability_text(d.major, d.minor) + ") cannot run bce4j's kernels: this build has " + describe_code(code);
}

// How counting the devices went (cudaGetDeviceCount), in the probe's terms.
enum class DeviceCountResult { kOk, kDriverTooOld, kNoDevice, kFailed };

struct ProbeFacts {
    int driver_version = 0;   // cudaDriverGetVersion: 0 when no driver is installed
    int runtime_version = 0;  // CUDART_VERSION of the build
    DeviceCountResult count_result = DeviceCountResult::kOk;
    std::string count_error;                 // for kFailed: what the runtime said
    std::vector<DeviceDescription> devices;  // for kOk
};

struct ProbeVerdict {
    int32_t state;     // a bce4j_cuda_state
    int32_t usable;    // devices this build runs on
    std::string text;  // "available (...)" or "unavailable (...)"
};

inline std::string version_text(int version) {
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

// What bce4j_cuda_availability and bce4j_cuda_description say for these facts.
inline ProbeVerdict assess(const BuiltCode& code, const ProbeFacts& f) {
    if (f.driver_version == 0) return {BCE4J_CUDA_NO_DRIVER, 0, "unavailable (no CUDA driver is installed)"};
    switch (f.count_result) {
        case DeviceCountResult::kDriverTooOld:
            return {BCE4J_CUDA_DRIVER_TOO_OLD, 0,
                    "unavailable (the CUDA driver supports CUDA " + version_text(f.driver_version) +
                        "; bce4j was built with CUDA " + version_text(f.runtime_version) + ")"};
        case DeviceCountResult::kNoDevice: return {BCE4J_CUDA_NO_DEVICE, 0, "unavailable (no CUDA device)"};
        case DeviceCountResult::kFailed:
            return {BCE4J_CUDA_ERROR, 0, "unavailable (CUDA failed to count the devices: " + f.count_error + ")"};
        case DeviceCountResult::kOk: break;
    }
    if (f.devices.empty()) return {BCE4J_CUDA_NO_DEVICE, 0, "unavailable (no CUDA device)"};
    std::string usable_names;
    std::string unusable;
    int32_t usable = 0;
    for (size_t i = 0; i < f.devices.size(); ++i) {
        const DeviceDescription& d = f.devices[i];
        if (device_unusable(code, static_cast<int>(i), d).empty()) {
            ++usable;
            usable_names += (usable_names.empty() ? "" : ", ") + (d.described ? d.name : "device " + std::to_string(i));
        } else {
            unusable +=
                (unusable.empty() ? "" : ", ") + ("device " + std::to_string(i) + " " + d.name +
                                                  " (compute capability " + capability_text(d.major, d.minor) + ")");
        }
    }
    const std::string code_text = "this build has " + describe_code(code);
    if (usable == 0) {
        return {BCE4J_CUDA_NO_DEVICE, 0,
                "unavailable (no CUDA device this build can run on: " + unusable + "; " + code_text + ")"};
    }
    std::string text =
        "available (" + std::to_string(usable) + (usable == 1 ? " device: " : " devices: ") + usable_names;
    if (!unusable.empty()) text += "; not usable: " + unusable + ", as " + code_text;
    return {BCE4J_CUDA_AVAILABLE, usable, text + ")"};
}

// What cudaPointerGetAttributes says about an address, in the check's terms.
enum class MemoryKind { kUnknown, kHost, kDevice, kManaged };

struct PointerFacts {
    MemoryKind kind = MemoryKind::kUnknown;
    int device = -1;                      // kDevice: the device it belongs to
    bool device_address_is_same = false;  // kHost: page-locked memory mapped at the same address on the device
};

// Why argument `name` (a pointer of a device entry point) cannot be given to the kernels on `current_device`, or "".
// Memory the device cannot reach would fault in the kernel with a sticky error, which loses the CUDA context of
// every user of the device in the process. `pageable_access`: the device reads any host memory (HMM / ATS systems,
// cudaDevAttrPageableMemoryAccess), so that unknown addresses are the caller's to vouch for.
inline std::string pointer_problem(const char* name, const PointerFacts& f, int current_device, bool pageable_access) {
    switch (f.kind) {
        case MemoryKind::kManaged: return "";
        case MemoryKind::kDevice:
            if (f.device == current_device) return "";
            return std::string(name) + " is memory of CUDA device " + std::to_string(f.device) +
                   ", but the call runs on device " + std::to_string(current_device) +
                   " (the calling thread's current device)";
        case MemoryKind::kHost:
            if (f.device_address_is_same) return "";
            return std::string(name) +
                   " is page-locked host memory that the device does not see at the same address; pass its device "
                   "address (cudaHostGetDevicePointer)";
        case MemoryKind::kUnknown:
            if (pageable_access) return "";
            return std::string(name) +
                   " is not device memory (CUDA does not know the address: host memory, or none at all); "
                   "bce4j_cuda_bce_with_logits and bce4j_cuda_bce take device pointers, the *_host entry points take "
                   "host buffers";
    }
    return "";
}

}  // namespace bce4j::cuda
