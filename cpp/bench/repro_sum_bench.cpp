// Not a test: the time of repro_sum_add (the order-independent sum, cpp/src/repro_sum.h) per element, for float32
// and float64 arrays of BCE losses, on each instruction set's deposit this CPU runs, beside a plain sum of the
// same array (eight double accumulators, as the kernels' fixed-order sums) in the same run, alternating in rounds.
//   bce4j_repro_sum_bench [--rounds R] [--elements E] [--isa NAME] [N...]   (default N: 8192 1048576)
// E: elements per round and case (default 2^24), in E / N calls; --isa: that deposit alone (default: each one).
// One line per case: the median over rounds of the calling thread's CPU time per element (the mean over the calls),
// for repro_sum_add and for the plain sum, and their ratio.
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/dispatch.h"
#include "repro_sum.h"

namespace {

double thread_cpu_ns() {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e9 + static_cast<double>(t.tv_nsec);
}

// Per-element BCE-with-logits losses of random logits and hard labels: values in [0, ~20], many small.
std::vector<double> losses(int64_t n, uint32_t seed) {
    std::mt19937 random(seed);
    std::normal_distribution<double> logit(0.0, 4.0);
    std::vector<double> v(static_cast<size_t>(n));
    for (double& loss : v) {
        const double x = logit(random);
        const double y = (random() & 1) ? 1.0 : 0.0;
        loss = std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)));
    }
    return v;
}

template <typename T>
double plain_sum(const T* values, int64_t n) {
    double s[8] = {};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        for (int j = 0; j < 8; ++j) s[j] += values[i + j];
    }
    for (; i < n; ++i) s[0] += values[i];
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

volatile double sink;

template <typename T>
void run_case(const char* isa, const std::vector<T>& values, int rounds, int reps) {
    const auto n = static_cast<int64_t>(values.size());
    std::vector<double> repro_ns, plain_ns;
    for (int r = 0; r < rounds; ++r) {
        double start = thread_cpu_ns();
        for (int k = 0; k < reps; ++k) {
            bce4j::ReproSum s;
            bce4j::repro_sum_init(&s);
            bce4j::repro_sum_add_with(isa, &s, values.data(), n);
            sink = bce4j::repro_sum_value(s);
        }
        repro_ns.push_back((thread_cpu_ns() - start) / (static_cast<double>(reps) * static_cast<double>(n)));
        start = thread_cpu_ns();
        for (int k = 0; k < reps; ++k) sink = plain_sum(values.data(), n);
        plain_ns.push_back((thread_cpu_ns() - start) / (static_cast<double>(reps) * static_cast<double>(n)));
    }
    std::sort(repro_ns.begin(), repro_ns.end());
    std::sort(plain_ns.begin(), plain_ns.end());
    const double repro = repro_ns[repro_ns.size() / 2], plain = plain_ns[plain_ns.size() / 2];
    std::printf("%-7s %-8s n=%-8lld repro_sum_add %6.3f ns/element   plain sum %6.3f ns/element   ratio %5.2f\n", isa,
                sizeof(T) == 4 ? "float32" : "float64", static_cast<long long>(n), repro, plain, repro / plain);
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 15;
    int64_t total_per_round = 1 << 24;  // elements per round and case: reps = this / n
    std::vector<int64_t> sizes;
    const char* only_isa = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
            rounds = std::atoi(argv[++i]);
        } else if (std::strcmp(argv[i], "--elements") == 0 && i + 1 < argc) {
            total_per_round = std::atoll(argv[++i]);
        } else if (std::strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
            only_isa = argv[++i];
        } else {
            sizes.push_back(std::atoll(argv[i]));
        }
    }
    if (sizes.empty()) sizes = {8192, 1 << 20};
    std::printf("repro_sum_add's deposit by default: %s\n", bce4j::repro_sum_isa());
    for (int64_t n : sizes) {
        const std::vector<double> doubles = losses(n, 16);
        const std::vector<float> floats(doubles.begin(), doubles.end());
        const int reps = static_cast<int>(std::max<int64_t>(1, total_per_round / n));
        for (const char* isa : {"scalar", "avx2", "avx512", "neon"}) {
            if (bce4j::kernel_table_for(isa) == nullptr) continue;
            if (only_isa != nullptr && std::strcmp(only_isa, isa) != 0) continue;
            run_case(isa, floats, rounds, reps);
            run_case(isa, doubles, rounds, reps);
        }
    }
    return 0;
}
