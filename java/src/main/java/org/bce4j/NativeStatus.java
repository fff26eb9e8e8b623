package org.bce4j;

/** Turns a native status other than {@code BCE4J_OK} into the exception that reports it, with C's message. */
final class NativeStatus {
    private NativeStatus() {}

    /** Throws the exception for {@code status}, unless it is {@code BCE4J_OK}. */
    static void check(int status) {
        if (status != NativeLibrary.BCE4J_OK) {
            throw toException(status);
        }
    }

    static RuntimeException toException(int status) {
        String message = NativeLibrary.bce4j_last_error_message();
        switch (status) {
            case NativeLibrary.BCE4J_ERROR_NULL_ARGUMENT:
                return new NullPointerException(message);
            case NativeLibrary.BCE4J_ERROR_INTERNAL:
                return new IllegalStateException("bce4j internal error: " + message);
            case NativeLibrary.BCE4J_ERROR_UNAVAILABLE:
                return new CudaUnavailableException(message, Bce4j.cuda());
            case NativeLibrary.BCE4J_ERROR_DEVICE:
                return new IllegalStateException("CUDA error: " + message);
            default:
                return new IllegalArgumentException(message);
        }
    }
}
