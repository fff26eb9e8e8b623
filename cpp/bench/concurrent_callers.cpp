// Many threads calling bce4j at once, each with the default thread count: the case ThreadBudget
// (cpp/src/thread_budget.h) is for. Each of C caller threads runs float32 BCE-with-logits calls (mean, loss and
// grad_input) on its own N elements for S seconds; prints one line
//   concurrent callers=C n=N threads=T calls_per_s=... median_us=... p90_us=...
// with T = bce4j_default_num_threads(). Links the public API only, so the same binary can time another build of
// libbce4j through LD_LIBRARY_PATH. Usage: bce4j_concurrent_callers [CALLERS [N [SECONDS]]] (default 8 1048576 3).
#include <bce4j/bce4j.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct CallerResult {
    std::vector<double> call_us;
    bool failed = false;
};

void run_caller(int64_t n, unsigned seed, Clock::time_point start, Clock::time_point end, CallerResult* result) {
    std::vector<float> x(n), y(n), grad(n);
    for (int64_t i = 0; i < n; ++i) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = static_cast<float>(static_cast<int>(seed >> 16) % 2001 - 1000) / 100.0f;
        y[i] = static_cast<float>((seed >> 8) & 1);
    }
    bce4j_options options;
    bce4j_options_init(&options);
    const int64_t shape[1] = {n};
    std::this_thread::sleep_until(start);
    while (Clock::now() < end) {
        const Clock::time_point before = Clock::now();
        double loss = 0;
        if (bce4j_bce_with_logits(&options, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr, nullptr, &loss,
                                  grad.data(), nullptr) != BCE4J_OK) {
            std::fprintf(stderr, "call failed: %s\n", bce4j_last_error_message());
            result->failed = true;
            return;
        }
        result->call_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - before).count());
    }
}

double quantile(std::vector<double>& v, double q) {
    if (v.empty()) return 0;
    const size_t k = static_cast<size_t>(q * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
}

}  // namespace

int main(int argc, char** argv) {
    const int callers = argc > 1 ? std::atoi(argv[1]) : 8;
    const int64_t n = argc > 2 ? std::atoll(argv[2]) : 1 << 20;
    const double seconds = argc > 3 ? std::atof(argv[3]) : 3.0;
    if (callers < 1 || n < 1 || !(seconds > 0)) {
        std::fprintf(stderr, "usage: %s [CALLERS >= 1 [N >= 1 [SECONDS > 0]]]\n", argv[0]);
        return 2;
    }
    const Clock::time_point start = Clock::now() + std::chrono::milliseconds(200 + 20 * callers);
    const Clock::time_point end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::vector<CallerResult> results(static_cast<size_t>(callers));
    std::vector<std::thread> threads;
    for (int c = 0; c < callers; ++c) {
        threads.emplace_back(run_caller, n, 12345u + static_cast<unsigned>(c), start, end, &results[c]);
    }
    for (std::thread& t : threads) t.join();
    std::vector<double> all;
    for (const CallerResult& r : results) {
        if (r.failed) return 1;
        all.insert(all.end(), r.call_us.begin(), r.call_us.end());
    }
    const double calls_per_s = static_cast<double>(all.size()) / seconds;
    const double median = quantile(all, 0.5);
    const double p90 = quantile(all, 0.9);
    std::printf("concurrent callers=%d n=%lld threads=%d calls_per_s=%.1f median_us=%.1f p90_us=%.1f\n", callers,
                static_cast<long long>(n), bce4j_default_num_threads(), calls_per_s, median, p90);
    return 0;
}
