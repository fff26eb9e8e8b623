package org.bce4j;

/**
 * What {@link Bce4j#cuda()} found: the state, one line for people ({@code "available (1 device: NVIDIA H100)"} or
 * {@code "unavailable (reason)"}) and the number of usable devices (0 unless available).
 */
public record CudaAvailability(CudaState state, String description, int deviceCount) {
    /** Whether CUDA calls can run. */
    public boolean available() {
        return state == CudaState.AVAILABLE;
    }
}
