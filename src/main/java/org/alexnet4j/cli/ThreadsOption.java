package org.alexnet4j.cli;

import picocli.CommandLine.Option;

/** The {@code --threads N} option of the data commands: worker threads, all cores by default. */
class ThreadsOption {
    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    Integer threads;

    int count() {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + n);
        }
        return n;
    }
}
