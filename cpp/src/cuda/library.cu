// libbce4j_cuda: the two entry points libbce4j finds with dlsym. Probes the driver and devices, and runs prepared
// calls: on device memory on the caller's stream, or on host memory staged through the device.
#include <cuda.h>  // the driver's types only: its functions come through cudaGetDriverEntryPointByVersion
#include <cuda_runtime.h>

#include <climits>
#include <cstdio>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "../storage_types.h"
#include "bce4j/bce4j.h"
#include "device_call.h"
#include "device_support.h"
#include "element_pass.h"
#include "loss_kernels.h"

namespace bce4j::cuda {
namespace {

// Errors of the kernels' execution. CUDA reports them at the next call that touches the device (the copy of the
// result, the synchronisation) and from then on: they are sticky, and the context is lost for the whole process.
bool is_kernel_fault(cudaError_t error) {
    switch (error) {
        case cudaErrorIllegalAddress:
        case cudaErrorLaunchFailure:
        case cudaErrorMisalignedAddress:
        case cudaErrorIllegalInstruction:
        case cudaErrorInvalidAddressSpace:
        case cudaErrorInvalidPc:
        case cudaErrorHardwareStackError:
        case cudaErrorAssert:
        case cudaErrorLaunchTimeout: return true;
        default: return false;
    }
}

int32_t device_failure(DeviceOutcome* out, const char* step, cudaError_t error) {
    if (is_kernel_fault(error)) {
        std::snprintf(out->message, kMessageCapacity,
                      "CUDA failed to run the kernels: %s (%s); the device's CUDA context is lost for this process",
                      cudaGetErrorString(error), cudaGetErrorName(error));
    } else {
        std::snprintf(out->message, kMessageCapacity, "CUDA failed to %s: %s (%s)", step, cudaGetErrorString(error),
                      cudaGetErrorName(error));
    }
    return BCE4J_ERROR_DEVICE;
}

int32_t refuse(DeviceOutcome* out, int32_t status, const std::string& why) {
    std::snprintf(out->message, kMessageCapacity, "%s", why.c_str());
    return status;
}

// The code this library holds (CMake passes the target's CUDA_ARCHITECTURES).
const BuiltCode& built_code() {
    static const BuiltCode code = parse_architectures(BCE4J_CUDA_ARCHITECTURES);
    return code;
}

std::string error_text(cudaError_t error) {
    return std::string(cudaGetErrorString(error)) + " (" + cudaGetErrorName(error) + ")";
}

DeviceDescription describe_device(int ordinal) {
    DeviceDescription d;
    cudaDeviceProp properties;
    if (cudaGetDeviceProperties(&properties, ordinal) != cudaSuccess) {
        cudaGetLastError();  // not sticky: clear it
        d.described = false;
        return d;
    }
    d.name = properties.name;
    d.major = properties.major;
    d.minor = properties.minor;
    return d;
}

void probe_devices(Probe* probe) {
    ProbeFacts facts;
    facts.runtime_version = CUDART_VERSION;
    cudaDriverGetVersion(&facts.driver_version);  // 0 when no driver is installed
    int count = 0;
    if (facts.driver_version != 0) {
        const cudaError_t error = cudaGetDeviceCount(&count);
        if (error == cudaErrorInsufficientDriver || error == cudaErrorCompatNotSupportedOnDevice) {
            facts.count_result = DeviceCountResult::kDriverTooOld;
        } else if (error == cudaErrorNoDevice) {
            facts.count_result = DeviceCountResult::kNoDevice;
        } else if (error != cudaSuccess) {
            facts.count_result = DeviceCountResult::kFailed;
            facts.count_error = error_text(error);
        }
        if (error != cudaSuccess) count = 0;
    }
    for (int i = 0; i < count; ++i) facts.devices.push_back(describe_device(i));
    const ProbeVerdict verdict = assess(built_code(), facts);
    probe->state = verdict.state;
    probe->device_count = verdict.usable;
    std::snprintf(probe->description, kMessageCapacity, "%s", verdict.text.c_str());
}

// Keeps the calling thread's current CUDA context (its current device) as the caller had it: the first runtime call
// on a thread without one makes device 0's primary context current, which the caller's own CUDA runtime (another
// copy: this library links its own) would then see. The driver's functions come through the runtime, so that this
// library never links libcuda (a machine without a driver still loads it, and the probe says why).
class CurrentContextGuard {
public:
    CurrentContextGuard() {
        if (const Driver& d = driver(); d.get != nullptr) ok_ = d.get(&saved_) == CUDA_SUCCESS;
    }
    CurrentContextGuard(const CurrentContextGuard&) = delete;
    CurrentContextGuard& operator=(const CurrentContextGuard&) = delete;
    ~CurrentContextGuard() {
        const Driver& d = driver();
        CUcontext now = nullptr;
        if (ok_ && d.get(&now) == CUDA_SUCCESS && now != saved_) d.set(saved_);
    }

private:
    struct Driver {
        CUresult (*get)(CUcontext*) = nullptr;
        CUresult (*set)(CUcontext) = nullptr;
    };
    static const Driver& driver() {
        static const Driver d = [] {
            Driver found;
            void* get = nullptr;
            void* set = nullptr;
            cudaDriverEntryPointQueryResult get_status{}, set_status{};
            // cuCtxGetCurrent and cuCtxSetCurrent have kept their signatures since CUDA 4.0.
            if (cudaGetDriverEntryPointByVersion("cuCtxGetCurrent", &get, 4000, cudaEnableDefault, &get_status) ==
                    cudaSuccess &&
                cudaGetDriverEntryPointByVersion("cuCtxSetCurrent", &set, 4000, cudaEnableDefault, &set_status) ==
                    cudaSuccess &&
                get_status == cudaDriverEntryPointSuccess && set_status == cudaDriverEntryPointSuccess) {
                found.get = reinterpret_cast<CUresult (*)(CUcontext*)>(get);
                found.set = reinterpret_cast<CUresult (*)(CUcontext)>(set);
            } else {
                cudaGetLastError();
            }
            return found;
        }();
        return d;
    }
    CUcontext saved_ = nullptr;
    bool ok_ = false;
};

// How much freed memory bce4j's pools keep mapped between calls. Calls on device pointers need only their scratch
// (sizeof(DeviceScratch), 64 KiB); calls on host buffers stage every tensor, and keeping 256 MiB lets repeated calls
// of up to about 5M float32 elements reuse their memory, while a larger call's mapping costs little beside copying
// its bytes over PCIe. The caller's (and every other library's) default pool is never touched.
constexpr uint64_t kPoolKeepsBytes = uint64_t{256} << 20;

// One private memory pool per device, made on first use: nullptr for a device without memory pools.
class DevicePools {
public:
    cudaError_t get(int device, cudaMemPool_t* pool) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (static_cast<size_t>(device) >= pools_.size()) pools_.resize(device + 1);
        Entry& e = pools_[device];
        if (!e.made) {
            if (cudaError_t error = make(device, &e.pool)) return error;
            e.made = true;
        }
        *pool = e.pool;
        return cudaSuccess;
    }

private:
    struct Entry {
        bool made = false;
        cudaMemPool_t pool = nullptr;
    };
    static cudaError_t make(int device, cudaMemPool_t* pool) {
        int supported = 0;
        if (cudaError_t e = cudaDeviceGetAttribute(&supported, cudaDevAttrMemoryPoolsSupported, device)) return e;
        *pool = nullptr;
        if (!supported) return cudaSuccess;
        cudaMemPoolProps props{};
        props.allocType = cudaMemAllocationTypePinned;
        props.location.type = cudaMemLocationTypeDevice;
        props.location.id = device;
        if (cudaError_t e = cudaMemPoolCreate(pool, &props)) return e;
        uint64_t keep = kPoolKeepsBytes;
        // Memory freed on one caller's stream is reused on another's only once the free has completed: never by
        // making the second stream wait for the first, which would tie together streams the caller keeps apart.
        int internal_dependencies = 0;
        if (cudaError_t e = cudaMemPoolSetAttribute(*pool, cudaMemPoolAttrReleaseThreshold, &keep)) return e;
        return cudaMemPoolSetAttribute(*pool, cudaMemPoolReuseAllowInternalDependencies, &internal_dependencies);
    }
    std::mutex mutex_;
    std::vector<Entry> pools_;
};

DevicePools& pools() {
    static DevicePools p;  // never destroyed before the process ends: the runtime tears the pools down then
    return p;
}

// Device memory freed when the scope ends, in stream order, from bce4j's pool of the current device; on a device
// without memory pools, with cudaMalloc and cudaFree (which waits for the device).
class StreamBuffer {
public:
    explicit StreamBuffer(cudaStream_t stream) : stream_(stream) {}
    StreamBuffer(const StreamBuffer&) = delete;
    StreamBuffer& operator=(const StreamBuffer&) = delete;
    ~StreamBuffer() {
        if (pointer_ == nullptr) return;
        if (pooled_) {
            cudaFreeAsync(pointer_, stream_);
        } else {
            cudaFree(pointer_);
        }
    }
    cudaError_t allocate(size_t bytes) {
        if (bytes == 0) return cudaSuccess;
        int device = 0;
        cudaMemPool_t pool = nullptr;
        if (cudaError_t e = cudaGetDevice(&device)) return e;
        if (cudaError_t e = pools().get(device, &pool)) return e;
        pooled_ = pool != nullptr;
        return pooled_ ? cudaMallocFromPoolAsync(&pointer_, bytes, pool, stream_) : cudaMalloc(&pointer_, bytes);
    }
    void* get() const { return pointer_; }

private:
    cudaStream_t stream_;
    void* pointer_ = nullptr;
    bool pooled_ = true;
};

// Benchmark instrumentation (cpp/bench/cuda_bandwidth.cpp): when a thread turns it on, its calls record CUDA events
// just before the first kernel and just after the last, so that the kernels' own time can be told from the call's.
struct KernelTimer {
    bool on = false;
    bool recorded = false;
    cudaEvent_t start = nullptr;
    cudaEvent_t stop = nullptr;
};

KernelTimer& kernel_timer() {
    thread_local KernelTimer timer;
    return timer;
}

size_t dtype_size(const DeviceCall& call) {
    switch (call.dtype) {
        case BCE4J_FLOAT32: return sizeof(float);
        case BCE4J_FLOAT16:
        case BCE4J_BFLOAT16: return sizeof(uint16_t);
        default: return sizeof(double);
    }
}

// The value of one element of `dtype`, from its bytes.
template <typename S>
double stored_as(const unsigned char* bytes) {
    S v;
    std::memcpy(&v, bytes, sizeof v);
    return to_double(v);
}

double stored_value(int32_t dtype, const unsigned char* bytes) {
    switch (dtype) {
        case BCE4J_FLOAT32: return stored_as<float>(bytes);
        case BCE4J_FLOAT16: return stored_as<Float16>(bytes);
        case BCE4J_BFLOAT16: return stored_as<BFloat16>(bytes);
        default: return stored_as<double>(bytes);
    }
}

// Allocates a call's scratch on `stream` (and the operand gradients' partial sums, when wanted) and marks its
// first_invalid "none" (ULLONG_MAX) ahead of the kernels.
int32_t prepare_scratch(const DeviceCall& call, StreamBuffer& memory, StreamBuffer& gradient_memory,
                        cudaStream_t stream, DeviceScratch** scratch, double** gradient_partials, DeviceOutcome* out) {
    int64_t partials = 0;
    if (!gradient_partial_count(call, &partials)) {
        return refuse(out, BCE4J_ERROR_INTERNAL, "the broadcast plan does not map the weight gradients' operands");
    }
    *gradient_partials = nullptr;
    if (partials > 0) {
        if (cudaError_t e = gradient_memory.allocate(static_cast<size_t>(partials) * sizeof(double))) {
            return device_failure(out, "allocate", e);
        }
        *gradient_partials = static_cast<double*>(gradient_memory.get());
    }
    if (cudaError_t e = memory.allocate(sizeof(DeviceScratch))) return device_failure(out, "allocate", e);
    *scratch = static_cast<DeviceScratch*>(memory.get());
    if (cudaError_t e = cudaMemsetAsync(&(*scratch)->result.first_invalid, 0xFF, sizeof(unsigned long long), stream)) {
        return device_failure(out, "initialise", e);
    }
    return BCE4J_OK;
}

// The call on device memory: queued on the call's stream, then waited for.
int32_t run_on_device(const DeviceCall& call, DeviceOutcome* out) {
    const cudaStream_t stream = static_cast<cudaStream_t>(call.stream);
    StreamBuffer scratch_memory(stream);
    StreamBuffer gradient_memory(stream);
    DeviceScratch* scratch = nullptr;
    double* gradient_partials = nullptr;
    if (int32_t status =
            prepare_scratch(call, scratch_memory, gradient_memory, stream, &scratch, &gradient_partials, out)) {
        return status;
    }
    KernelTimer& timer = kernel_timer();
    timer.recorded = false;
    if (timer.on) {
        if (cudaError_t e = cudaEventRecord(timer.start, stream)) return device_failure(out, "record an event", e);
    }
    if (cudaError_t e = enqueue_loss(call, stream, scratch, gradient_partials))
        return device_failure(out, "launch the kernels", e);
    if (timer.on) {
        if (cudaError_t e = cudaEventRecord(timer.stop, stream)) return device_failure(out, "record an event", e);
        timer.recorded = true;
    }
    DeviceScratch::Result result;
    if (cudaError_t e = cudaMemcpyAsync(&result, &scratch->result, sizeof result, cudaMemcpyDeviceToHost, stream)) {
        return device_failure(out, "copy the result", e);
    }
    if (cudaError_t e = cudaStreamSynchronize(stream)) return device_failure(out, "run the kernels", e);
    out->reduced_loss = result.reduced_loss;
    out->first_invalid = -1;
    if (result.first_invalid != ULLONG_MAX) {
        const auto index = static_cast<int64_t>(result.first_invalid);
        const size_t size = dtype_size(call);
        unsigned char raw[2][sizeof(double)] = {};
        // On the call's stream, like everything else: cudaMemcpy would use the legacy default stream, which waits
        // for every blocking stream of the device (the caller's other work included) and is not allowed while
        // another thread captures a CUDA graph.
        if (cudaError_t e = cudaMemcpyAsync(raw[0], static_cast<const char*>(call.input) + index * size, size,
                                            cudaMemcpyDeviceToHost, stream)) {
            return device_failure(out, "read the invalid element", e);
        }
        if (cudaError_t e = cudaMemcpyAsync(raw[1], static_cast<const char*>(call.target) + index * size, size,
                                            cudaMemcpyDeviceToHost, stream)) {
            return device_failure(out, "read the invalid element", e);
        }
        if (cudaError_t e = cudaStreamSynchronize(stream)) return device_failure(out, "read the invalid element", e);
        out->first_invalid = index;
        out->invalid_input = stored_value(call.dtype, raw[0]);
        out->invalid_target = stored_value(call.dtype, raw[1]);
    }
    return BCE4J_OK;
}

// The call on host memory: each tensor copied to the current device, run there, the outputs copied back.
int32_t run_on_host_buffers(const DeviceCall& call, DeviceOutcome* out) {
    const cudaStream_t stream = cudaStreamPerThread;
    const size_t size = dtype_size(call);
    const size_t elements = static_cast<size_t>(call.count) * size;
    struct Staged {
        const void* host;
        size_t bytes;
        bool output;
    };
    const Staged staged[] = {
        {call.input, elements, false},
        {call.target, elements, false},
        {call.grad_output, call.grad_output_per_element ? elements : size, false},
        {call.weight, static_cast<size_t>(call.weight_count) * size, false},
        {call.pos_weight, static_cast<size_t>(call.pos_weight_count) * size, false},
        {call.loss, call.loss_per_element ? elements : size, true},
        {call.grad_input, elements, true},
        {call.grad_target, elements, true},
        {call.grad_weight, static_cast<size_t>(call.weight ? call.weight_count : 1) * size, true},
        {call.grad_pos_weight, static_cast<size_t>(call.pos_weight ? call.pos_weight_count : 1) * size, true},
    };
    constexpr int kTensors = sizeof staged / sizeof staged[0];
    StreamBuffer buffers[kTensors] = {
        StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream),
        StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream)};
    void* device[kTensors] = {};
    for (int i = 0; i < kTensors; ++i) {
        if (staged[i].host == nullptr) continue;
        if (cudaError_t e = buffers[i].allocate(staged[i].bytes)) return device_failure(out, "allocate", e);
        device[i] = buffers[i].get();
        if (staged[i].output || staged[i].bytes == 0) continue;
        if (cudaError_t e =
                cudaMemcpyAsync(device[i], staged[i].host, staged[i].bytes, cudaMemcpyHostToDevice, stream)) {
            return device_failure(out, "copy to the device", e);
        }
    }
    DeviceCall on_device = call;
    on_device.host_memory = false;
    on_device.stream = stream;
    on_device.input = device[0];
    on_device.target = device[1];
    on_device.grad_output = device[2];
    on_device.weight = device[3];
    on_device.pos_weight = device[4];
    on_device.loss = device[5];
    on_device.grad_input = device[6];
    on_device.grad_target = device[7];
    on_device.grad_weight = device[8];
    on_device.grad_pos_weight = device[9];
    if (int32_t status = run_on_device(on_device, out)) return status;
    if (out->first_invalid >= 0) return BCE4J_OK;  // the outputs are undefined after an out-of-range error
    for (int i = 0; i < kTensors; ++i) {
        if (!staged[i].output || device[i] == nullptr) continue;
        if (cudaError_t e = cudaMemcpyAsync(const_cast<void*>(staged[i].host), device[i], staged[i].bytes,
                                            cudaMemcpyDeviceToHost, stream)) {
            return device_failure(out, "copy from the device", e);
        }
    }
    if (cudaError_t e = cudaStreamSynchronize(stream)) return device_failure(out, "copy from the device", e);
    return BCE4J_OK;
}

