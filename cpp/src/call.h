// One loss call through the C ABI in two steps: prepare (call_checks.cpp) checks the options and shapes and builds a
// Prepared description, with everything that needs no tensor data; run checks the per-run arguments and runs it on
// the CPU (cpu_call.cpp) or through the CUDA library (cuda_call.cpp). An unprepared call does both at once, on a
// Prepared on its stack; bce4j_prepare keeps one on the heap for bce4j_prepared_run.
#pragma once

#include <cstdint>

#include "bce4j/bce4j.h"
#include "broadcast_plan.h"
#include "element_math.h"
#include "kernels/row_kernel.h"
#include "reduction.h"
#include "repro_sum.h"

namespace bce4j {

enum class LossKind { kLogits, kProbabilities };

// Where a call runs: the CPU, a CUDA device on device pointers, or a CUDA device on host buffers staged through it.
enum class Device { kCpu, kCuda, kCudaHostBuffers };

// A checked call without its tensors: its options and shapes copied (the caller's may go away), its element
// parameters, reduction, kernels and broadcast plan. Read-only once prepared, so that runs may share it; it points
// into itself (o.weight_shape, the ShapeRefs), so it is never copied.
struct Prepared {
    Prepared() = default;
    Prepared(const Prepared&) = delete;
    Prepared& operator=(const Prepared&) = delete;

    LossKind kind;
    bce4j_dtype dtype;
    bce4j_options o;  // o.grad_weight and o.grad_pos_weight are unused: each run gives its own
    int64_t dims[kMaxDims];
    int64_t weight_dims[kMaxDims];
    int64_t pos_weight_dims[kMaxDims];
    ShapeRef input;
    ShapeRef weight_shape;  // {0, nullptr} when there is no weight
    ShapeRef pos_weight_shape;
    int64_t count;             // of the whole prepared shape
    int64_t row_count;         // elements per index along dimension 0 (1 for a scalar; 0 when the input is empty)
    int64_t max_batch;         // dimension 0 (1 for a scalar)
    int64_t weight_count;      // elements of the weight (1 without one: an implicit scalar)
    int64_t pos_weight_count;  // likewise
    bool weight_spans_rows;    // the weight has dimension 0's size there (> 1): a run of `batch` rows reads that many
    bool pos_weight_spans_rows;
    bool reduces;
    Denominator denominator;
    bool zero_when_empty;
    ElementParams params;
    const KernelTable* kernels;
    int max_threads;  // options.num_threads, or the default for a call as large as the prepared shape
    bool has_plan;    // plan is built when a run may need it: with weights, or more than one reduction block
    BroadcastPlan plan;
};

// The arguments of one run of a prepared call.
struct RunArgs {
    int64_t batch;  // rows along dimension 0, 0 to max_batch
    const void* input;
    const void* target;
    const void* grad_output;
    void* loss;
    double* reduced_loss;
    void* grad_input;
    void* grad_target;
    void* grad_weight;
    void* grad_pos_weight;
};

// Checks everything about a call that needs no tensor data (call_checks.cpp), with the message of the first rule it
// breaks, and fills *p. Statuses and messages are those of an unprepared call with the same options and shape.
bce4j_status prepare_call(LossKind kind, Device device, const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                          const int64_t* shape, Prepared* p);

// The CPU's part of preparing (cpu_call.cpp): the kernels, the thread count and the broadcast plan.
void prepare_cpu_run(Prepared* p);

// Checks what depends on a run's arguments (batch, input and target, the outputs the loss kind refuses) and returns
// its element count in *count.
bce4j_status check_run(const Prepared& p, const RunArgs& run, int64_t* count);

// The element count of a shape that passed the checks (a 0 among its dimensions makes it 0, whatever the others).
int64_t element_count(ShapeRef s);

// The error for the first element whose input (BCELoss) or target is outside [0, 1], in a tensor of shape `input`.
bce4j_status fail_out_of_range(LossKind kind, ShapeRef input, int64_t index, double x, double y);

// Runs a prepared call, its run arguments checked (count from check_run), on the CPU (cpu_call.cpp), for the
// prepared dtype.
bce4j_status run_on_cpu(const Prepared& p, const RunArgs& run, int64_t count);

// A partial call's loss pass on the CPU (cpu_call.cpp): the prepared call's elements, their run arguments checked,
// as a partial of their own in *added (initialised here), or the out-of-range error.
bce4j_status run_partial_on_cpu(const Prepared& p, const RunArgs& run, int64_t count, bce4j_partial* added);

// The rule on a reduction's value (call_checks.cpp); `name` is the argument's, e.g. "options.reduction".
bce4j_status check_reduction(int32_t reduction, const char* name);

// The calls that compute no weight gradients (bce4j_prepare, the partial calls) refuse options.grad_weight and
// options.grad_pos_weight, saying why (call_checks.cpp).
bce4j_status check_no_weight_gradients(const bce4j_options& o, const char* why);

// Partials (partial.cpp): a partial from outside checked before use, `name` naming it; the order-independent sums
// it holds in its opaque words; and merging two checked ones (refusing a count past int64).
bce4j_status check_partial(const bce4j_partial* partial, const char* name);
ReproSum sum_of(const uint64_t (&words)[8]);
void put_sum(const ReproSum& sum, uint64_t (&words)[8]);
bce4j_status merge_checked(bce4j_partial* into, const bce4j_partial& from);

// Runs a prepared float32 or float64 call through libbce4j_cuda (cuda_call.cpp), for the whole prepared shape.
bce4j_status run_on_cuda(const Prepared& p, const RunArgs& run, Device device, void* stream);

}  // namespace bce4j
