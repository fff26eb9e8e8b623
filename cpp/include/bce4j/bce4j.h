/*
 * bce4j — binary cross-entropy loss, forward and backward, in one fused pass.
 *
 * This plain C header is the library's one public native interface: C and C++ callers include it, the Java
 * binding is generated from it by JavaCPP, and any FFI can call it. Semantics follow PyTorch's
 * BCEWithLogitsLoss and BCELoss (see README.md).
 *
 * Conventions
 * - Tensors are dense, C-ordered (row-major), of one dtype per call; `shape` has `ndim` entries (ndim 0 is a
 *   scalar with one element). `target`, `grad_output` (for reduction NONE), `loss` (for NONE), `grad_input` and
 *   `grad_target` all have the input's shape.
 * - `weight` and `pos_weight` are optional (NULL = absent) and broadcast numpy-style (right-aligned) to the
 *   input's shape; they may never enlarge it.
 * - Every function that can fail returns a bce4j_status; on failure bce4j_last_error_message() describes the
 *   problem (naming the argument) for the calling thread, and the contents of the output buffers are undefined.
 */
/* clang-format off: the public header keeps its hand layout (parameters grouped by role, aligned comments). */
#ifndef BCE4J_BCE4J_H
#define BCE4J_BCE4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define BCE4J_API __declspec(dllexport)
#else
#define BCE4J_API __attribute__((visibility("default")))
#endif

#define BCE4J_VERSION_MAJOR 0
#define BCE4J_VERSION_MINOR 1
#define BCE4J_VERSION_PATCH 0

typedef enum bce4j_status {
    BCE4J_OK = 0,
    BCE4J_ERROR_NULL_ARGUMENT = 1,  /* a required pointer is NULL */
    BCE4J_ERROR_INVALID_SHAPE = 2,  /* negative dimension, too many elements, ndim out of range */
    BCE4J_ERROR_BROADCAST = 3,      /* weight or pos_weight does not broadcast to the input's shape */
    BCE4J_ERROR_OUT_OF_RANGE = 4,   /* a probability or target outside [0, 1] */
    BCE4J_ERROR_INVALID_OPTION = 5, /* unknown dtype or reduction, negative thread count, bad struct_size */
    BCE4J_ERROR_INTERNAL = 6,       /* e.g. out of memory */
    BCE4J_ERROR_UNAVAILABLE = 7,    /* a CUDA call where CUDA is unavailable (see bce4j_cuda_availability) */
    BCE4J_ERROR_DEVICE = 8          /* the CUDA runtime failed (e.g. an invalid device pointer); the message says how */
} bce4j_status;

/* FLOAT16 (IEEE binary16) and BFLOAT16 are storage types: every tensor of the call, weight and pos_weight
   included, holds 16-bit values, the math runs in float32, and results are rounded to nearest even. */
typedef enum bce4j_dtype { BCE4J_FLOAT32 = 0, BCE4J_FLOAT64 = 1, BCE4J_FLOAT16 = 2, BCE4J_BFLOAT16 = 3 } bce4j_dtype;

/* Values match PyTorch's reduction enum. */
typedef enum bce4j_reduction {
    BCE4J_REDUCTION_NONE = 0, /* per-element losses in `loss` */
    BCE4J_REDUCTION_MEAN = 1, /* sum / element count; NaN for an empty input, as PyTorch */
    BCE4J_REDUCTION_SUM = 2,  /* sum; 0 for an empty input */
    /* The normalised means below never give NaN for a zero denominator: the loss and the gradients are then 0. */
    BCE4J_REDUCTION_MEAN_BY_WEIGHT = 3,         /* sum / sum of the weights broadcast to the input's shape */
    BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT = 4, /* sum / count of elements whose broadcast weight is not 0 */
    BCE4J_REDUCTION_MEAN_VALID = 5              /* sum / count of elements not ignored (Paddle's normalize=True) */
} bce4j_reduction;

/* How pos_weight enters the logits loss, with c = 1 + (p-1)*y:
   TORCH (PyTorch, Paddle 2.6+):  l = w * ((1-y)*x + c*softplus(-x))
   PADDLE_LEGACY (Paddle <= 2.5): l = w * c * ((1-y)*x + softplus(-x))
   They agree in loss and grad_input on hard labels (y = 0 or 1), differ for soft labels, and their grad_target
   differs everywhere (each is the derivative of its own formula). */
