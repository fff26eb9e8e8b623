// Partials (bce4j_partial): checking one from outside, merging, finishing to a reduction and the serialised form.
// The calls that fill them are in api.cpp (partial_call) and cpu_call.cpp (run_partial_on_cpu).
#include <cstring>
#include <limits>

#include "bce4j/bce4j.h"
#include "call.h"
#include "call_errors.h"
#include "reduction.h"
#include "repro_sum.h"

namespace bce4j {

static_assert(sizeof(ReproSum) <= sizeof(bce4j_partial::loss_sum), "a ReproSum fits a partial's opaque words");
static_assert(sizeof(bce4j_partial) == BCE4J_PARTIAL_BYTES, "the serialised form is the fields, unpadded");

ReproSum sum_of(const uint64_t (&words)[8]) {
    ReproSum sum;
    std::memcpy(&sum, words, sizeof(sum));
    return sum;
}

void put_sum(const ReproSum& sum, uint64_t (&words)[8]) {
    std::memset(words, 0, sizeof(words));
    std::memcpy(words, &sum, sizeof(sum));
}

namespace {

// Whether opaque words hold a sum: a valid ReproSum, the words past it zero (as put_sum leaves them).
bool holds_sum(const uint64_t (&words)[8]) {
    const unsigned char* bytes = reinterpret_cast<const unsigned char*>(words);
    for (size_t i = sizeof(ReproSum); i < sizeof(words); ++i) {
        if (bytes[i] != 0) return false;
    }
    return repro_sum_is_valid(sum_of(words));
}

bool add_count(int64_t a, int64_t b, int64_t* sum) { return !__builtin_add_overflow(a, b, sum); }

void put_u32(uint8_t*& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) *out++ = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t*& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) *out++ = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t*& in) {
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(*in++) << (8 * i);
    return v;
}
uint64_t get_u64(const uint8_t*& in) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(*in++) << (8 * i);
    return v;
}

}  // namespace

bce4j_status check_partial(const bce4j_partial* p, const char* name) {
    if (p == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "%s is NULL", name);
    if (p->version != BCE4J_PARTIAL_VERSION) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "%s has version %u; expected %d (BCE4J_PARTIAL_VERSION: initialise it with bce4j_partial_init)",
                    name, p->version, BCE4J_PARTIAL_VERSION);
    }
    if (p->reserved != 0) return fail(BCE4J_ERROR_INVALID_OPTION, "%s.reserved is %u; expected 0", name, p->reserved);
    if (p->count < 0) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "%s.count is %lld; expected at least 0", name,
                    static_cast<long long>(p->count));
    }
    const auto check_count = [&](const char* field, int64_t value) {
        if (value >= 0 && value <= p->count) return BCE4J_OK;
        return fail(BCE4J_ERROR_INVALID_OPTION, "%s.%s is %lld; expected 0 to count (%lld)", name, field,
                    static_cast<long long>(value), static_cast<long long>(p->count));
    };
    if (bce4j_status s = check_count("valid_count", p->valid_count)) return s;
    if (bce4j_status s = check_count("nonzero_weight_count", p->nonzero_weight_count)) return s;
    if (!holds_sum(p->loss_sum)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "%s.loss_sum is not a valid sum (corrupt, or not from this version)",
                    name);
    }
    if (!holds_sum(p->weight_sum)) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "%s.weight_sum is not a valid sum (corrupt, or not from this version)",
                    name);
    }
    return BCE4J_OK;
}

bce4j_status merge_checked(bce4j_partial* into, const bce4j_partial& from) {
    bce4j_partial merged = *into;
    if (!add_count(into->count, from.count, &merged.count)) {
        return fail(BCE4J_ERROR_INVALID_SHAPE, "the merged partial would hold more than 2^63-1 elements");
    }
    merged.valid_count = into->valid_count + from.valid_count;  // each at most its count
    merged.nonzero_weight_count = into->nonzero_weight_count + from.nonzero_weight_count;
    ReproSum loss = sum_of(into->loss_sum), weight = sum_of(into->weight_sum);
    repro_sum_merge(&loss, sum_of(from.loss_sum));
    repro_sum_merge(&weight, sum_of(from.weight_sum));
    put_sum(loss, merged.loss_sum);
    put_sum(weight, merged.weight_sum);
    *into = merged;
    return BCE4J_OK;
}

}  // namespace bce4j

using namespace bce4j;

