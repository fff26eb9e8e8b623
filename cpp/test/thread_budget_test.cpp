// ThreadBudget: how the OpenMP threads of the process are shared among calls running at once.
#include "thread_budget.h"

#include <bce4j/bce4j.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

namespace bce4j {
namespace {

TEST(ThreadBudget, AloneACallGetsWhatItWants) {
    ThreadBudget budget(4);
    EXPECT_EQ(budget.take(4, false), 4);
    budget.give_back(4);
    EXPECT_EQ(budget.take(3, false), 3);
    budget.give_back(3);
    EXPECT_EQ(budget.held(), 0);
}

TEST(ThreadBudget, ALaterCallGetsWhatIsLeftAndAtLeastItsOwnThread) {
    ThreadBudget budget(4);
    EXPECT_EQ(budget.take(3, false), 3);
    EXPECT_EQ(budget.take(4, false), 1);  // one left
    EXPECT_EQ(budget.take(4, false), 1);  // none left: its own thread
    EXPECT_EQ(budget.held(), 5);
    budget.give_back(1);
    budget.give_back(1);
    budget.give_back(3);
    EXPECT_EQ(budget.take(4, false), 4);  // all back
    budget.give_back(4);
}

TEST(ThreadBudget, AChosenCountIsGrantedAndHeld) {
    ThreadBudget budget(2);
    EXPECT_EQ(budget.take(8, true), 8);
    EXPECT_EQ(budget.take(2, false), 1);
    budget.give_back(1);
    budget.give_back(8);
    EXPECT_EQ(budget.held(), 0);
}

TEST(ThreadBudget, CapacityIsAtLeastOne) {
    ThreadBudget budget(0);
    EXPECT_EQ(budget.capacity(), 1);
    EXPECT_EQ(budget.take(2, false), 1);
    budget.give_back(1);
}

TEST(ThreadBudget, ConcurrentCallersShareTheCapacity) {
    constexpr int kCapacity = 4;
    constexpr int kCallers = 8;
    ThreadBudget budget(kCapacity);
    // The threads granted and not yet given back: a caller that finds the capacity in use gets its own thread only,
    // so at most the capacity plus one thread for each other caller.
    std::atomic<int> granted_now{0};
    std::atomic<int> worst{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c) {
        callers.emplace_back([&] {
            for (int i = 0; i < 20000; ++i) {
                const int granted = budget.take(kCapacity, false);
                const int now = granted_now.fetch_add(granted) + granted;
                int seen = worst.load();
                while (now > seen && !worst.compare_exchange_weak(seen, now)) {
                }
                EXPECT_GE(granted, 1);
                EXPECT_LE(granted, kCapacity);
                granted_now.fetch_sub(granted);
                budget.give_back(granted);
            }
        });
    }
    for (std::thread& t : callers) t.join();
    EXPECT_EQ(budget.held(), 0);
    EXPECT_LE(worst.load(), kCapacity + kCallers - 1);
}

// Calls running at once get fewer threads from the process's budget than one alone: the same bits either way.
TEST(ThreadBudget, ConcurrentDefaultCallsGiveTheBitsOfOneThread) {
    constexpr int64_t kCount = 1 << 17;  // several 8192-element blocks, above the parallel threshold
    std::vector<float> x(kCount), y(kCount);
    for (int64_t i = 0; i < kCount; ++i) {
        x[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i)) * 9.0);
        y[i] = static_cast<float>(i % 3 == 0);
    }
    const int64_t shape[1] = {kCount};
    bce4j_options one_thread;
    bce4j_options_init(&one_thread);
    one_thread.num_threads = 1;
    double expected_loss = 0;
    std::vector<float> expected_grad(kCount);
    ASSERT_EQ(bce4j_bce_with_logits(&one_thread, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr, nullptr,
                                    &expected_loss, expected_grad.data(), nullptr),
              BCE4J_OK);
    constexpr int kCallers = 4;
    std::vector<int> mismatches(kCallers, 0);
    std::vector<std::thread> callers;
    for (int c = 0; c < kCallers; ++c) {
        callers.emplace_back([&, c] {
            bce4j_options defaults;
            bce4j_options_init(&defaults);
            std::vector<float> grad(kCount);
            for (int call = 0; call < 20; ++call) {
                double loss = 0;
                if (bce4j_bce_with_logits(&defaults, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr, nullptr,
                                          &loss, grad.data(), nullptr) != BCE4J_OK ||
                    std::memcmp(&loss, &expected_loss, sizeof loss) != 0 ||
                    std::memcmp(grad.data(), expected_grad.data(), sizeof(float) * kCount) != 0) {
                    ++mismatches[c];
                }
            }
        });
    }
    for (std::thread& t : callers) t.join();
    for (int c = 0; c < kCallers; ++c) EXPECT_EQ(mismatches[c], 0) << "caller " << c;
}

}  // namespace
}  // namespace bce4j