typedef enum bce4j_pos_weight_mode {
    BCE4J_POS_WEIGHT_TORCH = 0,
    BCE4J_POS_WEIGHT_PADDLE_LEGACY = 1
} bce4j_pos_weight_mode;

/* The most dimensions a tensor argument may have. */
#define BCE4J_MAX_DIMS 32

/* The most OpenMP threads a call may ask for (libgomp ends the process when it cannot create them). */
#define BCE4J_MAX_THREADS 1024

/*
 * Options for a loss call. Initialise with bce4j_options_init(), then set fields. New fields are only ever
 * appended; `struct_size` tells the library which fields the caller knows, so callers built against an older
 * header keep working (fields past their struct_size take their defaults).
 *
 * weight / pos_weight point to data of the call's dtype, with shapes given by (ndim, shape); the shape arrays
 * must stay valid for the duration of each call that uses the options.
 */
typedef struct bce4j_options {
    size_t struct_size;  /* sizeof(bce4j_options) as the caller compiled it */
    int32_t reduction;   /* a bce4j_reduction; default MEAN */
    int32_t num_threads; /* OpenMP threads for this call, 0 to BCE4J_MAX_THREADS; 0 = the library default:
                            bce4j_default_num_threads() less the threads that calls running at that moment
                            hold, and at least the caller's own (so that many calling threads do not
                            oversubscribe the cores). A count given here is used as given (and held).
                            A call never uses more threads than it has 8192-element blocks, and calls under
                            32768 elements run on the caller's thread. Results never depend on the count. */
    const void* weight;  /* per-element rescaling weight; NULL = 1 */
    int32_t weight_ndim;
    const int64_t* weight_shape;
    const void* pos_weight; /* positive-class weight (logits loss only); NULL = 1 */
    int32_t pos_weight_ndim;
    const int64_t* pos_weight_shape;
    int32_t pos_weight_mode;   /* a bce4j_pos_weight_mode; default TORCH. Logits loss only. */
    int32_t has_ignore_index;  /* nonzero: elements whose target equals ignore_index exactly get loss 0 and
                                  gradients 0 (and are not range-checked); they still count in MEAN */
    double ignore_index;       /* default -100 (Paddle's), used only with has_ignore_index; not NaN */
    double label_smoothing;    /* E in [0, 1]: targets become y*(1-E) + E/K before the loss; grad_target stays
                                  the gradient with respect to the given y. Default 0 */
    int32_t smoothing_classes; /* K >= 1; default 2 (Keras' binary form); the class count gives timm's form */
    int32_t validate_targets;  /* logits loss: nonzero = a target outside [0, 1] (other than an ignored one) is
                                  BCE4J_ERROR_OUT_OF_RANGE naming its index, checked in the same pass. Default
                                  0. The probabilities loss always checks its inputs and targets. */
    int32_t has_focal;         /* logits loss: nonzero = sigmoid focal loss as torchvision defines it,
                                  l = alpha_t * (1-p_t)^focal_gamma * bce, p_t = sigmoid(x)*y + sigmoid(-x)*(1-y),
                                  alpha_t = a*y + (1-a)*(1-y) for a = focal_alpha >= 0 (1 when focal_alpha < 0),
                                  bce the loss above (weight, pos_weight, smoothing included). Default 0 */
    double focal_gamma;        /* >= 0; default 2 (torchvision's) */
    double focal_alpha;        /* in [0, 1], or < 0 for no alpha (not NaN); default -1 */
    void* grad_weight;         /* optional output (NULL = not wanted): d(result)/d(weight), summed over the
                                  broadcast to weight's own shape, in the call's dtype. With weight NULL it is
                                  one element: the derivative with respect to an implicit scalar weight of 1 */
    void* grad_pos_weight;     /* likewise for pos_weight (logits loss only) */
} bce4j_options;

/* Fills `options` with the defaults: reduction MEAN, default threads, no weights, pos_weight_mode TORCH, no
   ignore index (-100 when enabled), no label smoothing (2 classes when enabled), no focal loss (gamma 2, no
   alpha when enabled). */
BCE4J_API void bce4j_options_init(bce4j_options* options);

/* Checks options without a call, as a call would (same status, same message): struct_size, the ranges of the
   fields, the fields only the logits loss takes (logits = 0: BCELoss) and the weight and pos_weight shapes on their
   own (dimension count, signs, element count). Broadcasting against the input is checked by each call. */
