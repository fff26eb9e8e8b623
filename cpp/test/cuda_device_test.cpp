// The CUDA entry points on device memory and streams (bce4j_cuda_bce_with_logits / bce4j_cuda_bce). Built only
// where libbce4j_cuda is, linked with the CUDA runtime to allocate device memory; every test skips, with the reason,
// where no CUDA device can be used.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"

namespace {

using namespace bce4j_test;

#define ASSERT_CUDA(expr) ASSERT_EQ((expr), cudaSuccess) << #expr

// A device copy of a host vector (or an uninitialised device array of n elements).
template <typename T>
class DeviceArray {
public:
    explicit DeviceArray(size_t n) : n_(n) {
        if (cudaMalloc(&data_, (n + 1) * sizeof(T)) != cudaSuccess) data_ = nullptr;  // +1: room for offset views
    }
    explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) { upload(host); }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() { cudaFree(data_); }

    void upload(const std::vector<T>& host, size_t offset = 0) {
        cudaMemcpy(data_ + offset, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice);
    }
    std::vector<T> download(size_t offset = 0) const {
        std::vector<T> host(n_);
        cudaMemcpy(host.data(), data_ + offset, n_ * sizeof(T), cudaMemcpyDeviceToHost);
        return host;
    }
    T* get(size_t offset = 0) const { return data_ + offset; }

private:
    size_t n_;
    T* data_ = nullptr;
};

class CudaDevice : public ::testing::Test {
protected:
    void SetUp() override {
        if (bce4j_cuda_availability() != BCE4J_CUDA_AVAILABLE) {
            GTEST_SKIP() << "CUDA is " << bce4j_cuda_description();
        }
    }
};

// got[i] within rel of want[i], relative to the larger of |want[i]| and scale[i], the magnitude of the terms that
// make up that element (never a fixed 1: a float32 MEAN gradient over 16M elements is about 1e-8, so against 1 a
// zero gradient would pass), capped at 1 so that no element gets a looser bound than the fixed scale 1 gave.
template <typename T>
::testing::AssertionResult all_close(const std::vector<T>& got, const std::vector<T>& want,
                                     const std::vector<LD>& scale, double rel) {
    if (got.size() != want.size() || scale.size() != want.size()) {
        return ::testing::AssertionFailure() << "sizes differ";
    }
    for (size_t i = 0; i < want.size(); ++i) {
        if (std::isnan(want[i]) && std::isnan(got[i])) continue;
        const ::testing::AssertionResult same =
            close(got[i], want[i], std::min<LD>(scale[i], 1), rel, std::numeric_limits<T>::denorm_min());
        if (!same) return ::testing::AssertionFailure() << "element " << i << ": " << same.message();
    }
    return ::testing::AssertionSuccess();
}

// The magnitude of the terms of each element's grad_input for the logits loss on rows of `columns` elements, with
// per-column weight and pos_weight (empty: 1), times the upstream scale (1/n for MEAN, 1 for SUM).
template <typename T>
std::vector<LD> grad_input_scales(const std::vector<T>& x, const std::vector<T>& y, const std::vector<T>& weight,
                                  const std::vector<T>& pos_weight, size_t columns, LD upstream) {
    std::vector<LD> scale(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const LD w = weight.empty() ? 1 : weight[i % columns];
        const LD p = pos_weight.empty() ? 1 : pos_weight[i % columns];
        scale[i] = std::fabs(w * upstream) * ref_logits(x[i], y[i], p).grad_input_scale;
    }
    return scale;
}

constexpr double kFloatTolerance = 32 * std::numeric_limits<float>::epsilon();  // as cuda_loss_test.cpp

TEST_F(CudaDevice, DevicePointersOnAStreamMatchTheCpuAndTheHostEntryPoint) {
    const int64_t rows = 1000, columns = 37, n = rows * columns;
    const int64_t shape[2] = {rows, columns};
    const int64_t operand_shape[1] = {columns};
    const std::vector<float> x = uniform<float>(n, -8, 8, 1), y = labels<float>(n, 2);
    const std::vector<float> w = uniform<float>(columns, 0, 2, 3), p = uniform<float>(columns, 0.5, 3, 4);
    bce4j_options o;
    bce4j_options_init(&o);
    o.weight = w.data();
    o.weight_ndim = 1;
    o.weight_shape = operand_shape;
    o.pos_weight = p.data();
    o.pos_weight_ndim = 1;
    o.pos_weight_shape = operand_shape;
    std::vector<float> cpu_grad(n), host_grad(n);
    double cpu_loss = 0, host_loss = 0, device_loss = 0;
    ASSERT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT32, 2, shape, x.data(), y.data(), nullptr, nullptr, &cpu_loss,
                                    cpu_grad.data(), nullptr),
              BCE4J_OK);
    ASSERT_EQ(bce4j_cuda_bce_with_logits_host(&o, BCE4J_FLOAT32, 2, shape, x.data(), y.data(), nullptr, nullptr,
                                              &host_loss, host_grad.data(), nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();

    cudaStream_t stream;
    ASSERT_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    DeviceArray<float> dx(x.size()), dy(y.size()), dw(w), dp(p), grad(n), loss(1);
    // Queued on the stream without waiting: the call must run after these copies.
    ASSERT_CUDA(cudaMemcpyAsync(dx.get(), x.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream));
    ASSERT_CUDA(cudaMemcpyAsync(dy.get(), y.data(), n * sizeof(float), cudaMemcpyHostToDevice, stream));
    o.weight = dw.get();
    o.pos_weight = dp.get();
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, BCE4J_FLOAT32, 2, shape, dx.get(), dy.get(), nullptr, loss.get(),
                                         &device_loss, grad.get(), nullptr, stream),
              BCE4J_OK)
        << bce4j_last_error_message();
    ASSERT_CUDA(cudaStreamDestroy(stream));

    EXPECT_NEAR(device_loss, cpu_loss, 1e-5 * std::fabs(cpu_loss));
    EXPECT_TRUE(
        all_close(grad.download(), cpu_grad, grad_input_scales(x, y, w, p, columns, 1.0L / n), kFloatTolerance));
    // The same kernels on the same values: the host entry point gives the same bits.
    EXPECT_TRUE(bitwise_equal(device_loss, host_loss));
    EXPECT_TRUE(bitwise_equal(grad.download(), host_grad));
    EXPECT_EQ(loss.download()[0], static_cast<float>(device_loss));
}

