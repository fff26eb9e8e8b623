package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.bytedeco.javacpp.Loader;

/**
 * A JVM of its own for tests of loading: its class path assembled in a temporary directory from copies of this
 * build's parts (the API classes without any natives, the natives of this platform, the test classes, JavaCPP's
 * jars), a JavaCPP cache of its own ({@code -Dorg.bytedeco.javacpp.cachedir}) so that nothing extracted earlier is
 * reused, and a time limit.
 */
final class ChildJvm {
    static final long TIMEOUT_SECONDS = 120;

    private ChildJvm() {}

    /** What a child printed, and how it ended. */
    record Result(int exitCode, String output) {
        /** The text a child printed between {@code <<label>>} and {@code <<end>>}; fails the test where absent. */
        String section(String label) {
            Matcher m = Pattern.compile("<<" + Pattern.quote(label) + ">>(.*?)<<end>>", Pattern.DOTALL)
                    .matcher(output);
            if (!m.find()) {
                fail("the child printed no " + label + " section; exit code " + exitCode + ", output:\n" + output);
            }
            return m.group(1);
        }
    }

    /** Prints {@code <<label>>text<<end>>} for {@link Result#section}. */
    static void printSection(String label, String text) {
        System.out.println("<<" + label + ">>" + text + "<<end>>");
    }

    /** The class path element (directory or jar) a class was loaded from. */
    static Path codeSource(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The directory or jar holding this build's natives for this platform ({@code org/bce4j/<platform>/}). */
    static Path nativesSource() {
        List<NativeLoader.NativeFile> files = NativeLoader.nativeFiles();
        String resource = Loader.getPlatform() + "/" + files.get(files.size() - 1).fileName(Loader.getPlatform());
        URL url = NativeLibrary.class.getResource(resource);
        assertNotNull(url, "this build's natives: " + resource);
        String s = url.toString();
        if (s.startsWith("jar:")) {
            return Path.of(URI.create(s.substring(4, s.indexOf("!/"))));
        }
        Path file = Path.of(URI.create(s));
        return file.getParent().getParent().getParent().getParent(); // above org/bce4j/<platform>/
    }

    /** Copies everything under {@code prefix} in a directory or jar to {@code target} (same relative paths). */
    static void copyTree(Path source, String prefix, Path target, java.util.function.Predicate<String> keep)
            throws IOException {
        if (Files.isDirectory(source)) {
            copyFrom(source, prefix, target, keep);
        } else {
            try (FileSystem jar = FileSystems.newFileSystem(source)) {
                copyFrom(jar.getPath("/"), prefix, target, keep);
            }
        }
    }

    private static void copyFrom(Path root, String prefix, Path target, java.util.function.Predicate<String> keep)
            throws IOException {
        Path start = root.resolve(prefix);
        if (!Files.exists(start)) {
            return;
        }
        try (Stream<Path> files = Files.walk(start)) {
            for (Path file : (Iterable<Path>) files::iterator) {
                if (!Files.isRegularFile(file)) {
                    continue;
                }
                String relative = root.relativize(file).toString().replace('\\', '/');
                if (!keep.test(relative)) {
                    continue;
                }
                Path copy = target.resolve(relative);
                Files.createDirectories(copy.getParent());
                Files.copy(file, copy, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** The API classes without natives: every entry but those under {@code org/bce4j/<platform>[-suffix]/}. */
    static Path apiClasses(Path target) throws IOException {
        copyTree(codeSource(NativeLibrary.class), "", target,
                path -> !path.matches("org/bce4j/[a-z]+-[a-z0-9_]+(-[a-z0-9]+)?/.*"));
        return target;
    }

    /** This platform's natives, copied to {@code target/org/bce4j/<platform>/}; returns that directory. */
    static Path nativesCopy(Path target) throws IOException {
        String dir = NativeLoader.RESOURCE_PACKAGE + Loader.getPlatform() + "/";
        copyTree(nativesSource(), dir, target, path -> path.startsWith(dir));
        return target.resolve(dir);
    }

    /** A jar holding the files under {@code directory}, with their paths relative to it. */
    static Path jar(Path directory, Path jar) throws IOException {
        Map<String, Path> entries = new TreeMap<>();
        try (Stream<Path> files = Files.walk(directory)) {
            files.filter(Files::isRegularFile)
                    .forEach(f -> entries.put(directory.relativize(f).toString().replace('\\', '/'), f));
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out)) {
            j.setLevel(java.util.zip.Deflater.NO_COMPRESSION); // a CUDA library can be large; speed matters here
            for (Map.Entry<String, Path> e : entries.entrySet()) {
                j.putNextEntry(new JarEntry(e.getKey()));
                Files.copy(e.getValue(), j);
                j.closeEntry();
            }
        }
        return jar;
    }

    /** JavaCPP's jars (its classes and its own natives), from this JVM's class path. */
    static List<Path> javacppJars() {
        List<Path> jars = new ArrayList<>();
        for (String element : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            Path p = Path.of(element);
            if (p.getFileName() != null && p.getFileName().toString().startsWith("javacpp")) {
                jars.add(p);
            }
        }
        if (jars.isEmpty()) {
            jars.add(codeSource(Loader.class));
        }
        return jars;
    }

    /**
     * Runs {@code main} in a JVM with the given class path (the test classes and JavaCPP's jars are added), a
     * JavaCPP cache under {@code work}, and the time limit; waits for it and returns what it printed.
     */
    static Result run(Path work, List<Path> classPath, Class<?> main, String... args) throws Exception {
        return run(work, List.of(), classPath, main, args);
    }

    /** As {@link #run(Path, List, Class, String...)}, with JVM options after the defaults (a later -Xmx wins). */
    static Result run(Path work, List<String> jvmOptions, List<Path> classPath, Class<?> main, String... args)
            throws Exception {
        List<Path> elements = new ArrayList<>(classPath);
        elements.add(codeSource(main));
        elements.addAll(javacppJars());
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx256m");
        command.addAll(jvmOptions);
        command.add("-Dorg.bytedeco.javacpp.cachedir=" + work.resolve("javacpp-cache"));
        command.add("-cp");
        command.add(String.join(java.io.File.pathSeparator, elements.stream().map(Path::toString).toList()));
        command.add(main.getName());
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().remove("BCE4J_CUDA_LIBRARY");
        return runProcess(builder, work, TIMEOUT_SECONDS);
    }

    /**
     * Runs a child process with a time limit, for every test that starts one: its output and errors go to a new file
     * in {@code work}, never to a pipe (a test that reads a pipe to its end before waiting hangs with the child), and
     * its input is closed, so that a child that reads it ends rather than waits. Waits at most {@code timeoutSeconds};
     * past that, kills the child and whatever it started, and fails with what it printed so far.
     */
    static Result runProcess(ProcessBuilder builder, Path work, long timeoutSeconds) throws Exception {
        Path log = Files.createTempFile(work, "child", ".log");
        Process child = builder.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        child.getOutputStream().close();
        if (!child.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            child.descendants().forEach(ProcessHandle::destroyForcibly);
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("the child process did not finish within " + timeoutSeconds + " s; output so far:\n" + read(log));
        }
        return new Result(child.exitValue(), read(log));
    }

    /** A child's output; bytes that are not UTF-8 (a crash report, say) are replaced rather than thrown over. */
    private static String read(Path log) throws IOException {
        return new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    }
}
