// The fused pass on the GPU: grid-stride loops over groups of one 16-byte vector, each element computed by
// element_pass.h (the same functions the CPU tests run), and deterministic sums: each thread adds its elements in
// index order, each block adds its threads with a fixed tree in shared memory, and one block adds the blocks'
// partials the same way. No floating-point atomics; the first invalid index is an integer atomicMin.
#include <climits>
#include <cstdint>

#include "element_pass.h"
#include "loss_kernels.h"

namespace bce4j::cuda {
namespace {

constexpr int kBlockThreads = 256;

template <typename T>
struct Vector;
template <>
struct Vector<float> {
    using type = float4;
    static constexpr int kWidth = 4;
};
template <>
struct Vector<double> {
    using type = double2;
    static constexpr int kWidth = 2;
};

// One vector's elements, addressable by index (in registers once the loops are unrolled).
template <typename T>
union Lanes {
    typename Vector<T>::type vector;
    T lane[Vector<T>::kWidth];
};

// Adds `value` over the block with a fixed tree; thread 0 gets the sum.
__device__ double block_sum(double value) {
    __shared__ double shared[kBlockThreads];
    shared[threadIdx.x] = value;
    __syncthreads();
    for (int half = kBlockThreads / 2; half > 0; half /= 2) {
        if (threadIdx.x < half) shared[threadIdx.x] += shared[threadIdx.x + half];
        __syncthreads();
    }
    return shared[0];
}

// The upstream gradient of a reduced call, divided by its denominator, as the CPU computes it (in double).
template <typename T>
struct GradScale {
    const T* upstream;          // one element, or nullptr: 1
    const double* denominator;  // on the device, or nullptr: denominator_value
    double denominator_value;
    bool zero_for_zero_denominator;

