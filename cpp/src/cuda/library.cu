// libbce4j_cuda: the two entry points libbce4j finds with dlsym. Probes the driver and devices, and runs prepared
// calls: on device memory on the caller's stream, or on host memory staged through the device.
#include <cuda_runtime.h>

#include <climits>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include "bce4j/bce4j.h"
#include "device_call.h"
#include "loss_kernels.h"

namespace bce4j::cuda {
namespace {

int32_t device_failure(DeviceOutcome* out, const char* step, cudaError_t error) {
    std::snprintf(out->message, kMessageCapacity, "CUDA failed to %s: %s (%s)", step, cudaGetErrorString(error),
                  cudaGetErrorName(error));
    return BCE4J_ERROR_DEVICE;
}

std::string version_text(int version) {
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
}

void describe(Probe* probe, int32_t state, const std::string& text) {
    probe->state = state;
    std::snprintf(probe->description, kMessageCapacity, "%s", text.c_str());
}

void probe_devices(Probe* probe) {
    int driver = 0;
    cudaDriverGetVersion(&driver);  // 0 when no driver is installed
    if (driver == 0) {
        describe(probe, BCE4J_CUDA_NO_DRIVER, "unavailable (no CUDA driver is installed)");
        return;
    }
    int count = 0;
    const cudaError_t error = cudaGetDeviceCount(&count);
    if (error == cudaErrorInsufficientDriver || error == cudaErrorCompatNotSupportedOnDevice) {
        describe(probe, BCE4J_CUDA_DRIVER_TOO_OLD,
                 "unavailable (the CUDA driver supports CUDA " + version_text(driver) + "; bce4j was built with CUDA " +
                     version_text(CUDART_VERSION) + ")");
        return;
    }
    if (error == cudaErrorNoDevice || (error == cudaSuccess && count == 0)) {
        describe(probe, BCE4J_CUDA_NO_DEVICE, "unavailable (no CUDA device)");
        return;
    }
    if (error != cudaSuccess) {
        describe(probe, BCE4J_CUDA_ERROR,
                 std::string("unavailable (CUDA failed to count the devices: ") + cudaGetErrorString(error) + " (" +
                     cudaGetErrorName(error) + "))");
        return;
    }
    std::string names;
    for (int i = 0; i < count; ++i) {
        cudaDeviceProp properties;
        if (cudaGetDeviceProperties(&properties, i) != cudaSuccess) continue;
        names += (names.empty() ? "" : ", ") + std::string(properties.name);
    }
    probe->device_count = count;
    describe(probe, BCE4J_CUDA_AVAILABLE,
             "available (" + std::to_string(count) + (count == 1 ? " device: " : " devices: ") + names + ")");
}

// Device memory freed when the scope ends: in stream order from the device's memory pool, or, on a device without
// memory pools, with cudaMalloc and cudaFree (which waits for the device).
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
        const cudaError_t error = cudaMallocAsync(&pointer_, bytes, stream_);
        if (error != cudaErrorNotSupported) return error;
        cudaGetLastError();  // not sticky: clear it
        pooled_ = false;
        return cudaMalloc(&pointer_, bytes);
    }
    void* get() const { return pointer_; }

private:
    cudaStream_t stream_;
    void* pointer_ = nullptr;
    bool pooled_ = true;
};

size_t dtype_size(const DeviceCall& call) { return call.dtype == BCE4J_FLOAT32 ? sizeof(float) : sizeof(double); }

// The call on device memory: queued on the call's stream, then waited for.
int32_t run_on_device(const DeviceCall& call, DeviceOutcome* out) {
    const cudaStream_t stream = static_cast<cudaStream_t>(call.stream);
    StreamBuffer scratch_memory(stream);
    if (cudaError_t e = scratch_memory.allocate(sizeof(DeviceScratch))) return device_failure(out, "allocate", e);
    auto* scratch = static_cast<DeviceScratch*>(scratch_memory.get());
    if (cudaError_t e = cudaMemsetAsync(&scratch->result.first_invalid, 0xFF, sizeof(unsigned long long), stream)) {
        return device_failure(out, "initialise", e);
    }
    if (cudaError_t e = enqueue_loss(call, stream, scratch)) return device_failure(out, "launch the kernels", e);
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
        double values[2] = {0, 0};
        float floats[2] = {0, 0};
        void* x = call.dtype == BCE4J_FLOAT32 ? static_cast<void*>(&floats[0]) : &values[0];
        void* y = call.dtype == BCE4J_FLOAT32 ? static_cast<void*>(&floats[1]) : &values[1];
        // On the call's stream, like everything else: cudaMemcpy would use the legacy default stream, which waits
        // for every blocking stream of the device (the caller's other work included) and is not allowed while
        // another thread captures a CUDA graph.
        if (cudaError_t e = cudaMemcpyAsync(x, static_cast<const char*>(call.input) + index * size, size,
                                            cudaMemcpyDeviceToHost, stream)) {
            return device_failure(out, "read the invalid element", e);
        }
        if (cudaError_t e = cudaMemcpyAsync(y, static_cast<const char*>(call.target) + index * size, size,
                                            cudaMemcpyDeviceToHost, stream)) {
            return device_failure(out, "read the invalid element", e);
        }
        if (cudaError_t e = cudaStreamSynchronize(stream)) return device_failure(out, "read the invalid element", e);
        out->first_invalid = index;
        out->invalid_input = call.dtype == BCE4J_FLOAT32 ? floats[0] : values[0];
        out->invalid_target = call.dtype == BCE4J_FLOAT32 ? floats[1] : values[1];
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
    };
    constexpr int kTensors = sizeof staged / sizeof staged[0];
    StreamBuffer buffers[kTensors] = {StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream),
                                      StreamBuffer(stream), StreamBuffer(stream), StreamBuffer(stream),
                                      StreamBuffer(stream), StreamBuffer(stream)};
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

}  // namespace
}  // namespace bce4j::cuda

extern "C" {

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_probe(bce4j::cuda::Probe* probe) {
    *probe = bce4j::cuda::Probe{};
    bce4j::cuda::probe_devices(probe);
    return bce4j::cuda::kInterfaceVersion;
}

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_run(const bce4j::cuda::DeviceCall* call,
                                                                   bce4j::cuda::DeviceOutcome* outcome) {
    try {
        return call->host_memory ? bce4j::cuda::run_on_host_buffers(*call, outcome)
                                 : bce4j::cuda::run_on_device(*call, outcome);
    } catch (const std::exception& e) {
        std::snprintf(outcome->message, bce4j::cuda::kMessageCapacity, "%s", e.what());
        return BCE4J_ERROR_INTERNAL;
    }
}

}  // extern "C"

static_assert(std::is_same_v<decltype(&bce4j_cuda_impl_probe), bce4j_cuda_probe_fn> &&
                  std::is_same_v<decltype(&bce4j_cuda_impl_run), bce4j_cuda_run_fn>,
              "the entry points must have the types libbce4j looks them up with");
