// Partial losses (bce4j_*_partial, bce4j_partial_*): every reduction finished from a partial against the direct
// call's reduced loss, bit-identical results however the rows are split into calls, merged and threaded, the counts,
// NaN, empty inputs, the serialised form and the errors. Every dtype, both losses; on every ISA through ctest's runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"
#include "storage_types.h"

namespace {

using bce4j::BFloat16;
using bce4j::Float16;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr bce4j_dtype kDtypes[] = {BCE4J_FLOAT32, BCE4J_FLOAT64, BCE4J_FLOAT16, BCE4J_BFLOAT16};
constexpr int32_t kReductions[] = {BCE4J_REDUCTION_MEAN, BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_MEAN_BY_WEIGHT,
                                   BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT, BCE4J_REDUCTION_MEAN_VALID};

const char* dtype_name(bce4j_dtype d) {
    switch (d) {
        case BCE4J_FLOAT32: return "float32";
        case BCE4J_FLOAT64: return "float64";
        case BCE4J_FLOAT16: return "float16";
        case BCE4J_BFLOAT16: return "bfloat16";
    }
    return "?";
}

size_t element_size(bce4j_dtype d) { return d == BCE4J_FLOAT64 ? 8 : d == BCE4J_FLOAT32 ? 4 : 2; }

// Values in the dtype's storage, as bytes.
std::vector<unsigned char> stored(bce4j_dtype d, const std::vector<double>& v) {
    std::vector<unsigned char> out(v.size() * element_size(d));
    for (size_t i = 0; i < v.size(); ++i) {
        unsigned char* at = out.data() + i * element_size(d);
        switch (d) {
            case BCE4J_FLOAT32: {
                const float f = static_cast<float>(v[i]);
                std::memcpy(at, &f, 4);
                break;
            }
            case BCE4J_FLOAT64: std::memcpy(at, &v[i], 8); break;
            case BCE4J_FLOAT16: {
                const Float16 h = bce4j::from_double<Float16>(v[i]);
                std::memcpy(at, &h, 2);
                break;
            }
            case BCE4J_BFLOAT16: {
                const BFloat16 h = bce4j::from_double<BFloat16>(v[i]);
                std::memcpy(at, &h, 2);
                break;
            }
        }
    }
    return out;
}

// The values a dtype holds (each rounded once to it), so that a float32 call on them sees what a 16-bit call does.
std::vector<double> rounded_to(bce4j_dtype d, const std::vector<double>& v) {
    std::vector<double> out(v.size());
    const std::vector<unsigned char> bytes = stored(d, v);
    for (size_t i = 0; i < v.size(); ++i) {
        const unsigned char* at = bytes.data() + i * element_size(d);
        switch (d) {
            case BCE4J_FLOAT32: {
                float f;
                std::memcpy(&f, at, 4);
                out[i] = f;
                break;
            }
            case BCE4J_FLOAT64: std::memcpy(&out[i], at, 8); break;
            case BCE4J_FLOAT16: {
                Float16 h;
                std::memcpy(&h, at, 2);
                out[i] = bce4j::to_double(h);
                break;
            }
            case BCE4J_BFLOAT16: {
                BFloat16 h;
                std::memcpy(&h, at, 2);
                out[i] = bce4j::to_double(h);
                break;
            }
        }
    }
    return out;
}

struct Operand {
    std::vector<int64_t> shape;
    std::vector<double> values;
};

// A call on a [rows, columns] input, its operands and options as doubles, put in the dtype's storage per call.
struct Case {
    bool logits = true;
    bce4j_dtype dtype = BCE4J_FLOAT32;
    int64_t rows = 0, columns = 0;
    std::vector<double> input, target;
    std::optional<Operand> weight, pos_weight;  // weight: [rows, 1] (spans the rows) or [columns]
    bool ignore = false;
    double smoothing = 0;
    bool focal = false;
    int32_t num_threads = 0;
};

bce4j_options options_of(const Case& c) {
    bce4j_options o;
    bce4j_options_init(&o);
    o.num_threads = c.num_threads;
    o.has_ignore_index = c.ignore;
    o.label_smoothing = c.smoothing;
    o.has_focal = c.focal;
    o.focal_alpha = c.focal ? 0.25 : -1;
    return o;
}

// The rows [begin, end) of a case's operand: an operand spanning the rows is cut with them.
Operand rows_of(const Case& c, const Operand& op, int64_t begin, int64_t end) {
    if (op.shape.size() != 2 || op.shape[0] != c.rows) return op;
    const int64_t width = op.shape[1];
    return {{end - begin, width},
            std::vector<double>(op.values.begin() + begin * width, op.values.begin() + end * width)};
}

struct Stored {
    std::vector<unsigned char> input, target, weight, pos_weight;
    Operand weight_op, pos_weight_op;
};

// Runs `call(options, shape, input, target)` on rows [begin, end) of c.
template <typename Call>
bce4j_status on_rows(const Case& c, int64_t begin, int64_t end, Call call, bce4j_options o) {
    const int64_t shape[2] = {end - begin, c.columns};
    const auto part = [&](const std::vector<double>& v) {
        return std::vector<double>(v.begin() + begin * c.columns, v.begin() + end * c.columns);
    };
    Stored s;
    s.input = stored(c.dtype, part(c.input));
    s.target = stored(c.dtype, part(c.target));
    if (c.weight) {
        s.weight_op = rows_of(c, *c.weight, begin, end);
        s.weight = stored(c.dtype, s.weight_op.values);
        o.weight = s.weight.data();
        o.weight_ndim = static_cast<int32_t>(s.weight_op.shape.size());
        o.weight_shape = s.weight_op.shape.data();
    }
    if (c.pos_weight) {
        s.pos_weight_op = rows_of(c, *c.pos_weight, begin, end);
        s.pos_weight = stored(c.dtype, s.pos_weight_op.values);
        o.pos_weight = s.pos_weight.data();
        o.pos_weight_ndim = static_cast<int32_t>(s.pos_weight_op.shape.size());
        o.pos_weight_shape = s.pos_weight_op.shape.data();
    }
    return call(o, shape, s.input.data(), s.target.data());
}

// The partial of rows [begin, end), added to a fresh one.
bce4j_partial partial_of(const Case& c, int64_t begin, int64_t end) {
    bce4j_partial p;
    bce4j_partial_init(&p);
    const bce4j_status s = on_rows(
        c, begin, end,
        [&](const bce4j_options& o, const int64_t* shape, const void* x, const void* y) {
            const auto fn = c.logits ? bce4j_bce_with_logits_partial : bce4j_bce_partial;
            return fn(&o, c.dtype, 2, shape, x, y, &p);
        },
        options_of(c));
    EXPECT_EQ(s, BCE4J_OK) << bce4j_last_error_message();
    return p;
}

// The direct call's reduced loss over the whole case.
double direct(const Case& c, int32_t reduction) {
    double reduced = kNaN;
    bce4j_options o = options_of(c);
    o.reduction = reduction;
    const bce4j_status s = on_rows(
        c, 0, c.rows,
        [&](const bce4j_options& opts, const int64_t* shape, const void* x, const void* y) {
            const auto fn = c.logits ? bce4j_bce_with_logits : bce4j_bce;
            return fn(&opts, c.dtype, 2, shape, x, y, nullptr, nullptr, &reduced, nullptr, nullptr);
        },
        o);
    EXPECT_EQ(s, BCE4J_OK) << bce4j_last_error_message();
    return reduced;
}

double finish(const bce4j_partial& p, int32_t reduction) {
    double v = -1;
    EXPECT_EQ(bce4j_partial_finish(&p, reduction, &v), BCE4J_OK) << bce4j_last_error_message();
    return v;
}

std::vector<uint8_t> bytes_of(const bce4j_partial& p) {
    std::vector<uint8_t> b(BCE4J_PARTIAL_BYTES);
    EXPECT_EQ(bce4j_partial_serialize(&p, b.data(), b.size()), BCE4J_OK) << bce4j_last_error_message();
    return b;
}

// A random case: logits in [-8, 8] (probabilities in (0, 1)), soft and hard targets, some ignored; weights per row
// with zeros, a pos_weight per column.
Case random_case(bool logits, bce4j_dtype dtype, int64_t rows, int64_t columns, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0, 1);
    Case c;
    c.logits = logits;
    c.dtype = dtype;
    c.rows = rows;
    c.columns = columns;
    const int64_t n = rows * columns;
    c.input.resize(n);
    c.target.resize(n);
    for (int64_t i = 0; i < n; ++i) {
        c.input[i] = logits ? 16 * unit(rng) - 8 : 0.001 + 0.998 * unit(rng);
        const double u = unit(rng);
        c.target[i] = u < 0.3 ? 0.0 : u < 0.6 ? 1.0 : u < 0.65 ? -100.0 : unit(rng);
    }
    c.ignore = true;
    Operand w{{rows, 1}, std::vector<double>(rows)};
    for (int64_t r = 0; r < rows; ++r) w.values[r] = r % 5 == 3 ? 0.0 : 0.25 + 2 * unit(rng);
    c.weight = w;
    if (logits) {
        Operand p{{columns}, std::vector<double>(columns)};
        for (int64_t k = 0; k < columns; ++k) p.values[k] = 0.5 + 3 * unit(rng);
        c.pos_weight = p;
    }
    return c;
}

