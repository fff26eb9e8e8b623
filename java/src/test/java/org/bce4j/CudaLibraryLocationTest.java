package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.InputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CUDA library in a jar of its own ({@code org/bce4j/<platform>-gpu/libbce4j_cuda.so}), which JavaCPP extracts
 * into another cache folder than libbce4j's: the Java side names the file to libbce4j, so that {@link Bce4j#cuda()}
 * reports the driver and devices, not an absent library. In a JVM of its own ({@link ChildJvm}): the CUDA library
 * is loaded once per process.
 */
class CudaLibraryLocationTest {
    @TempDir
    Path work;

    @Test
    @DisplayName("the CUDA library from a jar of its own is found: Bce4j.cuda() reports the driver/device state")
    void cudaLibraryInItsOwnJar() throws Exception {
        String platform = Loader.getPlatform();
        ChildJvm.nativesCopy(work.resolve("natives"));
        URL cudaLibrary = NativeLibrary.class.getResource(platform + "-gpu/libbce4j_cuda.so");
        assumeTrue(cudaLibrary != null, "this build has no CUDA library (CMake found no CUDA compiler)");
        Path gpu = work.resolve("gpu").resolve(NativeLoader.RESOURCE_PACKAGE + platform + "-gpu");
        Files.createDirectories(gpu);
        try (InputStream in = cudaLibrary.openStream()) {
            Files.copy(in, gpu.resolve("libbce4j_cuda.so"));
        }
        Path api = ChildJvm.apiClasses(work.resolve("api"));
        Path nativesJar = ChildJvm.jar(work.resolve("natives"), work.resolve("bce4j-" + platform + ".jar"));
        Path gpuJar = ChildJvm.jar(work.resolve("gpu"), work.resolve("bce4j-" + platform + "-gpu.jar"));

        ChildJvm.Result r = ChildJvm.run(work, List.of(api, nativesJar, gpuJar), Child.class);
        assertEquals(0, r.exitCode(), r.output());
        CudaState state = CudaState.valueOf(r.section("state"));
        String description = r.section("description");
        assertTrue(Set.of(CudaState.AVAILABLE, CudaState.NO_DRIVER, CudaState.DRIVER_TOO_OLD, CudaState.NO_DEVICE)
                .contains(state), state + ": " + description);
        Path used = Path.of(r.section("cuda library"));
        Path core = Path.of(r.section("library"));
        assertTrue(used.toString().contains(platform + "-gpu"), used.toString());
        assertNotEquals(core.getParent(), used.getParent(), "the CUDA library came from beside libbce4j");
        assertTrue(used.startsWith(work.resolve("javacpp-cache")), "extracted by JavaCPP: " + used);

        // The control: without the GPU jar, the same class path reports the library absent.
        ChildJvm.Result without = ChildJvm.run(work, List.of(api, nativesJar), Child.class);
        assertEquals(CudaState.LIBRARY_ABSENT, CudaState.valueOf(without.section("state")), without.output());
    }

    /** The child: the CUDA state and the files in use. */
    public static final class Child {
        public static void main(String[] args) {
            NativeInfo info = Bce4j.nativeInfo();
            ChildJvm.printSection("state", info.cuda().state().name());
            ChildJvm.printSection("description", info.cuda().description());
            ChildJvm.printSection("cuda library", info.cudaLibraryPath());
            ChildJvm.printSection("library", info.libraryPath());
        }
    }
}
