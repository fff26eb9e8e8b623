package org.bce4j;

import java.util.List;
import java.util.Objects;

/**
 * What the native side of bce4j is and where it was loaded from, as {@link Bce4j#nativeInfo()} found it: for bug
 * reports and for telling which files a process really uses. {@link #lines()} (and {@link #toString()}) give it as
 * the command line's {@code info} prints it. Paths are as the dynamic loader or JavaCPP recorded them; an empty
 * string means unknown.
 *
 * @param version the native library's version, "MAJOR.MINOR.PATCH" ({@link Bce4j#version()})
 * @param platform the platform of this JVM in JavaCPP's naming, e.g. "linux-x86_64", whose natives were loaded
 *     ({@code Loader.getPlatform()})
 * @param nativePlatform the platform the native library was built for, in the same naming
 * @param glibcBaseline the oldest glibc the native library runs on, "MAJOR.MINOR" (e.g. "2.17"); empty for a build
 *     not against glibc
 * @param compiler the compiler of the native library, e.g. "GCC 12.2.0"
 * @param libraryPath the file of the native library, libbce4j
 * @param jniLibraryPath the file of the JNI glue, libjnibce4j, as JavaCPP loaded it
 * @param cpuIsa the instruction set of the CPU kernels in use, e.g. "avx2" ({@link Bce4j#cpuIsa()})
 * @param availableCpuIsas the instruction sets whose kernels the library has and this CPU can run, "scalar" first;
 *     the environment variable BCE4J_ISA can force any of them
 * @param cpuIsaRequest the value of BCE4J_ISA when the kernels were chosen, empty where it was unset
 * @param cpuIsaReason why {@code cpuIsa} is the one in use: "the default for this CPU, which has AVX-512F" (or what
 *     it lacks for wider kernels), "forced by BCE4J_ISA=scalar", or why a request was ignored and what runs instead
 *     ("BCE4J_ISA=sse9 ignored: not a kernel name (scalar, avx2, avx512); running avx512, the default for this CPU,
 *     which has AVX-512F"; the native library also prints that once on stderr)
 * @param openMpLibraryPath the file of the OpenMP runtime the native library runs on
 * @param defaultNumThreads the OpenMP thread count of a call configured with 0 threads
 *     ({@link Bce4j#defaultNumThreads()})
 * @param cudaLibraryPath the file of the CUDA library in use, or the one that could not be loaded
 * @param cuda whether the CUDA path can run here, and if not, why ({@link Bce4j#cuda()})
 */
public record NativeInfo(String version, String platform, String nativePlatform, String glibcBaseline,
        String compiler, String libraryPath, String jniLibraryPath, String cpuIsa, List<String> availableCpuIsas,
        String cpuIsaRequest, String cpuIsaReason, String openMpLibraryPath, int defaultNumThreads,
        String cudaLibraryPath, CudaAvailability cuda) {

    /**
     * Checks that no component is null and keeps an unmodifiable copy of the instruction sets.
     *
     * @param version see {@link #version()}
     * @param platform see {@link #platform()}
     * @param nativePlatform see {@link #nativePlatform()}
     * @param glibcBaseline see {@link #glibcBaseline()}
     * @param compiler see {@link #compiler()}
     * @param libraryPath see {@link #libraryPath()}
     * @param jniLibraryPath see {@link #jniLibraryPath()}
     * @param cpuIsa see {@link #cpuIsa()}
     * @param availableCpuIsas see {@link #availableCpuIsas()}
     * @param cpuIsaRequest see {@link #cpuIsaRequest()}
     * @param cpuIsaReason see {@link #cpuIsaReason()}
     * @param openMpLibraryPath see {@link #openMpLibraryPath()}
     * @param defaultNumThreads see {@link #defaultNumThreads()}
     * @param cudaLibraryPath see {@link #cudaLibraryPath()}
     * @param cuda see {@link #cuda()}
     * @throws NullPointerException if a component is null
     */
    public NativeInfo {
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(platform, "platform");
        Objects.requireNonNull(nativePlatform, "nativePlatform");
        Objects.requireNonNull(glibcBaseline, "glibcBaseline");
        Objects.requireNonNull(compiler, "compiler");
        Objects.requireNonNull(libraryPath, "libraryPath");
        Objects.requireNonNull(jniLibraryPath, "jniLibraryPath");
        Objects.requireNonNull(cpuIsa, "cpuIsa");
        availableCpuIsas = List.copyOf(availableCpuIsas);
        Objects.requireNonNull(cpuIsaRequest, "cpuIsaRequest");
        Objects.requireNonNull(cpuIsaReason, "cpuIsaReason");
        Objects.requireNonNull(openMpLibraryPath, "openMpLibraryPath");
        Objects.requireNonNull(cudaLibraryPath, "cudaLibraryPath");
        Objects.requireNonNull(cuda, "cuda");
    }

    /**
     * The lines the command line's {@code info} prints, in order:
     * <pre>
     * bce4j 0.1.0
     * platform: linux-x86_64 (glibc baseline 2.17, GCC 12.2.0)
     * library: /root/.javacpp/cache/.../libbce4j.so.1
     * jni: /root/.javacpp/cache/.../libjnibce4j.so
     * cpu: avx512 (available: scalar, avx2, avx512; the default for this CPU, which has AVX-512F)
     * openmp: /root/.javacpp/cache/.../libgomp-bce4j.so.1
     * threads: 2
     * cuda library: /root/.javacpp/cache/.../libbce4j_cuda.so
     * cuda: unavailable (no CUDA driver is installed)
     * </pre>
     * The {@code cpu:} line starts with the instruction set in use and the {@code cuda:} line is
     * {@code "cuda: " + cuda().description()}. The platform's parenthesis names the library's own platform first
     * where it differs from this JVM's; an unknown path prints as "unknown".
     *
     * @return the lines, without line separators
     */
    public List<String> lines() {
        StringBuilder build = new StringBuilder();
        if (!nativePlatform.equals(platform)) {
            build.append("built for ").append(nativePlatform).append(", ");
        }
        if (!glibcBaseline.isEmpty()) {
            build.append("glibc baseline ").append(glibcBaseline).append(", ");
        }
        build.append(compiler);
        return List.of(
                "bce4j " + version,
                "platform: " + platform + " (" + build + ")",
                "library: " + orUnknown(libraryPath),
                "jni: " + orUnknown(jniLibraryPath),
                "cpu: " + cpuIsa + " (available: " + String.join(", ", availableCpuIsas) + "; " + cpuIsaReason + ")",
                "openmp: " + orUnknown(openMpLibraryPath),
                "threads: " + defaultNumThreads,
                "cuda library: " + orUnknown(cudaLibraryPath),
                "cuda: " + cuda.description());
    }

    /**
     * {@link #lines()}, one per line.
     *
     * @return the lines joined with the platform's line separator
     */
    @Override
    public String toString() {
        return String.join(System.lineSeparator(), lines());
    }

    private static String orUnknown(String path) {
        return path.isEmpty() ? "unknown" : path;
    }
}
