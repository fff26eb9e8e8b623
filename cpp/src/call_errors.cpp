#include "call_errors.h"

#include <cstdarg>
#include <cstdio>

namespace bce4j {
namespace {

// A plain array rather than a std::string: a thread_local with a trivial constructor needs no initialisation
// guard, which every call (clearing the message) would otherwise pay for.
constexpr size_t kMessageCapacity = 512;
thread_local char last_error[kMessageCapacity];

}  // namespace

void clear_last_error() { last_error[0] = '\0'; }

const char* last_error_message() { return last_error; }

bce4j_status fail(bce4j_status status, const char* format, ...) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(last_error, kMessageCapacity, format, args);
    va_end(args);
    return status;
}

std::string format_shape(ShapeRef s) {
    std::string out = "[";
    for (int i = 0; i < s.ndim; ++i) {
        if (i > 0) out += ", ";
        out += std::to_string(s.dims[i]);
    }
    return out + "]";
}

std::string format_index(ShapeRef s, int64_t flat) {
    std::string out;
    for (int i = s.ndim - 1; i >= 0; --i) {
        const std::string digit = std::to_string(flat % s.dims[i]);
        out = i == s.ndim - 1 ? digit : digit + ", " + out;
        flat /= s.dims[i];
    }
    return "[" + out + "]";
}

}  // namespace bce4j
