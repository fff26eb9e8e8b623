// The calling thread's last error message, and the formatting of the shapes and indices it names.
#pragma once

#include <cstdint>
#include <string>

#include "bce4j/bce4j.h"
#include "broadcast_plan.h"

namespace bce4j {

// Clears the calling thread's message; every entry point does this first.
void clear_last_error();

// The calling thread's message (bce4j_last_error_message).
const char* last_error_message();

// Sets the calling thread's message, printf-style, and returns `status`.
bce4j_status fail(bce4j_status status, const char* format, ...) __attribute__((format(printf, 2, 3)));

// "[2, 3]"
std::string format_shape(ShapeRef s);

// The index of flat element `flat` in a tensor of shape `s`, e.g. "[1, 2]".
std::string format_index(ShapeRef s, int64_t flat);

}  // namespace bce4j
