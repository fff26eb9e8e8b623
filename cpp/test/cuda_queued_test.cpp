// The queued CUDA entry points (bce4j_cuda_bce_with_logits_queued / bce4j_cuda_bce_queued) against the blocking ones,
// through the host emulation of libbce4j_cuda (cuda_host_emulation.cpp), where "device memory" is host memory: the
// core's checks and description of the call, and the results in the two device words. CTest runs them against the
// emulation; elsewhere they skip (on a GPU, cuda_device_test.cpp runs the queued calls on device memory).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "storage_types.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;

template <typename T>
struct Results {
    bce4j_status status = BCE4J_ERROR_INTERNAL;
    std::string message;
    double reduced = -777;       // the queued call's device word (left alone for NONE)
    int64_t first_invalid = -2;  // likewise
    std::vector<T> loss, grad_input, grad_target;
};

template <typename T>
struct Inputs {
    Loss kind = Loss::kLogits;
    int32_t reduction = BCE4J_REDUCTION_MEAN;
    int64_t rows = 61, columns = 7;
    std::vector<T> x, y, weight, pos_weight;
};

template <typename T>
Results<T> call(const Inputs<T>& in, bool queued) {
    const int64_t n = in.rows * in.columns;
    const int64_t shape[2] = {in.rows, in.columns};
    const int64_t operand_shape[1] = {in.columns};
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = in.reduction;
    if (!in.weight.empty()) {
        o.weight = in.weight.data();
        o.weight_ndim = 1;
        o.weight_shape = operand_shape;
    }
    if (!in.pos_weight.empty()) {
        o.pos_weight = in.pos_weight.data();
        o.pos_weight_ndim = 1;
        o.pos_weight_shape = operand_shape;
    }
    const bool none = in.reduction == BCE4J_REDUCTION_NONE;
    Results<T> r;
    r.loss.assign(none ? n : 1, T(-5));
    r.grad_input.assign(n, T(-5));
    r.grad_target.assign(n, T(-5));
    const bool logits = in.kind == Loss::kLogits;
    if (queued) {
        const auto fn = logits ? bce4j_cuda_bce_with_logits_queued : bce4j_cuda_bce_queued;
        r.status = fn(&o, dtype_of<T>(), 2, shape, in.x.data(), in.y.data(), nullptr, r.loss.data(), &r.reduced,
                      r.grad_input.data(), r.grad_target.data(), &r.first_invalid, nullptr);
    } else {
        const auto fn = logits ? bce4j_cuda_bce_with_logits : bce4j_cuda_bce;
        r.status = fn(&o, dtype_of<T>(), 2, shape, in.x.data(), in.y.data(), nullptr, r.loss.data(), &r.reduced,
                      r.grad_input.data(), r.grad_target.data(), nullptr);
    }
    r.message = bce4j_last_error_message();
    return r;
}

template <typename T>
class CudaQueued : public ::testing::Test {
protected:
    void SetUp() override {
        if (std::string(bce4j_cuda_description()).find("host emulation") == std::string::npos) {
            GTEST_SKIP() << "these tests pass host memory as device memory: they run against the host emulation only";
        }
    }
};
using Dtypes = ::testing::Types<float, double>;
TYPED_TEST_SUITE(CudaQueued, Dtypes);

TYPED_TEST(CudaQueued, GivesTheBlockingCallsResultsInItsDeviceWords) {
    using T = TypeParam;
    for (const Loss kind : {Loss::kLogits, Loss::kProbabilities}) {
        for (int32_t reduction = BCE4J_REDUCTION_NONE; reduction <= BCE4J_REDUCTION_MEAN_VALID; ++reduction) {
            Inputs<T> in;
            in.kind = kind;
            in.reduction = reduction;
            const int64_t n = in.rows * in.columns;
            in.x = kind == Loss::kLogits ? uniform<T>(n, -8, 8, 31) : uniform<T>(n, 0, 1, 31);
            in.y = labels<T>(n, 32);
            in.weight = uniform<T>(in.columns, 0, 2, 33);
            in.weight[2] = 0;  // the nonzero-weight mean counts something
            if (kind == Loss::kLogits) in.pos_weight = uniform<T>(in.columns, 0.5, 3, 34);
            const Results<T> blocking = call(in, false), queued = call(in, true);
            const std::string where = std::string(kind == Loss::kLogits ? "logits" : "probabilities") + " reduction " +
                                      std::to_string(reduction);
            ASSERT_EQ(blocking.status, BCE4J_OK) << blocking.message;
            ASSERT_EQ(queued.status, BCE4J_OK) << queued.message << " " << where;
            EXPECT_EQ(queued.first_invalid, -1) << where;
            if (reduction == BCE4J_REDUCTION_NONE) {
                EXPECT_EQ(queued.reduced, -777) << "NONE has no reduced loss to write; " << where;
            } else {
                EXPECT_TRUE(bitwise_equal(queued.reduced, blocking.reduced)) << where;
            }
            EXPECT_TRUE(bitwise_equal(queued.loss, blocking.loss)) << where;
            EXPECT_TRUE(bitwise_equal(queued.grad_input, blocking.grad_input)) << where;
            EXPECT_TRUE(bitwise_equal(queued.grad_target, blocking.grad_target)) << where;
        }
    }
}