extern "C" {

void bce4j_partial_init(bce4j_partial* partial) {
    if (partial == nullptr) return;
    std::memset(partial, 0, sizeof(*partial));
    partial->version = BCE4J_PARTIAL_VERSION;
    ReproSum empty;
    repro_sum_init(&empty);
    put_sum(empty, partial->loss_sum);
    put_sum(empty, partial->weight_sum);
}

bce4j_status bce4j_partial_merge(bce4j_partial* into, const bce4j_partial* from) {
    clear_last_error();
    if (bce4j_status s = check_partial(into, "into")) return s;
    if (bce4j_status s = check_partial(from, "from")) return s;
    const bce4j_partial copy = *from;  // `from` may be `into`
    return merge_checked(into, copy);
}

bce4j_status bce4j_partial_finish(const bce4j_partial* partial, int32_t reduction, double* value) {
    clear_last_error();
    if (bce4j_status s = check_partial(partial, "partial")) return s;
    if (value == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "value is NULL");
    if (bce4j_status s = check_reduction(reduction, "reduction")) return s;
    if (reduction == BCE4J_REDUCTION_NONE) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "reduction is 0 (none); a partial holds no per-element losses: expected 1 (mean), 2 (sum), "
                    "3 (mean by weight), 4 (mean by nonzero weight) or 5 (mean valid)");
    }
    // reduction.h's denominators, from the partial's own totals (each already covers every element: weight_count
    // is the count).
    const Denominator kind = denominator_of(reduction, true, true);
    double total = 0;
    if (kind == Denominator::kWeightSum) total = repro_sum_value(sum_of(partial->weight_sum));
    if (kind == Denominator::kNonzeroWeights) total = static_cast<double>(partial->nonzero_weight_count);
    if (kind == Denominator::kNotIgnored) total = static_cast<double>(partial->count - partial->valid_count);
    const double denominator = denominator_from_total(kind, partial->count, partial->count, total);
    *value = normalise(repro_sum_value(sum_of(partial->loss_sum)), denominator, zero_for_zero_denominator(reduction));
    return BCE4J_OK;
}

bce4j_status bce4j_partial_loss_sum(const bce4j_partial* partial, double* value) {
    clear_last_error();
    if (bce4j_status s = check_partial(partial, "partial")) return s;
    if (value == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "value is NULL");
    *value = repro_sum_value(sum_of(partial->loss_sum));
    return BCE4J_OK;
}

bce4j_status bce4j_partial_weight_sum(const bce4j_partial* partial, double* value) {
    clear_last_error();
    if (bce4j_status s = check_partial(partial, "partial")) return s;
    if (value == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "value is NULL");
    *value = repro_sum_value(sum_of(partial->weight_sum));
    return BCE4J_OK;
}

bce4j_status bce4j_partial_serialize(const bce4j_partial* partial, uint8_t* bytes, size_t capacity) {
    clear_last_error();
    if (bce4j_status s = check_partial(partial, "partial")) return s;
    if (bytes == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "bytes is NULL");
    if (capacity < BCE4J_PARTIAL_BYTES) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "capacity is %zu; expected at least %d (BCE4J_PARTIAL_BYTES)", capacity,
                    BCE4J_PARTIAL_BYTES);
    }
    uint8_t* out = bytes;
    put_u32(out, partial->version);
    put_u32(out, partial->reserved);
    put_u64(out, static_cast<uint64_t>(partial->count));
    put_u64(out, static_cast<uint64_t>(partial->valid_count));
    put_u64(out, static_cast<uint64_t>(partial->nonzero_weight_count));
    for (uint64_t w : partial->loss_sum) put_u64(out, w);
    for (uint64_t w : partial->weight_sum) put_u64(out, w);
    return BCE4J_OK;
}

bce4j_status bce4j_partial_deserialize(const uint8_t* bytes, size_t length, bce4j_partial* partial) {
    clear_last_error();
    if (bytes == nullptr && length > 0) return fail(BCE4J_ERROR_NULL_ARGUMENT, "bytes is NULL");
    if (partial == nullptr) return fail(BCE4J_ERROR_NULL_ARGUMENT, "partial is NULL");
    const uint8_t* in = bytes;
    if (length >= 4) {
        const uint32_t version = get_u32(in);
        if (version != BCE4J_PARTIAL_VERSION) {
            return fail(BCE4J_ERROR_INVALID_OPTION, "bytes hold a partial of version %u; this library reads version %d",
                        version, BCE4J_PARTIAL_VERSION);
        }
    }
    if (length != BCE4J_PARTIAL_BYTES) {
        return fail(BCE4J_ERROR_INVALID_OPTION, "length is %zu; expected %d (BCE4J_PARTIAL_BYTES of version %d)",
                    length, BCE4J_PARTIAL_BYTES, BCE4J_PARTIAL_VERSION);
    }
    bce4j_partial read;
    read.version = BCE4J_PARTIAL_VERSION;
    read.reserved = get_u32(in);
    read.count = static_cast<int64_t>(get_u64(in));
    read.valid_count = static_cast<int64_t>(get_u64(in));
    read.nonzero_weight_count = static_cast<int64_t>(get_u64(in));
    for (uint64_t& w : read.loss_sum) w = get_u64(in);
    for (uint64_t& w : read.weight_sum) w = get_u64(in);
    if (bce4j_status s = check_partial(&read, "bytes")) return s;
    *partial = read;
    return BCE4J_OK;
}

}  // extern "C"
