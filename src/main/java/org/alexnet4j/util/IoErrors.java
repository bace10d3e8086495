package org.alexnet4j.util;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;

/** What an I/O error means, in words (file system errors carry only a path as their message). */
public final class IoErrors {
    private IoErrors() {
    }

    /** E.g. "no space left on the device while writing run/checkpoints/ckpt-00000008.zip". */
    public static String describe(IOException e) {
        if (e instanceof FileSystemException f) {
            String file = f.getFile();
            String reason = f.getReason();
            if (noSpace(reason)) {
                return "no space left on the device while writing " + file;
            }
            if (reason != null && reason.contains("Read-only file system")) {
                return file + " is on a read-only file system";
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied on " + file;
            }
            if (e instanceof NoSuchFileException) {
                return "no such file or directory: " + file;
            }
            if (e instanceof java.nio.file.FileAlreadyExistsException
                    || e instanceof java.nio.file.NotDirectoryException) {
                return file + " is a file where a directory is needed (give a new or empty directory)";
            }
            return "could not write " + file + " (" + (reason != null ? reason : e.getClass().getSimpleName()) + ")";
        }
        if (noSpace(e.getMessage())) {
            return "no space left on the device";
        }
        return e.getMessage() != null && e.getMessage().contains(" ") ? e.getMessage()
                : "input/output error (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
    }

    public static boolean noSpace(String s) {
        return s != null && s.toLowerCase(Locale.ROOT).contains("no space left on device");
    }
}
