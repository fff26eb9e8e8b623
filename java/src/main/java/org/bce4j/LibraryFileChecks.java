package org.bce4j;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@link NativeLoader}'s diagnosis adds to a dynamic loader's message: whether a library file suits this JVM's
 * architecture (its ELF header), and which C library this system has where the loader asked for a newer one.
 */
final class LibraryFileChecks {
    private LibraryFileChecks() {}

    // ---- ELF ------------------------------------------------------------------------------------------------------

    /**
     * Where a Linux JVM is given a library of another architecture or format, says so ("is built for aarch64, but
     * this JVM runs on x86_64"); null where the file suits this JVM, or cannot be judged.
     */
    static String foreignArchitecture(File file) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return null;
        }
        byte[] header = new byte[20];
        try (RandomAccessFile in = new RandomAccessFile(file, "r")) {
            in.readFully(header);
        } catch (IOException e) {
            return null; // too short or unreadable: the dynamic loader will say
        }
        if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') {
            int magic = ((header[0] & 0xff) << 24) | ((header[1] & 0xff) << 16) | ((header[2] & 0xff) << 8)
                    | (header[3] & 0xff);
            String kind = magic == 0xcafebabe || magic == 0xfeedface || magic == 0xfeedfacf || magic == 0xcefaedfe
                    || magic == 0xcffaedfe ? "a macOS (Mach-O) library"
                    : header[0] == 'M' && header[1] == 'Z' ? "a Windows (PE) library" : "of an unknown format";
            return "is not an ELF library but " + kind;
        }
        boolean bits64 = header[4] == 2;
        boolean littleEndian = header[5] == 1;
        int machine = littleEndian ? (header[18] & 0xff) | ((header[19] & 0xff) << 8)
                : ((header[18] & 0xff) << 8) | (header[19] & 0xff);
        String built = elfArchitecture(machine, bits64, littleEndian);
        String osArch = System.getProperty("os.arch", "");
        String running = jvmArchitecture(osArch);
        if (running == null || built.equals(running)) {
            return null;
        }
        return "is built for " + built + ", but this JVM runs on " + running;
    }

    /** The architecture an ELF header names, in the names {@link #jvmArchitecture} gives. */
    private static String elfArchitecture(int machine, boolean bits64, boolean littleEndian) {
        return switch (machine) {
            case 62 -> bits64 ? "x86_64" : "x32";
            case 3 -> "x86";
            case 183 -> "aarch64";
            case 40 -> "arm";
            case 21 -> littleEndian ? "ppc64le" : "ppc64";
            case 243 -> bits64 ? "riscv64" : "riscv32";
            case 22 -> "s390x";
            case 258 -> "loongarch64";
            default -> "ELF machine " + machine + (bits64 ? " (64-bit)" : " (32-bit)");
        };
    }

    /** This JVM's architecture from os.arch; null where it is not one of those {@link #elfArchitecture} names. */
    private static String jvmArchitecture(String osArch) {
        return switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x86-64" -> "x86_64";
            case "x86", "i386", "i486", "i586", "i686" -> "x86";
            case "aarch64", "arm64" -> "aarch64";
            case "arm", "armv7l", "armhf", "aarch32" -> "arm";
            case "ppc64le" -> "ppc64le";
            case "ppc64" -> "ppc64";
            case "riscv64" -> "riscv64";
            case "s390x" -> "s390x";
            case "loongarch64" -> "loongarch64";
            default -> null;
        };
    }

    // ---- The C libraries of this system ---------------------------------------------------------------------------

    /** A hint for a dynamic loader message that names a too-old glibc or libstdc++, or where the libc is musl. */
    static String libraryHint(String loaderMessage) {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("linux")) {
            return "";
        }
        String libc = systemLibc();
        if (libc != null && libc.startsWith("musl")) {
            return " This system's C library is musl (as on Alpine Linux), and bce4j's Linux natives need glibc.";
        }
        if (loaderMessage != null && loaderMessage.contains("GLIBC_")) {
            return libc != null ? " This system has " + libc + ", older than these natives need."
                    : " This system's glibc is older than these natives need.";
        }
        if (loaderMessage != null && (loaderMessage.contains("GLIBCXX_") || loaderMessage.contains("CXXABI_"))) {
            return " This system's libstdc++ (libstdc++.so.6) is older than these natives need.";
        }
        return "";
    }

    private static final Pattern GLIBC_FILE = Pattern.compile("libc-(\\d+\\.\\d+)\\.so$");
    private static final Pattern GLIBC_BANNER = Pattern.compile("release version (\\d+\\.\\d+)");

    /**
     * This process's C library, "glibc 2.36" or "musl", from the files mapped into it (/proc/self/maps) and, for
     * glibc, the version banner inside libc.so.6; null where that cannot be told.
     */
    static String systemLibc() {
        List<String> maps;
        try {
            maps = Files.readAllLines(Paths.get("/proc/self/maps"), StandardCharsets.ISO_8859_1);
        } catch (IOException | RuntimeException e) {
            return null;
        }
        for (String line : maps) {
            int slash = line.indexOf('/');
            if (slash < 0) {
                continue;
            }
            String path = line.substring(slash);
            String name = path.substring(path.lastIndexOf('/') + 1);
            if (name.startsWith("ld-musl") || name.startsWith("libc.musl")) {
                return "musl";
            }
            Matcher file = GLIBC_FILE.matcher(name);
            if (file.find()) {
                return "glibc " + file.group(1);
            }
            if (name.equals("libc.so.6")) {
                try {
                    Matcher banner = GLIBC_BANNER.matcher(
                            new String(Files.readAllBytes(Path.of(path)), StandardCharsets.ISO_8859_1));
                    return banner.find() ? "glibc " + banner.group(1) : "glibc";
                } catch (IOException | RuntimeException e) {
                    return "glibc";
                }
            }
        }
        return null;
    }
}
