// The hardware narrowing conversions for 16-bit storage against the portable one (storage_types.h), bit for bit,
// over all 2^32 float bit patterns: vcvtps2ph (F16C in the avx2 table, AVX-512F in the avx512 table) and the avx512
// table's vcvtneps2bf16 (AVX512_BF16, with its subnormal inputs rounded by integer arithmetic). Each test skips,
// saying why, where the CPU lacks the instruction. CTest runs them with the label "exhaustive" (CMakeLists.txt).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "kernels/row_kernel.h"
#include "storage_types.h"

namespace {

using bce4j::BFloat16;
using bce4j::Float16;
using bce4j::KernelTable;

template <typename S>
using NarrowRow = void (*)(const float* source, S* destination, int64_t n);

struct Mismatch {
    uint32_t float_bits;
    uint16_t got, want;
};

// Every float bit pattern through `narrow_row`, in blocks spread over the hardware threads; the first mismatch of
// each thread and the total count.
template <typename S>
void expect_identical_to_portable_for_every_float(NarrowRow<S> narrow_row) {
    constexpr uint64_t kBlock = 1u << 16;
    constexpr uint64_t kBlocks = (uint64_t{1} << 32) / kBlock;
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::atomic<uint64_t> next_block{0}, mismatches{0};
    std::vector<std::vector<Mismatch>> first(threads);
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            std::vector<float> source(kBlock);
            std::vector<S> narrowed(kBlock);
            for (uint64_t block; (block = next_block++) < kBlocks;) {
                const uint32_t base = static_cast<uint32_t>(block * kBlock);
                for (uint32_t i = 0; i < kBlock; ++i) source[i] = bce4j::float_from_bits(base + i);
                narrow_row(source.data(), narrowed.data(), static_cast<int64_t>(kBlock));
                for (uint32_t i = 0; i < kBlock; ++i) {
                    const uint16_t want = bce4j::narrow<S>(source[i]).bits;
                    if (narrowed[i].bits == want) continue;
                    ++mismatches;
                    if (first[t].empty()) first[t].push_back({base + i, narrowed[i].bits, want});
                }
            }
        });
    }
    for (std::thread& w : workers) w.join();
    for (const std::vector<Mismatch>& m : first) {
        for (const Mismatch& x : m) {
            ADD_FAILURE() << std::hex << "float bits 0x" << x.float_bits << ": 0x" << x.got << ", portable 0x"
                          << x.want;
        }
    }
    EXPECT_EQ(mismatches.load(), 0u) << "of 2^32 float bit patterns";
}

TEST(HalfStorageExhaustive, Avx2Float16NarrowingIsThePortableOneForEveryFloat) {
    const KernelTable* avx2 = bce4j::kernel_table_for("avx2");
    if (avx2 == nullptr) GTEST_SKIP() << "no avx2 kernels here (not compiled in, or the CPU lacks AVX2, FMA or F16C)";
    expect_identical_to_portable_for_every_float<Float16>(avx2->conversions.narrow_f16);
}

TEST(HalfStorageExhaustive, Avx512Float16NarrowingIsThePortableOneForEveryFloat) {
    const KernelTable* avx512 = bce4j::kernel_table_for("avx512");
    if (avx512 == nullptr) GTEST_SKIP() << "no avx512 kernels here (not compiled in, or the CPU lacks AVX-512F)";
    expect_identical_to_portable_for_every_float<Float16>(avx512->conversions.narrow_f16);
}

TEST(HalfStorageExhaustive, Avx512BFloat16InstructionNarrowingIsThePortableOneForEveryFloat) {
#if defined(BCE4J_HAVE_AVX512)
    const KernelTable* avx512 = bce4j::kernel_table_for("avx512");
    if (avx512 == nullptr) GTEST_SKIP() << "no avx512 kernels here (not compiled in, or the CPU lacks AVX-512F)";
    if (!__builtin_cpu_supports("avx512bf16")) {
        GTEST_SKIP() << "this CPU lacks AVX512_BF16, so the avx512 kernels narrow to bfloat16 by integer rounding "
                        "(HalfStorageTables covers it)";
    }
    expect_identical_to_portable_for_every_float<BFloat16>(avx512->conversions.narrow_bf16);
#else
    GTEST_SKIP() << "no avx512 kernels in this build";
#endif
}

}  // namespace
