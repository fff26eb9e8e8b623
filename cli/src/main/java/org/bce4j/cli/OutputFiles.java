package org.bce4j.cli;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Writes a command's .npy outputs: each to a temporary file first, all moved into place only once all are written. */
final class OutputFiles {
    private OutputFiles() {}

    /**
     * Writes every output to a temporary file in {@code dir}, then moves them into place; on failure removes them.
     *
     * @param dir the output directory, created if missing
     * @param outputs file name to array, in the order to write them
     * @throws IOException naming {@code dir}, if an output cannot be written; the files already there are unchanged
     */
    static void writeAll(Path dir, Map<String, Npy.Array> outputs) throws IOException {
        List<Path> temps = new ArrayList<>();
        boolean done = false;
        try {
            Files.createDirectories(dir);
            for (Map.Entry<String, Npy.Array> e : outputs.entrySet()) {
                // Not Files.createTempFile: its files are owner-only (0600), and the outputs keep the umask's mode.
                Path tmp = dir.resolve("." + e.getKey() + "." + UUID.randomUUID() + ".tmp");
                Files.createFile(tmp);
                temps.add(tmp);
                Npy.write(tmp, e.getValue());
            }
            int i = 0;
            for (String name : outputs.keySet()) {
                Path tmp = temps.get(i++);
                try {
                    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING,
                            StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException ex) {
                    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            done = true;
        } catch (IOException e) {
            throw new IOException(dir + ": cannot write the outputs: " + e, e);
        } finally {
            if (!done) {
                for (Path tmp : temps) {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // best effort: the original failure is what gets reported
                    }
                }
            }
        }
    }
}