TYPED_TEST(CudaQueued, ReportsTheFirstOutOfRangeElementInItsDeviceWord) {
    using T = TypeParam;
    Inputs<T> in;
    in.kind = Loss::kProbabilities;
    const int64_t n = in.rows * in.columns;
    in.x = uniform<T>(n, 0, 1, 35);
    in.y = labels<T>(n, 36);
    in.x[300] = T(1.25);
    in.y[123] = T(-1);
    const Results<T> blocking = call(in, false), queued = call(in, true);
    EXPECT_EQ(blocking.status, BCE4J_ERROR_OUT_OF_RANGE);
    EXPECT_EQ(blocking.message, "target element 123 (index [17, 4]) is -1; expected a value in [0, 1]");
    ASSERT_EQ(queued.status, BCE4J_OK) << queued.message;
    EXPECT_EQ(queued.first_invalid, 123);
}

// 16-bit storage: the queued call gives the blocking call's bits (cuda_loss_test.cpp holds both to the CPU).
TEST(CudaQueuedHalf, GivesTheBlockingCallsBits) {
    if (std::string(bce4j_cuda_description()).find("host emulation") == std::string::npos) {
        GTEST_SKIP() << "this test passes host memory as device memory: it runs against the host emulation only";
    }
    const int64_t shape[2] = {61, 7};
    const int64_t n = shape[0] * shape[1];
    const std::vector<double> x = uniform<double>(n, -8, 8, 41), y = labels<double>(n, 42);
    for (const bce4j_dtype dtype : {BCE4J_FLOAT16, BCE4J_BFLOAT16}) {
        const auto stored = [dtype](const std::vector<double>& v) {
            std::vector<uint16_t> bits;
            for (double d : v) {
                bits.push_back(dtype == BCE4J_FLOAT16 ? bce4j::narrow<bce4j::Float16>(d).bits
                                                      : bce4j::narrow<bce4j::BFloat16>(d).bits);
            }
            return bits;
        };
        const std::vector<uint16_t> xs = stored(x), ys = stored(y);
        for (const int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN}) {
            bce4j_options o;
            bce4j_options_init(&o);
            o.reduction = reduction;
            const size_t loss_size = reduction == BCE4J_REDUCTION_NONE ? static_cast<size_t>(n) : 1;
            std::vector<uint16_t> loss[2] = {std::vector<uint16_t>(loss_size), std::vector<uint16_t>(loss_size)};
            std::vector<uint16_t> grad[2] = {std::vector<uint16_t>(n), std::vector<uint16_t>(n)};
            double reduced[2] = {-777, -777};
            int64_t first_invalid = -2;
            ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, dtype, 2, shape, xs.data(), ys.data(), nullptr, loss[0].data(),
                                                 &reduced[0], grad[0].data(), nullptr, nullptr),
                      BCE4J_OK)
                << bce4j_last_error_message();
            ASSERT_EQ(
                bce4j_cuda_bce_with_logits_queued(&o, dtype, 2, shape, xs.data(), ys.data(), nullptr, loss[1].data(),
                                                  &reduced[1], grad[1].data(), nullptr, &first_invalid, nullptr),
                BCE4J_OK)
                << bce4j_last_error_message();
            EXPECT_EQ(first_invalid, -1);
            EXPECT_TRUE(bitwise_equal(reduced[1], reduced[0]));
            EXPECT_EQ(loss[1], loss[0]);
            EXPECT_EQ(grad[1], grad[0]);
        }
    }
}

TEST(CudaQueuedArguments, AreCheckedAsTheBlockingCallsThenFirstInvalid) {
    // These need no library: argument errors come before CUDA's availability.
    const double x[6] = {-2, -1, 0, 0.5, 1, 3}, y[6] = {0, 1, 0.5, 1, 0, 1};
    const int64_t shape[2] = {2, 3};
    double reduced = 0;
    int64_t first_invalid = 0;
    EXPECT_EQ(bce4j_cuda_bce_with_logits_queued(nullptr, BCE4J_FLOAT64, 2, shape, nullptr, y, nullptr, nullptr,
                                                &reduced, nullptr, nullptr, &first_invalid, nullptr),
              BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "input is NULL");
    EXPECT_EQ(bce4j_cuda_bce_queued(nullptr, BCE4J_FLOAT64, 2, shape, x, y, nullptr, nullptr, &reduced, nullptr,
                                    nullptr, nullptr, nullptr),
              BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "first_invalid is NULL");
}

}  // namespace
