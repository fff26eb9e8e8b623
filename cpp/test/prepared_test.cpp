// Prepared calls (bce4j_prepare, bce4j_prepared_run): bit-identical to the unprepared call on the same data and the
// run's shape, over options, dtypes and batch sizes (0, 1, some, all; weights spanning dimension 0 included);
// weights read at each run; run-time errors with their messages; concurrent runs giving the bits of sequential ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bce4j/bce4j.h"
#include "storage_types.h"

namespace {

using Shape = std::vector<int64_t>;
using Bytes = std::vector<unsigned char>;

std::string message() { return bce4j_last_error_message(); }

size_t element_size(bce4j_dtype dtype) { return dtype == BCE4J_FLOAT64 ? 8 : dtype == BCE4J_FLOAT32 ? 4 : 2; }

const char* dtype_name(bce4j_dtype dtype) {
    switch (dtype) {
        case BCE4J_FLOAT32: return "float32";
        case BCE4J_FLOAT64: return "float64";
        case BCE4J_FLOAT16: return "float16";
        case BCE4J_BFLOAT16: return "bfloat16";
    }
    return "?";
}

// `values` stored as `dtype`.
Bytes stored(bce4j_dtype dtype, const std::vector<double>& values) {
    Bytes out(values.size() * element_size(dtype));
    for (size_t i = 0; i < values.size(); ++i) {
        unsigned char* at = out.data() + i * element_size(dtype);
        if (dtype == BCE4J_FLOAT64) {
            std::memcpy(at, &values[i], 8);
        } else if (dtype == BCE4J_FLOAT32) {
            const float f = static_cast<float>(values[i]);
            std::memcpy(at, &f, 4);
        } else if (dtype == BCE4J_FLOAT16) {
            const bce4j::Float16 h = bce4j::from_double<bce4j::Float16>(values[i]);
            std::memcpy(at, &h, 2);
        } else {
            const bce4j::BFloat16 h = bce4j::from_double<bce4j::BFloat16>(values[i]);
            std::memcpy(at, &h, 2);
        }
    }
    return out;
}

std::vector<double> uniform(size_t n, double lo, double hi, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(lo, hi);
    std::vector<double> v(n);
    for (double& x : v) x = u(rng);
    return v;
}

// The first `n` elements' bytes.
Bytes prefix(const Bytes& b, bce4j_dtype dtype, int64_t n) {
    return Bytes(b.begin(), b.begin() + n * static_cast<int64_t>(element_size(dtype)));
}

// One configuration of options; weights given by shape (values are made up per test).
struct Variant {
    const char* name;
    bool logits;
    int32_t reduction;
    Shape weight_shape;  // empty vector with has_weight false: no weight
    bool has_weight;
    Shape pos_weight_shape;
    bool has_pos_weight;
    bool weight_gradients;
    void (*adjust)(bce4j_options*);
};

void no_adjustment(bce4j_options*) {}
void ignore_and_smoothing(bce4j_options* o) {
    o->has_ignore_index = 1;
    o->ignore_index = 0;
    o->label_smoothing = 0.1;
}
void focal(bce4j_options* o) {
    o->has_focal = 1;
    o->focal_alpha = 0.25;
}
void paddle_legacy(bce4j_options* o) { o->pos_weight_mode = BCE4J_POS_WEIGHT_PADDLE_LEGACY; }

std::vector<Variant> variants(int64_t rows, int64_t columns) {
    return {
        {"mean", true, BCE4J_REDUCTION_MEAN, {}, false, {}, false, false, no_adjustment},
        {"sum", true, BCE4J_REDUCTION_SUM, {}, false, {}, false, false, no_adjustment},
        {"none", true, BCE4J_REDUCTION_NONE, {}, false, {}, false, false, no_adjustment},
        {"class weights", true, BCE4J_REDUCTION_MEAN_BY_WEIGHT, {columns}, true, {columns}, true, true, no_adjustment},
        {"row weights",
         true,
         BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT,
         {rows, 1},
         true,
         {rows, columns},
         true,
         true,
         no_adjustment},
        {"element weights by weight",
         true,
         BCE4J_REDUCTION_MEAN_BY_WEIGHT,
         {rows, columns},
         true,
         {},
         false,
         true,
         no_adjustment},
        {"ignore and smoothing", true, BCE4J_REDUCTION_MEAN_VALID, {}, false, {}, false, false, ignore_and_smoothing},
        {"focal", true, BCE4J_REDUCTION_SUM, {columns}, true, {}, false, true, focal},
        {"paddle legacy", true, BCE4J_REDUCTION_MEAN, {}, false, {1, columns}, true, true, paddle_legacy},
        {"probabilities", false, BCE4J_REDUCTION_MEAN, {rows, columns}, true, {}, false, true, no_adjustment},
        {"probabilities none", false, BCE4J_REDUCTION_NONE, {}, false, {}, false, false, no_adjustment},
    };
}

int64_t numel(const Shape& s) {
    int64_t n = 1;
    for (int64_t d : s) n *= d;
    return n;
}

// An operand's shape for a run of `batch` rows: dimension 0 shrinks where it spans the input's.
Shape run_shape(const Shape& operand, const Shape& input, int64_t batch) {
    Shape s = operand;
    if (s.size() == input.size() && !s.empty() && input[0] > 1 && s[0] == input[0]) s[0] = batch;
    return s;
}

struct Outcome {
    bce4j_status status;
    double reduced = 0;
    Bytes loss, grad_input, grad_target, grad_weight, grad_pos_weight;
};

void expect_same(const Outcome& a, const Outcome& b, const std::string& where) {
    ASSERT_EQ(a.status, b.status) << where << ": " << message();
    EXPECT_EQ(std::memcmp(&a.reduced, &b.reduced, sizeof(double)), 0)
        << where << ": " << a.reduced << " vs " << b.reduced;
    EXPECT_EQ(a.loss, b.loss) << where;
    EXPECT_EQ(a.grad_input, b.grad_input) << where;
    EXPECT_EQ(a.grad_target, b.grad_target) << where;
    EXPECT_EQ(a.grad_weight, b.grad_weight) << where;
    EXPECT_EQ(a.grad_pos_weight, b.grad_pos_weight) << where;
}

// The data of one problem at its full size, in one dtype.
struct Problem {
    bce4j_dtype dtype;
    Shape shape;
    Bytes input, target, grad_output, weight, pos_weight;

