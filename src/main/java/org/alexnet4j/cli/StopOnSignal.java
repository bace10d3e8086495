package org.alexnet4j.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns Ctrl-C (SIGINT/SIGTERM) into a stop request that long commands poll, and holds the JVM's exit until the
 * command has closed this (written its checkpoint), for at most two minutes.
 */
final class StopOnSignal implements AutoCloseable {
    private final AtomicBoolean stop = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Thread hook;

    StopOnSignal() {
        hook = new Thread(() -> {
            stop.set(true);
            try {
                finished.await(120, TimeUnit.SECONDS); // let the command write its checkpoint
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "alexnet4j-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a stop was requested. */
    boolean requested() {
        return stop.get();
    }

    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the JVM is exiting because of a signal: the hook is running and returns now
        }
    }
}
