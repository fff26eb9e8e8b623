// A stand-in for libbce4j_cuda of another build, for the loader's tests (cuda_availability_test.cpp): it exports the
// entry points with another interface version (BCE4J_FAKE_INTERFACE_VERSION), or, built with
// BCE4J_FAKE_WITHOUT_VERSION, as a library from before the version had an entry point of its own. Its probe and run
// only count their calls (bce4j_fake_calls): the loader must never call them.
#include <cstdint>

#include "cuda/device_call.h"

extern "C" {

__attribute__((visibility("default"))) int32_t bce4j_fake_calls = 0;

#ifndef BCE4J_FAKE_WITHOUT_VERSION
__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_interface_version(void) {
    return BCE4J_FAKE_INTERFACE_VERSION;
}
#endif

__attribute__((visibility("default"))) void bce4j_cuda_impl_probe(bce4j::cuda::Probe*) { ++bce4j_fake_calls; }

__attribute__((visibility("default"))) int32_t bce4j_cuda_impl_run(const bce4j::cuda::DeviceCall*,
                                                                   bce4j::cuda::DeviceOutcome*) {
    ++bce4j_fake_calls;
    return 0;
}

}  // extern "C"
