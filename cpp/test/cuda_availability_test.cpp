// The CUDA availability query and the CUDA entry points as every machine sees them: with or without the CUDA
// library, driver or device. Arguments are checked before availability, exactly as on the CPU.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "bce4j/bce4j.h"
#include "cuda/device_call.h"

namespace {

bool starts_with(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

bool cuda_available() { return bce4j_cuda_availability() == BCE4J_CUDA_AVAILABLE; }

TEST(CudaAvailability, StateDescriptionAndDeviceCountAgree) {
    const int32_t state = bce4j_cuda_availability();
    const std::string description = bce4j_cuda_description();
    ASSERT_GE(state, BCE4J_CUDA_AVAILABLE);
    ASSERT_LE(state, BCE4J_CUDA_ERROR);
    if (state == BCE4J_CUDA_AVAILABLE) {
        EXPECT_TRUE(starts_with(description, "available (")) << description;
        EXPECT_GE(bce4j_cuda_device_count(), 1);
    } else {
        EXPECT_TRUE(starts_with(description, "unavailable (")) << description;
        EXPECT_GT(description.size(), std::string("unavailable ()").size()) << "the reason is missing";
        EXPECT_EQ(bce4j_cuda_device_count(), 0);
    }
    EXPECT_EQ(description.back(), ')') << description;
    // Probed once: the same answer every time.
    EXPECT_EQ(bce4j_cuda_availability(), state);
    EXPECT_EQ(std::string(bce4j_cuda_description()), description);
}

// This build either has the CUDA library beside libbce4j (it must then load, whatever the driver says) or has none.
TEST(CudaAvailability, TheLibraryIsFoundExactlyWhenThisBuildHasOne) {
#if BCE4J_TEST_CUDA_LIBRARY_BUILT
    EXPECT_NE(bce4j_cuda_availability(), BCE4J_CUDA_LIBRARY_ABSENT) << bce4j_cuda_description();
    EXPECT_NE(bce4j_cuda_availability(), BCE4J_CUDA_ERROR) << bce4j_cuda_description();
#else
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_LIBRARY_ABSENT) << bce4j_cuda_description();
    EXPECT_TRUE(contains(bce4j_cuda_description(), "libbce4j_cuda.so")) << bce4j_cuda_description();
#endif
}

struct Problem {
    double x[6] = {-2, -1, 0, 0.5, 1, 3};
    double y[6] = {0, 1, 0.5, 1, 0, 1};
    double gi[6] = {};
    double reduced = 0;
    int64_t shape[2] = {2, 3};
};

TEST(CudaAvailability, UnavailableCudaCallsSayWhyAndCpuCallsStillWork) {
    if (cuda_available()) GTEST_SKIP() << "CUDA is available here: " << bce4j_cuda_description();
    Problem p;
    const std::string expected = std::string("CUDA is ") + bce4j_cuda_description();
    EXPECT_EQ(bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced,
                                         p.gi, nullptr, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_last_error_message(), expected);
    EXPECT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT32, 0, nullptr, p.x, p.y, nullptr, nullptr,
                                              &p.reduced, nullptr, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_last_error_message(), expected);
    const double probabilities[6] = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6};
    EXPECT_EQ(bce4j_cuda_bce(nullptr, BCE4J_FLOAT64, 2, p.shape, probabilities, p.y, nullptr, nullptr, &p.reduced,
                             nullptr, nullptr, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_cuda_bce_host(nullptr, BCE4J_FLOAT64, 2, p.shape, probabilities, p.y, nullptr, nullptr, &p.reduced,
                                  nullptr, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_last_error_message(), expected);
    int64_t first_invalid = 0;
    EXPECT_EQ(bce4j_cuda_bce_with_logits_queued(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr,
                                                &p.reduced, p.gi, nullptr, &first_invalid, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_last_error_message(), expected);

    ASSERT_EQ(bce4j_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced, p.gi,
                                    nullptr),
              BCE4J_OK);
    EXPECT_STREQ(bce4j_last_error_message(), "");
    EXPECT_NEAR(p.reduced, 0.6615438170655353, 1e-12);  // mean of (1-y)x + log(1+e^-x) over the six elements
}

// Argument and option errors come first on every device, with the CPU's messages.
TEST(CudaAvailability, CudaCallsCheckTheirArgumentsLikeTheCpu) {
    Problem p;
    EXPECT_EQ(bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, p.shape, nullptr, p.y, nullptr, nullptr, &p.reduced,
                                         p.gi, nullptr, nullptr),
              BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "input is NULL");

    bce4j_options o;
    bce4j_options_init(&o);
    const double weight[2] = {1, 2};
    const int64_t weight_shape[1] = {2};
    o.weight = weight;
    o.weight_ndim = 1;
    o.weight_shape = weight_shape;
    EXPECT_EQ(bce4j_cuda_bce_with_logits_host(&o, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced,
                                              p.gi, nullptr),
              BCE4J_ERROR_BROADCAST);
    const std::string cuda_message = bce4j_last_error_message();
    EXPECT_EQ(
        bce4j_bce_with_logits(&o, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced, p.gi, nullptr),
        BCE4J_ERROR_BROADCAST);
    EXPECT_EQ(cuda_message, bce4j_last_error_message());

    bce4j_options_init(&o);
    o.reduction = 9;
    EXPECT_EQ(bce4j_cuda_bce(&o, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced, nullptr, nullptr,
                             nullptr),
              BCE4J_ERROR_INVALID_OPTION);
    EXPECT_TRUE(contains(bce4j_last_error_message(), "options.reduction is 9")) << bce4j_last_error_message();

    bce4j_options_init(&o);
    o.pos_weight = weight;
    o.pos_weight_ndim = 0;
    EXPECT_EQ(bce4j_cuda_bce(&o, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced, nullptr, nullptr,
                             nullptr),
              BCE4J_ERROR_INVALID_OPTION);
    EXPECT_TRUE(contains(bce4j_last_error_message(), "pos_weight applies to the logits loss only"));
}

