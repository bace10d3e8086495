package org.alexnet4j.util;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * A progress bar for long jobs: done/total, percent, items per second and ETA. On a terminal it redraws one line on
 * stderr at most every 200 ms; otherwise (CI, redirected output) it logs a line every 15 s, so logs stay readable.
 * Thread-safe: workers call {@link #step(long)}.
 */
public final class ProgressBar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProgressBar.class);
    private static final boolean TERMINAL = System.console() != null
            && !"false".equals(System.getProperty("alexnet4j.progress"));

    private final String task;
    private final long total;
    private final String unit;
    private final long start = System.nanoTime();
    private final AtomicLong done = new AtomicLong();
    private final PrintStream out = System.err;
    private volatile Supplier<String> extra = () -> "";
    private long lastDraw;
    private boolean closed;

    public ProgressBar(String task, long total, String unit) {
        this.task = task;
        this.total = Math.max(0, total);
        this.unit = unit;
        this.lastDraw = start;
    }

    /** Extra text shown after the rate, e.g. a smoothed loss. */
    public ProgressBar extra(Supplier<String> text) {
        this.extra = text;
        return this;
    }

    public void step(long n) {
        done.addAndGet(n);
        long now = System.nanoTime();
        long interval = TERMINAL ? 200_000_000L : 15_000_000_000L;
        if (now - lastDraw >= interval) {
            synchronized (this) {
                if (now - lastDraw >= interval && !closed) {
                    lastDraw = now;
                    draw(false);
                }
            }
        }
    }

    public long done() {
        return done.get();
    }

    /** Items per second so far. */
    public double rate() {
        double s = (System.nanoTime() - start) / 1e9;
        return s > 0 ? done.get() / s : 0;
    }

    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            draw(true);
        }
    }

    private void draw(boolean last) {
        long d = done.get();
        double secs = seconds();
        double rate = secs > 0 ? d / secs : 0;
        String eta = (rate > 0 && total > d) ? time((total - d) / rate) : "0:00";
        String e = extra.get();
        String text;
        if (TERMINAL) {
            int width = 24;
            int fill = total > 0 ? (int) Math.min(width, width * d / total) : 0;
            text = String.format(Locale.ROOT, "%s [%s%s] %d/%d %3.0f%% %.1f %s/s %s %s", task,
                    "=".repeat(fill), " ".repeat(width - fill), d, total, total > 0 ? 100.0 * d / total : 0, rate,
                    unit, last ? "in " + time(secs) : "eta " + eta, e);
            out.print("\r" + text + "   ");
            if (last) {
                out.println();
            }
            out.flush();
        } else {
            text = String.format(Locale.ROOT, "%s %d/%d (%.0f%%) %.1f %s/s %s %s", task, d, total,
                    total > 0 ? 100.0 * d / total : 0, rate, unit, last ? "in " + time(secs) : "eta " + eta, e);
            log.info(text.trim());
        }
    }

    /** h:mm:ss or m:ss. */
    public static String time(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
        }
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