std::string describe(const Case& c) {
    return std::string(c.logits ? "logits " : "probabilities ") + dtype_name(c.dtype) + " [" + std::to_string(c.rows) +
           ", " + std::to_string(c.columns) + "]" + (c.weight ? " weight" : "") + (c.pos_weight ? " pos_weight" : "") +
           (c.ignore ? " ignore" : "") + (c.smoothing > 0 ? " smoothing" : "") + (c.focal ? " focal" : "");
}

// Every reduction finished from the partial against the direct call: the same per-element terms summed in another
// order (the SIMD kernels' lanes), divided by the same denominator (its sum in another order for mean_by_weight).
// The scalar reference's reduced float32 and 16-bit calls sum their double losses, a partial the float32 values
// NONE stores: one float32 rounding apart.
void expect_finish_matches_direct(const Case& c) {
    const bool rounded = c.dtype != BCE4J_FLOAT64 && std::strcmp(bce4j_cpu_isa(), "scalar") == 0;
    const double tolerance = rounded ? 1.2e-7 : 1e-12;
    const bce4j_partial p = partial_of(c, 0, c.rows);
    for (int32_t r : kReductions) {
        const double want = direct(c, r);
        const double got = finish(p, r);
        EXPECT_NEAR(got, want, tolerance * std::fabs(want)) << describe(c) << " reduction " << r;
    }
}

