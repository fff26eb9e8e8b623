// The neon table's 16-bit narrowing conversions against the portable one (storage_types.h), bit for bit, NaN
// payloads included: FCVTN for fp16, and for bf16 both ways neon_lanes.h has, integer rounding and Armv8.6's BFCVTN
// (where HWCAP2_BF16 says the CPU has it). The inputs: every upper half of a float with the lower halves that decide
// a rounding (0, 1, just below, at and just above the tie, all ones), and random bit patterns. CTest also runs
// these under qemu CPU models with and without BF16 (CMakeLists.txt), with BCE4J_TEST_EXPECT_BF16 saying which, so
// that both of dispatch's branches run. Compiled only for aarch64, and called only where the CPU has Advanced SIMD.
#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/neon_lanes.h"
#include "kernels/row_kernel.h"
#include "storage_types.h"

namespace {

using bce4j::BFloat16;
using bce4j::Float16;

std::vector<float> narrowing_inputs() {
    std::vector<float> v;
    for (uint32_t upper = 0; upper < 0x10000; ++upper) {
        for (uint32_t lower : {0x0000u, 0x0001u, 0x7fffu, 0x8000u, 0x8001u, 0xffffu}) {
            v.push_back(bce4j::float_from_bits(upper << 16 | lower));
        }
    }
    std::mt19937 gen(15);
    for (int i = 0; i < (1 << 20); ++i) v.push_back(bce4j::float_from_bits(static_cast<uint32_t>(gen())));
    return v;
}

template <typename S>
void expect_identical_to_portable(void (*narrow_row)(const float*, S*, int64_t)) {
    const std::vector<float> in = narrowing_inputs();
    std::vector<S> out(in.size());
    narrow_row(in.data(), out.data(), static_cast<int64_t>(in.size()));
    int64_t mismatches = 0;
    for (size_t i = 0; i < in.size(); ++i) {
        const uint16_t want = bce4j::narrow<S>(in[i]).bits;
        if (out[i].bits == want) continue;
        uint32_t bits;
        std::memcpy(&bits, &in[i], sizeof bits);
        if (++mismatches <= 5) {
            ADD_FAILURE() << std::hex << "float bits 0x" << bits << ": 0x" << out[i].bits << ", portable 0x" << want;
        }
    }
    EXPECT_EQ(mismatches, 0) << "of " << in.size() << " inputs";
}

bool cpu_has_bf16() { return (getauxval(AT_HWCAP2) & HWCAP2_BF16) != 0; }

class NeonStorage : public ::testing::Test {
protected:
    void SetUp() override {
        if (bce4j::kernel_table_for("neon") == nullptr) GTEST_SKIP() << "this CPU lacks Advanced SIMD";
    }
};

TEST_F(NeonStorage, Float16NarrowingIsThePortableOne) {
    expect_identical_to_portable<Float16>(bce4j::kernel_table_for("neon")->conversions.narrow_f16);
}

TEST_F(NeonStorage, BFloat16IntegerRoundingIsThePortableOne) {
    expect_identical_to_portable<BFloat16>(bce4j::neon::narrow_bf16_row_by_integer_rounding);
}

TEST_F(NeonStorage, BFloat16InstructionIsThePortableOne) {
    if (!cpu_has_bf16()) GTEST_SKIP() << "this CPU lacks BF16 (HWCAP2_BF16)";
    expect_identical_to_portable<BFloat16>(bce4j::neon::narrow_bf16_row_by_instruction);
}

// The table's bf16 narrowing (BFCVTN or integer rounding, as HWCAP2_BF16 says).
TEST_F(NeonStorage, BFloat16NarrowingOfTheTableIsThePortableOne) {
    expect_identical_to_portable<BFloat16>(bce4j::kernel_table_for("neon")->conversions.narrow_bf16);
}

// Under CTest's runs with a chosen qemu CPU model, the HWCAP2_BF16 the program sees is the model's, so that each
// branch of the bf16 narrowing is known to have run.
TEST_F(NeonStorage, TheCpuModelHasBf16ExactlyWhenTheRunSaysSo) {
    const char* expected = std::getenv("BCE4J_TEST_EXPECT_BF16");
    if (expected == nullptr) GTEST_SKIP() << "BCE4J_TEST_EXPECT_BF16 is not set (CTest sets it with the CPU model)";
    EXPECT_EQ(cpu_has_bf16(), std::string(expected) == "1") << "BCE4J_TEST_EXPECT_BF16=" << expected;
}

}  // namespace
