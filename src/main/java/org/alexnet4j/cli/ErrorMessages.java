package org.alexnet4j.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/**
 * Turns what went wrong into one sentence for the command line: what, which file, what to do. File system errors
 * carry only a path as their message ({@code NoSuchFileException: data/x.JPEG}); they are rendered by kind.
 */
final class ErrorMessages {
    private ErrorMessages() {
    }

    static String sentence(Throwable ex) {
        Throwable e = unwrap(ex);
        if (e instanceof FileSystemException f) {
            String file = f.getFile();
            String other = f.getOtherFile() != null ? " (and " + f.getOtherFile() + ")" : "";
            String reason = f.getReason();
            if (isNoSpace(reason)) {
                return "no space left on the device while writing " + file + other + ": free some space (or "
                        + "choose another place) and run the command again; what was written before is intact";
            }
            if (reason != null && reason.contains("Read-only file system")) {
                return file + other + " is on a read-only file system; choose a writable place";
            }
            if (reason != null && reason.contains("Not a directory")) {
                return file + other + " cannot be used: a part of its path is a file, not a directory; choose "
                        + "another place";
            }
            if (e instanceof NoSuchFileException) {
                return "no such file or directory: " + file + other + (reason != null ? " (" + reason + ")" : "")
                        + "; check the path";
            }
            if (e instanceof AccessDeniedException) {
                return "permission denied: " + file + other + "; check its permissions or choose another place";
            }
            if (e instanceof FileAlreadyExistsException) {
                return file + " already exists" + other + " and is in the way (a file where a directory is needed, "
                        + "or the reverse?); choose another name";
            }
            if (e instanceof NotDirectoryException) {
                return file + " is not a directory; give a directory there";
            }
            if (e instanceof DirectoryNotEmptyException) {
                return "directory not empty: " + file;
            }
            return "file system error on " + file + other + ": " + (reason != null ? reason : e.getClass()
                    .getSimpleName());
        }
        if (e instanceof IOException && isNoSpace(e.getMessage())) {
            return "no space left on the device: free some space (or choose another place) and run the command "
                    + "again; what was written before is intact";
        }
        String msg = e.getMessage();
        if (msg == null || msg.isBlank()) {
            return e.getClass().getSimpleName() + " (run with ALEXNET4J_DEBUG=1 for the stack trace)";
        }
        if (e instanceof IOException && !msg.contains(" ")) {
            return "input/output error: " + msg + " (" + e.getClass().getSimpleName() + ")";
        }
        return msg;
    }

    private static Throwable unwrap(Throwable e) {
        Throwable t = e;
        while ((t instanceof UncheckedIOException || t instanceof java.util.concurrent.ExecutionException
                || t instanceof java.util.concurrent.CompletionException) && t.getCause() != null) {
            t = t.getCause();
        }
        // a runtime wrapper of a file system error (DL4J and the worker pools wrap them)
        if (t instanceof RuntimeException && t.getCause() instanceof FileSystemException fse
                && (t.getMessage() == null || t.getMessage().contains(fse.getClass().getName()))) {
            return fse;
        }
        return t;
    }

    private static boolean isNoSpace(String s) {
        return org.alexnet4j.util.IoErrors.noSpace(s);
    }
}
