// Threads: results must be bit-identical for every num_threads and on every run (fixed 8192-element blocks summed
// in a fixed order), concurrent callers must not disturb each other, and error messages are per calling thread.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace {

using namespace bce4j_test;
using Shape = std::vector<int64_t>;

struct Problem {
    Shape shape;
    std::optional<Shape> weight, pos_weight;
};

// A call on random data of the given problem; probabilities get inputs in [0, 1] and no pos_weight.
template <typename T>
Call<T> make_call(const Problem& p, Loss kind, int32_t reduction, uint64_t seed) {
    const int64_t n = numel(p.shape);
    Call<T> c;
    c.kind = kind;
    c.shape = p.shape;
    c.input = kind == Loss::kLogits ? uniform<T>(n, -9, 9, seed) : uniform<T>(n, 0, 1, seed);
    c.target = labels<T>(n, seed + 1);
    if (p.weight) c.weight = random_operand<T>(*p.weight, 0.1, 2, seed + 2);
    if (p.pos_weight && kind == Loss::kLogits) c.pos_weight = random_operand<T>(*p.pos_weight, 0.2, 4, seed + 3);
    c.reduction = reduction;
    return c;
}

template <typename T>
void expect_identical(const Outcome<T>& a, const Outcome<T>& b, const std::string& what) {
    ASSERT_EQ(a.status, BCE4J_OK) << a.message;
    ASSERT_EQ(b.status, BCE4J_OK) << b.message;
    EXPECT_TRUE(bitwise_equal(a.reduced, b.reduced)) << what << ": reduced " << a.reduced << " vs " << b.reduced;
    EXPECT_TRUE(bitwise_equal(a.loss, b.loss)) << what << ": loss";
    EXPECT_TRUE(bitwise_equal(a.grad_input, b.grad_input)) << what << ": grad_input";
    EXPECT_TRUE(bitwise_equal(a.grad_target, b.grad_target)) << what << ": grad_target";
}

template <typename T>
void check_thread_counts(const Problem& p, Loss kind, int32_t reduction) {
    Call<T> c = make_call<T>(p, kind, reduction, 200);
    c.num_threads = 1;
    const Outcome<T> serial = run(c);
    ASSERT_EQ(serial.status, BCE4J_OK) << serial.message;
    for (int threads : {2, 0, 3, 5}) {
        c.num_threads = threads;
        expect_identical(serial, run(c), "num_threads " + std::to_string(threads));
    }
    c.num_threads = 0;
    for (int repeat = 0; repeat < 3; ++repeat) expect_identical(serial, run(c), "repeat " + std::to_string(repeat));
}

void PrintTo(const Problem& p, std::ostream* os) { *os << "n" << numel(p.shape); }  // CTest names: ".../n100003"

class ThreadCounts : public ::testing::TestWithParam<Problem> {};

TEST_P(ThreadCounts, LogitsBitIdenticalForEveryThreadCountAndRun) {
    for (int32_t red : {BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_NONE}) {
        SCOPED_TRACE(red);
        check_thread_counts<float>(GetParam(), Loss::kLogits, red);
        check_thread_counts<double>(GetParam(), Loss::kLogits, red);
    }
}

TEST_P(ThreadCounts, ProbabilitiesBitIdenticalForEveryThreadCountAndRun) {
    check_thread_counts<float>(GetParam(), Loss::kProbabilities, BCE4J_REDUCTION_MEAN);
    check_thread_counts<double>(GetParam(), Loss::kProbabilities, BCE4J_REDUCTION_SUM);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, ThreadCounts,
    ::testing::Values(Problem{{100003}, Shape{}, Shape{100003}},          // prime length, scalar weight
                      Problem{{14287, 7}, Shape{7}, Shape{14287, 1}},     // rows cut by block boundaries
                      Problem{{32768}, Shape{1}, std::nullopt},           // exactly the OpenMP threshold
                      Problem{{1024, 1024}, Shape{1024}, Shape{1024, 1}}  // 1 << 20
                      ));

TEST(Threading, ParallelResultMatchesReference) {
    // Being deterministic is not enough: the parallel result must also be right.
    Call<double> c = make_call<double>({{1024, 1024}, Shape{1024}, Shape{1024, 1}}, Loss::kLogits,
                                       BCE4J_REDUCTION_MEAN, 300);
    c.num_threads = 2;
    c.grad_output = std::vector<double>{1.5};
    expect_matches(c, run(c), expected(c));
}

TEST(Threading, MoreThreadsThanBlocks) {
    // 40000 elements are 5 blocks: 16 threads leave most threads idle, the result is unchanged.
    Call<double> c = make_call<double>({{40000}, Shape{}, std::nullopt}, Loss::kLogits, BCE4J_REDUCTION_SUM, 400);
    c.num_threads = 1;
    const auto serial = run(c);
    c.num_threads = 16;
    expect_identical(serial, run(c), "16 threads");
}

TEST(Threading, MaximumThreadCountOnASmallInputIsSafeAndIdentical) {
    // BCE4J_MAX_THREADS on 40000 elements (5 blocks): a call never starts more threads than it has blocks.
    Call<float> c = make_call<float>({{200, 200}, Shape{200}, Shape{200, 1}}, Loss::kLogits, BCE4J_REDUCTION_MEAN, 450);
    c.num_threads = 1;
    const auto serial = run(c);
    c.num_threads = BCE4J_MAX_THREADS;
    expect_identical(serial, run(c), "BCE4J_MAX_THREADS");
}

TEST(Threading, ConcurrentCallersGetIdenticalResults) {
    // Four application threads call at once, each with its own OpenMP team of 2.
    Call<float> c = make_call<float>({{512, 256}, Shape{256}, Shape{512, 1}}, Loss::kLogits, BCE4J_REDUCTION_MEAN,
                                     500);
    c.num_threads = 2;
    const Outcome<float> want = run(c);
    ASSERT_EQ(want.status, BCE4J_OK);
    std::vector<Outcome<float>> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int repeat = 0; repeat < 3; ++repeat) got[t] = run(c);
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) expect_identical(want, got[t], "caller " + std::to_string(t));
}

TEST(Threading, ErrorMessageBelongsToTheCallingThread) {
    // A failure on one thread must neither show up on, nor be cleared by, another thread.
    Call<double> bad;
    bad.shape = {3};
    bad.input = {0.1, 0.2, 0.3};
    bad.target = {0, 1, 0};
    bad.reduction = 7;
    const auto failed = run(bad);
    ASSERT_EQ(failed.status, BCE4J_ERROR_INVALID_OPTION);
    const std::string mine = bce4j_last_error_message();
    ASSERT_FALSE(mine.empty());

    std::string other_before, other_after;
    std::thread other([&] {
        other_before = bce4j_last_error_message();  // a fresh thread has no error
        Call<double> good = bad;
        good.reduction = BCE4J_REDUCTION_SUM;
        const auto r = run(good);
        EXPECT_EQ(r.status, BCE4J_OK);
        Call<double> worse = bad;
        worse.reduction = BCE4J_REDUCTION_SUM;
        worse.num_threads = -1;
        run(worse);
        other_after = bce4j_last_error_message();
    });
    other.join();
    EXPECT_EQ(other_before, "");
    EXPECT_NE(other_after.find("num_threads"), std::string::npos) << other_after;
    EXPECT_EQ(std::string(bce4j_last_error_message()), mine) << "another thread's calls changed this thread's message";
}

}  // namespace
