// The C entry points: each hands its arguments to dispatch(), which picks the dtype, checks the call
// (call_checks.cpp) and runs it on the CPU (cpu_call.cpp) or through the CUDA library (cuda_call.cpp); and the
// small informational functions.
#include <omp.h>

#include <new>
#include <string>

#include "bce4j/bce4j.h"
#include "call.h"
#include "call_errors.h"
#include "cuda_loader.h"
#include "kernels/row_kernel.h"
#include "storage_types.h"

namespace bce4j {
namespace {

template <typename T>
bce4j_status run(const Call& call, bce4j_dtype dtype) {
    Checked c;
    if (bce4j_status s = check_call(call, dtype, &c)) return s;
    return call.device == Device::kCpu ? run_on_cpu<T>(call, c) : run_on_cuda(call, c, dtype);
}

bce4j_status dispatch(bce4j_dtype dtype, const Call& call) {
    clear_last_error();
    try {
        switch (dtype) {
            case BCE4J_FLOAT32: return run<float>(call, dtype);
            case BCE4J_FLOAT64: return run<double>(call, dtype);
            case BCE4J_FLOAT16:
            case BCE4J_BFLOAT16:
                if (call.device != Device::kCpu) {
                    return fail(BCE4J_ERROR_INVALID_OPTION, "dtype %s is not supported on the CUDA path yet",
                                dtype == BCE4J_FLOAT16 ? "float16" : "bfloat16");
                }
                return dtype == BCE4J_FLOAT16 ? run<Float16>(call, dtype) : run<BFloat16>(call, dtype);
        }
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "dtype is %d; expected 0 (float32), 1 (float64), 2 (float16) or 3 (bfloat16)",
                    static_cast<int>(dtype));
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

}  // namespace
}  // namespace bce4j

using bce4j::Call;
using bce4j::Device;
using bce4j::LossKind;

extern "C" {

bce4j_status bce4j_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                   const void* input, const void* target, const void* grad_output, void* loss,
                                   double* reduced_loss, void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCpu, nullptr, options, ndim, shape, input, target,
                                       grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                       const void* input, const void* target, const void* grad_output, void* loss, double* reduced_loss,
                       void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCpu, nullptr, options, ndim, shape, input,
                                       target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                        const int64_t* shape, const void* input, const void* target,
                                        const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                        void* grad_target, void* stream) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCuda, stream, options, ndim, shape, input, target,
                                       grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                            const void* input, const void* target, const void* grad_output, void* loss,
                            double* reduced_loss, void* grad_input, void* grad_target, void* stream) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCuda, stream, options, ndim, shape, input,
                                       target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_with_logits_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                             const int64_t* shape, const void* input, const void* target,
                                             const void* grad_output, void* loss, double* reduced_loss,
                                             void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kLogits, Device::kCudaHostBuffers, nullptr, options, ndim, shape,
                                       input, target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

bce4j_status bce4j_cuda_bce_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                 const void* input, const void* target, const void* grad_output, void* loss,
                                 double* reduced_loss, void* grad_input, void* grad_target) {
    return bce4j::dispatch(dtype, Call{LossKind::kProbabilities, Device::kCudaHostBuffers, nullptr, options, ndim,
                                       shape, input, target, grad_output, loss, reduced_loss, grad_input, grad_target});
}

const char* bce4j_last_error_message(void) { return bce4j::last_error_message(); }

const char* bce4j_status_name(bce4j_status status) {
    switch (status) {
        case BCE4J_OK: return "BCE4J_OK";
        case BCE4J_ERROR_NULL_ARGUMENT: return "BCE4J_ERROR_NULL_ARGUMENT";
        case BCE4J_ERROR_INVALID_SHAPE: return "BCE4J_ERROR_INVALID_SHAPE";
        case BCE4J_ERROR_BROADCAST: return "BCE4J_ERROR_BROADCAST";
        case BCE4J_ERROR_OUT_OF_RANGE: return "BCE4J_ERROR_OUT_OF_RANGE";
        case BCE4J_ERROR_INVALID_OPTION: return "BCE4J_ERROR_INVALID_OPTION";
        case BCE4J_ERROR_INTERNAL: return "BCE4J_ERROR_INTERNAL";
        case BCE4J_ERROR_UNAVAILABLE: return "BCE4J_ERROR_UNAVAILABLE";
        case BCE4J_ERROR_DEVICE: return "BCE4J_ERROR_DEVICE";
    }
    return "BCE4J_UNKNOWN_STATUS";
}

#define BCE4J_STRINGIFY_(x) #x
#define BCE4J_STRINGIFY(x) BCE4J_STRINGIFY_(x)

const char* bce4j_version(void) {
    return BCE4J_STRINGIFY(BCE4J_VERSION_MAJOR) "." BCE4J_STRINGIFY(BCE4J_VERSION_MINOR) "." BCE4J_STRINGIFY(
        BCE4J_VERSION_PATCH);
}

const char* bce4j_cpu_isa(void) { return bce4j::active_kernel_table().isa; }

int32_t bce4j_default_num_threads(void) { return omp_get_max_threads(); }

bce4j_status bce4j_cuda_use_library(const char* path) {
    using bce4j::fail;
    bce4j::clear_last_error();
    if (path == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "path is NULL");
    if (path[0] == '\0') return fail(BCE4J_ERROR_INVALID_OPTION, "path is empty");
    try {
        const std::string refused = bce4j::cuda::use_library(path);
        if (!refused.empty()) return fail(BCE4J_ERROR_INVALID_OPTION, "%s", refused.c_str());
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
    return BCE4J_OK;
}

}  // extern "C"
