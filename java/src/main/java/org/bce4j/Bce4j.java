package org.bce4j;

/** Facts about the loaded native library. */
public final class Bce4j {
    private Bce4j() {}

    /** The native library's version, "MAJOR.MINOR.PATCH". */
    public static String version() {
        return NativeLibrary.bce4j_version();
    }

    /** The instruction set of the kernels in use, e.g. "scalar". */
    public static String cpuIsa() {
        return NativeLibrary.bce4j_cpu_isa();
    }

    /** The OpenMP thread count of a call configured with 0 threads. */
    public static int defaultNumThreads() {
        return NativeLibrary.bce4j_default_num_threads();
    }
}