// What cudaPointerGetAttributes says about `pointer`.
PointerFacts pointer_facts(const void* pointer) {
    PointerFacts f;
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, pointer) != cudaSuccess) {
        cudaGetLastError();  // not sticky: an address CUDA does not know
        return f;
    }
    switch (a.type) {
        case cudaMemoryTypeDevice:
            f.kind = MemoryKind::kDevice;
            f.device = a.device;
            break;
        case cudaMemoryTypeManaged: f.kind = MemoryKind::kManaged; break;
        case cudaMemoryTypeHost:
            f.kind = MemoryKind::kHost;
            f.device_address_is_same = a.devicePointer == pointer;
            break;
        default: break;
    }
    return f;
}

// Everything that refuses a call before anything is queued on its stream: a stream capturing a CUDA graph (the call
// waits for its results, which a capture cannot give, and queuing would break the caller's capture), a current
// device this build has no code for, and (device entry points) a pointer the kernels could not read or write, which
// would fault with an error that loses the context for every CUDA user in the process.
int32_t check_before_queuing(const DeviceCall& call, cudaStream_t stream, DeviceOutcome* out) {
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    const cudaError_t capturing = cudaStreamIsCapturing(stream, &capture);
    if (capturing == cudaErrorStreamCaptureImplicit) {
        cudaGetLastError();
        return refuse(out, BCE4J_ERROR_DEVICE,
                      "stream is the legacy default stream, which cannot be used while another stream captures a CUDA "
                      "graph; nothing was queued");
    }
    if (capturing != cudaSuccess) return device_failure(out, "query the stream", capturing);
    if (capture != cudaStreamCaptureStatusNone) {
        return refuse(out, BCE4J_ERROR_DEVICE,
                      "stream is capturing a CUDA graph: bce4j's CUDA calls wait for their results and cannot be "
                      "captured; nothing was queued, and the capture goes on");
    }
    int device = 0;
    if (cudaError_t e = cudaGetDevice(&device)) return device_failure(out, "find the current device", e);
    DeviceDescription d;
    if (cudaError_t e = cudaDeviceGetAttribute(&d.major, cudaDevAttrComputeCapabilityMajor, device)) {
        return device_failure(out, "describe the device", e);
    }
    if (cudaError_t e = cudaDeviceGetAttribute(&d.minor, cudaDevAttrComputeCapabilityMinor, device)) {
        return device_failure(out, "describe the device", e);
    }
    if (!runs_on(built_code(), d.major, d.minor)) {
        d.name = describe_device(device).name;
        return refuse(out, BCE4J_ERROR_UNAVAILABLE, device_unusable(built_code(), device, d));
    }
    if (call.host_memory) return BCE4J_OK;
    int pageable_access = 0;
    if (cudaError_t e = cudaDeviceGetAttribute(&pageable_access, cudaDevAttrPageableMemoryAccess, device)) {
        return device_failure(out, "describe the device", e);
    }
    const struct {
        const char* name;
        const void* pointer;
    } arguments[] = {{"input", call.input},
                     {"target", call.target},
                     {"grad_output", call.grad_output},
                     {"options.weight", call.weight},
                     {"options.pos_weight", call.pos_weight},
                     {"loss", call.loss},
                     {"grad_input", call.grad_input},
                     {"grad_target", call.grad_target},
                     {"options.grad_weight", call.grad_weight},
                     {"options.grad_pos_weight", call.grad_pos_weight},
                     {"reduced_loss", call.queue_only ? call.reduced_loss_device : nullptr},
                     {"first_invalid", call.queue_only ? call.first_invalid_device : nullptr}};
    for (const auto& a : arguments) {
        if (a.pointer == nullptr) continue;
        const std::string problem = pointer_problem(a.name, pointer_facts(a.pointer), device, pageable_access != 0);
        if (!problem.empty()) return refuse(out, BCE4J_ERROR_DEVICE, problem);
    }
    return BCE4J_OK;
}

