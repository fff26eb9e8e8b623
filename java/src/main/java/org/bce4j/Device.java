package org.bce4j;

/**
 * Where a loss computes: {@link #CPU} (the default) or {@link #CUDA}, the optional GPU path. A CUDA loss takes the
 * same host buffers as a CPU one; each call copies them to the calling thread's current CUDA device, computes there
 * and copies the outputs back, which pays off for large inputs only. Callers whose data already lives on the device
 * use {@link BinaryCrossEntropy#computeOnCuda} instead.
 */
public enum Device {
    /** The CPU, on the kernels {@link Bce4j#cpuIsa()} names and OpenMP threads; the default. */
    CPU,
    /** The calling thread's current CUDA device, through the optional {@code libbce4j_cuda.so}. */
    CUDA
}
