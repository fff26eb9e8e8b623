// Which kernels run, and why: the choice dispatch.cpp makes once per process, with what the build and the CPU offer.
// Kept out of row_kernel.h, which the SIMD files include: std::string's inline functions must never be compiled
// with their instruction sets (the linker could keep that copy for everyone).
#pragma once

#include <string>

#include "row_kernel.h"

namespace bce4j {

// The kernels chosen for one BCE4J_ISA value.
struct KernelChoice {
    const KernelTable* table;  // never null
    std::string request;       // the BCE4J_ISA value as given; "" when unset or empty
    std::string reason;        // one line for people: "the default for this CPU, which has AVX-512F", "forced by
                               // BCE4J_ISA=scalar", "BCE4J_ISA=sse9 ignored: ...; running avx512, the default ..."
};

// The choice for `request` (null or "" = no request): the named kernels where this build has them and this CPU can
// run them, otherwise the default for this CPU, with the reason either way.
KernelChoice choose_kernels(const char* request);

// The choice made once, on first use, from the environment variable BCE4J_ISA; a request it cannot follow is
// reported then, in one line on stderr ("bce4j: " and the reason).
const KernelChoice& active_kernel_choice();

// The instruction sets whose kernels this build has and this CPU can run, comma-separated, scalar first
// (e.g. "scalar,avx2,avx512").
const std::string& available_isas();

}  // namespace bce4j
