// The CUDA entry points on device memory and streams (bce4j_cuda_bce_with_logits / bce4j_cuda_bce). Built only
// where libbce4j_cuda is, linked with the CUDA runtime to allocate device memory; every test skips, with the reason,
// where no CUDA device can be used.
#include <cuda.h>
#include <cuda_runtime.h>
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "storage_types.h"
#include "test_util.h"

namespace {

using namespace bce4j_test;

#define ASSERT_CUDA(expr) ASSERT_EQ((expr), cudaSuccess) << #expr

// A device copy of a host vector (or an uninitialised device array of n elements). The copies wait until the data
// has landed: cudaMemcpy from pageable memory may return once the bytes are staged, before the device has them, and a
// call on a non-blocking stream does not wait for the legacy stream that copy ran on.
template <typename T>
class DeviceArray {
public:
    explicit DeviceArray(size_t n) : n_(n) {
        error_ = cudaMalloc(&data_, (n + 1) * sizeof(T));  // +1: room for offset views
        if (error_ != cudaSuccess) data_ = nullptr;
    }
    explicit DeviceArray(const std::vector<T>& host) : DeviceArray(host.size()) {
        if (error_ == cudaSuccess) error_ = upload(host);
    }
    DeviceArray(const DeviceArray&) = delete;
    DeviceArray& operator=(const DeviceArray&) = delete;
    ~DeviceArray() { cudaFree(data_); }

