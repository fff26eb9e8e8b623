package org.bce4j;

/** Whether the CUDA path can run here, and if not, why; mirrors {@code bce4j_cuda_state} in bce4j.h. */
public enum CudaState {
    /** CUDA calls run on the devices {@link CudaAvailability#deviceCount()} counts. */
    AVAILABLE(0),
    /** The library was built without CUDA, or its CUDA library could not be loaded. */
    LIBRARY_ABSENT(1),
    /** This machine has no CUDA driver. */
    NO_DRIVER(2),
    /** The driver is older than the CUDA runtime bce4j was built with. */
    DRIVER_TOO_OLD(3),
    /** A driver, but no usable device. */
    NO_DEVICE(4),
    /** Any other failure; the description says which. */
    ERROR(5);

    final int code;

    CudaState(int code) {
        this.code = code;
    }

    static CudaState of(int code) {
        for (CudaState state : values()) {
            if (state.code == code) {
                return state;
            }
        }
        return ERROR;
    }
}
