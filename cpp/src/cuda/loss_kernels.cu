// The fused pass on the GPU: grid-stride loops over groups of one vector (16 bytes; 8 for 16-bit storage), each element
// computed by element_pass.h (the same functions the CPU tests run), and deterministic sums: each thread adds its
// elements in index order, each block adds its threads with a fixed tree in shared memory, and one block adds the
// blocks' partials the same way. No floating-point atomics; the first invalid index is an integer atomicMin.
#include <climits>
#include <cstdint>

#include <cuda_pipeline.h>

#include "element_pass.h"
#include "loss_kernels.h"

namespace bce4j::cuda {
namespace {

constexpr int kBlockThreads = 256;

// One vector of elements: loaded into and stored from per-lane registers of the compute type (no union, which ptxas
// may put in local memory once lanes are narrower than a register).
template <typename T>
struct Vector;
template <>
struct Vector<float> {
    using type = float4;
    static constexpr int kWidth = 4;
    __device__ static void load(const float* p, float (&lane)[kWidth]) {
        const float4 v = *reinterpret_cast<const float4*>(p);
        lane[0] = v.x;
        lane[1] = v.y;
        lane[2] = v.z;
        lane[3] = v.w;
    }
    __device__ static void store(float* p, const float (&lane)[kWidth]) {
        *reinterpret_cast<float4*>(p) = make_float4(lane[0], lane[1], lane[2], lane[3]);
    }
};
template <>
struct Vector<double> {
    using type = double2;
    static constexpr int kWidth = 2;
    __device__ static void load(const double* p, double (&lane)[kWidth]) {
        const double2 v = *reinterpret_cast<const double2*>(p);
        lane[0] = v.x;
        lane[1] = v.y;
    }
    __device__ static void store(double* p, const double (&lane)[kWidth]) {
        *reinterpret_cast<double2*>(p) = make_double2(lane[0], lane[1]);
    }
};
// 16-bit storage: four elements (8 bytes), so that each group computes as many float elements as float32's does.
// The lanes are floats: widened as they are loaded, rounded to S as they are stored.
template <typename S>
struct Vector16 {
    using type = uint2;
    static constexpr int kWidth = 4;
    __device__ static float lane_of(uint32_t pair, int high) {
        return Storage<S>::widen(S{static_cast<uint16_t>(high ? pair >> 16 : pair & 0xffffu)});
    }
    __device__ static uint32_t pair_of(float low, float high) {  // little-endian: the lower index in the low half
        return Storage<S>::narrow(low).bits | static_cast<uint32_t>(Storage<S>::narrow(high).bits) << 16;
    }
    __device__ static void load(const S* p, float (&lane)[kWidth]) {
        const uint2 v = *reinterpret_cast<const uint2*>(p);
        lane[0] = lane_of(v.x, 0);
        lane[1] = lane_of(v.x, 1);
        lane[2] = lane_of(v.y, 0);
        lane[3] = lane_of(v.y, 1);
    }
    __device__ static void store(S* p, const float (&lane)[kWidth]) {
        *reinterpret_cast<uint2*>(p) = make_uint2(pair_of(lane[0], lane[1]), pair_of(lane[2], lane[3]));
    }
};
template <>
struct Vector<Float16> : Vector16<Float16> {};
template <>
struct Vector<BFloat16> : Vector16<BFloat16> {};

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
        const double g = upstream ? value_at(upstream, 0) : 1.0;
        return normalise(g, denominator ? *denominator : denominator_value, zero_for_zero_denominator);
    }
};

// One vector of each per-element input, loaded ahead of its computation.
template <typename T>
struct LoadedGroup {
    static constexpr int kWidth = Vector<T>::kWidth;
    Compute<T> x[kWidth], y[kWidth], g[kWidth];
};