    Problem(const Variant& v, bce4j_dtype d, Shape s, unsigned seed) : dtype(d), shape(std::move(s)) {
        const size_t n = static_cast<size_t>(numel(shape));
        input = stored(dtype, v.logits ? uniform(n, -6, 6, seed) : uniform(n, 0.01, 0.99, seed));
        std::vector<double> y = uniform(n, 0, 1, seed + 1);
        for (size_t i = 0; i < n; i += 5) y[i] = 0;  // some targets equal the ignore index
        target = stored(dtype, y);
        grad_output = stored(dtype, uniform(n, -2, 2, seed + 2));
        std::vector<double> w = uniform(static_cast<size_t>(numel(v.weight_shape)), 0, 2, seed + 3);
        for (size_t i = 0; i < w.size(); i += 3) w[i] = 0;  // zeros count differently in MEAN_BY_NONZERO_WEIGHT
        weight = stored(dtype, w);
        pos_weight = stored(dtype, uniform(static_cast<size_t>(numel(v.pos_weight_shape)), 0.5, 3, seed + 4));
    }
};

bce4j_options options_of(const Variant& v, const Problem& p, const Shape& weight_shape, const Shape& pos_weight_shape) {
    bce4j_options o;
    bce4j_options_init(&o);
    o.reduction = v.reduction;
    o.num_threads = 1;
    if (v.has_weight) {
        o.weight = p.weight.data();
        o.weight_ndim = static_cast<int32_t>(weight_shape.size());
        o.weight_shape = weight_shape.data();
    }
    if (v.has_pos_weight) {
        o.pos_weight = p.pos_weight.data();
        o.pos_weight_ndim = static_cast<int32_t>(pos_weight_shape.size());
        o.pos_weight_shape = pos_weight_shape.data();
    }
    v.adjust(&o);
    return o;
}

// Output buffers for `count` elements and the given gradient sizes, filled with a pattern that a run overwrites.
Outcome outputs(const Variant& v, bce4j_dtype dtype, int64_t count, int64_t weight_count, int64_t pos_weight_count) {
    const size_t size = element_size(dtype);
    Outcome out;
    out.loss.assign((v.reduction == BCE4J_REDUCTION_NONE ? count : 1) * size, 0x5a);
    out.grad_input.assign(count * size, 0x5a);
    out.grad_target.assign(count * size, 0x5a);
    if (v.weight_gradients) {
        out.grad_weight.assign((v.has_weight ? weight_count : 1) * size, 0x5a);
        if (v.logits) out.grad_pos_weight.assign((v.has_pos_weight ? pos_weight_count : 1) * size, 0x5a);
    }
    return out;
}

void* data_or_null(Bytes& b) { return b.empty() ? nullptr : b.data(); }

// The unprepared call on the first `batch` rows (operands spanning dimension 0 cut to as many rows).
Outcome unprepared(const Variant& v, const Problem& p, int64_t batch) {
    Shape shape = p.shape;
    if (!shape.empty()) shape[0] = batch;
    const Shape ws = run_shape(v.weight_shape, p.shape, batch);
    const Shape ps = run_shape(v.pos_weight_shape, p.shape, batch);
    bce4j_options o = options_of(v, p, ws, ps);
    Outcome out = outputs(v, p.dtype, numel(shape), numel(ws), numel(ps));
    o.grad_weight = data_or_null(out.grad_weight);
    o.grad_pos_weight = data_or_null(out.grad_pos_weight);
    const void* grad_output = v.reduction == BCE4J_REDUCTION_NONE ? p.grad_output.data() : nullptr;
    const auto call = v.logits ? bce4j_bce_with_logits : bce4j_bce;
    out.status = call(&o, p.dtype, static_cast<int32_t>(shape.size()), shape.data(), p.input.data(), p.target.data(),
                      grad_output, out.loss.data(), &out.reduced, out.grad_input.data(), out.grad_target.data());
    return out;
}

struct PreparedDeleter {
    void operator()(bce4j_prepared* p) const { bce4j_prepared_destroy(p); }
};
using PreparedPtr = std::unique_ptr<bce4j_prepared, PreparedDeleter>;

PreparedPtr prepare(const Variant& v, const Problem& p) {
    bce4j_options o = options_of(v, p, v.weight_shape, v.pos_weight_shape);
    bce4j_prepared* made = nullptr;
    const bce4j_status s =
        bce4j_prepare(&o, v.logits, p.dtype, static_cast<int32_t>(p.shape.size()), p.shape.data(), &made);
    EXPECT_EQ(s, BCE4J_OK) << message();
    return PreparedPtr(made);
}

// A prepared run of `batch` rows; its weight gradients have the full operands' shapes.
Outcome run(const Variant& v, const Problem& p, const bce4j_prepared* prepared, int64_t batch) {
    const int64_t count = p.shape.empty() ? 1 : batch * (numel(p.shape) / p.shape[0]);
    Outcome out = outputs(v, p.dtype, count, numel(v.weight_shape), numel(v.pos_weight_shape));
    const void* grad_output = v.reduction == BCE4J_REDUCTION_NONE ? p.grad_output.data() : nullptr;
    out.status = bce4j_prepared_run(prepared, batch, p.input.data(), p.target.data(), grad_output, out.loss.data(),
                                    &out.reduced, out.grad_input.data(), out.grad_target.data(),
                                    data_or_null(out.grad_weight), data_or_null(out.grad_pos_weight));
    return out;
}

// The unprepared outcome with its weight gradients widened to the full operands: the rows a run does not read get
// gradient 0 (stored as the dtype's +0, all zero bits).
Outcome widened(Outcome o, const Variant& v, const Problem& p) {
    const size_t size = element_size(p.dtype);
    if (!v.weight_gradients) return o;
    if (v.has_weight) o.grad_weight.resize(numel(v.weight_shape) * size, 0);
    if (v.logits && v.has_pos_weight) o.grad_pos_weight.resize(numel(v.pos_weight_shape) * size, 0);
    return o;
}

const bce4j_dtype kDtypes[] = {BCE4J_FLOAT32, BCE4J_FLOAT64, BCE4J_FLOAT16, BCE4J_BFLOAT16};

TEST(Prepared, BitIdenticalToUnpreparedCallsOverOptionsDtypesAndBatches) {
    // Small (one row, no plan without weights) and large (the executor's plan, several reduction blocks).
    for (const Shape& shape : {Shape{5, 7}, Shape{6, 3, 2731}}) {
        const int64_t rows = shape[0];
        const int64_t columns = numel(shape) / rows;
        for (const Variant& v : variants(rows, shape.size() == 2 ? columns : 1)) {
            Variant fitted = v;
            if (shape.size() == 3) {  // the same operands, over [rows, 3, 2731]: [C] becomes [2731], [N, C] [N, 3, 1]
                for (Shape* s : {&fitted.weight_shape, &fitted.pos_weight_shape}) {
                    if (s->size() == 1) *s = {shape[2]};
                    if (s->size() == 2) *s = {(*s)[0] == 1 ? 1 : rows, (*s)[1] == 1 ? 1 : 3, 1};
                }
            }
            for (bce4j_dtype dtype : kDtypes) {
                const Problem p(fitted, dtype, shape, 7);
                PreparedPtr prepared = prepare(fitted, p);
                ASSERT_NE(prepared, nullptr);
                for (int64_t batch : {int64_t{0}, int64_t{1}, rows / 2, rows}) {
                    const std::string where = std::string(v.name) + " " + dtype_name(dtype) + " shape " +
                                              std::to_string(numel(shape)) + " batch " + std::to_string(batch);
                    expect_same(run(fitted, p, prepared.get(), batch), widened(unprepared(fitted, p, batch), fitted, p),
                                where);
                }
            }
        }
    }
}

TEST(Prepared, ScalarTakesBatchOne) {
    const Variant v = {"mean", true, BCE4J_REDUCTION_MEAN, {}, false, {}, false, true, no_adjustment};
    for (bce4j_dtype dtype : kDtypes) {
        const Problem p(v, dtype, {}, 3);
        PreparedPtr prepared = prepare(v, p);
        expect_same(run(v, p, prepared.get(), 1), unprepared(v, p, 1), dtype_name(dtype));
        for (int64_t batch : {0, 2}) {
            Outcome out = run(v, p, prepared.get(), batch);
            EXPECT_EQ(out.status, BCE4J_ERROR_INVALID_SHAPE);
            EXPECT_EQ(message(), "batch is " + std::to_string(batch) + "; expected 1 (the prepared input is a scalar)");
        }
    }
}

TEST(Prepared, WeightsAreReadAtEachRun) {
    const Variant v = {"class weights", true,         BCE4J_REDUCTION_MEAN_BY_WEIGHT, {7}, true, {}, false,
                       false,           no_adjustment};
    Problem p(v, BCE4J_FLOAT32, {5, 7}, 11);
    PreparedPtr prepared = prepare(v, p);
    const Outcome before = run(v, p, prepared.get(), 5);
    const Bytes changed = stored(BCE4J_FLOAT32, uniform(7, 0, 2, 99));
    std::copy(changed.begin(), changed.end(), p.weight.begin());  // in place: the prepared call points at it
    const Outcome after = run(v, p, prepared.get(), 5);
    EXPECT_NE(before.grad_input, after.grad_input);
    expect_same(after, unprepared(v, p, 5), "after the weights changed");
}

TEST(Prepared, RunErrorsNameTheArgument) {
    const Variant v = {"probabilities", false, BCE4J_REDUCTION_MEAN, {}, false, {}, false, false, no_adjustment};
    const Problem p(v, BCE4J_FLOAT64, {4, 7}, 5);
    PreparedPtr prepared = prepare(v, p);
    double reduced = 0;
    const void* x = p.input.data();
    const void* y = p.target.data();
    auto run_with = [&](const bce4j_prepared* pr, int64_t batch, const void* input, const void* target,
                        void* grad_pos_weight) {
        return bce4j_prepared_run(pr, batch, input, target, nullptr, nullptr, &reduced, nullptr, nullptr, nullptr,
                                  grad_pos_weight);
    };
    EXPECT_EQ(run_with(nullptr, 4, x, y, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_EQ(message(), "prepared is NULL");
    for (int64_t batch : {-1, 5}) {
        EXPECT_EQ(run_with(prepared.get(), batch, x, y, nullptr), BCE4J_ERROR_INVALID_SHAPE);
        EXPECT_EQ(message(),
                  "batch is " + std::to_string(batch) + "; expected 0 to 4 (dimension 0 of the prepared shape [4, 7])");
    }
    EXPECT_EQ(run_with(prepared.get(), 2, nullptr, y, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_EQ(message(), "input is NULL");
    EXPECT_EQ(run_with(prepared.get(), 2, x, nullptr, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_EQ(message(), "target is NULL");
    EXPECT_EQ(run_with(prepared.get(), 0, nullptr, nullptr, nullptr), BCE4J_OK) << "an empty run reads nothing";
    EXPECT_EQ(message(), "");
    double g = 0;
    EXPECT_EQ(run_with(prepared.get(), 2, x, y, &g), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_EQ(message(), "grad_pos_weight applies to the logits loss only, not to BCELoss (it has no pos_weight)");

    // An out-of-range probability is reported at its index in the run's shape.
    std::vector<double> input(28, 0.5);
    input[9] = 1.5;
    EXPECT_EQ(run_with(prepared.get(), 2, input.data(), y, nullptr), BCE4J_ERROR_OUT_OF_RANGE);
    EXPECT_EQ(message(), "input element 9 (index [1, 2]) is 1.5; expected a value in [0, 1]");
}

TEST(Prepared, ConcurrentRunsGiveTheBitsOfSequentialRuns) {
    const Variant v = {"class weights", true, BCE4J_REDUCTION_MEAN_BY_WEIGHT, {64}, true, {64}, true, true,
                       no_adjustment};
    constexpr int kThreads = 4;
    std::vector<Problem> problems;
    for (int t = 0; t < kThreads; ++t) problems.emplace_back(v, BCE4J_FLOAT32, Shape{16, 64}, 100 + 10 * t);
    // One prepared call over the first problem's weights, which every run then uses.
    for (int t = 1; t < kThreads; ++t) {
        problems[t].weight = problems[0].weight;
        problems[t].pos_weight = problems[0].pos_weight;
    }
    PreparedPtr prepared = prepare(v, problems[0]);
    std::vector<Outcome> sequential;
    for (int t = 0; t < kThreads; ++t) sequential.push_back(run(v, problems[t], prepared.get(), 16 - t));
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 300; ++i) {
                const Outcome o = run(v, problems[t], prepared.get(), 16 - t);
                const Outcome& s = sequential[t];
                const bool same = o.status == s.status && std::memcmp(&o.reduced, &s.reduced, sizeof(double)) == 0 &&
                                  o.grad_input == s.grad_input && o.grad_target == s.grad_target &&
                                  o.grad_weight == s.grad_weight && o.grad_pos_weight == s.grad_pos_weight;
                mismatches[t] += same ? 0 : 1;
            }
        });
    }
    for (std::thread& t : threads) t.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

}  // namespace