TEST(Partial, EveryReductionFinishesAsTheDirectCallReducesForEveryDtype) {
    for (bce4j_dtype d : kDtypes) {
        for (bool logits : {true, false}) {
            Case c = random_case(logits, d, 50, 997, 11);  // 49850 elements: several blocks and threads
            expect_finish_matches_direct(c);
            c.weight.reset();
            c.pos_weight.reset();
            c.ignore = false;
            std::replace(c.target.begin(), c.target.end(), -100.0, 0.5);
            expect_finish_matches_direct(c);
        }
    }
}

TEST(Partial, OptionsApplyAsInTheDirectCall) {
    for (bce4j_dtype d : kDtypes) {
        for (bool logits : {true, false}) {
            Case c = random_case(logits, d, 7, 301, 12);
            c.smoothing = 0.1;
            expect_finish_matches_direct(c);
            c.weight = Operand{{301}, std::vector<double>(301, 0.5)};  // a weight per column, repeated per row
            c.weight->values[3] = 0;
            expect_finish_matches_direct(c);
            if (logits) {
                c.smoothing = 0;
                c.focal = true;
                expect_finish_matches_direct(c);
            }
        }
    }
}

// For 16-bit storage the float32 losses are summed before any narrowing: the partial is the float32 call's on the
// same (widened) values, bit for bit, on every ISA.
TEST(Partial, SixteenBitStorageSumsTheFloat32LossesBeforeNarrowing) {
    for (bce4j_dtype d : {BCE4J_FLOAT16, BCE4J_BFLOAT16}) {
        for (bool logits : {true, false}) {
            Case c = random_case(logits, d, 9, 513, 13);
            Case widened = c;
            widened.dtype = BCE4J_FLOAT32;
            widened.input = rounded_to(d, c.input);
            widened.target = rounded_to(d, c.target);
            widened.weight->values = rounded_to(d, c.weight->values);
            if (logits) widened.pos_weight->values = rounded_to(d, c.pos_weight->values);
            EXPECT_EQ(bytes_of(partial_of(c, 0, c.rows)), bytes_of(partial_of(widened, 0, c.rows))) << describe(c);
        }
    }
}