BCE4J_API bce4j_status bce4j_check_options(const bce4j_options* options, int32_t logits);

/*
 * Binary cross-entropy on logits (PyTorch BCEWithLogitsLoss), loss and gradients in one pass:
 *   l           = w * ((1-y)*x + (1+(p-1)*y) * softplus(-x))
 *   grad_input  = g * w * ((1+(p-1)*y)*sigmoid(x) - p*y)
 *   grad_target = g * w * (-x + (p-1)*softplus(-x))
 * (with options->pos_weight_mode PADDLE_LEGACY, c = 1+(p-1)*y and l0 = (1-y)*x + softplus(-x):
 *   l = w * c * l0,  grad_input = g * w * c * (sigmoid(x) - y),  grad_target = g * w * ((p-1)*l0 - c*x))
 * where g is the upstream gradient: `grad_output` read as one scalar for MEAN/SUM (divided by the element count
 * for MEAN) or as an input-shaped tensor for NONE; NULL means 1.
 *
 * Outputs, each optional (NULL = not wanted):
 * - `loss`: input-shaped per-element losses for NONE; one element holding the reduced loss for MEAN/SUM.
 * - `reduced_loss`: for MEAN/SUM the reduced loss in double precision (for float32 the sum is accumulated in
 *   double); ignored for NONE.
 * - `grad_input`, `grad_target`: input-shaped gradients.
 * All pointers are to `dtype` data. Output buffers must not overlap the inputs. After an out-of-range error
 * (options->validate_targets) the outputs' contents are undefined.
 */
BCE4J_API bce4j_status bce4j_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                             const int64_t* shape, const void* input, const void* target,
                                             const void* grad_output, void* loss, double* reduced_loss,
                                             void* grad_input, void* grad_target);

/*
 * Binary cross-entropy on probabilities (PyTorch BCELoss); each log is clamped at -100:
 *   l           = -w * (y*max(log x, -100) + (1-y)*max(log1p(-x), -100))
 *   grad_input  = g * w * (x - y) / max(x*(1-x), EPS), EPS = 1e-12 as libtorch rounds it (float 1e-12)
 *   grad_target = g * w * (max(log1p(-x), -100) - max(log x, -100))   (the derivative of the clamped loss)
 * Inputs and targets outside [0, 1] give BCE4J_ERROR_OUT_OF_RANGE naming the first offending index (checked in
 * the same pass; NaN propagates). options->pos_weight must be NULL. Arguments otherwise as bce4j_bce_with_logits.
 */
BCE4J_API bce4j_status bce4j_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim, const int64_t* shape,
                                 const void* input, const void* target, const void* grad_output, void* loss,
                                 double* reduced_loss, void* grad_input, void* grad_target);

/* The calling thread's message for its last failed call ("" if none). Valid until its next bce4j call. */
BCE4J_API const char* bce4j_last_error_message(void);

/* A short fixed name for a status, e.g. "BCE4J_ERROR_BROADCAST". */
BCE4J_API const char* bce4j_status_name(bce4j_status status);

/* The library version, "MAJOR.MINOR.PATCH". */
BCE4J_API const char* bce4j_version(void);

/* The instruction set of the kernels in use: "avx2" (x86-64 with AVX2, FMA and F16C), "avx512" (AVX-512F) or
   "scalar". They are chosen once, on the first call that needs them: "avx512" where the CPU (and the OS) support
   AVX-512F, otherwise "avx2" where the CPU has it, otherwise "scalar", unless the environment variable BCE4J_ISA,
   read at that moment, names another one the CPU supports ("scalar", "avx2" or "avx512"). An unknown name, or one
   the CPU lacks, is ignored, and one line on stderr says so (the reason below, after "bce4j: "); this function
   always reports the instruction set really used, and bce4j_cpu_isa_reason() says why (declared at the end, with
   the kernels available).

   Accuracy: "scalar" computes float32 in double and rounds once. "avx2" and "avx512" compute float32 in float32
   lanes with polynomial exp/log: within 4 float epsilons of the terms that make up each value (measured worst
   about 2); float64 within about 1e-15. Reduced losses are always summed in double. */
BCE4J_API const char* bce4j_cpu_isa(void);

/* The number of threads a call with num_threads = 0 uses. */
BCE4J_API int32_t bce4j_default_num_threads(void);

