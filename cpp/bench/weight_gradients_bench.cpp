// Not a test: the time of float32 (or, with --float64, float64) BCEWithLogits calls (MEAN, loss + grad_input) with
// weights and weight gradients, beside the plain call, for each libbce4j named on the command line. Each library is
// loaded with dlopen, so that two builds (a baseline and a change) are measured side by side in one process, case by
// case, alternating in rounds. BCE4J_ISA chooses the kernels as for any call.
//   bce4j_weight_gradients_bench [--n N] [--threads T] [--rounds R] [--reps K] [--float64] LIB [LIB...]
// One line per case and library: the median and the minimum over rounds of the mean wall time over K calls, and the
// median of the calling thread's CPU time (which a shared, busy machine disturbs less: with --threads 1 it is the
// call's own time, without the time it waited for a core), in nanoseconds.
#include <dlfcn.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"

namespace {

using Init = void (*)(bce4j_options*);
using Logits = bce4j_status (*)(const bce4j_options*, bce4j_dtype, int32_t, const int64_t*, const void*, const void*,
                                const void*, void*, double*, void*, void*);

struct Library {
    std::string path;
    Init init;
    Logits logits;
};

// One call shape: which operands it has ([C] over [n/C, C], or per element) and which gradients it asks for.
struct Case {
    std::string name;
    int64_t classes;  // the innermost dimension
    int weight;       // 0: none, 1: [C], 2: per element [n/C, C]
    int pos_weight;   // likewise
    bool grad_weight;
    bool grad_pos_weight;
};

template <typename T>
std::vector<T> uniform(int64_t n, T low, T high, uint32_t seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<T> d(low, high);
    std::vector<T> v(static_cast<size_t>(n));
    for (T& x : v) x = d(random);
    return v;
}

double thread_cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

template <typename T>
int bench(int64_t n, int threads, int rounds, int reps, const std::vector<Library>& libraries);

}  // namespace

int main(int argc, char** argv) {
    bool float64 = false;
    int64_t n = 1 << 20;
    int threads = 1;
    int rounds = 7;
    int reps = 20;
    std::vector<Library> libraries;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--n" && i + 1 < argc) {
            n = std::atoll(argv[++i]);
        } else if (a == "--threads" && i + 1 < argc) {
            threads = std::atoi(argv[++i]);
        } else if (a == "--rounds" && i + 1 < argc) {
            rounds = std::atoi(argv[++i]);
        } else if (a == "--reps" && i + 1 < argc) {
            reps = std::atoi(argv[++i]);
        } else if (a == "--float64") {
            float64 = true;
        } else {
            void* handle = dlopen(a.c_str(), RTLD_NOW | RTLD_LOCAL);
            if (handle == nullptr) {
                std::fprintf(stderr, "cannot load %s: %s\n", a.c_str(), dlerror());
                return 2;
            }
            libraries.push_back({a, reinterpret_cast<Init>(dlsym(handle, "bce4j_options_init")),
                                 reinterpret_cast<Logits>(dlsym(handle, "bce4j_bce_with_logits"))});
        }
    }
    if (libraries.empty()) {
        std::fprintf(stderr, "usage: %s [--n N] [--threads T] [--rounds R] [--reps K] [--float64] LIB [LIB...]\n",
                     argv[0]);
        return 2;
    }
    return float64 ? bench<double>(n, threads, rounds, reps, libraries)
                   : bench<float>(n, threads, rounds, reps, libraries);
}