    __device__ double value() const {
        const double g = upstream ? static_cast<double>(*upstream) : 1.0;
        return normalise(g, denominator ? *denominator : denominator_value, zero_for_zero_denominator);
    }
};

// Group `first`..`first + width - 1`, all inside the input and every per-element pointer 16-byte aligned: vector
// loads and stores, the elements' losses added in index order exactly as the scalar path adds them.
template <typename T>
__device__ void vector_group(const PassArgs<T>& a, int64_t first, double grad_scale, double* sum,
                             unsigned long long* invalid) {
    using V = typename Vector<T>::type;
    constexpr int kWidth = Vector<T>::kWidth;
    Lanes<T> x, y, g, loss, grad_input, grad_target;
    x.vector = *reinterpret_cast<const V*>(a.input + first);
    y.vector = *reinterpret_cast<const V*>(a.target + first);
    if (a.grad_output) g.vector = *reinterpret_cast<const V*>(a.grad_output + first);
#pragma unroll
    for (int j = 0; j < kWidth; ++j) {
        T w;
        T p;
        operands_at(a, first + j, &w, &p);
        const ElementValues<T> v =
            element_values(a, x.lane[j], y.lane[j], w, p, a.grad_output ? g.lane[j] : T(0), grad_scale);
        if (v.invalid) {
            if (static_cast<unsigned long long>(first + j) < *invalid) *invalid = first + j;
            *sum += 0.0;  // as run_element returns for it
        } else {
            *sum += static_cast<double>(v.loss);
        }
        loss.lane[j] = v.loss;
        grad_input.lane[j] = v.grad_input;
        grad_target.lane[j] = v.grad_target;
    }
    if (a.loss) *reinterpret_cast<V*>(a.loss + first) = loss.vector;
    if (a.grad_input) *reinterpret_cast<V*>(a.grad_input + first) = grad_input.vector;
    if (a.grad_target) *reinterpret_cast<V*>(a.grad_target + first) = grad_target.vector;
}

template <typename T>
__global__ void __launch_bounds__(kBlockThreads)
    loss_pass(PassArgs<T> a, GradScale<T> scale, bool vectorised, double* partials, unsigned long long* first_invalid) {
    constexpr int kWidth = Vector<T>::kWidth;
    const double grad_scale = a.grad_output ? 1.0 : scale.value();
    const int64_t groups = ceil_div(a.count, kWidth);
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlockThreads;
    double sum = 0.0;
    unsigned long long invalid = ULLONG_MAX;
    for (int64_t group = static_cast<int64_t>(blockIdx.x) * kBlockThreads + threadIdx.x; group < groups;
         group += stride) {
        const int64_t first = group * kWidth;
        if (vectorised && first + kWidth <= a.count) {
            vector_group(a, first, grad_scale, &sum, &invalid);
            continue;
        }
        const int64_t end = first + kWidth < a.count ? first + kWidth : a.count;
        for (int64_t i = first; i < end; ++i) {
            bool bad = false;
            sum += run_element(a, i, grad_scale, &bad);
            if (bad && static_cast<unsigned long long>(i) < invalid) invalid = i;
        }
    }
    if (invalid != ULLONG_MAX) atomicMin(first_invalid, invalid);
    const double block_total = block_sum(sum);
    if (threadIdx.x == 0) partials[blockIdx.x] = block_total;
}

// One term per element of the denominator's operand (weight or target), summed per block.
template <typename T>
__global__ void __launch_bounds__(kBlockThreads)
    denominator_pass(const T* operand, int64_t n, Denominator kind, double ignore_index, double* partials) {
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlockThreads;
    double sum = 0.0;
    for (int64_t i = static_cast<int64_t>(blockIdx.x) * kBlockThreads + threadIdx.x; i < n; i += stride) {
        sum += denominator_term(kind, operand[i], ignore_index);
    }
    const double block_total = block_sum(sum);
    if (threadIdx.x == 0) partials[blockIdx.x] = block_total;
}

// The blocks' partials added by one block in a fixed order.
__device__ double sum_partials(const double* partials, int n) {
    double sum = 0.0;
    for (int i = threadIdx.x; i < n; i += kBlockThreads) sum += partials[i];
    return block_sum(sum);
}

__global__ void __launch_bounds__(kBlockThreads)
    finish_denominator(const double* partials, int n, Denominator kind, int64_t count, int64_t weight_count,
                       double* denominator) {
    const double total = sum_partials(partials, n);
    if (threadIdx.x == 0) *denominator = denominator_from_total(kind, count, weight_count, total);
}

template <typename T>
__global__ void __launch_bounds__(kBlockThreads)
    finish_loss(const double* partials, int n, const double* denominator, double denominator_value,
                bool zero_for_zero_denominator, T* loss, DeviceScratch::Result* result) {
    const double total = sum_partials(partials, n);
    if (threadIdx.x != 0) return;
    const double reduced = normalise(total, denominator ? *denominator : denominator_value, zero_for_zero_denominator);
    result->reduced_loss = reduced;
    if (loss) *loss = static_cast<T>(reduced);
}

int blocks_for(int64_t work) {
    const int64_t blocks = ceil_div(work, kBlockThreads);
    return static_cast<int>(blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

bool vector_aligned(const void* p) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <typename T>
cudaError_t enqueue(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch) {
    // cudaGetLastError() below must report these launches only. The runtime also records every error a runtime call
    // returns (an earlier call's failed allocation or copy, a device the probe could not describe) until it is read;
    // left there, it would fail this call's launches. Reading it clears it (a sticky error stays, and fails the
    // launches as it should).
    cudaGetLastError();
    const double* denominator = nullptr;
    const double denominator_value = denominator_from_total(call.denominator, call.count, call.weight_count, 0.0);
    if (denominator_reads_data(call.denominator, call.count)) {
        int64_t n = 0;
        const T* operand = static_cast<const T*>(denominator_operand(call, &n));
        const int blocks = blocks_for(n);
        denominator_pass<T><<<blocks, kBlockThreads, 0, stream>>>(
            operand, n, call.denominator, call.params.ignored_target, scratch->denominator_partials);
        finish_denominator<<<1, kBlockThreads, 0, stream>>>(scratch->denominator_partials, blocks, call.denominator,
                                                            call.count, call.weight_count, &scratch->denominator);
        denominator = &scratch->denominator;
        if (cudaError_t e = cudaGetLastError()) return e;
    }

    int blocks = 0;
    if (call.count > 0) {
        const PassArgs<T> args = pass_args<T>(call);
        const GradScale<T> scale{call.grad_output_per_element ? nullptr : static_cast<const T*>(call.grad_output),
                                 denominator, denominator_value, call.zero_for_zero_denominator};
        const bool vectorised = vector_aligned(args.input) && vector_aligned(args.target) &&
                                vector_aligned(args.grad_output) && vector_aligned(args.loss) &&
                                vector_aligned(args.grad_input) && vector_aligned(args.grad_target);
        blocks = blocks_for(ceil_div(call.count, Vector<T>::kWidth));
        loss_pass<T><<<blocks, kBlockThreads, 0, stream>>>(args, scale, vectorised, scratch->loss_partials,
                                                           &scratch->result.first_invalid);
        if (cudaError_t e = cudaGetLastError()) return e;
    }
    if (call.reduces) {
        finish_loss<T><<<1, kBlockThreads, 0, stream>>>(scratch->loss_partials, blocks, denominator, denominator_value,
                                                        call.zero_for_zero_denominator, static_cast<T*>(call.loss),
                                                        &scratch->result);
        if (cudaError_t e = cudaGetLastError()) return e;
    }
    return cudaSuccess;
}

}  // namespace

cudaError_t enqueue_loss(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch) {
    return call.dtype == BCE4J_FLOAT32 ? enqueue<float>(call, stream, scratch) : enqueue<double>(call, stream, scratch);
}

}  // namespace bce4j::cuda
