package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The kernels in use are the widest the CPU's flags allow, or the ones BCE4J_ISA forces (the pom runs the value tests
 * once with scalar forced); the expectation comes from /proc/cpuinfo, not from the library.
 */
class KernelSelectionTest {
    @Test
    @DisplayName("the available kernels are exactly those the CPU's flags allow")
    void availableKernelsFollowTheCpuFlags() {
        assumeTrue(CpuFlags.known(), "the CPU's flags are read from /proc/cpuinfo on linux-x86_64");
        assertEquals(CpuFlags.runnableIsas(), Bce4j.nativeInfo().availableCpuIsas());
    }

    @Test
    @DisplayName("cpuIsa() is the widest the CPU allows by default, the forced one under BCE4J_ISA, and says why")
    void reportsTheKernelsInUse() {
        assumeTrue(CpuFlags.known(), "the CPU's flags are read from /proc/cpuinfo on linux-x86_64");
        String isa = Bce4j.cpuIsa();
        NativeInfo info = Bce4j.nativeInfo();
        String request = System.getenv("BCE4J_ISA");
        if (request == null || request.isEmpty()) {
            assertEquals(CpuFlags.defaultIsa(), isa);
            assertEquals("", info.cpuIsaRequest());
            assertEquals(CpuFlags.defaultReason(), info.cpuIsaReason());
        } else if (CpuFlags.runnableIsas().contains(request)) {
            assertEquals(request, isa);
            assertEquals(request, info.cpuIsaRequest());
            assertEquals("forced by BCE4J_ISA=" + request, info.cpuIsaReason());
        } else {
            assertEquals(CpuFlags.defaultIsa(), isa);
            String reason = info.cpuIsaReason();
            assertTrue(reason.startsWith("BCE4J_ISA=" + request + " ignored: "), reason);
            assertTrue(reason.endsWith("; running " + CpuFlags.defaultIsa() + ", " + CpuFlags.defaultReason()),
                    reason);
        }
    }
}