// A queued call: the work and the copies of its two results into the caller's device words, in stream order, and
// the scratch handed back to the pool after them; nothing waits.
int32_t run_queued(const DeviceCall& call, DeviceOutcome* out) {
    const cudaStream_t stream = static_cast<cudaStream_t>(call.stream);
    StreamBuffer scratch_memory(stream);
    StreamBuffer gradient_memory(stream);
    DeviceScratch* scratch = nullptr;
    double* gradient_partials = nullptr;
    if (int32_t status =
            prepare_scratch(call, scratch_memory, gradient_memory, stream, &scratch, &gradient_partials, out)) {
        return status;
    }
    if (cudaError_t e = enqueue_loss(call, stream, scratch, gradient_partials))
        return device_failure(out, "launch the kernels", e);
    // ULLONG_MAX, "none", is -1 as an int64.
    static_assert(sizeof(scratch->result.first_invalid) == sizeof(int64_t), "first_invalid is copied as an int64");
    if (cudaError_t e = cudaMemcpyAsync(call.first_invalid_device, &scratch->result.first_invalid, sizeof(int64_t),
                                        cudaMemcpyDeviceToDevice, stream)) {
        return device_failure(out, "queue the copy of the result", e);
    }
    if (call.reduces && call.reduced_loss_device != nullptr) {
        if (cudaError_t e = cudaMemcpyAsync(call.reduced_loss_device, &scratch->result.reduced_loss, sizeof(double),
                                            cudaMemcpyDeviceToDevice, stream)) {
            return device_failure(out, "queue the copy of the result", e);
        }
    }
    return BCE4J_OK;
}

