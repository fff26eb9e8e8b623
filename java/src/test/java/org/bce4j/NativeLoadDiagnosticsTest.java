package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.bytedeco.javacpp.Loader;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user sees where the natives cannot be loaded: each case in a JVM of its own ({@link ChildJvm}) with a
 * class path built for it. The first use throws an {@link UnsatisfiedLinkError} that says what is wrong and what to
 * do, JavaCPP's error is its cause, and later uses throw the same error, never a bare NoClassDefFoundError.
 */
class NativeLoadDiagnosticsTest {
    @TempDir
    Path work;

    private static final String PLATFORM = Loader.getPlatform();

    /** The first, second and third use in the child all fail with one error, which it returns. */
    private static String theOneError(ChildJvm.Result r) {
        String first = r.section("first");
        assumeFalse(first.equals("LOADED"), "the natives loaded in the child:\n" + r.output());
        assertTrue(first.startsWith(UnsatisfiedLinkError.class.getName() + ": "), r.output());
        assertEquals(first, r.section("second"), "a loss built after the failure\n" + r.output());
        assertEquals(first, r.section("third"), "Bce4j.nativeInfo() after the failure\n" + r.output());
        assertTrue(r.section("cause").startsWith(UnsatisfiedLinkError.class.getName()), "JavaCPP's error as cause\n"
                + r.output());
        assertEquals(0, r.exitCode(), r.output());
        return first.substring(UnsatisfiedLinkError.class.getName().length() + 2);
    }

    private ChildJvm.Result runWith(Path natives) throws Exception {
        Path api = ChildJvm.apiClasses(work.resolve("api"));
        return ChildJvm.run(work, natives == null ? List.of(api) : List.of(api, natives), Child.class);
    }

    private static NativeLoader.NativeFile file(int index) {
        List<NativeLoader.NativeFile> files = NativeLoader.nativeFiles();
        return files.get(index < 0 ? files.size() + index : index);
    }

    @Test
    @DisplayName("(a) natives without the OpenMP runtime: the message names that file and the loader's reason")
    void missingOpenMpRuntime() throws Exception {
        NativeLoader.NativeFile openMp = file(0);
        String name = openMp.fileName(PLATFORM);
        assumeTrue(openMp.resource(PLATFORM) != null, "this build's natives bundle no " + name + " (the @Platform "
                + "preload " + openMp.libnameversion() + "), so there is nothing to leave out");
        Path natives = work.resolve("natives");
        Files.delete(ChildJvm.nativesCopy(natives).resolve(name));
        ChildJvm.Result r = runWith(natives);
        assumeFalse(r.section("first").equals("LOADED"), "the natives load without their " + name
                + ": this system provides a file of that name");
        String message = theOneError(r);
        System.out.println("(a) " + message);
        assertTrue(message.contains(PLATFORM), message);
        assertTrue(message.contains("They lack " + name + ", the OpenMP runtime"), message);
        assertTrue(message.contains(name + ": cannot open shared object file"), message); // the loader's reason
    }

    @Test
    @DisplayName("(b) natives of another architecture: the message says which, and which this JVM runs on")
    void foreignArchitecture() throws Exception {
        assumeTrue(System.getProperty("os.name").toLowerCase(Locale.ROOT).startsWith("linux"), "an ELF platform");
        boolean onArm = System.getProperty("os.arch").equals("aarch64");
        int foreignMachine = onArm ? 62 : 183; // x86-64 on an ARM JVM, AArch64 elsewhere
        String foreignName = onArm ? "x86_64" : "aarch64";
        Path natives = work.resolve("natives");
        Path dir = ChildJvm.nativesCopy(natives);
        String core = file(-2).fileName(PLATFORM);
        // libbce4j, and the JNI glue too: the glue's RUNPATH may name the build tree, whose genuine libbce4j the
        // dynamic loader would otherwise find instead of the foreign copy.
        patchMachine(dir.resolve(core), foreignMachine);
        patchMachine(dir.resolve(file(-1).fileName(PLATFORM)), foreignMachine);
        String message = theOneError(runWith(natives));
        System.out.println("(b) " + message);
        assertTrue(message.contains(core + " (the bce4j library, "), message);
        assertTrue(message.contains("is built for " + foreignName + ", but this JVM runs on "
                + (onArm ? "aarch64" : "x86_64")), message);
        assertTrue(message.contains("use org.bce4j:bce4j:"), message);
    }

    @Test
    @DisplayName("(c) no natives on the class path: the message names the artifact to add")
    void noNatives() throws Exception {
        String message = theOneError(runWith(null));
        System.out.println("(c) " + message);
        assertTrue(message.contains("there are none for " + PLATFORM + ", the platform of this JVM"), message);
        assertTrue(message.matches("(?s).*Add the artifact org\\.bce4j:bce4j:[^ :]+:" + PLATFORM + ", .*"), message);
        assertTrue(message.contains("org.bce4j:bce4j-platform"), message);
        assertFalse(message.contains("The class path has bce4j natives for"), message);
    }

    @Test
    @DisplayName("(c) only another platform's natives on the class path: the message says so")
    void anotherPlatformsNatives() throws Exception {
        String other = PLATFORM.equals("linux-arm64") ? "linux-x86_64" : "linux-arm64";
        Path natives = work.resolve("natives");
        Path dir = ChildJvm.nativesCopy(natives);
        Files.move(dir, dir.resolveSibling(other));
        String message = theOneError(runWith(natives));
        System.out.println("(c) " + message);
        assertTrue(message.contains("org.bce4j:bce4j-platform"), message);
        assertTrue(message.contains("The class path has bce4j natives for " + other + " only"), message);
    }

    /** Sets an ELF file's e_machine (little-endian, as on every platform these tests patch). */
    static void patchMachine(Path elf, int machine) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(elf.toFile(), "rw")) {
            f.seek(18);
            f.write(machine & 0xff);
            f.write(machine >>> 8);
        }
    }

    /** The child: three uses of the library, each reported as LOADED or as the throwable it got. */
    public static final class Child {
        public static void main(String[] args) {
            Throwable first = use("first", Bce4j::version);
            use("second", () -> new BCELoss(Reduction.MEAN).close());
            use("third", Bce4j::nativeInfo);
            ChildJvm.printSection("cause", first == null || first.getCause() == null ? "none"
                    : first.getCause().getClass().getName() + ": " + first.getCause().getMessage());
        }

        private static Throwable use(String label, Runnable use) {
            try {
                use.run();
                ChildJvm.printSection(label, "LOADED");
                return null;
            } catch (Throwable t) {
                ChildJvm.printSection(label, t.getClass().getName() + ": " + t.getMessage());
                return t;
            }
        }
    }
}
