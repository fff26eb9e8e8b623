// The CUDA path's memory bandwidth: float32 logits and hard labels of N elements in device memory, reduction mean,
// loss and grad_input in one call (8 bytes read and 4 written per element), timed with CUDA events around
// bce4j_cuda_bce_with_logits on a stream of its own. Prints one line per size with the achieved GB/s and its share
// of the device's theoretical bandwidth (2 * memory clock * bus width). The time is the whole call as the GPU
// sees it (its allocation, kernels, copies and the wait included), between events on its stream. Not a test:
//   bce4j_cuda_bandwidth [N ...]        (default 16777216 67108864)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "bce4j/bce4j.h"

namespace {

bool check(cudaError_t error, const char* what) {
    if (error == cudaSuccess) return true;
    std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(error));
    return false;
}

double theoretical_bytes_per_second() {
    int device = 0, clock_khz = 0, bus_bits = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, device);
    cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, device);
    return 2.0 * clock_khz * 1e3 * bus_bits / 8;
}

bool measure(int64_t n) {
    std::vector<float> x(n), y(n);
    std::mt19937 gen(1);
    std::uniform_real_distribution<float> logit(-8, 8);
    for (int64_t i = 0; i < n; ++i) {
        x[i] = logit(gen);
        y[i] = static_cast<float>(gen() & 1);
    }
    float *dx = nullptr, *dy = nullptr, *grad = nullptr;
    cudaStream_t stream;
    cudaEvent_t start, stop;
    if (!check(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc") ||
        !check(cudaMalloc(&dy, n * sizeof(float)), "cudaMalloc") ||
        !check(cudaMalloc(&grad, n * sizeof(float)), "cudaMalloc") ||
        !check(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !check(cudaMemcpy(dy, y.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy") ||
        !check(cudaStreamCreate(&stream), "cudaStreamCreate") || !check(cudaEventCreate(&start), "cudaEventCreate") ||
        !check(cudaEventCreate(&stop), "cudaEventCreate")) {
        return false;
    }
    const int64_t shape[1] = {n};
    double loss = 0;
    std::vector<float> milliseconds;
    for (int run = 0; run < 23; ++run) {  // 3 warm-up runs, then the median of 20
        cudaEventRecord(start, stream);
        if (bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT32, 1, shape, dx, dy, nullptr, nullptr, &loss, grad, nullptr,
                                       stream) != BCE4J_OK) {
            std::fprintf(stderr, "%s\n", bce4j_last_error_message());
            return false;
        }
        cudaEventRecord(stop, stream);
        cudaEventSynchronize(stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        if (run >= 3) milliseconds.push_back(ms);
    }
    std::sort(milliseconds.begin(), milliseconds.end());
    const double seconds = milliseconds[milliseconds.size() / 2] * 1e-3;
    const double bytes_per_second = 12.0 * n / seconds;
    std::printf("bce4j cuda n=%lld time_us=%.1f GB/s=%.1f of_theoretical=%.0f%% mean_loss=%.6f\n",
                static_cast<long long>(n), seconds * 1e6, bytes_per_second / 1e9,
                100 * bytes_per_second / theoretical_bytes_per_second(), loss);
    cudaFree(dx);
    cudaFree(dy);
    cudaFree(grad);
    cudaStreamDestroy(stream);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (bce4j_cuda_availability() != BCE4J_CUDA_AVAILABLE) {
        std::fprintf(stderr, "CUDA is %s\n", bce4j_cuda_description());
        return 2;
    }
    std::printf("%s\n", bce4j_cuda_description());
    std::vector<int64_t> sizes;
    for (int i = 1; i < argc; ++i) sizes.push_back(std::atoll(argv[i]));
    if (sizes.empty()) sizes = {int64_t{1} << 24, int64_t{1} << 26};
    for (int64_t n : sizes) {
        if (n <= 0 || !measure(n)) return 1;
    }
    return 0;
}