// Run by CTest in a process of its own with BCE4J_CUDA_LIBRARY naming a file that does not exist.
TEST(CudaLibraryAbsent, ReportedWithTheLoadersMessageWhileCpuCallsWork) {
    const char* path = std::getenv("BCE4J_CUDA_LIBRARY");
    ASSERT_NE(path, nullptr) << "CTest runs this test with BCE4J_CUDA_LIBRARY set to a missing file";
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_LIBRARY_ABSENT);
    const std::string description = bce4j_cuda_description();
    EXPECT_TRUE(starts_with(description, "unavailable (the CUDA library could not be loaded: ")) << description;
    EXPECT_TRUE(contains(description, path)) << description;  // dlerror names the file
    EXPECT_TRUE(contains(description, "No such file")) << description;
    EXPECT_EQ(bce4j_cuda_device_count(), 0);

    Problem p;
    EXPECT_EQ(bce4j_cuda_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced,
                                         p.gi, nullptr, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(bce4j_last_error_message(), "CUDA is " + description);
    ASSERT_EQ(bce4j_bce_with_logits(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr, &p.reduced, p.gi,
                                    nullptr),
              BCE4J_OK);
    EXPECT_NEAR(p.reduced, 0.6615438170655353, 1e-12);
}

// Run by CTest in a process of its own with BCE4J_CUDA_LIBRARY naming a shared library that is not bce4j's.
TEST(CudaLibraryForeign, ReportedAsAnError) {
    const char* path = std::getenv("BCE4J_CUDA_LIBRARY");
    ASSERT_NE(path, nullptr) << "CTest runs this test with BCE4J_CUDA_LIBRARY set to another shared library";
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_ERROR);
    EXPECT_EQ(std::string(bce4j_cuda_description()),
              std::string("unavailable (") + path + " is not a bce4j CUDA library (its entry points are missing))");
    EXPECT_EQ(bce4j_cuda_device_count(), 0);
}

// How often the stand-in of another build (cuda_fake_library.cpp) that BCE4J_CUDA_LIBRARY names had its probe or run
// called, read from the copy the loader loaded.
int32_t fake_library_calls() {
    void* handle = dlopen(std::getenv("BCE4J_CUDA_LIBRARY"), RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return -1;
    const auto* calls = static_cast<const int32_t*>(dlsym(handle, "bce4j_fake_calls"));
    return calls == nullptr ? -1 : *calls;
}

// Run by CTest in a process of its own with BCE4J_CUDA_LIBRARY naming a stand-in built for interface version 99.
TEST(CudaLibraryOfAnotherInterface, IsRefusedBeforeAnyOfItsCodeRuns) {
    const char* path = std::getenv("BCE4J_CUDA_LIBRARY");
    ASSERT_NE(path, nullptr) << "CTest runs this test with BCE4J_CUDA_LIBRARY set to the interface-99 stand-in";
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_ERROR);
    EXPECT_EQ(std::string(bce4j_cuda_description()), std::string("unavailable (") + path +
                                                         " was built for interface version 99 and this libbce4j for " +
                                                         std::to_string(bce4j::cuda::kInterfaceVersion) + ")");
    EXPECT_EQ(bce4j_cuda_device_count(), 0);
    Problem p;
    EXPECT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr,
                                              &p.reduced, p.gi, nullptr),
              BCE4J_ERROR_UNAVAILABLE);
    EXPECT_EQ(fake_library_calls(), 0) << "the loader called the probe or run of a library of another interface";
}

// Run by CTest in a process of its own with BCE4J_CUDA_LIBRARY naming a stand-in from before the version had an
// entry point of its own (its probe would have filled a Probe of its own layout).
TEST(CudaLibraryBeforeTheVersionEntryPoint, IsRefusedBeforeAnyOfItsCodeRuns) {
    const char* path = std::getenv("BCE4J_CUDA_LIBRARY");
    ASSERT_NE(path, nullptr) << "CTest runs this test with BCE4J_CUDA_LIBRARY set to the version-less stand-in";
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_ERROR);
    EXPECT_EQ(std::string(bce4j_cuda_description()),
              std::string("unavailable (") + path +
                  " was built for an interface version before 3 and this libbce4j for " +
                  std::to_string(bce4j::cuda::kInterfaceVersion) + ")");
    EXPECT_EQ(fake_library_calls(), 0) << "the loader called the probe of a library without a version entry point";
}

}  // namespace
