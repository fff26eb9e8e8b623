// Not a test: the cost of a partial call (bce4j_bce_with_logits_partial, then bce4j_partial_finish) beside the plain
// loss-only MEAN call on the same data, n float32 (or --float64, --bfloat16) elements on the default kernels
// (BCE4J_ISA chooses others), and the NONE call into one reused 8192-element block (the kernels' store of the losses,
// the other way a partial could take them). The cases alternate in rounds, so that a shared machine disturbs them
// alike.
//   bce4j_partial_bench [--n N] [--threads T] [--rounds R] [--reps K] [--float64 | --bfloat16]
// One line per case: the median and minimum over rounds of the process CPU time per call (CLOCK_PROCESS_CPUTIME_ID,
// all threads), the median wall time, and the CPU-time ratio to the plain call, each in nanoseconds per element.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"

namespace {

double process_cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

double wall_ns() {
    return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Values of `dtype` from doubles, as bytes.
std::vector<unsigned char> stored(bce4j_dtype dtype, const std::vector<double>& v) {
    const size_t size = dtype == BCE4J_FLOAT64 ? 8 : dtype == BCE4J_FLOAT32 ? 4 : 2;
    std::vector<unsigned char> out(v.size() * size);
    for (size_t i = 0; i < v.size(); ++i) {
        if (dtype == BCE4J_FLOAT64) {
            std::memcpy(&out[i * 8], &v[i], 8);
        } else {
            const float f = static_cast<float>(v[i]);
            uint32_t bits;
            std::memcpy(&bits, &f, 4);
            if (dtype == BCE4J_FLOAT32) {
                std::memcpy(&out[i * 4], &f, 4);
            } else {  // bfloat16, truncated: any values do for timing
                const uint16_t high = static_cast<uint16_t>(bits >> 16);
                std::memcpy(&out[i * 2], &high, 2);
            }
        }
    }
    return out;
}

struct Case {
    const char* name;
    std::function<void()> call;
    std::vector<double> cpu, wall;
};

void check(bce4j_status s) {
    if (s != BCE4J_OK) {
        std::fprintf(stderr, "bce4j: %s\n", bce4j_last_error_message());
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int64_t n = 1 << 20;
    int threads = 0, rounds = 15, reps = 20;
    bce4j_dtype dtype = BCE4J_FLOAT32;
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
            dtype = BCE4J_FLOAT64;
        } else if (a == "--bfloat16") {
            dtype = BCE4J_BFLOAT16;
        } else {
            std::fprintf(stderr, "usage: %s [--n N] [--threads T] [--rounds R] [--reps K] [--float64 | --bfloat16]\n",
                         argv[0]);
            return 2;
        }
    }
    std::mt19937 random(1);
    std::uniform_real_distribution<double> logit(-8, 8), unit(0, 1);
    std::vector<double> x(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        x[i] = logit(random);
        y[i] = unit(random) < 0.5 ? 0.0 : 1.0;
    }
    const std::vector<unsigned char> input = stored(dtype, x), target = stored(dtype, y);
    const size_t size = input.size() / static_cast<size_t>(n);
    bce4j_options o;
    bce4j_options_init(&o);
    o.num_threads = threads;
    const int64_t shape[1] = {n};
    constexpr int64_t kBlock = 8192;
    std::vector<unsigned char> block(kBlock * size);
    double sink = 0;

    std::vector<Case> cases;
    cases.push_back({"mean (loss only)", [&] {
                         double reduced;
                         check(bce4j_bce_with_logits(&o, dtype, 1, shape, input.data(), target.data(), nullptr, nullptr,
                                                     &reduced, nullptr, nullptr));
                         sink += reduced;
                     }});
    cases.push_back({"partial + finish", [&] {
                         bce4j_partial p;
                         bce4j_partial_init(&p);
                         check(bce4j_bce_with_logits_partial(&o, dtype, 1, shape, input.data(), target.data(), &p));
                         double v;
                         check(bce4j_partial_finish(&p, BCE4J_REDUCTION_MEAN, &v));
                         sink += v;
                     }});
    cases.push_back({"none into a block (1 thread)", [&] {
                         bce4j_options none = o;
                         none.reduction = BCE4J_REDUCTION_NONE;
                         for (int64_t begin = 0; begin < n; begin += kBlock) {
                             const int64_t m[1] = {std::min(kBlock, n - begin)};
                             check(bce4j_bce_with_logits(&none, dtype, 1, m, input.data() + begin * size,
                                                         target.data() + begin * size, nullptr, block.data(), nullptr,
                                                         nullptr, nullptr));
                         }
                     }});
    for (int warm = 0; warm < 3; ++warm) {
        for (Case& c : cases) c.call();
    }
    for (int r = 0; r < rounds; ++r) {
        for (Case& c : cases) {
            const double cpu0 = process_cpu_ns(), wall0 = wall_ns();
            for (int k = 0; k < reps; ++k) c.call();
            c.cpu.push_back((process_cpu_ns() - cpu0) / reps / static_cast<double>(n));
            c.wall.push_back((wall_ns() - wall0) / reps / static_cast<double>(n));
        }
    }
    const auto median = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return v[v.size() / 2];
    };
    std::printf("# n %lld, %s, isa %s, threads %d (0: default %d), %d rounds of %d calls; ns per element\n",
                static_cast<long long>(n),
                dtype == BCE4J_FLOAT32   ? "float32"
                : dtype == BCE4J_FLOAT64 ? "float64"
                                         : "bfloat16",
                bce4j_cpu_isa(), threads, bce4j_default_num_threads(), rounds, reps);
    const double base = median(cases[0].cpu);
    for (const Case& c : cases) {
        std::printf("%-30s cpu median %.3f min %.3f  wall median %.3f  cpu ratio %.3f\n", c.name, median(c.cpu),
                    *std::min_element(c.cpu.begin(), c.cpu.end()), median(c.wall), median(c.cpu) / base);
    }
    return sink == 12345.6789 ? 3 : 0;  // keeps the calls' results alive
}
