package org.bce4j;

/** CUDA was asked for ({@link Device#CUDA}, {@link BinaryCrossEntropy#computeOnCuda}) where it cannot run. */
public final class CudaUnavailableException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    private final transient CudaAvailability availability;

    CudaUnavailableException(String message, CudaAvailability availability) {
        super(message);
        this.availability = availability;
    }

    /** {@return why CUDA is unavailable, as {@link Bce4j#cuda()} reports it} */
    public CudaAvailability availability() {
        return availability;
    }
}
