package org.bce4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** One version everywhere: the Maven project, CMake's project(VERSION), the header's macros and bce4j_version(). */
class VersionTest {
    private static Properties build() throws IOException {
        Properties p = new Properties();
        try (InputStream in = VersionTest.class.getResourceAsStream("/bce4j-build.properties")) {
            p.load(in);
        }
        return p;
    }

    private static String find(String text, String regex, String what) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), what + " not found by " + regex);
        return m.group(1);
    }

    @Test
    void mavenCmakeHeaderAndLibraryAgree() throws IOException {
        Properties p = build();
        String maven = p.getProperty("maven.version").replaceFirst("-SNAPSHOT$", "");
        String cmake = find(Files.readString(Path.of(p.getProperty("cmake.lists"))),
                "project\\(bce4j\\s+VERSION\\s+([0-9.]+)", "CMake's project(VERSION)");
        String header = Files.readString(Path.of(p.getProperty("header")));
        String macros = find(header, "#define BCE4J_VERSION_MAJOR (\\d+)", "BCE4J_VERSION_MAJOR") + "."
                + find(header, "#define BCE4J_VERSION_MINOR (\\d+)", "BCE4J_VERSION_MINOR") + "."
                + find(header, "#define BCE4J_VERSION_PATCH (\\d+)", "BCE4J_VERSION_PATCH");
        assertTrue(maven.matches("\\d+\\.\\d+\\.\\d+"), "Maven version " + maven);
        assertEquals(maven, cmake, "CMakeLists.txt project(VERSION) against the pom");
        assertEquals(maven, macros, "bce4j.h BCE4J_VERSION_* against the pom");
        assertEquals(maven, Bce4j.version(), "bce4j_version() of the loaded library against the pom");
    }
}
