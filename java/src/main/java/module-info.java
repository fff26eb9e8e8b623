/**
 * bce4j: binary cross-entropy loss, forward and backward, over off-heap memory (see the package {@link org.bce4j}).
 *
 * <p>On the module path the natives come from modules of their own ({@code org.bce4j.linux.x86_64}, and
 * {@code org.bytedeco.javacpp.linux.x86_64} for JavaCPP's), which nothing requires: as with JavaCPP's presets, run
 * with {@code --add-modules ALL-MODULE-PATH} (or name them) so that they are part of the module graph, and with
 * {@code --enable-native-access=org.bce4j,org.bytedeco.javacpp} on JDK 22 and later.
 */
module org.bce4j {
    requires transitive org.bytedeco.javacpp;

    exports org.bce4j;
}
