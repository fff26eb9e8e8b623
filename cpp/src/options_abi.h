// bce4j_options across header versions: a caller built against an older header passes a smaller struct_size.
#pragma once

#include "bce4j/bce4j.h"

namespace bce4j {

// Copies the caller's options into *options, taking the defaults (bce4j_options_init) for the fields past its
// struct_size; NULL gives the defaults. Fails (with the message set) for a struct_size no header version had.
bce4j_status read_options(const bce4j_options* given, bce4j_options* options);

}  // namespace bce4j
