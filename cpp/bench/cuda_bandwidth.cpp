// The CUDA path's memory bandwidth: float32 logits and hard labels of N elements in device memory, reduction mean,
// loss and grad_input in one call (8 bytes read and 4 written per element), on a stream of its own. Not a test, but
// it checks its values: the reduced loss and every gradient against the CPU on the same data (exit 1 when wrong).
//   bce4j_cuda_bandwidth [--weighted C] [N ...]     (default 16777216 67108864)
// --weighted C: input [N / C, C] with a weight and a pos_weight of shape [C] (the broadcast offsets' path).
// Prints one line per size, `key=value` fields:
//   kernel_us   the kernels alone: CUDA events the library records just before its first kernel and just after its
//               last (bce4j_cuda_impl_time_kernels), median of 20 calls after 3 warm-up calls
//   call_us     the whole call as the GPU sees it (scratch allocation, memset, kernels, result copy, the wait), between
//               events recorded on the stream before and after the call
//   kernel_gbs, call_gbs  12 bytes per element over those times
//   of_peak     kernel_gbs over the theoretical peak, 2 x memory clock x bus width (peak_gbs)
//   of_copy     kernel_gbs over a device-to-device cudaMemcpyAsync of 12 x N / 2 bytes (reads and writes as many;
//               copy_gbs, median of 20): what this device's memory really gives a streaming kernel
//   host_us     bce4j_cuda_bce_with_logits_host on the same data from pageable host memory (staged through the device,
//               copies both ways included), median of 5
//   cpu_us      bce4j_bce_with_logits on the CPU, default threads, median of 5
//   loss, cpu_loss, grad_error  the reduced losses and the largest |gradient difference| over the largest |CPU
//               gradient|
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"

namespace {

bool check(cudaError_t error, const char* what) {
    if (error == cudaSuccess) return true;
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(error));
    return false;
}

// Device memory, freed on every path out.
class DeviceBuffer {
public:
    DeviceBuffer() = default;
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    ~DeviceBuffer() { cudaFree(data_); }
    bool allocate(size_t bytes) { return check(cudaMalloc(&data_, bytes), "cudaMalloc"); }
    template <typename T>
    T* as() const {
        return static_cast<T*>(data_);
    }

private:
    void* data_ = nullptr;
};

struct Stream {
    cudaStream_t stream = nullptr;
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Stream() = default;
    ~Stream() {
        if (stream) cudaStreamDestroy(stream);
    }
};

struct Event {
    cudaEvent_t event = nullptr;
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    Event() = default;
    ~Event() {
        if (event) cudaEventDestroy(event);
    }
};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

double theoretical_bytes_per_second() {
    int device = 0, clock_khz = 0, bus_bits = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
    return 2.0 * clock_khz * 1e3 * bus_bits / 8;
}

// The library's kernel timing (benchmark instrumentation in cpp/src/cuda/library.cu), from the copy libbce4j loaded.
struct KernelTiming {
    int32_t (*enable)(int32_t) = nullptr;
    float (*milliseconds)() = nullptr;
};

KernelTiming kernel_timing() {
    KernelTiming t;
    void* handle = dlopen(bce4j_cuda_library_path(), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return t;
    t.enable = reinterpret_cast<int32_t (*)(int32_t)>(dlsym(handle, "bce4j_cuda_impl_time_kernels"));
    t.milliseconds = reinterpret_cast<float (*)()>(dlsym(handle, "bce4j_cuda_impl_kernel_milliseconds"));
    return t;
}

struct Problem {
    int64_t n;
    int64_t columns;  // 0: no weights, shape [n]
    std::vector<float> x, y, weight, pos_weight;
    int64_t shape[2];
    int64_t operand_shape[1];
    int32_t ndim;

    bce4j_options options(const float* w, const float* p) const {
        bce4j_options o;
        bce4j_options_init(&o);
        if (columns > 0) {
            o.weight = w;
            o.weight_ndim = 1;
            o.weight_shape = operand_shape;
            o.pos_weight = p;
            o.pos_weight_ndim = 1;
            o.pos_weight_shape = operand_shape;
        }
        return o;
    }
};

Problem make_problem(int64_t n, int64_t columns) {
    Problem p;
    p.n = n;
    p.columns = columns;
    p.x.resize(n);
    p.y.resize(n);
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> logit(-8, 8), positive(0.25f, 2);
    for (int64_t i = 0; i < n; ++i) {
        p.x[i] = logit(gen);
        p.y[i] = static_cast<float>(gen() & 1);
    }
    if (columns > 0) {
        p.weight.resize(columns);
        p.pos_weight.resize(columns);
        for (int64_t j = 0; j < columns; ++j) {
            p.weight[j] = positive(gen);
            p.pos_weight[j] = positive(gen);
        }
        p.shape[0] = n / columns;
        p.shape[1] = columns;
        p.ndim = 2;
        p.operand_shape[0] = columns;
    } else {
        p.shape[0] = n;
        p.ndim = 1;
    }
    return p;
}

template <typename Fn>
double host_median_us(int runs, Fn&& fn) {
    std::vector<double> us;
    for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        if (!fn()) return -1;
        us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
    }
    return median(us);
}

