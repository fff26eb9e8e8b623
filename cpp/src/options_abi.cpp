#include "options_abi.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "call_errors.h"

namespace bce4j {
namespace {

// True when a struct_size smaller than ours ends inside a field: no header version ever had such a size.
bool splits_a_field(size_t size) {
#define BCE4J_FIELD(f) \
    { offsetof(bce4j_options, f), sizeof(bce4j_options::f) }
    static const struct {
        size_t offset, size;
    } fields[] = {
        BCE4J_FIELD(struct_size),     BCE4J_FIELD(reduction),         BCE4J_FIELD(num_threads),
        BCE4J_FIELD(weight),          BCE4J_FIELD(weight_ndim),       BCE4J_FIELD(weight_shape),
        BCE4J_FIELD(pos_weight),      BCE4J_FIELD(pos_weight_ndim),   BCE4J_FIELD(pos_weight_shape),
        BCE4J_FIELD(pos_weight_mode), BCE4J_FIELD(has_ignore_index),  BCE4J_FIELD(ignore_index),
        BCE4J_FIELD(label_smoothing), BCE4J_FIELD(smoothing_classes), BCE4J_FIELD(validate_targets),
        BCE4J_FIELD(has_focal),       BCE4J_FIELD(focal_gamma),       BCE4J_FIELD(focal_alpha),
        BCE4J_FIELD(grad_weight),     BCE4J_FIELD(grad_pos_weight),
    };
#undef BCE4J_FIELD
    for (const auto& f : fields) {
        if (size > f.offset && size < f.offset + f.size) return true;
    }
    return false;
}

}  // namespace

bce4j_status read_options(const bce4j_options* given, bce4j_options* options) {
    if (given != nullptr && given->struct_size == sizeof(bce4j_options)) {
        // This header's size, the common case: every field is the caller's, so no defaults to fill first (about a
        // tenth of a small call's time went to the defaults and the field-boundary check).
        std::memcpy(options, given, sizeof(bce4j_options));
        return BCE4J_OK;
    }
    bce4j_options_init(options);
    if (given == nullptr) return BCE4J_OK;
    if (given->struct_size < offsetof(bce4j_options, reduction) + sizeof(int32_t) ||
        splits_a_field(given->struct_size)) {
        return fail(BCE4J_ERROR_INVALID_OPTION,
                    "options.struct_size is %zu; initialise options with bce4j_options_init()", given->struct_size);
    }
    std::memcpy(options, given, std::min(given->struct_size, sizeof(bce4j_options)));
    options->struct_size = sizeof(bce4j_options);
    return BCE4J_OK;
}

}  // namespace bce4j

extern "C" void bce4j_options_init(bce4j_options* options) {
    if (options == nullptr) return;
    std::memset(options, 0, sizeof *options);
    options->struct_size = sizeof *options;
    options->reduction = BCE4J_REDUCTION_MEAN;
    options->ignore_index = -100;
    options->smoothing_classes = 2;
    options->focal_gamma = 2;
    options->focal_alpha = -1;
}