/*
 * CUDA (optional). The CUDA kernels live in a separate library, libbce4j_cuda, loaded the first time one of the
 * functions below is called (CPU calls never load it): the file named by the environment variable
 * BCE4J_CUDA_LIBRARY if set and not empty, else the one named by bce4j_cuda_use_library() (declared at the end), else
 * libbce4j_cuda.so in the directory of libbce4j. Where it is absent (a build without a CUDA compiler), or there is
 * no driver or device, every CUDA call returns BCE4J_ERROR_UNAVAILABLE and CPU calls work as before.
 */
typedef enum bce4j_cuda_state {
    BCE4J_CUDA_AVAILABLE = 0,
    BCE4J_CUDA_LIBRARY_ABSENT = 1, /* built without CUDA, or libbce4j_cuda could not be loaded */
    BCE4J_CUDA_NO_DRIVER = 2,      /* no CUDA driver (libcuda) on this machine */
    BCE4J_CUDA_DRIVER_TOO_OLD = 3, /* the driver is older than the CUDA runtime bce4j was built with */
    BCE4J_CUDA_NO_DEVICE = 4,      /* a driver, but no device this build has code for (compute capability) */
    BCE4J_CUDA_ERROR = 5           /* any other failure; see bce4j_cuda_description */
} bce4j_cuda_state;

/* Whether CUDA calls can run here (a bce4j_cuda_state). Probed once, on the first call. */
BCE4J_API int32_t bce4j_cuda_availability(void);

/* One line for people: "available (N devices: name, name)" or "unavailable (reason)". */
BCE4J_API const char* bce4j_cuda_description(void);

/* The number of usable CUDA devices (those whose compute capability this build has code for; the description names
   the others); 0 when unavailable. */
BCE4J_API int32_t bce4j_cuda_device_count(void);

/*
 * The two losses on the calling thread's current CUDA device, with the same semantics, options and outputs as
 * bce4j_bce_with_logits / bce4j_bce. Every tensor pointer, options->weight and options->pos_weight included, is a
 * device pointer; `reduced_loss` is a host pointer; shapes and options live in host memory. The work is queued
 * on `stream` (a cudaStream_t; NULL = the default stream), after the work already queued there, and the call
 * waits for it before returning, so that errors (out-of-range values, CUDA failures) and reduced_loss are known.
 * Reductions are deterministic: the same call gives the same bits on the same device every time.
 * Arguments are checked as on the CPU (same statuses and messages) before CUDA's availability; options->num_threads
 * is ignored. float32 is computed in float (elements whose result is not finite again in double), float64 in
 * double; FLOAT16/BFLOAT16 (every tensor, weight and pos_weight included) as on the CPU: computed in float, each
 * result rounded once to nearest even. grad_weight and grad_pos_weight (device pointers) as on the CPU: each
 * element's terms in double, summed to the operand's shape in a fixed order, rounded once; the same bits every run.
 * Refused before anything is queued: with BCE4J_ERROR_DEVICE, a pointer the current device cannot reach (host
 * memory CUDA does not know, unless the device reads pageable memory; another device's memory), naming the argument,
 * and a stream that is capturing a CUDA graph (the capture goes on; capture is not supported); with
 * BCE4J_ERROR_UNAVAILABLE, a current device this build has no code for. The calling thread's current device
 * (context) is the same after every call as before it. Scratch and staging memory come from a memory pool of
 * bce4j's own, never from the device's default pool.
 */
BCE4J_API bce4j_status bce4j_cuda_bce_with_logits(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                                  const int64_t* shape, const void* input, const void* target,
                                                  const void* grad_output, void* loss, double* reduced_loss,
                                                  void* grad_input, void* grad_target, void* stream);
BCE4J_API bce4j_status bce4j_cuda_bce(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                      const int64_t* shape, const void* input, const void* target,
                                      const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                      void* grad_target, void* stream);

/*
 * Queued, for training loops: as bce4j_cuda_bce_with_logits / bce4j_cuda_bce, but the call only queues the work on
 * `stream` and returns without waiting for the device. The results stay on the device: `reduced_loss` is a device
 * pointer to one double (the reduced loss; reductions other than NONE; NULL = not wanted), and `first_invalid` a
 * required device pointer to one int64, set to -1, or to the flat index of the first element whose input
 * (probabilities) or target is outside [0, 1] (the blocking call's BCE4J_ERROR_OUT_OF_RANGE; the other outputs are
 * then undefined). Every check of the blocking call is made before returning (arguments, options, pointers, a
 * capturing stream), with the same statuses and messages; a NULL first_invalid gives BCE4J_ERROR_NULL_ARGUMENT after
 * the checks of the arguments every call has. A CUDA failure of the queued work shows in the caller's next
 * synchronisation. The same kernels as the blocking call: the same bits.
 */
