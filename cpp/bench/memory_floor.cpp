// The memory floor of the plain training call (bce4j_bce_with_logits, reduction mean, grad_input only): a vectorised
// loop over the same bytes, reading input and target and writing one output of the input's size, on the same
// static partitioning as the library (blocks of kReductionBlock elements, `omp parallel for schedule(static)`, one
// thread below kParallelThreshold elements; see cpp/src/executor.cpp). No call can be faster than this loop on the
// same memory; the side-by-side report runs it as a child process. Not a test:
//   bce4j_memory_floor [--threads T[,T...]] [--dtype float32|float64|both] [--runs R] [N ...]
// Defaults: --threads 1, --dtype both, N = 1048576 16777216, R chosen per size (about 0.3 s of timed runs, at least
// 11, at most 2001); each size is warmed up first (a tenth as many runs, at least 3).
// Output, one line per (size, thread count, dtype), fields separated by single spaces, in this order:
//   floor n=<elements> threads=<OpenMP threads asked for> dtype=<float32|float64> ns=<median nanoseconds per call>
// e.g. `floor n=1048576 threads=1 dtype=float32 ns=158231`. Errors go to stderr with exit status 2.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../src/executor.h"

namespace {

using bce4j::kParallelThreshold;
using bce4j::kReductionBlock;

// One block's bytes: out = x - y, compiled for each instruction set the CPU may have (the widest it has runs). On
// aarch64 the compiler's baseline, Advanced SIMD, is the only one.
#if defined(__x86_64__)
#define BCE4J_FLOOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define BCE4J_FLOOR_CLONES
#endif
template <typename T>
BCE4J_FLOOR_CLONES void floor_block(const T* __restrict x, const T* __restrict y, T* __restrict out, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] - y[i];
}

// The whole call, partitioned as executor.cpp's execute().
template <typename T>
void floor_call(const T* x, const T* y, T* out, int64_t count, int threads) {
    const int64_t blocks = (count + kReductionBlock - 1) / kReductionBlock;
    const int used = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(blocks, 1)));
    if (count < kParallelThreshold || used == 1) {  // as the library, without entering OpenMP at all
        floor_block(x, y, out, count);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(used)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t begin = b * kReductionBlock;
        floor_block(x + begin, y + begin, out + begin, std::min(count, begin + kReductionBlock) - begin);
    }
}

struct FreeDeleter {
    void operator()(void* p) const { std::free(p); }
};

template <typename T>
std::unique_ptr<T[], FreeDeleter> allocate(int64_t n) {
    const size_t bytes = (static_cast<size_t>(n) * sizeof(T) + 63) / 64 * 64;
    return std::unique_ptr<T[], FreeDeleter>(static_cast<T*>(std::aligned_alloc(64, std::max<size_t>(bytes, 64))));
}

template <typename T>
double median_ns(int64_t n, int threads, int runs) {
    auto x = allocate<T>(n), y = allocate<T>(n), out = allocate<T>(n);
    // Touched first by the threads that will use the pages, as a caller's own arrays usually are.
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t i = 0; i < n; ++i) {
        x[i] = static_cast<T>((i % 17) - 8);
        y[i] = static_cast<T>(i & 1);
        out[i] = 0;
    }
    const int warm_up = std::max(3, runs / 10);
    for (int r = 0; r < warm_up; ++r) floor_call(x.get(), y.get(), out.get(), n, threads);
    // Small calls are timed in groups (about 64K elements each), so that the clock's own cost does not count.
    const int64_t calls_per_sample = std::max<int64_t>(1, 65536 / n);
    std::vector<double> times(static_cast<size_t>(runs));
    for (double& t : times) {
        const auto start = std::chrono::steady_clock::now();
        for (int64_t c = 0; c < calls_per_sample; ++c) floor_call(x.get(), y.get(), out.get(), n, threads);
        t = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
            static_cast<double>(calls_per_sample);
    }
    std::nth_element(times.begin(), times.begin() + runs / 2, times.end());
    return times[static_cast<size_t>(runs / 2)];
}

[[noreturn]] void usage(const char* problem) {
    std::fprintf(stderr,
                 "bce4j_memory_floor: %s\nusage: bce4j_memory_floor [--threads T[,T...]] "
                 "[--dtype float32|float64|both] [--runs R] [N ...]\n",
                 problem);
    std::exit(2);
}

int64_t positive(const std::string& text, const char* what) {
    char* end = nullptr;
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (text.empty() || *end != '\0' || v <= 0) usage((std::string("not a positive ") + what + ": " + text).c_str());
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<int> threads;
    std::vector<int64_t> sizes;
    bool float32 = true, float64 = true;
    int runs = 0;  // 0: chosen per size
    for (int k = 1; k < argc; ++k) {
        const std::string arg = argv[k];
        const bool has_value = k + 1 < argc;
        if (arg == "--threads" && has_value) {
            std::string list = argv[++k];
            for (size_t at = 0; at <= list.size();) {
                const size_t comma = std::min(list.find(',', at), list.size());
                threads.push_back(
                    static_cast<int>(std::min<int64_t>(positive(list.substr(at, comma - at), "thread count"), 1024)));
                at = comma + 1;
            }
        } else if (arg == "--dtype" && has_value) {
            const std::string d = argv[++k];
            if (d != "float32" && d != "float64" && d != "both") usage(("unknown dtype: " + d).c_str());
            float32 = d != "float64";
            float64 = d != "float32";
        } else if (arg == "--runs" && has_value) {
            runs = static_cast<int>(std::min<int64_t>(positive(argv[++k], "run count"), 1000000));
        } else if (!arg.empty() && arg[0] == '-') {
            usage(("unknown or incomplete option: " + arg).c_str());
        } else {
            sizes.push_back(positive(arg, "size"));
        }
    }
    if (threads.empty()) threads = {1};
    if (sizes.empty()) sizes = {1 << 20, 1 << 24};
    for (const int64_t n : sizes) {
        for (const int t : threads) {
            for (int d = 0; d < 2; ++d) {
                if (!(d == 0 ? float32 : float64)) continue;
                const double bytes = 3.0 * static_cast<double>(n) * (d == 0 ? 4 : 8);
                const int r = runs > 0 ? runs : static_cast<int>(std::clamp(6e9 / bytes, 11.0, 2001.0));
                const double ns = d == 0 ? median_ns<float>(n, t, r) : median_ns<double>(n, t, r);
                std::printf("floor n=%lld threads=%d dtype=%s ns=%.0f\n", static_cast<long long>(n), t,
                            d == 0 ? "float32" : "float64", ns);
                std::fflush(stdout);
            }
        }
    }
    return 0;
}