// The losses summed are the values reduction NONE stores: the partial's loss sum is their exact sum to a double
// rounding or so, far below the float32 rounding that other (e.g. double-precision) losses would differ by.
TEST(Partial, Float32LossesAreTheValuesReductionNoneGives) {
    Case c = random_case(true, BCE4J_FLOAT32, 20, 1000, 14);
    std::vector<float> losses(c.input.size());
    bce4j_options o = options_of(c);
    o.reduction = BCE4J_REDUCTION_NONE;
    ASSERT_EQ(on_rows(
                  c, 0, c.rows,
                  [&](const bce4j_options& opts, const int64_t* shape, const void* x, const void* y) {
                      return bce4j_bce_with_logits(&opts, BCE4J_FLOAT32, 2, shape, x, y, nullptr, losses.data(),
                                                   nullptr, nullptr, nullptr);
                  },
                  o),
              BCE4J_OK);
    long double exact = 0;
    for (float l : losses) exact += l;
    double got = 0;
    ASSERT_EQ(bce4j_partial_loss_sum(std::make_unique<bce4j_partial>(partial_of(c, 0, c.rows)).get(), &got), BCE4J_OK);
    EXPECT_NEAR(got, static_cast<double>(exact), 1e-15 * static_cast<double>(exact));
}

// Random cuts of the rows into calls, merged in random orders and groupings, on 1 to 3 threads: the same bytes.
TEST(Partial, BitIdenticalForAnySplitMergeOrderAndThreadCount) {
    for (bce4j_dtype d : kDtypes) {
        for (bool logits : {true, false}) {
            Case c = random_case(logits, d, 64, 1031, 15);
            c.num_threads = 1;
            const bce4j_partial whole = partial_of(c, 0, c.rows);
            const std::vector<uint8_t> want = bytes_of(whole);
            std::mt19937 rng(16);
            for (int trial = 0; trial < 6; ++trial) {
                c.num_threads = 1 + trial % 3;
                std::vector<int64_t> cuts = {0, c.rows};
                const int parts = 1 + static_cast<int>(rng() % 12);
                for (int k = 1; k < parts; ++k) cuts.push_back(static_cast<int64_t>(rng() % (c.rows + 1)));
                std::sort(cuts.begin(), cuts.end());
                std::vector<bce4j_partial> partials;
                for (size_t k = 0; k + 1 < cuts.size(); ++k) partials.push_back(partial_of(c, cuts[k], cuts[k + 1]));
                // A random merge tree: two random partials merged until one is left.
                while (partials.size() > 1) {
                    std::shuffle(partials.begin(), partials.end(), rng);
                    bce4j_partial b = partials.back();
                    partials.pop_back();
                    ASSERT_EQ(bce4j_partial_merge(&partials.back(), &b), BCE4J_OK) << bce4j_last_error_message();
                }
                EXPECT_EQ(bytes_of(partials[0]), want) << describe(c) << " trial " << trial;
                for (int32_t r : kReductions) {
                    const double a = finish(partials[0], r), b = finish(whole, r);
                    EXPECT_EQ(std::memcmp(&a, &b, sizeof a), 0) << describe(c) << " reduction " << r;
                }
            }
        }
    }
}

TEST(Partial, CountsAndWeightSumFollowTheBroadcast) {
    Case c;
    c.rows = 2;
    c.columns = 3;
    c.input = {0.5, -1, 2, 0, 3, -4};
    c.target = {1, 0, -100, 0.5, -100, 1};
    c.ignore = true;
    c.weight = Operand{{3}, {0.5, 0, 2}};
    const bce4j_partial p = partial_of(c, 0, 2);
    EXPECT_EQ(p.count, 6);
    EXPECT_EQ(p.valid_count, 4);
    EXPECT_EQ(p.nonzero_weight_count, 4);
    double w = 0;
    ASSERT_EQ(bce4j_partial_weight_sum(&p, &w), BCE4J_OK);
    EXPECT_EQ(w, 5.0);
    c.weight.reset();
    c.ignore = false;
    c.target = {1, 0, 0, 0.5, 1, 1};
    const bce4j_partial q = partial_of(c, 0, 2);
    EXPECT_EQ(q.valid_count, 6);
    EXPECT_EQ(q.nonzero_weight_count, 6);
    ASSERT_EQ(bce4j_partial_weight_sum(&q, &w), BCE4J_OK);
    EXPECT_EQ(w, 6.0);
}

