package org.bce4j.spark;

import java.io.Serializable;

/**
 * What one partition sends to the driver: its partial loss as {@link org.bce4j.Partial#toBytes()} bytes, and how
 * its time was spent.
 */
final class PartitionResult implements Serializable {
    private static final long serialVersionUID = 1L;

    final byte[] partial;
    final long rows;
    final int nativeCalls;
    final long nativeNanos;
    final long taskNanos;

    PartitionResult(byte[] partial, long rows, int nativeCalls, long nativeNanos, long taskNanos) {
        this.partial = partial;
        this.rows = rows;
        this.nativeCalls = nativeCalls;
        this.nativeNanos = nativeNanos;
        this.taskNanos = taskNanos;
    }
}
