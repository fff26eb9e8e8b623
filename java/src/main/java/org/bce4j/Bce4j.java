package org.bce4j;

/** Facts about the loaded native library. */
public final class Bce4j {
    private Bce4j() {}

    /** {@return the native library's version, "MAJOR.MINOR.PATCH"} */
    public static String version() {
        return NativeLibrary.bce4j_version();
    }

    /** {@return the instruction set of the kernels in use, e.g. "scalar"} */
    public static String cpuIsa() {
        return NativeLibrary.bce4j_cpu_isa();
    }

    /**
     * Whether the optional CUDA path can run here and, if not, why. The first call loads the CUDA library (never
     * loaded by CPU work) and probes the driver and devices once; later calls return the same answer.
     *
     * @return the state, its description and the device count
     */
    public static CudaAvailability cuda() {
        NativeLibrary.CudaLibraryFile.ensureExtracted();
        return new CudaAvailability(CudaState.of(NativeLibrary.bce4j_cuda_availability()),
                NativeLibrary.bce4j_cuda_description(), NativeLibrary.bce4j_cuda_device_count());
    }

    /** {@return the OpenMP thread count of a call configured with 0 threads} */
    public static int defaultNumThreads() {
        return NativeLibrary.bce4j_default_num_threads();
    }
}