bool measure(const Problem& p, const KernelTiming& timing, double peak) {
    const int64_t n = p.n;
    const size_t bytes = n * sizeof(float);
    DeviceBuffer dx, dy, grad, dw, dp, copy_from, copy_to;
    Stream s;
    Event start, stop;
    const size_t copy_bytes = 6 * static_cast<size_t>(n);
    if (!dx.allocate(bytes) || !dy.allocate(bytes) || !grad.allocate(bytes) || !copy_from.allocate(copy_bytes) ||
        !copy_to.allocate(copy_bytes) ||
        !check(cudaMemcpy(dx.as<void>(), p.x.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !check(cudaMemcpy(dy.as<void>(), p.y.data(), bytes, cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !check(cudaStreamCreateWithFlags(&s.stream, cudaStreamNonBlocking), "cudaStreamCreate") ||
        !check(cudaEventCreate(&start.event), "cudaEventCreate") ||
        !check(cudaEventCreate(&stop.event), "cudaEventCreate")) {
        return false;
    }
    if (p.columns > 0) {
        const size_t operand_bytes = p.columns * sizeof(float);
        if (!dw.allocate(operand_bytes) || !dp.allocate(operand_bytes) ||
            !check(cudaMemcpy(dw.as<void>(), p.weight.data(), operand_bytes, cudaMemcpyHostToDevice), "cudaMemcpy") ||
            !check(cudaMemcpy(dp.as<void>(), p.pos_weight.data(), operand_bytes, cudaMemcpyHostToDevice),
                   "cudaMemcpy")) {
            return false;
        }
    }
    // cudaMemcpy from pageable memory may return before the device has the bytes; the stream below does not wait for
    // the legacy stream.
    if (!check(cudaDeviceSynchronize(), "cudaDeviceSynchronize")) return false;

    const bce4j_options on_device = p.options(dw.as<float>(), dp.as<float>());
    double loss = 0;
    std::vector<double> call_ms, kernel_ms, copy_ms;
    for (int run = 0; run < 23; ++run) {  // 3 warm-up runs, then the median of 20
        cudaEventRecord(start.event, s.stream);
        if (bce4j_cuda_bce_with_logits(&on_device, BCE4J_FLOAT32, p.ndim, p.shape, dx.as<float>(), dy.as<float>(),
                                       nullptr, nullptr, &loss, grad.as<float>(), nullptr, s.stream) != BCE4J_OK) {
            std::fprintf(stderr, "%s\n", bce4j_last_error_message());
            return false;
        }
        cudaEventRecord(stop.event, s.stream);
        if (!check(cudaEventSynchronize(stop.event), "cudaEventSynchronize")) return false;
        float ms = 0;
        cudaEventElapsedTime(&ms, start.event, stop.event);
        if (run >= 3) {
            call_ms.push_back(ms);
            kernel_ms.push_back(timing.milliseconds());
        }
    }
    for (int run = 0; run < 23; ++run) {
        cudaEventRecord(start.event, s.stream);
        cudaMemcpyAsync(copy_to.as<void>(), copy_from.as<void>(), copy_bytes, cudaMemcpyDeviceToDevice, s.stream);
        cudaEventRecord(stop.event, s.stream);
        if (!check(cudaEventSynchronize(stop.event), "device-to-device copy")) return false;
        float ms = 0;
        cudaEventElapsedTime(&ms, start.event, stop.event);
        if (run >= 3) copy_ms.push_back(ms);
    }

    std::vector<float> device_grad(n), cpu_grad(n), host_grad(n);
    if (!check(cudaMemcpy(device_grad.data(), grad.as<void>(), bytes, cudaMemcpyDeviceToHost), "cudaMemcpy")) {
        return false;
    }
    const bce4j_options on_host = p.options(p.weight.data(), p.pos_weight.data());
    double cpu_loss = 0, host_loss = 0;
    const double cpu_us = host_median_us(5, [&] {
        return bce4j_bce_with_logits(&on_host, BCE4J_FLOAT32, p.ndim, p.shape, p.x.data(), p.y.data(), nullptr, nullptr,
                                     &cpu_loss, cpu_grad.data(), nullptr) == BCE4J_OK;
    });
    const double host_us = host_median_us(5, [&] {
        return bce4j_cuda_bce_with_logits_host(&on_host, BCE4J_FLOAT32, p.ndim, p.shape, p.x.data(), p.y.data(),
                                               nullptr, nullptr, &host_loss, host_grad.data(), nullptr) == BCE4J_OK;
    });
    if (cpu_us < 0 || host_us < 0) {
        std::fprintf(stderr, "%s\n", bce4j_last_error_message());
        return false;
    }
    double largest = 0, error = 0, host_error = 0;
    for (int64_t i = 0; i < n; ++i) {
        largest = std::max(largest, std::fabs(static_cast<double>(cpu_grad[i])));
        error = std::max(error, std::fabs(static_cast<double>(device_grad[i]) - cpu_grad[i]));
        host_error = std::max(host_error, std::fabs(static_cast<double>(host_grad[i]) - cpu_grad[i]));
    }
    const double grad_error = largest > 0 ? error / largest : error;
    const double host_grad_error = largest > 0 ? host_error / largest : host_error;

    const double traffic = 12.0 * static_cast<double>(n);
    const double kernel_s = median(kernel_ms) * 1e-3, call_s = median(call_ms) * 1e-3;
    const double copy_gbs = 2.0 * copy_bytes / (median(copy_ms) * 1e-3) / 1e9;
    const double kernel_gbs = traffic / kernel_s / 1e9, call_gbs = traffic / call_s / 1e9;
    std::printf(
        "bce4j cuda n=%lld shape=%s kernel_us=%.1f call_us=%.1f kernel_gbs=%.1f call_gbs=%.1f peak_gbs=%.1f "
        "of_peak=%.1f%% copy_gbs=%.1f of_copy=%.1f%% host_us=%.1f cpu_us=%.1f loss=%.9g cpu_loss=%.9g "
        "grad_error=%.3g host_grad_error=%.3g\n",
        static_cast<long long>(n),
        p.columns > 0 ? ("[" + std::to_string(p.shape[0]) + "," + std::to_string(p.columns) + "]").c_str() : "[n]",
        kernel_s * 1e6, call_s * 1e6, kernel_gbs, call_gbs, peak / 1e9, 100 * kernel_gbs * 1e9 / peak, copy_gbs,
        100 * kernel_gbs / copy_gbs, host_us, cpu_us, loss, cpu_loss, grad_error, host_grad_error);
    // The kernels' float32 results against the CPU's (tests hold each element to its own bound; here a wrong value
    // of any size fails the run).
    const bool right = std::fabs(loss - cpu_loss) <= 1e-5 * std::fabs(cpu_loss) &&
                       std::fabs(host_loss - cpu_loss) <= 1e-5 * std::fabs(cpu_loss) && grad_error <= 1e-5 &&
                       host_grad_error <= 1e-5;
    if (!right) std::fprintf(stderr, "WRONG VALUES: the CUDA results differ from the CPU's beyond 1e-5\n");
    return right;
}

}  // namespace

int main(int argc, char** argv) {
    if (bce4j_cuda_availability() != BCE4J_CUDA_AVAILABLE) {
        std::fprintf(stderr, "CUDA is %s\n", bce4j_cuda_description());
        return 2;
    }
    std::printf("%s\n", bce4j_cuda_description());
    int64_t columns = 0;
    std::vector<int64_t> sizes;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--weighted") == 0 && i + 1 < argc) {
            columns = std::atoll(argv[++i]);
            if (columns <= 0) {
                std::fprintf(stderr, "--weighted needs a positive column count\n");
                return 2;
            }
            continue;
        }
        sizes.push_back(std::atoll(argv[i]));
    }
    if (sizes.empty()) sizes = {int64_t{1} << 24, int64_t{1} << 26};
    const KernelTiming timing = kernel_timing();
    if (timing.enable == nullptr || timing.milliseconds == nullptr) {
        std::fprintf(stderr, "%s has no kernel timing (bce4j_cuda_impl_time_kernels)\n", bce4j_cuda_library_path());
        return 1;
    }
    if (!check(static_cast<cudaError_t>(timing.enable(1)), "bce4j_cuda_impl_time_kernels")) return 1;
    const double peak = theoretical_bytes_per_second();
    for (int64_t n : sizes) {
        if (n <= 0 || (columns > 0 && n % columns != 0)) {
            std::fprintf(stderr, "size %lld: expected a positive multiple of the column count\n",
                         static_cast<long long>(n));
            return 2;
        }
        if (!measure(make_problem(n, columns), timing, peak)) return 1;
    }
    return 0;
}
