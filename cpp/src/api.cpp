// The C entry points: an unprepared call prepares on its stack (call_checks.cpp) and runs once on the CPU
// (cpu_call.cpp) or through the CUDA library (cuda_call.cpp); bce4j_prepare keeps the prepared call on the heap for
// bce4j_prepared_run; and the small informational functions.
#include <omp.h>

#include <memory>
#include <new>
#include <string>

#include "bce4j/bce4j.h"
#include "call.h"
#include "call_errors.h"
#include "cuda_call.h"
#include "cuda_loader.h"
#include "kernels/row_kernel.h"
#include "options_abi.h"

// The library's side of the opaque bce4j_prepared: a Prepared on the heap.
struct bce4j_prepared {
    bce4j::Prepared prepared;
};

namespace bce4j {
namespace {

// An unprepared call: prepared on the stack, then run once over the whole shape.
bce4j_status call(LossKind kind, Device device, void* stream, const bce4j_options* options, bce4j_dtype dtype,
                  int32_t ndim, const int64_t* shape, const void* input, const void* target, const void* grad_output,
                  void* loss, double* reduced_loss, void* grad_input, void* grad_target) {
    clear_last_error();
    try {
        Prepared p;
        if (bce4j_status s = prepare_call(kind, device, options, dtype, ndim, shape, &p)) return s;
        const RunArgs run = {p.max_batch,  input,      target,      grad_output,     loss,
                             reduced_loss, grad_input, grad_target, p.o.grad_weight, p.o.grad_pos_weight};
        if (device != Device::kCpu) return run_on_cuda(p, run, device, stream);
        int64_t count = 0;
        if (bce4j_status s = check_run(p, run, &count)) return s;
        return run_on_cpu(p, run, count);
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

// A partial call: checked as the unprepared call with reduction SUM (options.reduction is ignored), then its
// elements' partial, merged into *partial only once the call has succeeded.
bce4j_status partial_call(LossKind kind, const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                          const int64_t* shape, const void* input, const void* target, bce4j_partial* partial) {
    clear_last_error();
    try {
        bce4j_options summing;
        if (bce4j_status s = read_options(options, &summing)) return s;
        summing.struct_size = sizeof(summing);
        summing.reduction = BCE4J_REDUCTION_SUM;
        Prepared p;
        if (bce4j_status s = prepare_call(kind, Device::kCpu, &summing, dtype, ndim, shape, &p)) return s;
        if (bce4j_status s = check_no_weight_gradients(p.o, "a partial call computes no gradients")) return s;
        if (bce4j_status s = check_partial(partial, "partial")) return s;
        const RunArgs run = {p.max_batch, input, target, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
        int64_t count = 0;
        if (bce4j_status s = check_run(p, run, &count)) return s;
        bce4j_partial added;
        if (bce4j_status s = run_partial_on_cpu(p, run, count, &added)) return s;
        return merge_checked(partial, added);
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

}  // namespace
}  // namespace bce4j

using bce4j::Device;
using bce4j::LossKind;

extern "C" {

bce4j_status bce4j_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                   const void* input, const void* target, const void* grad_output, void* loss,
                                   double* reduced_loss, void* grad_input, void* grad_target) {
    return bce4j::call(LossKind::kLogits, Device::kCpu, nullptr, options, dtype, ndim, shape, input, target,
                       grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                       const void* input, const void* target, const void* grad_output, void* loss, double* reduced_loss,
                       void* grad_input, void* grad_target) {
    return bce4j::call(LossKind::kProbabilities, Device::kCpu, nullptr, options, dtype, ndim, shape, input, target,
                       grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_cuda_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                        const int64_t* shape, const void* input, const void* target,
                                        const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                        void* grad_target, void* stream) {
    return bce4j::call(LossKind::kLogits, Device::kCuda, stream, options, dtype, ndim, shape, input, target,
                       grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_cuda_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                            const void* input, const void* target, const void* grad_output, void* loss,
                            double* reduced_loss, void* grad_input, void* grad_target, void* stream) {
    return bce4j::call(LossKind::kProbabilities, Device::kCuda, stream, options, dtype, ndim, shape, input, target,
                       grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_cuda_bce_with_logits_queued(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                               const int64_t* shape, const void* input, const void* target,
                                               const void* grad_output, void* loss, double* reduced_loss,
                                               void* grad_input, void* grad_target, int64_t* first_invalid,
                                               void* stream) {
    return bce4j::queued_cuda_call(LossKind::kLogits, stream, options, dtype, ndim, shape, input, target, grad_output,
                                   loss, reduced_loss, grad_input, grad_target, first_invalid);
}

bce4j_status bce4j_cuda_bce_queued(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                   const void* input, const void* target, const void* grad_output, void* loss,
                                   double* reduced_loss, void* grad_input, void* grad_target, int64_t* first_invalid,
                                   void* stream) {
    return bce4j::queued_cuda_call(LossKind::kProbabilities, stream, options, dtype, ndim, shape, input, target,
                                   grad_output, loss, reduced_loss, grad_input, grad_target, first_invalid);
}

bce4j_status bce4j_cuda_bce_with_logits_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                             const int64_t* shape, const void* input, const void* target,
                                             const void* grad_output, void* loss, double* reduced_loss,
                                             void* grad_input, void* grad_target) {
    return bce4j::call(LossKind::kLogits, Device::kCudaHostBuffers, nullptr, options, dtype, ndim, shape, input, target,
                       grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_cuda_bce_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                 const void* input, const void* target, const void* grad_output, void* loss,
                                 double* reduced_loss, void* grad_input, void* grad_target) {
    return bce4j::call(LossKind::kProbabilities, Device::kCudaHostBuffers, nullptr, options, dtype, ndim, shape, input,
                       target, grad_output, loss, reduced_loss, grad_input, grad_target);
}

bce4j_status bce4j_prepare(const bce4j_options* options, int32_t logits, bce4j_dtype dtype, int32_t ndim,
                           const int64_t* shape, bce4j_prepared** prepared) {
    using namespace bce4j;
    clear_last_error();
    if (prepared == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "prepared is NULL");
    *prepared = nullptr;
    try {
        std::unique_ptr<bce4j_prepared> made(new bce4j_prepared);
        Prepared& p = made->prepared;
        const LossKind kind = logits ? LossKind::kLogits : LossKind::kProbabilities;
        if (bce4j_status s = prepare_call(kind, Device::kCpu, options, dtype, ndim, shape, &p)) return s;
        if (bce4j_status s = check_no_weight_gradients(
                p.o, p.o.grad_weight != nullptr
                         ? "a prepared call takes grad_weight at each run (bce4j_prepared_run), so bce4j_prepare "
                           "wants it NULL"
                         : "a prepared call takes grad_pos_weight at each run (bce4j_prepared_run), so bce4j_prepare "
                           "wants it NULL")) {
            return s;
        }
        *prepared = made.release();
        return BCE4J_OK;
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

bce4j_status bce4j_prepared_run(const bce4j_prepared* prepared, int64_t batch, const void* input, const void* target,
                                const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                void* grad_target, void* grad_weight, void* grad_pos_weight) {
    using namespace bce4j;
    clear_last_error();
    if (prepared == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "prepared is NULL");
    const RunArgs run = {batch,        input,      target,      grad_output, loss,
                         reduced_loss, grad_input, grad_target, grad_weight, grad_pos_weight};
    try {
        int64_t count = 0;
        if (bce4j_status s = check_run(prepared->prepared, run, &count)) return s;
        return run_on_cpu(prepared->prepared, run, count);
    } catch (const std::bad_alloc&) {
        return fail(BCE4J_ERROR_INTERNAL, "out of memory");
    }
}

void bce4j_prepared_destroy(bce4j_prepared* prepared) { delete prepared; }

bce4j_status bce4j_bce_with_logits_partial(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                           const int64_t* shape, const void* input, const void* target,
                                           bce4j_partial* partial) {
    return bce4j::partial_call(LossKind::kLogits, options, dtype, ndim, shape, input, target, partial);
}

bce4j_status bce4j_bce_partial(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                               const void* input, const void* target, bce4j_partial* partial) {
    return bce4j::partial_call(LossKind::kProbabilities, options, dtype, ndim, shape, input, target, partial);
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
