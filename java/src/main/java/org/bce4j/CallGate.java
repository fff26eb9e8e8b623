package org.bce4j;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The lifecycle of a loss' native memory in one word, so that {@code close()} can never free memory a running call
 * reads: CLOSED (the sign bit) once closing has begun, plus the number of calls inside that memory. A call adds 1
 * before it reads the memory and subtracts 1 after (acquire, release: one atomic add each, no lock); closing sets
 * CLOSED, waits under a lock until the count is 0, then frees.
 */
final class CallGate {
    private static final long CLOSED = Long.MIN_VALUE;
    private static final long COUNT = ~CLOSED;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CallGate.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // read and written through STATE
    private volatile long state;
    private final Object closeLock = new Object();
    private boolean freed; // guarded by closeLock
    private final String ownerName;

    /** {@code ownerName}: what a call on a closed gate reports as closed. */
    CallGate(String ownerName) {
        this.ownerName = ownerName;
    }

    /**
     * Enters a call that uses the native memory, which stays allocated until the matching {@link #release()};
     * throws {@link IllegalStateException} where closing has begun. Calls may nest.
     */
    void acquire() {
        if ((long) STATE.getAndAdd(this, 1L) < 0) { // CLOSED: undo, and touch nothing
            release();
            throw closedException();
        }
    }

    /** Leaves a call entered by {@link #acquire()}, in a finally block; wakes a close that waits for this call. */
    void release() {
        if ((long) STATE.getAndAdd(this, -1L) == (CLOSED | 1)) {
            synchronized (closeLock) {
                closeLock.notifyAll();
            }
        }
    }

    private IllegalStateException closedException() {
        return new IllegalStateException(ownerName + " is closed");
    }

    /**
     * Marks the gate closed, waits for the calls inside to leave (uninterruptibly; an interrupt is kept for the
     * caller), then runs {@code free} once, however many threads close; each returns once it has run.
     */
    void close(Runnable free) {
        STATE.getAndBitwiseOr(this, CLOSED); // from here on, no call begins
        boolean interrupted = false;
        synchronized (closeLock) {
            while (((long) STATE.getVolatile(this) & COUNT) != 0) {
                try {
                    closeLock.wait(); // release() notifies when the count drops to 0
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (!freed) {
                freed = true;
                free.run();
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
