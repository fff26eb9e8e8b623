package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** Bce4j.nativeInfo(): each fact against its other source (JavaCPP, the other Bce4j methods, the files). */
class NativeInfoTest {
    private static final NativeInfo INFO = Bce4j.nativeInfo();

    @Test
    @DisplayName("the files are those JavaCPP loaded: libbce4j and the JNI glue")
    void filesAreThoseJavaCppLoaded() throws IOException {
        Map<String, String> loaded = Loader.getLoadedLibraries();
        List<NativeLoader.NativeFile> files = NativeLoader.nativeFiles();
        String core = loaded.get(files.get(files.size() - 2).libnameversion());
        String glue = loaded.get(files.get(files.size() - 1).libnameversion());
        assertNotNull(core, "JavaCPP loaded libbce4j: " + loaded);
        assertNotNull(glue, "JavaCPP loaded the JNI glue: " + loaded);
        assertTrue(Files.isSameFile(Path.of(core), Path.of(INFO.libraryPath())), INFO.libraryPath() + " vs " + core);
        assertTrue(Files.isSameFile(Path.of(glue), Path.of(INFO.jniLibraryPath())), INFO.jniLibraryPath());
        assertTrue(Files.isRegularFile(Path.of(INFO.openMpLibraryPath())), INFO.openMpLibraryPath());
        assertNotEquals(INFO.libraryPath(), INFO.openMpLibraryPath());
        assertTrue(Path.of(INFO.cudaLibraryPath()).getFileName().toString().contains("bce4j_cuda"),
                INFO.cudaLibraryPath());
    }

    @Test
    @DisplayName("the platform is JavaCPP's and the natives were built for it; baseline and compiler are given")
    void platformAndBuild() {
        assertEquals(Loader.getPlatform(), INFO.platform());
        assertEquals(INFO.platform(), INFO.nativePlatform());
        if (INFO.platform().startsWith("linux")) {
            assertTrue(INFO.glibcBaseline().matches("\\d+\\.\\d+"), INFO.glibcBaseline());
        }
        assertTrue(INFO.compiler().matches("(GCC|Clang) \\d.*"), INFO.compiler());
        assertEquals(Bce4j.version(), INFO.version());
    }

    @Test
    @DisplayName("the CPU kernels: the one in use is available, and the request and reason agree with BCE4J_ISA")
    void cpuKernels() {
        assertEquals(Bce4j.cpuIsa(), INFO.cpuIsa());
        assertEquals("scalar", INFO.availableCpuIsas().get(0));
        assertTrue(INFO.availableCpuIsas().contains(INFO.cpuIsa()), INFO.availableCpuIsas().toString());
        String request = System.getenv("BCE4J_ISA");
        if (request == null || request.isEmpty()) {
            assertEquals("", INFO.cpuIsaRequest());
            if (CpuFlags.known()) {
                assertEquals(CpuFlags.defaultReason(), INFO.cpuIsaReason());
            } else {
                assertTrue(INFO.cpuIsaReason().startsWith("the default for this "), INFO.cpuIsaReason());
            }
        } else {
            assertEquals(request, INFO.cpuIsaRequest());
            assertTrue(INFO.cpuIsaReason().equals("forced by BCE4J_ISA=" + request)
                    || INFO.cpuIsaReason().startsWith("BCE4J_ISA=" + request + " ignored: ")
                            && INFO.cpuIsaReason().contains("; running " + INFO.cpuIsa() + ", the default for this "),
                    INFO.cpuIsaReason());
        }
        assertThrows(UnsupportedOperationException.class, () -> INFO.availableCpuIsas().add("sse9"));
    }

    @Test
    @DisplayName("threads and CUDA are those of the other Bce4j methods; lines() is toString()")
    void threadsCudaAndLines() {
        assertEquals(Bce4j.defaultNumThreads(), INFO.defaultNumThreads());
        assertEquals(Bce4j.cuda(), INFO.cuda());
        assertEquals(INFO, Bce4j.nativeInfo(), "the same facts every time");
        assertEquals(String.join(System.lineSeparator(), INFO.lines()), INFO.toString());
        assertEquals("cuda: " + INFO.cuda().description(), INFO.lines().get(INFO.lines().size() - 1));
    }
}
