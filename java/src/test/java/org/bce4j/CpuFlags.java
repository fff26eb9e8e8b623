package org.bce4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Loader;

/**
 * What the kernel choice should be on this machine, from the CPU's flags as Linux reports them ({@code /proc/cpuinfo},
 * which leaves out AVX-512 where the OS does not save its registers), independently of the library's own answer. Only
 * for linux-x86_64, whose builds have the scalar, avx2 and avx512 kernels.
 */
final class CpuFlags {
    private CpuFlags() {}

    /** Whether this machine is one whose expected choice these methods know. */
    static boolean known() {
        return "linux-x86_64".equals(Loader.getPlatform()) && Files.isReadable(Path.of("/proc/cpuinfo"));
    }

    private static Set<String> flags() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("flags")) {
                    return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("reading /proc/cpuinfo", e);
        }
        throw new AssertionError("no flags line in /proc/cpuinfo");
    }

    private static boolean hasAvx2() {
        return flags().containsAll(Set.of("avx2", "fma", "f16c"));
    }

    private static boolean hasAvx512() {
        return flags().contains("avx512f");
    }

    /** The kernels this CPU can run, scalar first, as {@link NativeInfo#availableCpuIsas()} lists them. */
    static List<String> runnableIsas() {
        List<String> isas = new ArrayList<>(List.of("scalar"));
        if (hasAvx2()) {
            isas.add("avx2");
        }
        if (hasAvx512()) {
            isas.add("avx512");
        }
        return isas;
    }

    /** The kernels chosen when BCE4J_ISA is unset: the widest. */
    static String defaultIsa() {
        return hasAvx512() ? "avx512" : hasAvx2() ? "avx2" : "scalar";
    }

    /** {@link NativeInfo#cpuIsaReason()} when BCE4J_ISA is unset. */
    static String defaultReason() {
        if (hasAvx512()) {
            return "the default for this CPU, which has AVX-512F";
        }
        return hasAvx2() ? "the default for this CPU, which has AVX2, FMA and F16C but not AVX-512F"
                : "the default for this CPU, which lacks AVX2, FMA or F16C";
    }
}
