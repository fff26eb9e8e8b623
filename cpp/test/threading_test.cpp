// Threads: results must be bit-identical for every num_threads and on every run (fixed 8192-element blocks summed
// in a fixed order; inputs of at least 4 blocks run in parallel, executor.h), for every reduction and option, the
// weight gradients included; concurrent callers must not disturb each other, and error messages are per calling
// thread.
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

// The options besides weight and pos_weight that change what each element computes or what the sum is divided by.
struct OptionSet {
    const char* name;
    int32_t reduction;
    bool ignore = false;  // every 7th target is the ignore index
    double smoothing = 0;
    bool focal = false;  // logits only
    int32_t pos_weight_mode = BCE4J_POS_WEIGHT_TORCH;
};

const OptionSet kOptionSets[] = {
    {"mean_by_weight", BCE4J_REDUCTION_MEAN_BY_WEIGHT},
    {"mean_by_nonzero_weight", BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT},
    {"mean_valid, ignore_index", BCE4J_REDUCTION_MEAN_VALID, true},
    {"mean, ignore_index", BCE4J_REDUCTION_MEAN, true},
    {"sum, label smoothing", BCE4J_REDUCTION_SUM, false, 0.1},
    {"none, focal", BCE4J_REDUCTION_NONE, false, 0, true},
    {"mean_by_weight, ignore_index, smoothing, focal, paddle-legacy", BCE4J_REDUCTION_MEAN_BY_WEIGHT, true, 0.1, true,
     BCE4J_POS_WEIGHT_PADDLE_LEGACY},
};

// Every output a call can write, the weight gradients included.
template <typename T>
struct EveryOutput : Outcome<T> {
    std::vector<T> grad_weight, grad_pos_weight;
};

template <typename T>
EveryOutput<T> run_every_output(const Call<T>& c, const OptionSet& s) {
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = c.reduction;
    o.num_threads = c.num_threads;
    o.pos_weight_mode = s.pos_weight_mode;
    o.has_ignore_index = s.ignore;
    o.ignore_index = -100;
    o.label_smoothing = s.smoothing;
    o.smoothing_classes = 3;
    o.has_focal = s.focal;
    o.focal_gamma = 2;
    o.focal_alpha = 0.25;
    EveryOutput<T> r;
    const T sentinel = static_cast<T>(-12345.0);
    if (c.weight) {
        o.weight = c.weight->data.data();
        o.weight_ndim = static_cast<int32_t>(c.weight->shape.size());
        o.weight_shape = c.weight->shape.data();
    }
    r.grad_weight.assign(c.weight ? c.weight->data.size() : 1u, sentinel);
    o.grad_weight = r.grad_weight.data();
    if (c.pos_weight) {
        o.pos_weight = c.pos_weight->data.data();
        o.pos_weight_ndim = static_cast<int32_t>(c.pos_weight->shape.size());
        o.pos_weight_shape = c.pos_weight->shape.data();
    }
    if (c.kind == Loss::kLogits) {
        r.grad_pos_weight.assign(c.pos_weight ? c.pos_weight->data.size() : 1u, sentinel);
        o.grad_pos_weight = r.grad_pos_weight.data();
    }
    const int64_t n = numel(c.shape);
    r.loss.assign(c.reduction == BCE4J_REDUCTION_NONE ? static_cast<size_t>(n) : 1u, sentinel);
    r.grad_input.assign(static_cast<size_t>(n), sentinel);
    r.grad_target.assign(static_cast<size_t>(n), sentinel);
    const auto fn = c.kind == Loss::kLogits ? bce4j_bce_with_logits : bce4j_bce;
    r.status = fn(&o, dtype_of<T>(), static_cast<int32_t>(c.shape.size()), c.shape.data(), c.input.data(),
                  c.target.data(), c.grad_output ? c.grad_output->data() : nullptr, r.loss.data(), &r.reduced,
                  r.grad_input.data(), r.grad_target.data());
    r.message = bce4j_last_error_message();
    return r;
}

