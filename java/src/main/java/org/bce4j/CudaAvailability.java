package org.bce4j;

/**
 * What {@link Bce4j#cuda()} found: the state, one line for people ({@code "available (1 device: NVIDIA H100)"} or
 * {@code "unavailable (reason)"}) and the number of usable devices (0 unless available).
 *
 * @param state whether CUDA can run and, if not, why
 * @param description one line for people, e.g. {@code "unavailable (no CUDA driver is installed)"}
 * @param deviceCount the number of usable CUDA devices; 0 unless {@code state} is {@link CudaState#AVAILABLE}
 */
public record CudaAvailability(CudaState state, String description, int deviceCount) {
    /** {@return whether CUDA calls can run, i.e. {@code state} is {@link CudaState#AVAILABLE}} */
    public boolean available() {
        return state == CudaState.AVAILABLE;
    }
}