TEST(Partial, NaNPropagatesThroughMergesInAnyOrder) {
    for (bce4j_dtype d : kDtypes) {
        Case c = random_case(true, d, 4, 100, 17);
        c.input[123] = kNaN;
        const bce4j_partial bad = partial_of(c, 1, 2), good = partial_of(c, 0, 1);
        bce4j_partial a = good, b = bad;
        ASSERT_EQ(bce4j_partial_merge(&a, &bad), BCE4J_OK);
        ASSERT_EQ(bce4j_partial_merge(&b, &good), BCE4J_OK);
        EXPECT_EQ(bytes_of(a), bytes_of(b)) << dtype_name(d);
        for (int32_t r : kReductions) EXPECT_TRUE(std::isnan(finish(a, r))) << dtype_name(d) << " " << r;
    }
}

TEST(Partial, EmptyInputsAndTheEmptyPartialFinishAsEmptyCalls) {
    bce4j_partial empty;
    bce4j_partial_init(&empty);
    EXPECT_TRUE(std::isnan(finish(empty, BCE4J_REDUCTION_MEAN)));
    for (int32_t r : {BCE4J_REDUCTION_SUM, BCE4J_REDUCTION_MEAN_BY_WEIGHT, BCE4J_REDUCTION_MEAN_BY_NONZERO_WEIGHT,
                      BCE4J_REDUCTION_MEAN_VALID}) {
        EXPECT_EQ(finish(empty, r), 0.0) << r;
    }
    Case c = random_case(true, BCE4J_FLOAT32, 3, 5, 18);
    const bce4j_partial none = partial_of(c, 2, 2);  // a [0, 5] call
    EXPECT_EQ(bytes_of(none), bytes_of(empty));
    bce4j_partial p = partial_of(c, 0, 3);
    const std::vector<uint8_t> before = bytes_of(p);
    ASSERT_EQ(bce4j_partial_merge(&p, &empty), BCE4J_OK);
    EXPECT_EQ(bytes_of(p), before);
    // All elements ignored: mean_valid divides by 0 and gives 0, as the direct call does.
    std::fill(c.target.begin(), c.target.end(), -100.0);
    EXPECT_EQ(finish(partial_of(c, 0, 3), BCE4J_REDUCTION_MEAN_VALID), 0.0);
    EXPECT_EQ(direct(c, BCE4J_REDUCTION_MEAN_VALID), 0.0);
}

TEST(Partial, BytesRoundTripAndBadBytesAreRejectedByName) {
    const Case c = random_case(true, BCE4J_FLOAT64, 3, 50, 19);
    const bce4j_partial p = partial_of(c, 0, 3);
    const std::vector<uint8_t> bytes = bytes_of(p);
    ASSERT_EQ(bytes.size(), static_cast<size_t>(BCE4J_PARTIAL_BYTES));
    EXPECT_EQ(bytes[0], BCE4J_PARTIAL_VERSION);  // little-endian, version first
    bce4j_partial back;
    ASSERT_EQ(bce4j_partial_deserialize(bytes.data(), bytes.size(), &back), BCE4J_OK) << bce4j_last_error_message();
    EXPECT_EQ(std::memcmp(&back, &p, sizeof p), 0);

    const auto rejected = [&](std::vector<uint8_t> b, const char* words) {
        bce4j_partial out;
        bce4j_partial_init(&out);
        const std::vector<uint8_t> untouched = bytes_of(out);
        EXPECT_EQ(bce4j_partial_deserialize(b.data(), b.size(), &out), BCE4J_ERROR_INVALID_OPTION) << words;
        EXPECT_NE(std::string(bce4j_last_error_message()).find(words), std::string::npos) << bce4j_last_error_message();
        EXPECT_EQ(bytes_of(out), untouched);
    };
    std::vector<uint8_t> b = bytes;
    b[0] = 2;
    rejected(b, "version 2");
    rejected(std::vector<uint8_t>(bytes.begin(), bytes.end() - 1), "length is 159");
    b = bytes;
    b[4] = 1;
    rejected(b, "reserved");
    b = bytes;
    b[16] = 0xff;  // valid_count past count
    rejected(b, "valid_count");
    b = bytes;
    std::fill(b.begin() + 32, b.begin() + 96, 0xff);
    rejected(b, "loss_sum");
    b = bytes;
    std::fill(b.begin() + 96, b.end(), 0xff);
    rejected(b, "weight_sum");

    uint8_t small[BCE4J_PARTIAL_BYTES - 1];
    EXPECT_EQ(bce4j_partial_serialize(&p, small, sizeof small), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("capacity"), std::string::npos);
    EXPECT_EQ(bce4j_partial_deserialize(nullptr, 160, &back), BCE4J_ERROR_NULL_ARGUMENT);
}