int32_t run(const DeviceCall& call, DeviceOutcome* out) {
    const CurrentContextGuard keep_current_context;
    const cudaStream_t stream = call.host_memory ? cudaStreamPerThread : static_cast<cudaStream_t>(call.stream);
    if (int32_t status = check_before_queuing(call, stream, out)) return status;
    if (call.queue_only) return run_queued(call, out);
    return call.host_memory ? run_on_host_buffers(call, out) : run_on_device(call, out);
}

}  // namespace
}  // namespace bce4j::cuda

extern "C" {

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_interface_version(void) {
    return bce4j::cuda::kInterfaceVersion;
}

__attribute__((visibility("default"))) void bce4j_cuda_impl_probe(bce4j::cuda::Probe* probe) {
    *probe = bce4j::cuda::Probe{};
    bce4j::cuda::probe_devices(probe);
}

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_run(const bce4j::cuda::DeviceCall* call,
                                                                   bce4j::cuda::DeviceOutcome* outcome) {
    try {
        return bce4j::cuda::run(*call, outcome);
    } catch (const std::exception& e) {
        std::snprintf(outcome->message, bce4j::cuda::kMessageCapacity, "%s", e.what());
        return BCE4J_ERROR_INTERNAL;
    }
}

// Benchmark instrumentation, not part of the interface with libbce4j (cpp/bench/cuda_bandwidth.cpp finds these with
// dlsym): turns the calling thread's kernel timing on or off (on: its events are made on the current device);
// returns a cudaError_t.
__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_time_kernels(int32_t on) {
    bce4j::cuda::KernelTimer& timer = bce4j::cuda::kernel_timer();
    if (on && timer.start == nullptr) {
        if (cudaError_t e = cudaEventCreate(&timer.start)) return e;
        if (cudaError_t e = cudaEventCreate(&timer.stop)) return e;
    }
    timer.on = on != 0;
    timer.recorded = false;
    return cudaSuccess;
}

// The calling thread's last call's kernels, in milliseconds (after the call returned), or -1 when not timed.
__attribute__((visibility("default"))) float bce4j_cuda_impl_kernel_milliseconds(void) {
    const bce4j::cuda::KernelTimer& timer = bce4j::cuda::kernel_timer();
    float milliseconds = -1;
    if (!timer.recorded || cudaEventElapsedTime(&milliseconds, timer.start, timer.stop) != cudaSuccess) return -1;
    return milliseconds;
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&bce4j_cuda_impl_interface_version), bce4j_cuda_interface_version_fn> &&
                  std::is_same_v<decltype(&bce4j_cuda_impl_probe), bce4j_cuda_probe_fn> &&
                  std::is_same_v<decltype(&bce4j_cuda_impl_run), bce4j_cuda_run_fn>,
              "the entry points must have the types libbce4j looks them up with");
