package org.bce4j;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Loads bce4j's native libraries for {@link NativeLibrary}'s static initialiser and, where that fails, finds out
 * why and throws an {@link UnsatisfiedLinkError} that says what to do, keeping JavaCPP's error as its cause.
 * Every later use of the library throws that same error again (through {@link #ensureLoaded()}, which the public
 * entry points call first), rather than a bare {@link NoClassDefFoundError}.
 *
 * <p>The file names come from {@link NativeLibrary}'s {@link Platform} annotation, read the way JavaCPP reads it:
 * its preloads (the OpenMP runtime), its links (libbce4j) and its library (the JNI glue), in that order, which is
 * the order they depend on each other; {@code "name@.1"} is {@code libname.so.1} or else {@code libname.so}.
 *
 * <p>The diagnosis: are the natives of this platform ({@link Loader#getPlatform()}) on the class path at all (if
 * not: which artifact to add, and which other platform's natives are there instead); otherwise each file in turn
 * is checked (ELF class and machine against this JVM's architecture) and loaded with {@link System#load}, and the
 * first failure, with the dynamic loader's own reason, is the one reported, with the glibc of this system where the
 * loader asked for a newer one.
 */
final class NativeLoader {
    /** The natives' resources live under {@code org/bce4j/<platform>/}, beside this class. */
    static final String RESOURCE_PACKAGE = "org/bce4j/";

    /** Where the API jar's Maven metadata says its version. */
    private static final String POM_PROPERTIES = "/META-INF/maven/org.bce4j/bce4j/pom.properties";

    /** The platforms bce4j might ship natives for, to recognise another platform's natives on the class path. */
    private static final String[] KNOWN_PLATFORMS = {"linux-x86_64", "linux-arm64", "linux-ppc64le", "linux-x86",
        "linux-armhf", "linux-riscv64", "macosx-x86_64", "macosx-arm64", "windows-x86_64", "windows-x86"};

    private static volatile boolean loaded;
    private static volatile String jniLibraryPath;
    private static volatile UnsatisfiedLinkError failure;

    private NativeLoader() {}

    /**
     * NativeLibrary's static initialiser: loads the natives through JavaCPP or throws the diagnosed error, which it
     * remembers for {@link #ensureLoaded()}.
     */
    static void loadFromNativeLibraryInitializer() {
        try {
            jniLibraryPath = Loader.load(NativeLibrary.class);
            loaded = true;
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            UnsatisfiedLinkError clear = diagnose(e);
            failure = clear;
            throw clear;
        }
    }

    /**
     * Makes sure the natives are loaded: cheap once they are; the first time, loads them (by initialising
     * {@link NativeLibrary}); after a failure, throws the same diagnosed error every time.
     *
     * @throws UnsatisfiedLinkError where the natives cannot be loaded, saying why
     */
    static void ensureLoaded() {
        if (loaded) {
            return;
        }
        UnsatisfiedLinkError known = failure;
        if (known == null) {
            try {
                NativeLibrary.initialize();
                return;
            } catch (NoClassDefFoundError e) {
                // NativeLibrary's initialisation failed in another thread, which recorded why first.
                known = failure;
                if (known == null) {
                    throw e;
                }
            }
        }
        throw known;
    }

    /** The file JavaCPP loaded the JNI glue from, or its library name where JavaCPP does not know the file. */
    static String jniLibraryPath() {
        ensureLoaded();
        String path = jniLibraryPath;
        if (path == null || path.indexOf(File.separatorChar) < 0) {
            String known = Loader.getLoadedLibraries().get(NativeLibrary.class.getAnnotation(Platform.class).library());
            if (known != null) {
                path = known;
            }
        }
        return path == null ? "" : path;
    }

    /**
     * A resource of the natives jars, relative to this package ({@code linux-x86_64/libbce4j.so.1}), or null. Found
     * as JavaCPP's Loader finds the libraries: on the module path they are in modules of their own, which
     * {@code Class.getResource} of this module would not search.
     */
    static URL resource(String relative) {
        try {
            return Loader.findResource(NativeLibrary.class, relative);
        } catch (IOException e) {
            return null;
        }
    }

    // ---- The files ------------------------------------------------------------------------------------------------

    /** One native library of the natives jar: the JavaCPP name it has in the annotation, and what it is. */
    record NativeFile(String libnameversion, String role, List<String> candidates) {
        /** The file name reported: the candidate present among the resources, else the one expected first. */
        String fileName(String platform) {
            for (String candidate : candidates) {
                if (NativeLoader.resource(platform + "/" + candidate) != null) {
                    return candidate;
                }
            }
            return candidates.get(0);
        }

        /** The resource of this platform JavaCPP would load, or null where there is none. */
        URL resource(String platform) {
            for (String candidate : candidates) {
                URL url = NativeLoader.resource(platform + "/" + candidate);
                if (url != null) {
                    return url;
                }
            }
            return null;
        }
    }

    /** The natives in dependency order: the preloads (the OpenMP runtime), the links (libbce4j), the JNI glue. */
    static List<NativeFile> nativeFiles() {
        Platform platform = NativeLibrary.class.getAnnotation(Platform.class);
        Properties properties = Loader.loadProperties();
        String prefix = properties.getProperty("platform.library.prefix", "");
        String suffix = properties.getProperty("platform.library.suffix", "");
        List<NativeFile> files = new ArrayList<>();
        for (String name : platform.preload()) {
            files.add(nativeFile(name, "the OpenMP runtime that bce4j bundles", prefix, suffix));
        }
        for (String name : platform.link()) {
            files.add(nativeFile(name, "the bce4j library", prefix, suffix));
        }
        files.add(nativeFile(platform.library(), "the JNI glue", prefix, suffix));
        return files;
    }

    /** JavaCPP's candidate file names for {@code "name@version"} (Loader.findLibrary's styles). */
    private static NativeFile nativeFile(String libnameversion, String role, String prefix, String suffix) {
        String[] split = libnameversion.split("@");
        String name = split[0];
        String version = split.length > 1 ? split[split.length - 1] : "";
        List<String> candidates = version.isEmpty()
                ? List.of(prefix + name + suffix)
                : List.of(prefix + name + suffix + version, prefix + name + version + suffix, prefix + name + suffix);
        return new NativeFile(libnameversion, role, candidates);
    }

    // ---- The diagnosis --------------------------------------------------------------------------------------------

    /** The error to throw for JavaCPP's {@code original}: what is wrong and what to do, with the original as cause. */
    static UnsatisfiedLinkError diagnose(Throwable original) {
        String platform = Loader.getPlatform();
        String jvm = "os.name " + System.getProperty("os.name") + ", os.arch " + System.getProperty("os.arch");
        List<NativeFile> files = nativeFiles();
        NativeFile glue = files.get(files.size() - 1);
        URL glueResource = glue.resource(platform);
        String version = artifactVersion();
        String artifact = "org.bce4j:bce4j:" + version + ":" + platform;
        StringBuilder message = new StringBuilder("bce4j could not load its native libraries: ");
        if (glueResource == null) {
            message.append("there are none for ").append(platform).append(", the platform of this JVM (").append(jvm)
                    .append("), on the class path (no resource ").append(RESOURCE_PACKAGE).append(platform).append('/')
                    .append(glue.fileName(platform)).append("). Add the artifact ").append(artifact)
                    .append(", which holds them, or org.bce4j:bce4j-platform, which brings those of every platform")
                    .append(" bce4j is built for")
                    .append(version.equals("<version>") ? ", <version> being that of your org.bce4j:bce4j." : ".");
            List<String> others = otherPlatformsPresent(platform, glue);
            if (!others.isEmpty()) {
                message.append(" The class path has bce4j natives for ").append(String.join(", ", others))
                        .append(" only, which cannot run on this JVM.");
            }
            if (NativeLibrary.class.getModule().isNamed()) {
                message.append(" On the module path the natives are a module that nothing requires: run with")
                        .append(" --add-modules ALL-MODULE-PATH (or --add-modules org.bce4j.")
                        .append(platform.replace('-', '.')).append(").");
            }
        } else {
            message.append("the natives for ").append(platform).append(" (").append(jvm).append(") in ")
                    .append(origin(glueResource)).append(": ");
            List<NativeFile> missing = new ArrayList<>();
            String problem = null;
            for (NativeFile file : files) {
                URL resource = file.resource(platform);
                if (resource == null) {
                    missing.add(file);
                    continue;
                }
                problem = tryToLoad(file, resource, platform, artifact);
                if (problem != null) {
                    break;
                }
            }
            if (problem == null) {
                problem = "each loads when tried one by one, so JavaCPP's own error (the cause) must say why: "
                        + original;
            }
            message.append(problem);
            for (NativeFile file : missing) {
                message.append(" They lack ").append(file.fileName(platform)).append(", ").append(file.role())
                        .append(" (resource ").append(RESOURCE_PACKAGE).append(platform).append('/')
                        .append(file.fileName(platform)).append("): use an unmodified ").append(artifact).append('.');
            }
        }
        UnsatisfiedLinkError error = new UnsatisfiedLinkError(message.toString());
        error.initCause(original);
        return error;
    }

    /** Loads one file as JavaCPP would; null where it loads, otherwise what went wrong. */
    private static String tryToLoad(NativeFile file, URL resource, String platform, String artifact) {
        String name = file.fileName(platform);
        File local;
        try {
            local = localFile(resource);
        } catch (IOException | RuntimeException e) {
            return name + " (" + file.role() + ") could not be extracted from " + resource + ": " + e;
        }
        if (local == null) {
            return name + " (" + file.role() + ") could not be extracted from " + resource;
        }
        String foreign = LibraryFileChecks.foreignArchitecture(local);
        if (foreign != null) {
            return name + " (" + file.role() + ", " + local + ") " + foreign + ": these natives are not those of "
                    + platform + "; use " + artifact + ".";
        }
        try {
            System.load(local.getAbsolutePath());
            return null;
        } catch (UnsatisfiedLinkError e) {
            return name + " (" + file.role() + ", " + local + ") failed to load: " + e.getMessage() + "."
                    + LibraryFileChecks.libraryHint(e.getMessage());
        }
    }

    /** A class path directory's file as it is (JavaCPP loads those in place), a jar's extracted into the cache. */
    private static File localFile(URL resource) throws IOException {
        if ("file".equals(resource.getProtocol())) {
            try {
                return new File(resource.toURI());
            } catch (URISyntaxException | IllegalArgumentException e) {
                return new File(resource.getPath());
            }
        }
        return Loader.cacheResource(resource);
    }

    /** The jar or directory a resource comes from, for people. */
    private static String origin(URL resource) {
        String s = resource.toString();
        if (s.startsWith("jar:") && s.contains("!/")) {
            s = s.substring(4, s.indexOf("!/"));
        } else {
            s = s.substring(0, s.lastIndexOf('/') + 1);
        }
        return s.startsWith("file:") ? Paths.get(java.net.URI.create(s)).toString() : s;
    }

    /** The other platforms whose JNI glue is on the class path. */
    private static List<String> otherPlatformsPresent(String platform, NativeFile glue) {
        String name = glue.libnameversion().split("@")[0];
        List<String> present = new ArrayList<>();
        for (String other : KNOWN_PLATFORMS) {
            String file = other.startsWith("windows") ? name + ".dll"
                    : other.startsWith("macosx") ? "lib" + name + ".dylib" : "lib" + name + ".so";
            if (!other.equals(platform) && NativeLoader.resource(other + "/" + file) != null) {
                present.add(other);
            }
        }
        return present;
    }

    /** The version of the API jar, from its Maven metadata; a placeholder where that is not on the class path. */
    private static String artifactVersion() {
        try (InputStream in = NativeLoader.class.getResourceAsStream(POM_PROPERTIES)) {
            if (in != null) {
                Properties properties = new Properties();
                properties.load(in);
                String version = properties.getProperty("version");
                if (version != null && !version.isBlank()) {
                    return version;
                }
            }
        } catch (IOException e) {
            // the placeholder below
        }
        String version = NativeLoader.class.getPackage().getImplementationVersion();
        return version != null ? version : "<version>";
    }
}