template <typename T>
__device__ void load_group(const PassArgs<T>& a, int64_t first, LoadedGroup<T>* in) {
    Vector<T>::load(a.input + first, in->x);
    Vector<T>::load(a.target + first, in->y);
    if (a.grad_output) Vector<T>::load(a.grad_output + first, in->g);
}

// Group `first`..`first + width - 1`, all inside the input and every per-element pointer aligned to the vector:
// vector loads and stores, the elements' losses added in index order exactly as the scalar path adds them.
template <typename T, bool kBroadcasts>
__device__ void compute_group(const PassArgs<T>& a, int64_t first, const LoadedGroup<T>& in, double grad_scale,
                              double* sum, unsigned long long* invalid) {
    using C = Compute<T>;
    constexpr int kWidth = Vector<T>::kWidth;
    C loss[kWidth], grad_input[kWidth], grad_target[kWidth];
#pragma unroll
    for (int j = 0; j < kWidth; ++j) {
        C w = C(1);
        C p = C(1);
        if (kBroadcasts) operands_at(a, first + j, &w, &p);
        const ElementValues<C> v =
            element_values(a, in.x[j], in.y[j], w, p, a.grad_output ? in.g[j] : C(0), grad_scale);
        if (v.invalid) {
            if (static_cast<unsigned long long>(first + j) < *invalid) *invalid = first + j;
            *sum += 0.0;  // as run_element returns for it
        } else {
            *sum += static_cast<double>(v.loss);
        }
        loss[j] = v.loss;
        grad_input[j] = v.grad_input;
        grad_target[j] = v.grad_target;
    }
    if (a.loss) Vector<T>::store(a.loss + first, loss);
    if (a.grad_input) Vector<T>::store(a.grad_input + first, grad_input);
    if (a.grad_target) Vector<T>::store(a.grad_target + first, grad_target);
}

// Compute capability 8.0 and up copies global memory into shared memory asynchronously (older GPUs would copy
// synchronously, and have less shared memory to spare).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
#define BCE4J_ASYNC_COPY 1
#else
#define BCE4J_ASYNC_COPY 0
#endif

#if BCE4J_ASYNC_COPY
// The vector groups of a pass without weight operands, with input and target fetched kStages - 1 groups ahead into
// shared memory. The fused element needs about 110 registers (two blocks of 256 threads per multiprocessor), too few
// threads for loads issued just before their use to keep the memory busy: on an H200 this took the pass from 22% to
// 29% of a device-to-device copy's bandwidth (README "CUDA"). Each thread reads back only the slots it filled, so no
// barrier is needed, and it computes the same groups in the same order as the plain loop: the same bits. Returns the
// first group it left to that loop (the last, partial group and anything past the input).
template <typename T>
__device__ int64_t prefetched_groups(const PassArgs<T>& a, int64_t group, int64_t stride, double grad_scale,
                                     double* sum, unsigned long long* invalid) {
    constexpr int kStages = 3;
    constexpr int kWidth = Vector<T>::kWidth;
    using V = typename Vector<T>::type;
    __shared__ V inputs[kStages][kBlockThreads];
    __shared__ V targets[kStages][kBlockThreads];
    const int64_t full_groups = a.count / kWidth;
    const auto fetch = [&](int slot, int64_t g) {
        if (g < full_groups) {
            __pipeline_memcpy_async(&inputs[slot][threadIdx.x], a.input + g * kWidth, sizeof(V));
            __pipeline_memcpy_async(&targets[slot][threadIdx.x], a.target + g * kWidth, sizeof(V));
        }
        __pipeline_commit();  // an empty batch past the end keeps the wait count below uniform
    };
    for (int ahead = 0; ahead < kStages - 1; ++ahead) fetch(ahead, group + ahead * stride);
    for (int slot = 0; group < full_groups; group += stride, slot = (slot + 1) % kStages) {
        fetch((slot + kStages - 1) % kStages, group + (kStages - 1) * stride);  // the slot computed last time
        __pipeline_wait_prior(kStages - 1);                                     // this group's batch has landed
        LoadedGroup<T> in;
        Vector<T>::load(reinterpret_cast<const T*>(&inputs[slot][threadIdx.x]), in.x);
        Vector<T>::load(reinterpret_cast<const T*>(&targets[slot][threadIdx.x]), in.y);
        if (a.grad_output) Vector<T>::load(a.grad_output + group * kWidth, in.g);
        compute_group<T, false>(a, group * kWidth, in, grad_scale, sum, invalid);
    }
    __pipeline_wait_prior(0);
    return group;
}
#endif

