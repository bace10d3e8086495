package org.alexnet4j.util;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;

/**
 * Write-then-rename: a file is written under a temporary name in its own directory (so the final move is atomic on
 * the same file system) and moved into place only when complete, so a crash or a full disk never leaves a
 * half-written file under the final name. The temporary file gets the process's normal permissions (unlike
 * {@code Files.createTempFile}, which makes files readable by the owner only).
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes what {@code writer} puts at the path it is given, then moves it to {@code file}, replacing it. */
    public static void write(Path file, Writer writer) throws IOException {
        Path abs = file.toAbsolutePath();
        Files.createDirectories(abs.getParent());
        Path tmp = abs.resolveSibling("." + abs.getFileName() + "." + UUID.randomUUID().toString().substring(0, 8)
                + ".tmp");
        try {
            writer.writeTo(tmp);
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Deletes the temporary files a killed writer left in {@code dir} (never under a final name, but they take space:
     * a checkpoint's can be 450 MB). Call it only while holding the directory's lock.
     */
    public static void removeLeftovers(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String n = f.getFileName().toString();
                if (n.startsWith(".") && (n.endsWith(".tmp") || n.endsWith(".tmp.model"))) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    /** Writes a complete file at the given (temporary) path. */
    @FunctionalInterface
    public interface Writer {
        void writeTo(Path path) throws IOException;
    }
}