BCE4J_API bce4j_status bce4j_cuda_bce_with_logits_queued(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                                         const int64_t* shape, const void* input, const void* target,
                                                         const void* grad_output, void* loss, double* reduced_loss,
                                                         void* grad_input, void* grad_target, int64_t* first_invalid,
                                                         void* stream);
BCE4J_API bce4j_status bce4j_cuda_bce_queued(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                             const int64_t* shape, const void* input, const void* target,
                                             const void* grad_output, void* loss, double* reduced_loss,
                                             void* grad_input, void* grad_target, int64_t* first_invalid, void* stream);

/* The same on host buffers, exactly as bce4j_bce_with_logits / bce4j_bce take them: copied to the current
   device, computed there, and the outputs copied back. Worth it for large inputs only. */
BCE4J_API bce4j_status bce4j_cuda_bce_with_logits_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                                       const int64_t* shape, const void* input, const void* target,
                                                       const void* grad_output, void* loss, double* reduced_loss,
                                                       void* grad_input, void* grad_target);
BCE4J_API bce4j_status bce4j_cuda_bce_host(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                           const int64_t* shape, const void* input, const void* target,
                                           const void* grad_output, void* loss, double* reduced_loss, void* grad_input,
                                           void* grad_target);

/*
 * Choosing the CUDA library file, for where it does not sit beside libbce4j (e.g. unpacked from a jar of its own).
 * Names the file (a path, or a bare name for dlopen's search) that the first CUDA call loads, and must come before
 * that call: afterwards it returns BCE4J_ERROR_INVALID_OPTION, saying which file that call chose, unless `path` is
 * the one named before. BCE4J_CUDA_LIBRARY, when set and not empty, wins over this call (which still returns
 * BCE4J_OK). Returns BCE4J_ERROR_NULL_ARGUMENT for a NULL path and BCE4J_ERROR_INVALID_OPTION for "". Thread-safe.
 * Whether the file loads is known only at the first CUDA call: see bce4j_cuda_description and
 * bce4j_cuda_library_path.
 */
BCE4J_API bce4j_status bce4j_cuda_use_library(const char* path);

/* The CUDA library file in use, as the dynamic loader found it, or the file that could not be loaded (then
   bce4j_cuda_description says why). Like bce4j_cuda_availability, the first call loads the library and probes. */
BCE4J_API const char* bce4j_cuda_library_path(void);

/*
 * Native information: what this build is and where its parts were loaded from, for diagnostics (the Java
 * Bce4j.nativeInfo() and the command line's `info` print them). Each returns a string with static storage,
 * computed at most once (cheap after that) and never NULL; all are thread-safe and load nothing.
 */

/* The file libbce4j was loaded from, as the dynamic loader recorded it (normally an absolute path); "" if unknown. */
BCE4J_API const char* bce4j_library_path(void);

/* The platform this library was built for, in JavaCPP's naming: "linux-x86_64", "linux-arm64", "macosx-arm64", ... */
BCE4J_API const char* bce4j_platform(void);

/* The oldest glibc this build runs on, "MAJOR.MINOR" (e.g. "2.17"): the version the build declared (CMake's
   BCE4J_GLIBC_BASELINE), or else that of the glibc it was compiled against. "" for a build not against glibc. */
BCE4J_API const char* bce4j_glibc_baseline(void);

/* The compiler of this build, e.g. "GCC 12.2.0" or "Clang 17.0.6". */
BCE4J_API const char* bce4j_compiler(void);

/* The file of the OpenMP runtime this library runs on (the one defining omp_get_max_threads), e.g.
   ".../libgomp.so.1"; "" if unknown. Its default thread count is bce4j_default_num_threads(). */
BCE4J_API const char* bce4j_openmp_library_path(void);

/* The instruction sets whose kernels this build has and this CPU can run, comma-separated, "scalar" first, in the
   names bce4j_cpu_isa() uses: e.g. "scalar,avx2,avx512". Each can be forced with BCE4J_ISA. */
BCE4J_API const char* bce4j_cpu_isas_available(void);

