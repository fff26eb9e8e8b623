// ThreadBudget: how the OpenMP threads of the process are shared among calls running at once.
#include "thread_budget.h"

#include <gtest/gtest.h>

#include <atomic>
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

}  // namespace
}  // namespace bce4j