TEST(Partial, BadArgumentsAreNamedAndLeaveThePartialUnchanged) {
    const float x[2] = {0.5f, -1}, y[2] = {1, 0};
    const int64_t shape[1] = {2};
    bce4j_options o;
    bce4j_options_init(&o);
    bce4j_partial p;
    bce4j_partial_init(&p);
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "partial is NULL");
    bce4j_partial uninitialised = {};
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, &uninitialised),
              BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("partial has version 0"), std::string::npos);
    // The reduction is ignored; the other options are checked as the direct call checks them, same messages.
    o.reduction = 99;
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, &p), BCE4J_OK);
    EXPECT_EQ(p.count, 2);
    o.reduction = BCE4J_REDUCTION_MEAN;
    o.label_smoothing = 2;
    const std::vector<uint8_t> before = bytes_of(p);
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, &p), BCE4J_ERROR_INVALID_OPTION);
    const std::string partial_message = bce4j_last_error_message();
    double reduced;
    EXPECT_EQ(bce4j_bce_with_logits(&o, BCE4J_FLOAT32, 1, shape, x, y, nullptr, nullptr, &reduced, nullptr, nullptr),
              BCE4J_ERROR_INVALID_OPTION);
    EXPECT_EQ(partial_message, bce4j_last_error_message());
    o.label_smoothing = 0;
    float gradient[1];
    o.grad_weight = gradient;
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, &p), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("options.grad_weight"), std::string::npos);
    o.grad_weight = nullptr;
    o.grad_pos_weight = gradient;
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, x, y, &p), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("options.grad_pos_weight"), std::string::npos);
    o.grad_pos_weight = nullptr;
    EXPECT_EQ(bce4j_bce_with_logits_partial(&o, BCE4J_FLOAT32, 1, shape, nullptr, y, &p), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "input is NULL");
    // An out-of-range probability fails the call as BCELoss does, and adds nothing.
    const float bad[2] = {0.5f, 1.5f};
    EXPECT_EQ(bce4j_bce_partial(&o, BCE4J_FLOAT32, 1, shape, bad, y, &p), BCE4J_ERROR_OUT_OF_RANGE);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("input element 1"), std::string::npos);
    EXPECT_EQ(bytes_of(p), before);

    double v;
    EXPECT_EQ(bce4j_partial_finish(&p, BCE4J_REDUCTION_NONE, &v), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("reduction is 0 (none)"), std::string::npos);
    EXPECT_EQ(bce4j_partial_finish(&p, 7, &v), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("reduction is 7"), std::string::npos);
    EXPECT_EQ(bce4j_partial_finish(&p, BCE4J_REDUCTION_MEAN, nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    bce4j_partial other = p;
    other.version = 2;
    EXPECT_EQ(bce4j_partial_merge(&p, &other), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("from has version 2"), std::string::npos);
    EXPECT_EQ(bce4j_partial_merge(&other, &p), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_NE(std::string(bce4j_last_error_message()).find("into has version 2"), std::string::npos);
    EXPECT_EQ(bce4j_partial_merge(nullptr, &p), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_EQ(bytes_of(p), before);
    // A partial merged with itself holds its elements twice.
    ASSERT_EQ(bce4j_partial_merge(&p, &p), BCE4J_OK);
    EXPECT_EQ(p.count, 4);
}

}  // namespace