/* The value of BCE4J_ISA when the kernels were chosen (it is read once; see bce4j_cpu_isa), "" if it was unset or
   empty. Calling this makes that choice, if no call has yet. */
BCE4J_API const char* bce4j_cpu_isa_request(void);

/* Why bce4j_cpu_isa() is the one in use, one line for people: "the default for this CPU, which has AVX-512F" (or
   "..., which has AVX2, FMA and F16C but not AVX-512F", "..., which lacks AVX2, FMA or F16C"), "forced by
   BCE4J_ISA=scalar", or for a request that was ignored "BCE4J_ISA=avx512 ignored: this CPU cannot run the avx512
   kernels; running avx2, the default for this CPU, which has AVX2, FMA and F16C but not AVX-512F" (likewise "not
   a kernel name (scalar, avx2, avx512)" and "this build has no avx2 kernels"). Calling this makes the choice, if
   no call has yet. */
BCE4J_API const char* bce4j_cpu_isa_reason(void);

/*
 * Prepared calls (create, then run many times; CPU only): bce4j_prepare does once what every call does before it
 * reads data (checking the options and shapes, planning the broadcast, choosing the kernels and the thread count),
 * and bce4j_prepared_run then runs the loss on tensors of the prepared shape, or of fewer rows along dimension 0
 * (inference batches vary), checking only its own arguments. Results are bit-identical to the unprepared call on
 * the same data and shape.
 */
typedef struct bce4j_prepared bce4j_prepared;

/*
 * Prepares a loss call: the logits loss (bce4j_bce_with_logits) where `logits` is nonzero, else BCELoss
 * (bce4j_bce), of `dtype` over an input of shape (ndim, shape). Checks what those calls check before reading data,
 * with the same statuses and messages, and stores a new prepared call in *prepared (NULL on failure); free it with
 * bce4j_prepared_destroy. The options and the shape arrays are copied (the caller's may go away), except the data
 * of options->weight and options->pos_weight: their pointers are kept, so their memory must stay valid while the
 * prepared call lives; their values are read at each run (a caller may change them between runs).
 * options->grad_weight and options->grad_pos_weight must be NULL (BCE4J_ERROR_INVALID_OPTION otherwise): a prepared
 * call takes those outputs at each run. With options->num_threads = 0 the library default is read now.
 */
BCE4J_API bce4j_status bce4j_prepare(const bce4j_options* options, int32_t logits, bce4j_dtype dtype, int32_t ndim,
                                     const int64_t* shape, bce4j_prepared** prepared);

/*
 * Runs a prepared call on `batch` rows: the input, and every input-shaped argument, has the prepared shape with
 * dimension 0 replaced by `batch`, 0 to shape[0] (a prepared scalar, ndim 0, takes batch 1). A weight or pos_weight
 * whose shape has the input's dimension 0 (of size shape[0] > 1) contributes its first `batch` rows; their
 * gradients' other rows are set to 0. Reductions divide by what the run covers (MEAN by batch * the other
 * dimensions). The other arguments are those of bce4j_bce_with_logits / bce4j_bce, with grad_weight and
 * grad_pos_weight the outputs options->grad_weight and options->grad_pos_weight would be (NULL = not wanted;
 * grad_pos_weight must be NULL for BCELoss). Checks only what depends on these arguments (batch, NULL input or
 * target for a non-empty run, ...), with messages naming the argument.
 * Thread-safe: a prepared call is read-only after bce4j_prepare, so any number of threads may run it at once, each
 * with outputs of its own; each gets the bits a run alone would give.
 */
BCE4J_API bce4j_status bce4j_prepared_run(const bce4j_prepared* prepared, int64_t batch, const void* input,
                                          const void* target, const void* grad_output, void* loss, double* reduced_loss,
                                          void* grad_input, void* grad_target, void* grad_weight,
                                          void* grad_pos_weight);

/* Frees a prepared call (NULL: nothing), which no run may be using. */
BCE4J_API void bce4j_prepared_destroy(bce4j_prepared* prepared);

/*
 * Partial losses (CPU only): instead of a reduced value, a call adds its elements to a bce4j_partial, and partials
 * merge, so that data split into many calls, threads or machines (e.g. Spark partitions) gives every reduction of
 * the whole. The loss sum and the weight sum are order-independent sums (binned summation): the finished value is
 * bit-identical however the elements were split into calls, merged (in any order or grouping) and threaded. The
 * per-element losses are those of the kernels in use (bce4j_cpu_isa): kernels of different instruction sets differ
 * in their last bits (see bce4j_cpu_isa's accuracy), so partials from machines running different kernels merge
 * within that bound, and bit-identically where every machine runs the same ones (BCE4J_ISA). Gradients are not
 * available through partials.
 */
