package org.alexnet4j.weights;

import java.nio.file.Path;
import java.util.UUID;

/**
 * Names for write-then-rename: a temporary file in the target's own directory (so the final move is atomic on the
 * same file system), created by the writer with the process's normal permissions (unlike
 * {@code Files.createTempFile}, which makes files readable by the owner only).
 */
final class AtomicFiles {
    private AtomicFiles() {
    }

    static Path tempSibling(Path file) {
        Path abs = file.toAbsolutePath();
        return abs.resolveSibling("." + abs.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8) + ".tmp");
    }
}
