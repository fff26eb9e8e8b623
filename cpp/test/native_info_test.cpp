// The native information functions (where the parts were loaded from, what the build is, why these kernels) and
// bce4j_cuda_use_library. The CudaLibraryNamed* and CudaLibraryEnvironmentWins* tests each need a process and an
// environment of their own (see CMakeLists.txt): the CUDA library is chosen once per process.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <link.h>
#include <sys/stat.h>
#if defined(__GLIBC__)
#include <gnu/libc-version.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bce4j/bce4j.h"
#include "kernels/dispatch.h"

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

std::string file_of(const void* symbol) {
    Dl_info info;
    if (dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
    return info.dli_fname;
}

bool is_regular_file(const std::string& path) {
    struct stat s;
    return stat(path.c_str(), &s) == 0 && S_ISREG(s.st_mode);
}

std::vector<std::string> split(const std::string& list, char separator) {
    std::vector<std::string> out;
    std::stringstream in(list);
    for (std::string item; std::getline(in, item, separator);) out.push_back(item);
    return out;
}

// "2.2.5" -> {2, 2, 5}
std::vector<int> version_numbers(const std::string& version) {
    std::vector<int> out;
    for (const std::string& part : split(version, '.')) out.push_back(std::atoi(part.c_str()));
    return out;
}

// The GLIBC_x.y symbol versions an ELF file of this machine's class needs (its .gnu.version_r section).
std::vector<std::string> glibc_versions_needed(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::string> out;
    if (bytes.size() < sizeof(ElfW(Ehdr))) return out;
    const auto* header = reinterpret_cast<const ElfW(Ehdr)*>(bytes.data());
    const auto* sections = reinterpret_cast<const ElfW(Shdr)*>(bytes.data() + header->e_shoff);
    for (int i = 0; i < header->e_shnum; ++i) {
        if (sections[i].sh_type != SHT_GNU_verneed) continue;
        const char* strings = bytes.data() + sections[sections[i].sh_link].sh_offset;
        size_t need = sections[i].sh_offset;
        for (ElfW(Word) n = 0; n < sections[i].sh_info; ++n) {
            const auto* verneed = reinterpret_cast<const ElfW(Verneed)*>(bytes.data() + need);
            size_t aux = need + verneed->vn_aux;
            for (int k = 0; k < verneed->vn_cnt; ++k) {
                const auto* vernaux = reinterpret_cast<const ElfW(Vernaux)*>(bytes.data() + aux);
                const std::string name = strings + vernaux->vna_name;
                if (name.rfind("GLIBC_", 0) == 0 && name.size() > 6 && std::isdigit(name[6])) {
                    out.push_back(name.substr(6));
                }
                aux += vernaux->vna_next;
            }
            need += verneed->vn_next;
        }
    }
    return out;
}

// Whether this build compiled the kernels of `isa` (CMake's BCE4J_KERNEL_DEFINITIONS).
bool built_with(const std::string& isa) {
#if defined(BCE4J_HAVE_AVX2)
    if (isa == "avx2") return true;
#endif
#if defined(BCE4J_HAVE_AVX512)
    if (isa == "avx512") return true;
#endif
#if defined(BCE4J_HAVE_NEON)
    if (isa == "neon") return true;
#endif
    return isa == "scalar";
}

// The kernel names a build for this architecture knows (BCE4J_ISA's values), as the messages list them, and those
// of its SIMD kernels.
#if defined(__aarch64__)
const std::string kKnownNames = "scalar, neon";
const std::vector<std::string> kSimdNames = {"neon"};
#else
const std::string kKnownNames = "scalar, avx2, avx512";
const std::vector<std::string> kSimdNames = {"avx2", "avx512"};
#endif

// The CPU features Linux reports for this machine (the "flags" line of /proc/cpuinfo, which leaves out the AVX-512
// ones where the OS does not save their registers); empty where there is none.
std::vector<std::string> cpu_flags() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("flags", 0) != 0) continue;
        return split(line.substr(line.find(':') + 1), ' ');
    }
    return {};
}