template <typename T>
void expect_every_output_identical(const EveryOutput<T>& a, const EveryOutput<T>& b, const std::string& what) {
    expect_identical<T>(a, b, what);
    EXPECT_TRUE(bitwise_equal(a.grad_weight, b.grad_weight)) << what << ": grad_weight";
    EXPECT_TRUE(bitwise_equal(a.grad_pos_weight, b.grad_pos_weight)) << what << ": grad_pos_weight";
}

template <typename T>
void check_thread_counts_with_options(const Problem& p, Loss kind, const OptionSet& s) {
    Call<T> c = make_call<T>(p, kind, s.reduction, 600);
    const int64_t n = numel(c.shape);
    // Zero weights, so that the nonzero-weight count differs from the element count; ignored targets likewise.
    if (c.weight) {
        for (size_t j = 0; j < c.weight->data.size(); j += 5) c.weight->data[j] = 0;
    }
    if (s.ignore) {
        for (int64_t i = 0; i < n; i += 7) c.target[i] = -100;
    }
    c.grad_output = s.reduction == BCE4J_REDUCTION_NONE ? uniform<T>(n, -2, 2, 601) : std::vector<T>{T(0.75)};
    c.num_threads = 1;
    const EveryOutput<T> serial = run_every_output(c, s);
    ASSERT_EQ(serial.status, BCE4J_OK) << serial.message;
    for (int threads : {2, 0, 3, 5}) {
        c.num_threads = threads;
        expect_every_output_identical(serial, run_every_output(c, s), "num_threads " + std::to_string(threads));
    }
    c.num_threads = 0;
    expect_every_output_identical(serial, run_every_output(c, s), "repeat");
}

// The normalised means (whose denominators read the weight or the targets), ignore_index, label smoothing and
// focal loss, with the weight gradients: as deterministic as the plain reductions above.
TEST_P(ThreadCounts, EveryOptionBitIdenticalForEveryThreadCountAndRun) {
    for (const OptionSet& s : kOptionSets) {
        SCOPED_TRACE(s.name);
        check_thread_counts_with_options<float>(GetParam(), Loss::kLogits, s);
        check_thread_counts_with_options<double>(GetParam(), Loss::kLogits, s);
        if (s.focal || s.pos_weight_mode != BCE4J_POS_WEIGHT_TORCH) continue;  // logits-only options
        check_thread_counts_with_options<float>(GetParam(), Loss::kProbabilities, s);
        check_thread_counts_with_options<double>(GetParam(), Loss::kProbabilities, s);
    }
}

INSTANTIATE_TEST_SUITE_P(Sizes, ThreadCounts,
                         ::testing::Values(Problem{{100003}, Shape{}, Shape{100003}},  // prime length, scalar weight
                                           Problem{
                                               {14287, 7}, Shape{7}, Shape{14287, 1}},  // rows cut by block boundaries
                                           Problem{{32768}, Shape{1}, std::nullopt},    // exactly the OpenMP threshold
                                           Problem{{1024, 1024}, Shape{1024}, Shape{1024, 1}},  // 1 << 20
                                           // Operands repeating with each row, read a whole block at a time
                                           Problem{{6251, 16}, Shape{16}, Shape{1, 16}},
                                           Problem{{101, 1000}, Shape{101, 1000}, Shape{1000}}));

TEST(Threading, ParallelResultMatchesReference) {
    // Being deterministic is not enough: the parallel result must also be right.
    Call<double> c =
        make_call<double>({{1024, 1024}, Shape{1024}, Shape{1024, 1}}, Loss::kLogits, BCE4J_REDUCTION_MEAN, 300);
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
    Call<float> c = make_call<float>({{512, 256}, Shape{256}, Shape{512, 1}}, Loss::kLogits, BCE4J_REDUCTION_MEAN, 500);
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