namespace {

template <typename T>
int bench(int64_t n, int threads, int rounds, int reps, const std::vector<Library>& libraries) {
    std::vector<Case> cases;
    for (const int64_t classes : {16, 1000}) {
        const std::string c = std::to_string(classes);
        cases.push_back({"plain C=" + c, classes, 0, 0, false, false});
        cases.push_back({"weight[C] C=" + c, classes, 1, 0, false, false});
        cases.push_back({"weight[C]+grad C=" + c, classes, 1, 0, true, false});
        cases.push_back({"pos_weight[C] C=" + c, classes, 0, 1, false, false});
        cases.push_back({"pos_weight[C]+grad C=" + c, classes, 0, 1, false, true});
        cases.push_back({"weight[C]+pos_weight[C] C=" + c, classes, 1, 1, false, false});
        cases.push_back({"weight[C]+pos_weight[C]+both grads C=" + c, classes, 1, 1, true, true});
    }
    cases.push_back({"weight[i] C=16", 16, 2, 0, false, false});
    cases.push_back({"weight[i]+grad C=16", 16, 2, 0, true, false});
    cases.push_back({"pos_weight[i] C=16", 16, 0, 2, false, false});
    cases.push_back({"pos_weight[i]+grad C=16", 16, 0, 2, false, true});
    cases.push_back({"no weight, grad of implicit weight C=16", 16, 0, 0, true, false});

    const std::vector<T> input = uniform<T>(n, -6, 6, 1);
    const std::vector<T> target = uniform<T>(n, 0, 1, 2);
    const std::vector<T> operand = uniform<T>(n, 0.5, 1.5, 3);
    std::vector<T> grad_input(static_cast<size_t>(n)), grad_weight(static_cast<size_t>(n)),
        grad_pos_weight(static_cast<size_t>(n));
    T loss = 0;
    std::printf("# n=%lld threads=%d isa=%s dtype=%s rounds=%d reps=%d\n", static_cast<long long>(n), threads,
                std::getenv("BCE4J_ISA") ? std::getenv("BCE4J_ISA") : "(default)",
                sizeof(T) == 8 ? "float64" : "float32", rounds, reps);
    for (const Case& c : cases) {
        const int64_t rows = n / c.classes;
        const int64_t shape[2] = {rows, c.classes};
        const int64_t class_shape[1] = {c.classes};
        std::vector<std::vector<double>> times(libraries.size()), cpu_times(libraries.size());
        for (int round = 0; round < rounds; ++round) {
            for (size_t l = 0; l < libraries.size(); ++l) {
                const Library& lib = libraries[l];
                bce4j_options o;
                lib.init(&o);
                o.num_threads = threads;
                if (c.weight) {
                    o.weight = operand.data();
                    o.weight_ndim = c.weight == 1 ? 1 : 2;
                    o.weight_shape = c.weight == 1 ? class_shape : shape;
                }
                if (c.pos_weight) {
                    o.pos_weight = operand.data();
                    o.pos_weight_ndim = c.pos_weight == 1 ? 1 : 2;
                    o.pos_weight_shape = c.pos_weight == 1 ? class_shape : shape;
                }
                if (c.grad_weight) o.grad_weight = grad_weight.data();
                if (c.grad_pos_weight) o.grad_pos_weight = grad_pos_weight.data();
                const auto call = [&] {
                    const bce4j_status s =
                        lib.logits(&o, sizeof(T) == 8 ? BCE4J_FLOAT64 : BCE4J_FLOAT32, 2, shape, input.data(),
                                   target.data(), nullptr, &loss, nullptr, grad_input.data(), nullptr);
                    if (s != BCE4J_OK) {
                        std::fprintf(stderr, "%s: status %d\n", c.name.c_str(), static_cast<int>(s));
                        std::exit(1);
                    }
                };
                call();  // warm-up
                const double cpu_start = thread_cpu_ns();
                const auto start = std::chrono::steady_clock::now();
                for (int k = 0; k < reps; ++k) call();
                const auto stop = std::chrono::steady_clock::now();
                times[l].push_back(std::chrono::duration<double, std::nano>(stop - start).count() / reps);
                cpu_times[l].push_back((thread_cpu_ns() - cpu_start) / reps);
            }
        }
        for (size_t l = 0; l < libraries.size(); ++l) {
            std::vector<double>& t = times[l];
            std::vector<double>& cpu = cpu_times[l];
            std::sort(t.begin(), t.end());
            std::sort(cpu.begin(), cpu.end());
            std::printf("%-44s lib=%zu median_ns=%.0f min_ns=%.0f cpu_median_ns=%.0f\n", c.name.c_str(), l,
                        t[t.size() / 2], t[0], cpu[cpu.size() / 2]);
        }
    }
    return 0;
}

}  // namespace
