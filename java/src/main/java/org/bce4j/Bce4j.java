package org.bce4j;

import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.Loader;

/**
 * Facts about the loaded native library.
 *
 * <p>The first use of bce4j (any method here, or building a loss) loads the native libraries. Where they cannot be
 * loaded, it throws an {@link UnsatisfiedLinkError} that says why and what to do (the natives jar to add, the file
 * that failed and the dynamic loader's reason, a library built for another architecture, ...), with JavaCPP's error
 * as its cause; every later use throws that same error.
 */
public final class Bce4j {
    private Bce4j() {}

    /**
     * The native library's version, "MAJOR.MINOR.PATCH".
     *
     * @return the version
     * @throws UnsatisfiedLinkError where the native libraries cannot be loaded, saying why
     */
    public static String version() {
        NativeLoader.ensureLoaded();
        return NativeLibrary.bce4j_version();
    }

    /**
     * The instruction set of the kernels in use, e.g. "scalar"; {@link NativeInfo#cpuIsaReason()} says why.
     *
     * @return the instruction set's name
     * @throws UnsatisfiedLinkError where the native libraries cannot be loaded, saying why
     */
    public static String cpuIsa() {
        NativeLoader.ensureLoaded();
        return NativeLibrary.bce4j_cpu_isa();
    }

    /**
     * Whether the optional CUDA path can run here and, if not, why. The first call loads the CUDA library (never
     * loaded by CPU work) and probes the driver and devices once; later calls return the same answer.
     *
     * @return the state, its description and the device count
     * @throws UnsatisfiedLinkError where the native libraries cannot be loaded, saying why
     */
    public static CudaAvailability cuda() {
        NativeLoader.ensureLoaded();
        NativeLibrary.CudaLibraryFile.ensureNamed();
        return new CudaAvailability(CudaState.of(NativeLibrary.bce4j_cuda_availability()),
                NativeLibrary.bce4j_cuda_description(), NativeLibrary.bce4j_cuda_device_count());
    }

    /**
     * The OpenMP thread count of a call configured with 0 threads.
     *
     * @return the thread count, at least 1
     * @throws UnsatisfiedLinkError where the native libraries cannot be loaded, saying why
     */
    public static int defaultNumThreads() {
        NativeLoader.ensureLoaded();
        return NativeLibrary.bce4j_default_num_threads();
    }

    /**
     * What the native side is and where each of its files was loaded from: the platform, the glibc baseline and
     * compiler of the build, the files of libbce4j, the JNI glue, the OpenMP runtime and the CUDA library, the CPU
     * kernels available and why the ones in use were chosen, the default thread count and the CUDA state. Like
     * {@link #cuda()}, the first call loads the CUDA library and probes it; the rest is computed once and cheap.
     *
     * @return the facts, as the command line's {@code info} prints them ({@link NativeInfo#lines()})
     * @throws UnsatisfiedLinkError where the native libraries cannot be loaded, saying why
     */
    public static NativeInfo nativeInfo() {
        CudaAvailability cuda = cuda(); // names the CUDA library before it is loaded
        String available = NativeLibrary.bce4j_cpu_isas_available();
        List<String> isas = available.isEmpty() ? List.of() : Arrays.asList(available.split(","));
        return new NativeInfo(NativeLibrary.bce4j_version(), Loader.getPlatform(), NativeLibrary.bce4j_platform(),
                NativeLibrary.bce4j_glibc_baseline(), NativeLibrary.bce4j_compiler(),
                NativeLibrary.bce4j_library_path(), NativeLoader.jniLibraryPath(), NativeLibrary.bce4j_cpu_isa(),
                isas, NativeLibrary.bce4j_cpu_isa_request(), NativeLibrary.bce4j_cpu_isa_reason(),
                NativeLibrary.bce4j_openmp_library_path(), NativeLibrary.bce4j_default_num_threads(),
                NativeLibrary.bce4j_cuda_library_path(), cuda);
    }
}
