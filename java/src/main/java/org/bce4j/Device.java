package org.bce4j;

/**
 * Where a loss computes: {@link #CPU} (the default) or {@link #CUDA}, the optional GPU path. A CUDA loss takes the
 * same host buffers as a CPU one; each call copies them to the calling thread's current CUDA device, computes there
 * and copies the outputs back, which pays off for large inputs only. Callers whose data already lives on the device
 * use {@link BinaryCrossEntropy#computeOnCuda} instead.
 */
public enum Device {
    CPU,
    CUDA
}