TEST_F(CudaDevice, UnalignedPointersGiveTheSameResultsAsAligned) {
    const int64_t n = 100003;
    const int64_t shape[1] = {n};
    const std::vector<double> x = uniform<double>(n, -8, 8, 5), y = labels<double>(n, 6);
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = BCE4J_REDUCTION_SUM;
    DeviceArray<double> dx(n), dy(n), grad(n);
    double aligned = 0, unaligned = 0;
    dx.upload(x);
    dy.upload(y);
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, BCE4J_FLOAT64, 1, shape, dx.get(), dy.get(), nullptr, nullptr, &aligned,
                                         grad.get(), nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    const std::vector<double> aligned_grad = grad.download();
    dx.upload(x, 1);  // 8 bytes past a 16-byte boundary: the scalar path
    dy.upload(y, 1);
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, BCE4J_FLOAT64, 1, shape, dx.get(1), dy.get(1), nullptr, nullptr,
                                         &unaligned, grad.get(1), nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    EXPECT_NEAR(unaligned, aligned, 1e-12 * std::fabs(aligned));
    EXPECT_TRUE(all_close(grad.download(1), aligned_grad, grad_input_scales<double>(x, y, {}, {}, 1, 1), 1e-13));
}

TEST_F(CudaDevice, SixteenMillionFloatsTwiceGiveTheSameBitsAndTheCpuMean) {
    const int64_t n = (int64_t{1} << 24) + 3;
    const int64_t shape[1] = {n};
    const std::vector<float> x = uniform<float>(n, -8, 8, 7), y = labels<float>(n, 8);
    DeviceArray<float> dx(x), dy(y), grad(n);
    double first = 0, second = 0, cpu = 0;
    ASSERT_EQ(bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT32, 1, shape, dx.get(), dy.get(), nullptr, nullptr, &first,
                                         grad.get(), nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    const std::vector<float> first_grad = grad.download();
    ASSERT_EQ(bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT32, 1, shape, dx.get(), dy.get(), nullptr, nullptr,
                                         &second, grad.get(), nullptr, nullptr),
              BCE4J_OK);
    EXPECT_TRUE(bitwise_equal(first, second)) << first << " vs " << second;
    EXPECT_TRUE(bitwise_equal(grad.download(), first_grad));
    std::vector<float> cpu_grad(n);
    ASSERT_EQ(bce4j_bce_with_logits(nullptr, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr, nullptr, &cpu,
                                    cpu_grad.data(), nullptr),
              BCE4J_OK);
    EXPECT_NEAR(first, cpu, 1e-5 * std::fabs(cpu));
    EXPECT_TRUE(all_close(first_grad, cpu_grad, grad_input_scales<float>(x, y, {}, {}, 1, 1.0L / n), kFloatTolerance));
}

TEST_F(CudaDevice, OutOfRangeProbabilitiesAreReportedAsOnTheCpu) {
    const int64_t n = 5000;
    const int64_t shape[1] = {n};
    std::vector<double> x = uniform<double>(n, 0, 1, 9), y = labels<double>(n, 10);
    x[4321] = 1.25;
    y[4000] = -1;
    DeviceArray<double> dx(x), dy(y);
    double loss = 0;
    ASSERT_EQ(
        bce4j_bce(nullptr, BCE4J_FLOAT64, 1, shape, x.data(), y.data(), nullptr, nullptr, &loss, nullptr, nullptr),
        BCE4J_ERROR_OUT_OF_RANGE);
    const std::string cpu_message = bce4j_last_error_message();
    ASSERT_EQ(bce4j_cuda_bce(nullptr, BCE4J_FLOAT64, 1, shape, dx.get(), dy.get(), nullptr, nullptr, &loss, nullptr,
                             nullptr, nullptr),
              BCE4J_ERROR_OUT_OF_RANGE);
    EXPECT_EQ(bce4j_last_error_message(), cpu_message);
    EXPECT_EQ(cpu_message, "target element 4000 (index [4000]) is -1; expected a value in [0, 1]");
}

TEST_F(CudaDevice, DescriptionNamesTheDevices) {
    int count = 0;
    ASSERT_CUDA(cudaGetDeviceCount(&count));
    EXPECT_EQ(bce4j_cuda_device_count(), count);
    cudaDeviceProp properties;
    ASSERT_CUDA(cudaGetDeviceProperties(&properties, 0));
    EXPECT_NE(std::string(bce4j_cuda_description()).find(properties.name), std::string::npos)
        << bce4j_cuda_description();
}

}  // namespace