#define BCE4J_PARTIAL_VERSION 1

/* The size of a serialised partial (bce4j_partial_serialize), fixed for a version: its fields in order, each
   little-endian. */
#define BCE4J_PARTIAL_BYTES 160

typedef struct bce4j_partial {
    uint32_t version;             /* BCE4J_PARTIAL_VERSION, set by bce4j_partial_init */
    uint32_t reserved;            /* 0 */
    int64_t count;                /* elements added */
    int64_t valid_count;          /* of them, not ignored (target not equal to the ignore index) */
    int64_t nonzero_weight_count; /* of them, with a broadcast weight that is not 0 (all without a weight) */
    uint64_t loss_sum[8];         /* opaque: the order-independent sum of the per-element (weighted) losses */
    uint64_t weight_sum[8];       /* opaque: of the broadcast weights (1 per element without a weight) */
} bce4j_partial;

/* Makes *partial the empty partial (count 0, sums 0). NULL: nothing. */
BCE4J_API void bce4j_partial_init(bce4j_partial* partial);

/* Adds `from` to `into` (counts and sums; `from` may be `into`): associative and commutative, bit for bit. Checks
   both (version, reserved field, counts, sums) and leaves `into` unchanged on failure. */
BCE4J_API bce4j_status bce4j_partial_merge(bce4j_partial* into, const bce4j_partial* from);

/* The reduced loss of the elements a partial holds, divided as the calls divide: MEAN by count (NaN for none), SUM
   by 1, MEAN_BY_WEIGHT by the weight sum, MEAN_BY_NONZERO_WEIGHT by nonzero_weight_count, MEAN_VALID by
   valid_count (each of those 0 for a zero denominator). NONE: BCE4J_ERROR_INVALID_OPTION. */
BCE4J_API bce4j_status bce4j_partial_finish(const bce4j_partial* partial, int32_t reduction, double* value);

/* The loss sum and the weight sum, each rounded once from its exact binned state. */
BCE4J_API bce4j_status bce4j_partial_loss_sum(const bce4j_partial* partial, double* value);
BCE4J_API bce4j_status bce4j_partial_weight_sum(const bce4j_partial* partial, double* value);

/* Writes BCE4J_PARTIAL_BYTES bytes (capacity at least that), little-endian, version first; equal partials give equal
   bytes. */
BCE4J_API bce4j_status bce4j_partial_serialize(const bce4j_partial* partial, uint8_t* bytes, size_t capacity);

/* Reads bytes written by bce4j_partial_serialize: length must be BCE4J_PARTIAL_BYTES and the version
   BCE4J_PARTIAL_VERSION; the counts and sums are checked (BCE4J_ERROR_INVALID_OPTION naming what is wrong). */
BCE4J_API bce4j_status bce4j_partial_deserialize(const uint8_t* bytes, size_t length, bce4j_partial* partial);

/*
 * The losses of bce4j_bce_with_logits / bce4j_bce on (dtype, ndim, shape, input, target), added to *partial
 * (initialised by the caller, e.g. by bce4j_partial_init). options->reduction is ignored (it need not be valid);
 * options->grad_weight and options->grad_pos_weight must be NULL (BCE4J_ERROR_INVALID_OPTION). Every other option
 * applies and is checked as in those calls, with the same statuses and messages. On failure *partial is unchanged.
 * The element losses are those the active kernels store for reduction NONE (float32 for float32 and 16-bit storage,
 * before rounding to 16 bits; double for float64), in 8192-element blocks on the call's threads.
 */
BCE4J_API bce4j_status bce4j_bce_with_logits_partial(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                                     const int64_t* shape, const void* input, const void* target,
                                                     bce4j_partial* partial);
BCE4J_API bce4j_status bce4j_bce_partial(const bce4j_options* options, bce4j_dtype dtype, int32_t ndim,
                                         const int64_t* shape, const void* input, const void* target,
                                         bce4j_partial* partial);

#ifdef __cplusplus
}
#endif

/* clang-format on */
#endif /* BCE4J_BCE4J_H */
