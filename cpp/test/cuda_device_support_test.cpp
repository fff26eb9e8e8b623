// What libbce4j_cuda decides from the CUDA runtime's answers (cpp/src/cuda/device_support.h), on described drivers,
// devices and pointers, and the fast division of its broadcast offsets (cpp/src/cuda/fast_divmod.h): plain C++, the
// same functions the library and its kernels run.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "cuda/device_support.h"
#include "cuda/fast_divmod.h"

namespace {

using namespace bce4j::cuda;

// What CMake builds with CUDA 13 by default (CMakeLists.txt).
const char* const kDefaultArchitectures = "75-real,80-real,90-real,100-real,110-real,120-real,120-virtual";

DeviceDescription device(const char* name, int major, int minor) {
    DeviceDescription d;
    d.name = name;
    d.major = major;
    d.minor = minor;
    return d;
}

TEST(CudaDeviceSupport, TheBuiltCodeIsReadFromCMakesArchitectures) {
    const BuiltCode code = parse_architectures(kDefaultArchitectures);
    ASSERT_TRUE(code.known);
    EXPECT_EQ(describe_code(code), "machine code for sm_75 sm_80 sm_90 sm_100 sm_110 sm_120 and PTX for compute_120");
    EXPECT_EQ(describe_code(parse_architectures("90")), "machine code for sm_90 and PTX for compute_90");
    EXPECT_EQ(describe_code(parse_architectures("90a-real;80-virtual")),
              "machine code for sm_90a and PTX for compute_80");
    // Lists CMake resolves only in the compiler: unknown here, so no device is refused for them.
    for (const char* list : {"all", "all-major", "native", "", "90-bogus"}) {
        EXPECT_FALSE(parse_architectures(list).known) << list;
        EXPECT_TRUE(runs_on(parse_architectures(list), 3, 0)) << list;
    }
}

TEST(CudaDeviceSupport, MachineCodeRunsOnLaterMinorsOfItsMajorAndPtxOnEveryLaterCapability) {
    const BuiltCode code = parse_architectures(kDefaultArchitectures);
    for (const auto& [major, minor] : std::vector<std::pair<int, int>>{{5, 2}, {6, 0}, {6, 1}, {7, 0}, {7, 2}}) {
        EXPECT_FALSE(runs_on(code, major, minor)) << major << "." << minor;
    }
    for (const auto& [major, minor] :
         std::vector<std::pair<int, int>>{{7, 5}, {8, 0}, {8, 6}, {8, 9}, {9, 0}, {10, 3}, {12, 1}, {13, 0}}) {
        EXPECT_TRUE(runs_on(code, major, minor)) << major << "." << minor;
    }
    const BuiltCode exact = parse_architectures("90a-real");
    EXPECT_TRUE(runs_on(exact, 9, 0));
    EXPECT_FALSE(runs_on(exact, 10, 0));
    const BuiltCode ptx_only = parse_architectures("80-virtual");
    EXPECT_FALSE(runs_on(ptx_only, 7, 5));
    EXPECT_TRUE(runs_on(ptx_only, 8, 0));
    EXPECT_TRUE(runs_on(ptx_only, 12, 0));
    const BuiltCode cubin_only = parse_architectures("80-real");
    EXPECT_TRUE(runs_on(cubin_only, 8, 9));
    EXPECT_FALSE(runs_on(cubin_only, 9, 0));  // no PTX: a later major cannot run it
}

ProbeFacts facts_with(std::vector<DeviceDescription> devices) {
    ProbeFacts f;
    f.driver_version = 13000;
    f.runtime_version = 13000;
    f.devices = std::move(devices);
    return f;
}

TEST(CudaDeviceSupport, AnOldGpuAloneIsUnavailableWithTheReason) {
    const BuiltCode code = parse_architectures(kDefaultArchitectures);
    const ProbeVerdict v = assess(code, facts_with({device("Tesla P100-PCIE-16GB", 6, 0)}));
    EXPECT_EQ(v.state, BCE4J_CUDA_NO_DEVICE);
    EXPECT_EQ(v.usable, 0);
    EXPECT_EQ(v.text,
              "unavailable (no CUDA device this build can run on: device 0 Tesla P100-PCIE-16GB (compute capability "
              "6.0); this build has machine code for sm_75 sm_80 sm_90 sm_100 sm_110 sm_120 and PTX for compute_120)");
    EXPECT_EQ(device_unusable(code, 0, device("Tesla P100-PCIE-16GB", 6, 0)),
              "CUDA device 0 (Tesla P100-PCIE-16GB, compute capability 6.0) cannot run bce4j's kernels: this build "
              "has machine code for sm_75 sm_80 sm_90 sm_100 sm_110 sm_120 and PTX for compute_120");
    EXPECT_EQ(device_unusable(code, 1, device("NVIDIA H200", 9, 0)), "");
}

TEST(CudaDeviceSupport, UsableDevicesAreCountedAndTheOthersNamed) {
    const BuiltCode code = parse_architectures("90-real");
    const ProbeVerdict mixed = assess(code, facts_with({device("Tesla V100", 7, 0), device("NVIDIA H200", 9, 0)}));
    EXPECT_EQ(mixed.state, BCE4J_CUDA_AVAILABLE);
    EXPECT_EQ(mixed.usable, 1);
    EXPECT_EQ(mixed.text,
              "available (1 device: NVIDIA H200; not usable: device 0 Tesla V100 (compute capability 7.0), as this "
              "build has machine code for sm_90)");
    const ProbeVerdict all = assess(code, facts_with({device("NVIDIA H200", 9, 0), device("NVIDIA H100", 9, 0)}));
    EXPECT_EQ(all.state, BCE4J_CUDA_AVAILABLE);
    EXPECT_EQ(all.usable, 2);
    EXPECT_EQ(all.text, "available (2 devices: NVIDIA H200, NVIDIA H100)");
    DeviceDescription undescribed;
    undescribed.described = false;
    const ProbeVerdict unknown = assess(code, facts_with({undescribed}));
    EXPECT_EQ(unknown.state, BCE4J_CUDA_AVAILABLE);
    EXPECT_EQ(unknown.text, "available (1 device: device 0)");
}

TEST(CudaDeviceSupport, DriverStatesSayWhy) {
    const BuiltCode code = parse_architectures(kDefaultArchitectures);
    ProbeFacts f = facts_with({});
    f.driver_version = 0;
    EXPECT_EQ(assess(code, f).state, BCE4J_CUDA_NO_DRIVER);
    EXPECT_EQ(assess(code, f).text, "unavailable (no CUDA driver is installed)");
    f.driver_version = 12040;
    f.count_result = DeviceCountResult::kDriverTooOld;
    EXPECT_EQ(assess(code, f).state, BCE4J_CUDA_DRIVER_TOO_OLD);
    EXPECT_EQ(assess(code, f).text, "unavailable (the CUDA driver supports CUDA 12.4; bce4j was built with CUDA 13.0)");
    f.count_result = DeviceCountResult::kNoDevice;
    EXPECT_EQ(assess(code, f).state, BCE4J_CUDA_NO_DEVICE);
    EXPECT_EQ(assess(code, f).text, "unavailable (no CUDA device)");
    f.count_result = DeviceCountResult::kFailed;
    f.count_error = "unknown error (cudaErrorUnknown)";
    EXPECT_EQ(assess(code, f).state, BCE4J_CUDA_ERROR);
    EXPECT_EQ(assess(code, f).text, "unavailable (CUDA failed to count the devices: unknown error (cudaErrorUnknown))");
    EXPECT_EQ(assess(code, facts_with({})).state, BCE4J_CUDA_NO_DEVICE);
}

PointerFacts facts(MemoryKind kind, int device = -1, bool same = false) {
    PointerFacts f;
    f.kind = kind;
    f.device = device;
    f.device_address_is_same = same;
    return f;
}

TEST(CudaDeviceSupport, OnlyMemoryTheCurrentDeviceReachesGoesToTheKernels) {
    EXPECT_EQ(pointer_problem("input", facts(MemoryKind::kDevice, 0), 0, false), "");
    EXPECT_EQ(pointer_problem("input", facts(MemoryKind::kManaged), 1, false), "");
    EXPECT_EQ(pointer_problem("input", facts(MemoryKind::kHost, -1, true), 0, false), "");
    EXPECT_EQ(pointer_problem("target", facts(MemoryKind::kUnknown), 0, false),
              "target is not device memory (CUDA does not know the address: host memory, or none at all); "
              "bce4j_cuda_bce_with_logits and bce4j_cuda_bce take device pointers, the *_host entry points take host "
              "buffers");
    EXPECT_EQ(pointer_problem("target", facts(MemoryKind::kUnknown), 0, true), "");  // HMM / ATS: any host memory
    EXPECT_EQ(pointer_problem("options.weight", facts(MemoryKind::kDevice, 1), 0, false),
              "options.weight is memory of CUDA device 1, but the call runs on device 0 (the calling thread's "
              "current device)");
    EXPECT_EQ(pointer_problem("grad_input", facts(MemoryKind::kHost, -1, false), 0, false),
              "grad_input is page-locked host memory that the device does not see at the same address; pass its "
              "device address (cudaHostGetDevicePointer)");
}

void expect_divides(uint64_t d, uint64_t n) {
    const FastDivisor f = FastDivisor::of(d);
    ASSERT_EQ(f.quotient(n), n / d) << n << " / " << d;
}

TEST(CudaFastDivisor, ExactForEveryDivisorShapeAndDividend) {
    const uint64_t max = std::numeric_limits<uint64_t>::max();
    const uint64_t int64_max = std::numeric_limits<int64_t>::max();
    std::vector<uint64_t> divisors = {1, 2, 3, 5, 7, 10, 37, 641, 1000, 1023, 1024, 1025, 65535, 65536, 65537};
    for (int k = 16; k <= 63; ++k) {
        divisors.push_back(uint64_t{1} << k);
        divisors.push_back((uint64_t{1} << k) - 1);
        divisors.push_back((uint64_t{1} << k) + 1);
    }
    divisors.push_back(int64_max);
    std::mt19937_64 gen(17);
    for (int i = 0; i < 200; ++i) divisors.push_back(gen() >> (gen() % 63 + 1) | 1);
    for (const uint64_t d : divisors) {
        std::vector<uint64_t> dividends = {0, 1, d - 1, d, d + 1, 2 * d - 1, 2 * d, max, max - 1, int64_max};
        if (d <= max / 1000) dividends.push_back(d * 1000 - 1);
        for (int i = 0; i < 200; ++i) dividends.push_back(gen() >> (gen() % 64));
        for (const uint64_t n : dividends) expect_divides(d, n);
    }
    for (uint64_t d = 1; d <= 300; ++d) {
        for (uint64_t n = 0; n <= 3000; ++n) expect_divides(d, n);
    }
}

TEST(CudaFastDivisor, CeilDivDoesNotOverflowNearInt64Max) {
    const int64_t max = std::numeric_limits<int64_t>::max();
    EXPECT_EQ(ceil_div(max, 4), int64_t{1} << 61);
    EXPECT_EQ(ceil_div(max, 2), int64_t{1} << 62);
    EXPECT_EQ(ceil_div(max, 1), max);
    EXPECT_EQ(ceil_div(0, 4), 0);
    EXPECT_EQ(ceil_div(8, 4), 2);
    EXPECT_EQ(ceil_div(9, 4), 3);
}

}  // namespace