bool cpu_has(const std::string& flag) {
    static const std::vector<std::string> flags = cpu_flags();
    return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

// The default kernels and the reason given for them, from the CPU's flags and this build's kernels alone.
struct ExpectedDefault {
    std::string isa, reason;
};

ExpectedDefault expected_default() {
#if defined(__aarch64__) && defined(__linux__)
    // The auxiliary vector: what the kernel (or qemu-user) says this CPU has; /proc/cpuinfo under qemu-user is the
    // host's.
    const unsigned long hwcap = getauxval(AT_HWCAP);
    if (built_with("neon") && (hwcap & HWCAP_ASIMD) && (hwcap & HWCAP_FP)) {
        return {"neon", "the default for this CPU, which has Advanced SIMD"};
    }
    if (built_with("neon")) return {"scalar", "the default for this CPU, which lacks Advanced SIMD"};
#endif
    const bool avx2 = built_with("avx2") && cpu_has("avx2") && cpu_has("fma") && cpu_has("f16c");
    if (built_with("avx512") && cpu_has("avx512f")) return {"avx512", "the default for this CPU, which has AVX-512F"};
    if (avx2 && built_with("avx512")) {
        return {"avx2", "the default for this CPU, which has AVX2, FMA and F16C but not AVX-512F"};
    }
    if (avx2) return {"avx2", "the default for this CPU, which has AVX2, FMA and F16C"};
    if (built_with("avx2")) return {"scalar", "the default for this CPU, which lacks AVX2, FMA or F16C"};
    return {"scalar", "the default for this build, which has no SIMD kernels"};
}

// ---- Where the parts were loaded from ------------------------------------------------------------------------------

TEST(NativeInfo, LibraryPathIsTheFileOfLibbce4j) {
    const std::string path = bce4j_library_path();
    EXPECT_EQ(path, file_of(reinterpret_cast<const void*>(&bce4j_version)));
    EXPECT_EQ(path.front(), '/') << path;
    EXPECT_TRUE(contains(path.substr(path.rfind('/')), "libbce4j")) << path;
    EXPECT_TRUE(is_regular_file(path)) << path;
    EXPECT_EQ(bce4j_library_path(), bce4j_library_path()) << "kept, not recomputed";
}

TEST(NativeInfo, OpenMpLibraryPathIsTheRuntimeInThisProcess) {
    const std::string path = bce4j_openmp_library_path();
    void* omp_function = dlsym(RTLD_DEFAULT, "omp_get_max_threads");
    ASSERT_NE(omp_function, nullptr);
    EXPECT_EQ(path, file_of(omp_function));
    EXPECT_TRUE(is_regular_file(path)) << path;
    EXPECT_NE(path, bce4j_library_path()) << "this build links the OpenMP runtime dynamically";
#if defined(__GNUC__) && !defined(__clang__)
    EXPECT_TRUE(contains(path.substr(path.rfind('/')), "gomp")) << path;
#endif
    EXPECT_GE(bce4j_default_num_threads(), 1);
}

// ---- What the build is ---------------------------------------------------------------------------------------------

TEST(NativeInfo, PlatformInJavaCppNaming) {
    const std::string platform = bce4j_platform();
    EXPECT_TRUE(std::regex_match(platform, std::regex("(linux|macosx|windows)-[a-z0-9_]+"))) << platform;
#if defined(__linux__) && defined(__x86_64__)
    EXPECT_EQ(platform, "linux-x86_64");
#elif defined(__linux__) && defined(__aarch64__)
    EXPECT_EQ(platform, "linux-arm64");
#endif
}

TEST(NativeInfo, CompilerIsTheOneThatBuiltTheTests) {
#if defined(__clang__)
    EXPECT_EQ(std::string(bce4j_compiler()), "Clang " __clang_version__);
#elif defined(__GNUC__)
    EXPECT_EQ(std::string(bce4j_compiler()), "GCC " __VERSION__);
#endif
}

// The baseline is a claim about the oldest glibc the library runs on: it must need no newer symbol version.
TEST(NativeInfo, GlibcBaselineCoversEverySymbolVersionTheLibraryNeeds) {
#if defined(__GLIBC__)
    const std::string baseline = bce4j_glibc_baseline();
    ASSERT_TRUE(std::regex_match(baseline, std::regex("[0-9]+\\.[0-9]+"))) << baseline;
    EXPECT_LE(version_numbers(baseline), version_numbers(gnu_get_libc_version()))
        << "the baseline is newer than the glibc these tests run on";
    const std::vector<std::string> needed = glibc_versions_needed(bce4j_library_path());
    ASSERT_FALSE(needed.empty()) << "no GLIBC_ version found in " << bce4j_library_path();
    for (const std::string& version : needed) {
        EXPECT_LE(version_numbers(version), version_numbers(baseline))
            << bce4j_library_path() << " needs GLIBC_" << version << ", newer than its baseline " << baseline;
    }
#else
    EXPECT_STREQ(bce4j_glibc_baseline(), "");
#endif
}

// ---- Which kernels, and why --------------------------------------------------------------------------------------

TEST(NativeInfo, AvailableIsasAreTheOnesThisCpuCanRun) {
    const std::string list = bce4j_cpu_isas_available();
    EXPECT_EQ(list, bce4j::available_isas());
    const std::vector<std::string> isas = split(list, ',');
    ASSERT_FALSE(isas.empty());
    EXPECT_EQ(isas.front(), "scalar");
    bool has_active = false;
    for (const std::string& isa : isas) {
        EXPECT_NE(bce4j::kernel_table_for(isa.c_str()), nullptr) << isa;
        has_active = has_active || isa == bce4j_cpu_isa();
    }
    EXPECT_TRUE(has_active) << bce4j_cpu_isa() << " is not among " << list;
    for (const char* isa : {"scalar", "avx2", "avx512", "neon"}) {
        EXPECT_EQ(bce4j::kernel_table_for(isa) != nullptr, contains("," + list + ",", std::string(",") + isa + ","))
            << isa;
    }
}

TEST(NativeInfo, IsaRequestAndReasonAreThoseOfThisProcesssChoice) {
    const char* request = std::getenv("BCE4J_ISA");
    const bce4j::KernelChoice expected = bce4j::choose_kernels(request);
    EXPECT_EQ(std::string(bce4j_cpu_isa_request()), request ? request : "");
    EXPECT_EQ(std::string(bce4j_cpu_isa_reason()), expected.reason);
    EXPECT_STREQ(bce4j_cpu_isa(), expected.table->isa);
}

TEST(NativeInfo, TheDefaultKernelsAreTheWidestTheCpuFlagsAllow) {
#if defined(__linux__) && defined(__x86_64__)
    ASSERT_FALSE(cpu_flags().empty()) << "no flags line in /proc/cpuinfo";
    const bce4j::KernelChoice choice = bce4j::choose_kernels(nullptr);
    EXPECT_STREQ(choice.table->isa, expected_default().isa.c_str());
    EXPECT_EQ(choice.reason, expected_default().reason);
#elif defined(__linux__) && defined(__aarch64__)
    const bce4j::KernelChoice choice = bce4j::choose_kernels(nullptr);
    EXPECT_STREQ(choice.table->isa, expected_default().isa.c_str());
    EXPECT_EQ(choice.reason, expected_default().reason);
#else
    GTEST_SKIP() << "the CPU's features are read from Linux's /proc/cpuinfo on x86-64, its auxiliary vector on aarch64";
#endif
}

TEST(KernelDispatch, TheChoiceSaysWhy) {
    const bce4j::KernelTable* best = &bce4j::choose_kernel_table(nullptr);
    const std::string kDefault = bce4j::choose_kernels(nullptr).reason;
    const std::string kRunning = std::string("running ") + best->isa + ", " + kDefault;
    for (const char* none : {static_cast<const char*>(nullptr), ""}) {
        const bce4j::KernelChoice c = bce4j::choose_kernels(none);
        EXPECT_EQ(c.table, best);
        EXPECT_EQ(c.request, "");
        EXPECT_EQ(c.reason, kDefault);
    }
    EXPECT_EQ(kDefault.rfind("the default for this ", 0), 0u) << kDefault;
    const bce4j::KernelChoice scalar = bce4j::choose_kernels("scalar");
    EXPECT_EQ(scalar.table, &bce4j::scalar_kernel_table());
    EXPECT_EQ(scalar.request, "scalar");
    EXPECT_EQ(scalar.reason, "forced by BCE4J_ISA=scalar");

    const bce4j::KernelChoice unknown = bce4j::choose_kernels("AVX2");
    EXPECT_EQ(unknown.table, best);
    EXPECT_EQ(unknown.request, "AVX2");
    EXPECT_EQ(unknown.reason, "BCE4J_ISA=AVX2 ignored: not a kernel name (" + kKnownNames + "); " + kRunning);

    for (const std::string& name : kSimdNames) {
        const char* isa = name.c_str();
        const bce4j::KernelChoice c = bce4j::choose_kernels(isa);
        if (const bce4j::KernelTable* table = bce4j::kernel_table_for(isa)) {
            EXPECT_EQ(c.table, table);
            EXPECT_EQ(c.reason, std::string("forced by BCE4J_ISA=") + isa);
        } else {
            EXPECT_EQ(c.table, best);
            const std::string why = built_with(isa) ? std::string("this CPU cannot run the ") + isa + " kernels"
                                                    : std::string("this build has no ") + isa + " kernels";
            EXPECT_EQ(c.reason, std::string("BCE4J_ISA=") + isa + " ignored: " + why + "; " + kRunning);
        }
    }
}

// Run by CTest in a process of its own, with BCE4J_ISA=sse9, so that the kernels are chosen in this test.
TEST(KernelRequestIgnored, OneLineOnStderrAtTheFirstChoice) {
    const char* request = std::getenv("BCE4J_ISA");
    ASSERT_TRUE(request != nullptr && std::string(request) == "sse9") << "CTest runs this test with BCE4J_ISA=sse9";
    testing::internal::CaptureStderr();
    const std::string reason = bce4j_cpu_isa_reason();
    bce4j_cpu_isa();
    const std::string printed = testing::internal::GetCapturedStderr();
    EXPECT_EQ(reason, "BCE4J_ISA=sse9 ignored: not a kernel name (" + kKnownNames + "); running " +
                          std::string(bce4j_cpu_isa()) + ", " + bce4j::choose_kernels(nullptr).reason);
    EXPECT_EQ(printed, "bce4j: " + reason + "\n") << "once, and nothing more";
}

// ---- bce4j_cuda_use_library ---------------------------------------------------------------------------------------

TEST(CudaUseLibrary, ANullOrEmptyPathIsAnError) {
    EXPECT_EQ(bce4j_cuda_use_library(nullptr), BCE4J_ERROR_NULL_ARGUMENT);
    EXPECT_STREQ(bce4j_last_error_message(), "path is NULL");
    EXPECT_EQ(bce4j_cuda_use_library(""), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_STREQ(bce4j_last_error_message(), "path is empty");
}

TEST(CudaUseLibrary, TooLateOnceACudaCallHasChosenTheLibrary) {
    bce4j_cuda_availability();  // the first CUDA call of this process, unless another test made it
    EXPECT_EQ(bce4j_cuda_use_library("/elsewhere/libbce4j_cuda.so"), BCE4J_ERROR_INVALID_OPTION);
    const std::string message = bce4j_last_error_message();
    EXPECT_EQ(message, std::string("an earlier CUDA call already chose the CUDA library, ") +
                           bce4j_cuda_library_path() +
                           ", so bce4j_cuda_use_library comes too late: call it before the first CUDA call");
    EXPECT_FALSE(std::string(bce4j_cuda_library_path()).empty());
}

struct Problem {
    double x[6] = {-2, -1, 0, 0.5, 1, 3};
    double y[6] = {0, 1, 0.5, 1, 0, 1};
    double reduced = 0;
    int64_t shape[2] = {2, 3};
};

// Run by CTest in a process of its own, with BCE4J_CUDA_LIBRARY empty (which counts as unset).
TEST(CudaLibraryNamed, TheNamedFileIsLoadedAndStaysChosen) {
    const std::string stand_in = BCE4J_TEST_CUDA_STAND_IN;
    ASSERT_EQ(bce4j_cuda_use_library(stand_in.c_str()), BCE4J_OK) << bce4j_last_error_message();
    EXPECT_STREQ(bce4j_last_error_message(), "");
    ASSERT_EQ(bce4j_cuda_use_library(stand_in.c_str()), BCE4J_OK) << "naming it again before loading";

    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_AVAILABLE) << bce4j_cuda_description();
    EXPECT_STREQ(bce4j_cuda_description(), "available (1 device: host emulation for tests)");
    EXPECT_EQ(std::string(bce4j_cuda_library_path()), stand_in);
    Problem p;
    ASSERT_EQ(bce4j_cuda_bce_with_logits_host(nullptr, BCE4J_FLOAT64, 2, p.shape, p.x, p.y, nullptr, nullptr,
                                              &p.reduced, nullptr, nullptr),
              BCE4J_OK)
        << bce4j_last_error_message();
    EXPECT_NEAR(p.reduced, 0.6615438170655353, 1e-12);

    EXPECT_EQ(bce4j_cuda_use_library(stand_in.c_str()), BCE4J_OK) << "the same file, after loading";
    EXPECT_EQ(bce4j_cuda_use_library("libbce4j_cuda.so"), BCE4J_ERROR_INVALID_OPTION);
    EXPECT_TRUE(contains(bce4j_last_error_message(), "already chose the CUDA library, " + stand_in))
        << bce4j_last_error_message();
}

// Run by CTest in a process of its own, with BCE4J_CUDA_LIBRARY naming a file that does not exist.
TEST(CudaLibraryEnvironmentWins, OverTheNamedFile) {
    const char* environment = std::getenv("BCE4J_CUDA_LIBRARY");
    ASSERT_NE(environment, nullptr) << "CTest runs this test with BCE4J_CUDA_LIBRARY set to a missing file";
    ASSERT_EQ(bce4j_cuda_use_library(BCE4J_TEST_CUDA_STAND_IN), BCE4J_OK);
    EXPECT_EQ(bce4j_cuda_availability(), BCE4J_CUDA_LIBRARY_ABSENT);
    EXPECT_EQ(std::string(bce4j_cuda_library_path()), environment);
    EXPECT_TRUE(contains(bce4j_cuda_description(), environment)) << bce4j_cuda_description();
}

}  // namespace
