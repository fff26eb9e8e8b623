package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** The kernels in use are the ones BCE4J_ISA forces (the pom runs the value tests once with scalar forced). */
class KernelSelectionTest {
    @Test
    @DisplayName("cpuIsa() reports the forced kernels under BCE4J_ISA=scalar (and why), a known instruction set otherwise")
    void reportsTheKernelsInUse() {
        String isa = Bce4j.cpuIsa();
        if ("scalar".equals(System.getenv("BCE4J_ISA"))) {
            assertEquals("scalar", isa);
            NativeInfo info = Bce4j.nativeInfo();
            assertEquals("scalar", info.cpuIsaRequest());
            assertEquals("forced by BCE4J_ISA=scalar", info.cpuIsaReason());
        } else {
            assertTrue(Set.of("scalar", "avx2").contains(isa), isa);
        }
    }
}