// kBroadcasts: weight or pos_weight present (offsets from the plan); a pass without them is compiled apart, since the
// offsets' registers would cost it the prefetch's.
template <typename T, bool kBroadcasts>
__global__ void __launch_bounds__(kBlockThreads, 2)
    loss_pass(PassArgs<T> a, GradScale<T> scale, bool vectorised, double* partials, unsigned long long* first_invalid) {
    constexpr int kWidth = Vector<T>::kWidth;
    const double grad_scale = a.grad_output ? 1.0 : scale.value();
    const int64_t groups = ceil_div(a.count, kWidth);
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlockThreads;
    double sum = 0.0;
    unsigned long long invalid = ULLONG_MAX;
    int64_t group = static_cast<int64_t>(blockIdx.x) * kBlockThreads + threadIdx.x;
#if BCE4J_ASYNC_COPY
    if constexpr (!kBroadcasts) {
        if (vectorised) group = prefetched_groups(a, group, stride, grad_scale, &sum, &invalid);
    }
#endif
    for (; group < groups; group += stride) {
        const int64_t first = group * kWidth;
        if (vectorised && first + kWidth <= a.count) {
            LoadedGroup<T> in;
            load_group(a, first, &in);
            compute_group<T, kBroadcasts>(a, first, in, grad_scale, &sum, &invalid);
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
        sum += denominator_term(kind, value_at(operand, i), ignore_index);
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
    if (loss) *loss = Storage<T>::from_double(reduced);
}

// The partials of one operand gradient: item t is operand element t % count over chunk t / count of its preimage
// (element_pass.h), so that neighbouring threads read neighbouring operand elements (a per-class [C] weight over
// [N, C]: neighbouring input elements too).
template <typename T>
__global__ void __launch_bounds__(kBlockThreads)
    weight_gradient_pass(PassArgs<T> a, OperandPreimage o, bool of_pos_weight, double* partials) {
    const int64_t items = o.count * o.chunks;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlockThreads;
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * kBlockThreads + threadIdx.x; t < items; t += stride) {
        const int64_t chunk = t / o.count;
        partials[t] = weight_gradient_partial(a, o, of_pos_weight, t - chunk * o.count, chunk);
    }
}

// Each operand element's partials added in chunk order, MEAN_BY_WEIGHT's offset (the reduced loss times
// `multiplicity`; 0: none) subtracted, scaled and rounded once.
template <typename T>
__global__ void __launch_bounds__(kBlockThreads)
    finish_weight_gradient(const double* partials, int64_t count, int64_t chunks, GradScale<T> scale,
                           const DeviceScratch::Result* result, double multiplicity, T* out) {
    const double s = scale.value();
    const double offset = multiplicity != 0 ? result->reduced_loss * multiplicity : 0.0;
    const int64_t stride = static_cast<int64_t>(gridDim.x) * kBlockThreads;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * kBlockThreads + threadIdx.x; j < count; j += stride) {
        out[j] = finished_weight_gradient<T>(partials, count, chunks, j, s, offset);
    }
}

int blocks_for(int64_t work) {
    const int64_t blocks = ceil_div(work, kBlockThreads);
    return static_cast<int>(blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks);
}

template <typename T>
bool vector_aligned(const void* p) {
    return p == nullptr || reinterpret_cast<uintptr_t>(p) % sizeof(typename Vector<T>::type) == 0;
}