    // cudaSuccess when the allocation and the constructor's upload succeeded.
    cudaError_t error() const { return error_; }
    cudaError_t upload(const std::vector<T>& host, size_t offset = 0) {
        if (cudaError_t e = cudaMemcpy(data_ + offset, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice)) {
            return e;
        }
        return cudaDeviceSynchronize();
    }
    std::vector<T> download(size_t offset = 0) const {
        std::vector<T> host(n_);
        EXPECT_EQ(cudaMemcpy(host.data(), data_ + offset, n_ * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
        return host;
    }
    T* get(size_t offset = 0) const { return data_ + offset; }

private:
    size_t n_;
    T* data_ = nullptr;
    cudaError_t error_ = cudaSuccess;
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
    for (const cudaError_t e : {dx.error(), dy.error(), dw.error(), dp.error(), grad.error(), loss.error()}) {
        ASSERT_CUDA(e);
    }
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

// grad_weight (per class, [C]) and grad_pos_weight (per row, [N, 1]) on device pointers, against the CPU within the
// tolerance of each element's terms (sum over its broadcast of |loss_i| for the weight, |w_i y_i softplus(-x_i)| for
// pos_weight, plus MEAN_BY_WEIGHT's offset |R| m; over W), with the host entry point's bits and the same bits on
// every run. Several chunks per class (3000 rows).
template <typename T>
void expect_weight_gradients_match_cpu(bce4j_dtype dtype, int32_t reduction, double rel) {
    const int64_t rows = 3000, columns = 19, n = rows * columns;
    const int64_t shape[2] = {rows, columns};
    const int64_t weight_shape[1] = {columns};
    const int64_t pos_weight_shape[2] = {rows, 1};
    const std::vector<T> x = uniform<T>(n, -8, 8, 51), y = labels<T>(n, 52);
    const std::vector<T> w = uniform<T>(columns, 0, 2, 53), p = uniform<T>(rows, 0.5, 3, 54);
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = reduction;
    o.weight_ndim = 1;
    o.weight_shape = weight_shape;
    o.pos_weight_ndim = 2;
    o.pos_weight_shape = pos_weight_shape;
    std::vector<T> cpu_gw(columns), cpu_gp(rows), host_gw(columns), host_gp(rows);
    double cpu_loss = 0, host_loss = 0;
    o.weight = w.data();
    o.pos_weight = p.data();
    o.grad_weight = cpu_gw.data();
    o.grad_pos_weight = cpu_gp.data();
    ASSERT_EQ(
        bce4j_bce_with_logits(&o, dtype, 2, shape, x.data(), y.data(), nullptr, nullptr, &cpu_loss, nullptr, nullptr),
        BCE4J_OK);
    o.grad_weight = host_gw.data();
    o.grad_pos_weight = host_gp.data();
    ASSERT_EQ(bce4j_cuda_bce_with_logits_host(&o, dtype, 2, shape, x.data(), y.data(), nullptr, nullptr, &host_loss,
                                              nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();

    DeviceArray<T> dx(x), dy(y), dw(w), dp(p), gw(columns), gp(rows);
    for (const cudaError_t e : {dx.error(), dy.error(), dw.error(), dp.error(), gw.error(), gp.error()}) ASSERT_CUDA(e);
    o.weight = dw.get();
    o.pos_weight = dp.get();
    o.grad_weight = gw.get();
    o.grad_pos_weight = gp.get();
    double device_loss = 0;
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, dtype, 2, shape, dx.get(), dy.get(), nullptr, nullptr, &device_loss,
                                         nullptr, nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    const std::vector<T> device_gw = gw.download(), device_gp = gp.download();
    EXPECT_TRUE(bitwise_equal(device_gw, host_gw));
    EXPECT_TRUE(bitwise_equal(device_gp, host_gp));
    for (int run = 0; run < 2; ++run) {
        ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, dtype, 2, shape, dx.get(), dy.get(), nullptr, nullptr, &device_loss,
                                             nullptr, nullptr, nullptr),
                  BCE4J_OK);
        EXPECT_TRUE(bitwise_equal(gw.download(), device_gw));
        EXPECT_TRUE(bitwise_equal(gp.download(), device_gp));
    }

    const bool by_weight = reduction == BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    LD weight_sum = 0;
    for (T v : w) weight_sum += static_cast<LD>(v) * rows;
    const LD scale = by_weight ? 1 / weight_sum : 1;
    std::vector<LD> weight_scale(columns, by_weight ? std::fabs(static_cast<LD>(cpu_loss)) * rows : 0);
    std::vector<LD> pos_weight_scale(rows, 0);
    for (int64_t i = 0; i < n; ++i) {
        const int64_t row = i / columns, column = i % columns;
        weight_scale[column] += std::fabs(ref_logits(x[i], y[i], p[row]).loss);
        pos_weight_scale[row] += std::fabs(static_cast<LD>(w[column]) * y[i] * ref_softplus(-static_cast<LD>(x[i])));
    }
    for (LD& v : weight_scale) v *= scale;
    for (LD& v : pos_weight_scale) v *= scale;
    for (int64_t j = 0; j < columns; ++j) {
        EXPECT_TRUE(close(device_gw[j], cpu_gw[j], weight_scale[j], rel)) << "grad_weight element " << j;
    }
    for (int64_t j = 0; j < rows; ++j) {
        EXPECT_TRUE(close(device_gp[j], cpu_gp[j], pos_weight_scale[j], rel)) << "grad_pos_weight element " << j;
    }
}

TEST_F(CudaDevice, WeightGradientsMatchTheCpuAndRepeatBitForBit) {
    for (int32_t reduction : {BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_MEAN_BY_WEIGHT}) {
        SCOPED_TRACE(testing::Message() << "reduction " << reduction);
        expect_weight_gradients_match_cpu<float>(BCE4J_FLOAT32, reduction, kFloatTolerance);
        expect_weight_gradients_match_cpu<double>(BCE4J_FLOAT64, reduction, 1e-12);
    }
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
    for (const cudaError_t e : {dx.error(), dy.error(), grad.error()}) ASSERT_CUDA(e);
    ASSERT_CUDA(dx.upload(x));
    ASSERT_CUDA(dy.upload(y));
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, BCE4J_FLOAT64, 1, shape, dx.get(), dy.get(), nullptr, nullptr, &aligned,
                                         grad.get(), nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    const std::vector<double> aligned_grad = grad.download();
    ASSERT_CUDA(dx.upload(x, 1));  // 8 bytes past a 16-byte boundary: the scalar path
    ASSERT_CUDA(dy.upload(y, 1));
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
    for (const cudaError_t e : {dx.error(), dy.error(), grad.error()}) ASSERT_CUDA(e);
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

// 16-bit storage on device memory, for each type: against the CPU (both compute in float and round each result once
// to the type: within the float tolerance of the terms plus one unit in the type's last place), the vector path
// (aligned) and the scalar one (2 bytes off) bit for bit, and the same bits on a second call, with weights.
template <typename S>
void expect_half_storage_matches_cpu(bce4j_dtype dtype) {
    const int64_t rows = 4001, columns = 37, n = rows * columns;
    const int64_t shape[2] = {rows, columns};
    const int64_t operand_shape[1] = {columns};
    const auto held = [](const std::vector<double>& v) {
        std::vector<uint16_t> bits;
        for (double d : v) bits.push_back(bce4j::narrow<S>(d).bits);
        return bits;
    };
    const auto value = [](uint16_t bits) { return static_cast<LD>(bce4j::widen(S{bits})); };
    const std::vector<uint16_t> x = held(uniform<double>(n, -8, 8, 61)), y = held(labels<double>(n, 62));
    const std::vector<uint16_t> w = held(uniform<double>(columns, 0, 2, 63)),
                                p = held(uniform<double>(columns, 1, 3, 64));
    DeviceArray<uint16_t> dx(n), dy(n), dw(w), dp(p), grad(n), loss(n);
    for (const cudaError_t e : {dx.error(), dy.error(), dw.error(), dp.error(), grad.error(), loss.error()}) {
        ASSERT_CUDA(e);
    }
    for (const int32_t reduction : {BCE4J_REDUCTION_NONE, BCE4J_REDUCTION_MEAN}) {
        SCOPED_TRACE(testing::Message() << "dtype " << dtype << " reduction " << reduction);
        bce4j_options o;
        bce4j_options_init(&o);
        o.reduction = reduction;
        o.weight_ndim = 1;
        o.weight_shape = operand_shape;
        o.pos_weight_ndim = 1;
        o.pos_weight_shape = operand_shape;
        o.weight = w.data();
        o.pos_weight = p.data();
        const bool none = reduction == BCE4J_REDUCTION_NONE;
        std::vector<uint16_t> cpu_grad(n), cpu_loss(none ? n : 1);
        double cpu_reduced = 0;
        ASSERT_EQ(bce4j_bce_with_logits(&o, dtype, 2, shape, x.data(), y.data(), nullptr, cpu_loss.data(), &cpu_reduced,
                                        cpu_grad.data(), nullptr),
                  BCE4J_OK);
        o.weight = dw.get();
        o.pos_weight = dp.get();
        std::vector<uint16_t> runs_grad[3], runs_loss[3];
        double runs_reduced[3] = {};
        for (int run = 0; run < 3; ++run) {
            const size_t offset = run == 2 ? 1 : 0;  // the third: 2 bytes past the vectors' alignment
            ASSERT_CUDA(dx.upload(x, offset));
            ASSERT_CUDA(dy.upload(y, offset));
            ASSERT_EQ(
                bce4j_cuda_bce_with_logits(&o, dtype, 2, shape, dx.get(offset), dy.get(offset), nullptr,
                                           loss.get(offset), &runs_reduced[run], grad.get(offset), nullptr, nullptr),
                BCE4J_OK)
                << bce4j_last_error_message();
            runs_grad[run] = grad.download(offset);
            runs_loss[run] = loss.download(offset);
            runs_loss[run].resize(none ? n : 1);
        }
        for (int run = 1; run < 3; ++run) {
            EXPECT_TRUE(bitwise_equal(runs_reduced[run], runs_reduced[0])) << "run " << run;
            EXPECT_EQ(runs_grad[run], runs_grad[0]) << "run " << run;
            EXPECT_EQ(runs_loss[run], runs_loss[0]) << "run " << run;
        }
        if (!none) {
            EXPECT_NEAR(runs_reduced[0], cpu_reduced, 1e-5 * std::fabs(cpu_reduced));
            EXPECT_EQ(runs_loss[0][0], bce4j::narrow<S>(runs_reduced[0]).bits) << "the reduced loss, rounded once";
        }
        const LD upstream = none ? 1 : 1.0L / n;
        int failures = 0;
        for (int64_t i = 0; i < n && failures < 10; ++i) {
            const LD wi = value(w[i % columns]), pi = value(p[i % columns]);
            const RefTerms t = ref_logits(value(x[i]), value(y[i]), pi);
            const auto check = [&](uint16_t got, uint16_t want, LD scale, const char* what) {
                const LD larger = std::max(std::fabs(value(got)), std::fabs(value(want)));
                int exponent = 0;
                std::frexp(static_cast<double>(larger), &exponent);
                constexpr int kMantissaBits = bce4j::Format16<S>::kMantissaBits;
                constexpr int kLowest = 2 - (1 << (bce4j::Format16<S>::kExponentBits - 1)) - kMantissaBits;
                const double ulp = std::ldexp(1.0, std::max(exponent - 1 - kMantissaBits, kLowest));
                const ::testing::AssertionResult same =
                    close(static_cast<double>(value(got)), value(want), std::min<LD>(scale, 1), kFloatTolerance, ulp);
                if (!same) ++failures;
                EXPECT_TRUE(same) << what << " element " << i;
            };
            check(runs_grad[0][i], cpu_grad[i], std::fabs(wi * upstream) * t.grad_input_scale, "grad_input");
            if (none) check(runs_loss[0][i], cpu_loss[i], std::fabs(wi) * t.loss_scale, "loss");
        }
    }
}

TEST_F(CudaDevice, Float16StorageMatchesTheCpuOnEveryPathAndEveryRun) {
    expect_half_storage_matches_cpu<bce4j::Float16>(BCE4J_FLOAT16);
}

TEST_F(CudaDevice, BFloat16StorageMatchesTheCpuOnEveryPathAndEveryRun) {
    expect_half_storage_matches_cpu<bce4j::BFloat16>(BCE4J_BFLOAT16);
}

TEST_F(CudaDevice, OutOfRangeProbabilitiesAreReportedAsOnTheCpu) {
    const int64_t n = 5000;
    const int64_t shape[1] = {n};
    std::vector<double> x = uniform<double>(n, 0, 1, 9), y = labels<double>(n, 10);
    x[4321] = 1.25;
    y[4000] = -1;
    DeviceArray<double> dx(x), dy(y);
    ASSERT_CUDA(dx.error());
    ASSERT_CUDA(dy.error());
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

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// A float32 mean call on device arrays of n elements, on `stream`.
bce4j_status mean_call(const float* x, const float* y, int64_t n, float* grad, double* loss, cudaStream_t stream) {
    const int64_t shape[1] = {n};
    return bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT32, 1, shape, x, y, nullptr, nullptr, loss, grad, nullptr,
                                      stream);
}

// A host pointer would fault in the kernel and lose the context of every CUDA user in the process: it is refused,
// naming the argument, before anything runs, and the device keeps working.
TEST_F(CudaDevice, HostPointersAreRefusedBeforeAnythingRuns) {
    const int64_t n = 4096;
    const std::vector<float> x = uniform<float>(n, -8, 8, 11), y = labels<float>(n, 12);
    DeviceArray<float> dx(x), dy(y), grad(n);
    for (const cudaError_t e : {dx.error(), dy.error(), grad.error()}) ASSERT_CUDA(e);
    std::vector<float> host_grad(n);
    double loss = 0;
    EXPECT_EQ(mean_call(x.data(), dy.get(), n, grad.get(), &loss, nullptr), BCE4J_ERROR_DEVICE);
    EXPECT_TRUE(starts_with(bce4j_last_error_message(), "input is not device memory")) << bce4j_last_error_message();
    EXPECT_EQ(mean_call(dx.get(), dy.get(), n, host_grad.data(), &loss, nullptr), BCE4J_ERROR_DEVICE);
    EXPECT_TRUE(starts_with(bce4j_last_error_message(), "grad_input is not device memory"))
        << bce4j_last_error_message();
    double good = 0;
    ASSERT_EQ(mean_call(dx.get(), dy.get(), n, grad.get(), &good, nullptr), BCE4J_OK) << bce4j_last_error_message();
    EXPECT_TRUE(std::isfinite(good));
}

TEST_F(CudaDevice, MemoryOfAnotherDeviceIsRefused) {
    int count = 0;
    ASSERT_CUDA(cudaGetDeviceCount(&count));
    if (count < 2) GTEST_SKIP() << "one CUDA device here";
    const int64_t n = 256;
    ASSERT_CUDA(cudaSetDevice(1));
    DeviceArray<float> other(uniform<float>(n, -8, 8, 13));
    ASSERT_CUDA(other.error());
    ASSERT_CUDA(cudaSetDevice(0));
    DeviceArray<float> dy(labels<float>(n, 14));
    ASSERT_CUDA(dy.error());
    double loss = 0;
    EXPECT_EQ(mean_call(other.get(), dy.get(), n, nullptr, &loss, nullptr), BCE4J_ERROR_DEVICE);
    EXPECT_EQ(std::string(bce4j_last_error_message()),
              "input is memory of CUDA device 1, but the call runs on device 0 (the calling thread's current device)");
}

// A call on a stream under capture is refused before anything is queued: the capture goes on and ends with an
// empty graph. So does one on the legacy default stream while a blocking stream captures (the runtime forbids it).
TEST_F(CudaDevice, AStreamUnderCaptureIsRefusedAndTheCaptureGoesOn) {
    const int64_t n = 4096;
    DeviceArray<float> dx(uniform<float>(n, -8, 8, 15)), dy(labels<float>(n, 16)), grad(n);
    for (const cudaError_t e : {dx.error(), dy.error(), grad.error()}) ASSERT_CUDA(e);
    double loss = 0;
    cudaStream_t stream;
    ASSERT_CUDA(cudaStreamCreate(&stream));  // blocking: it also makes the legacy stream unusable during capture
    ASSERT_EQ(mean_call(dx.get(), dy.get(), n, grad.get(), &loss, stream), BCE4J_OK) << bce4j_last_error_message();
    for (const bool on_legacy_stream : {false, true}) {
        ASSERT_CUDA(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
        const bce4j_status status =
            mean_call(dx.get(), dy.get(), n, grad.get(), &loss, on_legacy_stream ? nullptr : stream);
        const std::string message = bce4j_last_error_message();
        cudaGraph_t graph = nullptr;
        ASSERT_CUDA(cudaStreamEndCapture(stream, &graph));
        size_t nodes = 1;
        ASSERT_CUDA(cudaGraphGetNodes(graph, nullptr, &nodes));
        ASSERT_CUDA(cudaGraphDestroy(graph));
        EXPECT_EQ(status, BCE4J_ERROR_DEVICE) << on_legacy_stream;
        EXPECT_EQ(nodes, 0u) << "the call queued work into the caller's capture";
        EXPECT_TRUE(starts_with(
            message, on_legacy_stream ? "stream is the legacy default stream" : "stream is capturing a CUDA graph"))
            << message;
    }
    ASSERT_EQ(mean_call(dx.get(), dy.get(), n, grad.get(), &loss, stream), BCE4J_OK) << bce4j_last_error_message();
    ASSERT_CUDA(cudaStreamDestroy(stream));
}

// The thread's current CUDA context (the driver's, which every CUDA runtime copy in the process shares), asked of the
// driver directly, so that asking creates none.
CUcontext current_context() {
    static const auto get = [] {
        void* driver = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
        return driver == nullptr ? nullptr
                                 : reinterpret_cast<CUresult (*)(CUcontext*)>(dlsym(driver, "cuCtxGetCurrent"));
    }();
    CUcontext context = nullptr;
    EXPECT_NE(get, nullptr);
    if (get != nullptr) EXPECT_EQ(get(&context), CUDA_SUCCESS);
    return context;
}

TEST_F(CudaDevice, TheCallersCurrentContextIsKept) {
    const int64_t n = 1000;
    const int64_t shape[1] = {n};
    const std::vector<float> x = uniform<float>(n, -8, 8, 17), y = labels<float>(n, 18);
    // A thread that never touched CUDA has no current context, and has none after a call.
    std::thread fresh([&] {
        EXPECT_EQ(current_context(), nullptr);
        double loss = 0;
        EXPECT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr,
                                                  nullptr, &loss, nullptr, nullptr),
                  BCE4J_OK)
            << bce4j_last_error_message();
        EXPECT_EQ(current_context(), nullptr);
    });
    fresh.join();
    // One whose current device is set keeps it.
    int count = 0;
    ASSERT_CUDA(cudaGetDeviceCount(&count));
    for (int device = 0; device < count; ++device) {
        ASSERT_CUDA(cudaSetDevice(device));
        const CUcontext before = current_context();
        ASSERT_NE(before, nullptr);
        double loss = 0;
        EXPECT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr,
                                                  nullptr, &loss, nullptr, nullptr),
                  BCE4J_OK)
            << bce4j_last_error_message();
        EXPECT_EQ(current_context(), before) << "device " << device;
    }
    ASSERT_CUDA(cudaSetDevice(0));
}

// The calls allocate from bce4j's own pool: the device's default pool (the caller's, and every other library's) is
// neither used nor reconfigured.
TEST_F(CudaDevice, TheDefaultMemoryPoolIsLeftAlone) {
    int pools_supported = 0;
    ASSERT_CUDA(cudaDeviceGetAttribute(&pools_supported, cudaDevAttrMemoryPoolsSupported, 0));
    if (!pools_supported) GTEST_SKIP() << "device 0 has no memory pools";
    cudaMemPool_t pool;
    ASSERT_CUDA(cudaDeviceGetDefaultMemPool(&pool, 0));
    uint64_t zero = 0, threshold_before = 0, threshold_after = 0, used_high = 1;
    ASSERT_CUDA(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold_before));
    ASSERT_CUDA(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero));
    const int64_t n = 1 << 20;
    const int64_t shape[1] = {n};
    const std::vector<float> x = uniform<float>(n, -8, 8, 19), y = labels<float>(n, 20);
    std::vector<float> grad(n);
    double loss = 0;
    ASSERT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT32, 1, shape, x.data(), y.data(), nullptr, nullptr,
                                              &loss, grad.data(), nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    DeviceArray<float> dx(x), dy(y), dgrad(n);
    for (const cudaError_t e : {dx.error(), dy.error(), dgrad.error()}) ASSERT_CUDA(e);
    ASSERT_EQ(mean_call(dx.get(), dy.get(), n, dgrad.get(), &loss, nullptr), BCE4J_OK) << bce4j_last_error_message();
    ASSERT_CUDA(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &used_high));
    ASSERT_CUDA(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold_after));
    EXPECT_EQ(used_high, 0u);
    EXPECT_EQ(threshold_after, threshold_before);
}