// After the loss (whose reduced value MEAN_BY_WEIGHT's offset needs): each wanted operand gradient's partials, then
// its elements. A cancelling weight gradient is +0 (all bits zero in every dtype).
template <typename T>
cudaError_t enqueue_weight_gradients(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch,
                                     const double* denominator, double denominator_value, double* partials) {
    if (call.weight_gradient_cancels) {
        if (cudaError_t e = cudaMemsetAsync(call.grad_weight, 0, sizeof(T), stream)) return e;
    }
    GradientTarget targets[2];
    int wanted = 0;
    if (!gradient_targets(call, targets, &wanted)) return cudaErrorInvalidValue;  // the core's plans always map
    const PassArgs<T> args = pass_args<T>(call);
    const GradScale<T> scale{call.grad_output_per_element ? nullptr : static_cast<const T*>(call.grad_output),
                             denominator, denominator_value, call.zero_for_zero_denominator};
    for (int t = 0; t < wanted; ++t) {
        const OperandPreimage& o = targets[t].preimage;
        const int64_t items = o.count * o.chunks;
        if (items > 0) {
            weight_gradient_pass<T>
                <<<blocks_for(items), kBlockThreads, 0, stream>>>(args, o, targets[t].of_pos_weight, partials);
        }
        const double multiplicity =
            targets[t].subtracts_offset && call.count > 0 ? static_cast<double>(o.multiplicity) : 0.0;
        finish_weight_gradient<T><<<blocks_for(o.count), kBlockThreads, 0, stream>>>(
            partials, o.count, o.chunks, scale, &scratch->result, multiplicity, static_cast<T*>(targets[t].out));
        if (cudaError_t e = cudaGetLastError()) return e;
        partials += items;
    }
    return cudaSuccess;
}

template <typename T>
cudaError_t enqueue(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch, double* gradient_partials) {
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
        const bool vectorised = vector_aligned<T>(args.input) && vector_aligned<T>(args.target) &&
                                vector_aligned<T>(args.grad_output) && vector_aligned<T>(args.loss) &&
                                vector_aligned<T>(args.grad_input) && vector_aligned<T>(args.grad_target);
        blocks = blocks_for(ceil_div(call.count, Vector<T>::kWidth));
        if (args.broadcasts) {
            loss_pass<T, true><<<blocks, kBlockThreads, 0, stream>>>(args, scale, vectorised, scratch->loss_partials,
                                                                     &scratch->result.first_invalid);
        } else {
            loss_pass<T, false><<<blocks, kBlockThreads, 0, stream>>>(args, scale, vectorised, scratch->loss_partials,
                                                                      &scratch->result.first_invalid);
        }
        if (cudaError_t e = cudaGetLastError()) return e;
    }
    if (call.reduces) {
        finish_loss<T><<<1, kBlockThreads, 0, stream>>>(scratch->loss_partials, blocks, denominator, denominator_value,
                                                        call.zero_for_zero_denominator, static_cast<T*>(call.loss),
                                                        &scratch->result);
        if (cudaError_t e = cudaGetLastError()) return e;
    }
    return enqueue_weight_gradients<T>(call, stream, scratch, denominator, denominator_value, gradient_partials);
}

}  // namespace

cudaError_t enqueue_loss(const DeviceCall& call, cudaStream_t stream, DeviceScratch* scratch,
                         double* gradient_partials) {
    switch (call.dtype) {
        case BCE4J_FLOAT32: return enqueue<float>(call, stream, scratch, gradient_partials);
        case BCE4J_FLOAT64: return enqueue<double>(call, stream, scratch, gradient_partials);
        case BCE4J_FLOAT16: return enqueue<Float16>(call, stream, scratch, gradient_partials);
        case BCE4J_BFLOAT16: return enqueue<BFloat16>(call, stream, scratch, gradient_partials);
    }
    return cudaErrorInvalidValue;  // the core passes no other dtype
}

}  // namespace bce4j::cuda