// Holds a stream until opened (or for 10 s at most), from a host function queued on it.
struct Gate {
    std::atomic<bool> open{false};
    std::atomic<bool> timed_out{false};
};

void CUDART_CB wait_at_gate(void* data) {
    auto* gate = static_cast<Gate*>(data);
    const auto start = std::chrono::steady_clock::now();
    while (!gate->open.load()) {
        if (std::chrono::steady_clock::now() - start > std::chrono::seconds(10)) {
            gate->timed_out = true;
            return;
        }
        std::this_thread::yield();
    }
}

// The queued call returns while its stream is still held by earlier work, and once the stream runs, its device words
// and outputs hold the blocking call's bits.
TEST_F(CudaDevice, AQueuedCallReturnsBeforeItsStreamRunsAndGivesTheBlockingCallsBits) {
    const int64_t rows = 2000, columns = 37, n = rows * columns;
    const int64_t shape[2] = {rows, columns};
    const int64_t operand_shape[1] = {columns};
    const std::vector<float> x = uniform<float>(n, -8, 8, 21), y = labels<float>(n, 22);
    DeviceArray<float> dx(x), dy(y), dw(uniform<float>(columns, 0, 2, 23)), grad(n), blocking_grad(n);
    DeviceArray<double> reduced(1);
    DeviceArray<int64_t> first_invalid(1);
    for (const cudaError_t e : {dx.error(), dy.error(), dw.error(), grad.error(), blocking_grad.error(),
                                reduced.error(), first_invalid.error()}) {
        ASSERT_CUDA(e);
    }
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = BCE4J_REDUCTION_MEAN_BY_WEIGHT;
    o.weight = dw.get();
    o.weight_ndim = 1;
    o.weight_shape = operand_shape;
    double blocking_loss = 0;
    ASSERT_EQ(bce4j_cuda_bce_with_logits(&o, BCE4J_FLOAT32, 2, shape, dx.get(), dy.get(), nullptr, nullptr,
                                         &blocking_loss, blocking_grad.get(), nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();

    cudaStream_t stream;
    ASSERT_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    Gate gate;
    ASSERT_CUDA(cudaLaunchHostFunc(stream, wait_at_gate, &gate));
    const bce4j_status status =
        bce4j_cuda_bce_with_logits_queued(&o, BCE4J_FLOAT32, 2, shape, dx.get(), dy.get(), nullptr, nullptr,
                                          reduced.get(), grad.get(), nullptr, first_invalid.get(), stream);
    const std::string message = bce4j_last_error_message();
    gate.open = true;
    ASSERT_CUDA(cudaStreamSynchronize(stream));
    ASSERT_CUDA(cudaStreamDestroy(stream));
    ASSERT_EQ(status, BCE4J_OK) << message;
    EXPECT_FALSE(gate.timed_out.load()) << "the queued call waited for its stream";
    EXPECT_EQ(first_invalid.download()[0], -1);
    EXPECT_TRUE(bitwise_equal(reduced.download()[0], blocking_loss));
    EXPECT_TRUE(bitwise_equal(grad.download(), blocking_grad.download()));

    double host_word = 0;
    EXPECT_EQ(bce4j_cuda_bce_with_logits_queued(&o, BCE4J_FLOAT32, 2, shape, dx.get(), dy.get(), nullptr, nullptr,
                                                &host_word, grad.get(), nullptr, first_invalid.get(), nullptr),
              BCE4J_ERROR_DEVICE);
    EXPECT_TRUE(starts_with(bce4j_last_error_message(), "reduced_loss is not device memory"))
        << bce4j_last_error_message();
}

// The first out-of-range element goes to the device word; the call itself succeeds.
TEST_F(CudaDevice, AQueuedCallReportsTheFirstOutOfRangeElementOnTheDevice) {
    const int64_t n = 5000;
    const int64_t shape[1] = {n};
    std::vector<double> x = uniform<double>(n, 0, 1, 24), y = labels<double>(n, 25);
    x[4321] = 1.25;
    y[4000] = -1;
    DeviceArray<double> dx(x), dy(y), reduced(1);
    DeviceArray<int64_t> first_invalid(1);
    for (const cudaError_t e : {dx.error(), dy.error(), reduced.error(), first_invalid.error()}) ASSERT_CUDA(e);
    ASSERT_EQ(bce4j_cuda_bce_queued(nullptr, BCE4J_FLOAT64, 1, shape, dx.get(), dy.get(), nullptr, nullptr,
                                    reduced.get(), nullptr, nullptr, first_invalid.get(), nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    ASSERT_CUDA(cudaDeviceSynchronize());
    EXPECT_EQ(first_invalid.download()[0], 4000);
}

// Run by CTest in a process of its own: a kernel fault (here: reading far past a small allocation, which the pointer
// check cannot see) is reported as the kernels' failure, not as the copy of the result that found it. It loses the
// process's CUDA context, so nothing runs after it.
class CudaDeviceFault : public CudaDevice {};

TEST_F(CudaDeviceFault, IsReportedAsTheKernelsFailure) {
    DeviceArray<float> small(64);
    ASSERT_CUDA(small.error());
    double loss = 0;
    EXPECT_EQ(mean_call(small.get(), small.get(), int64_t{1} << 28, nullptr, &loss, nullptr), BCE4J_ERROR_DEVICE);
    const std::string message = bce4j_last_error_message();
    EXPECT_TRUE(starts_with(message, "CUDA failed to run the kernels: ")) << message;
    EXPECT_NE(message.find("context is lost"), std::string::npos) << message;
}

}  // namespace
