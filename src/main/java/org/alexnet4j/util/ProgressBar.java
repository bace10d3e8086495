package org.alexnet4j.util;

import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A progress bar for long jobs (done/total, percent, items per second, elapsed and ETA), drawn by me.tongfei's
 * progressbar: on a terminal it redraws one line on stderr every 200 ms; otherwise (CI, redirected output, a run's
 * log) it logs a line every 15 s through SLF4J, so logs stay readable. Thread-safe: workers call {@link #step(long)}.
 * This class only fixes the project's choices (units, intervals, ASCII in logs, the extra text such as a smoothed
 * loss) and keeps the rate and elapsed time the callers report.
 */
public final class ProgressBar implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProgressBar.class);
    private static final boolean TERMINAL = System.console() != null
            && !"false".equals(System.getProperty("alexnet4j.progress"));

    private final me.tongfei.progressbar.ProgressBar bar;
    private volatile Supplier<String> extra;
    /** The last line logged (the library renders the final state twice; a line with nothing done is noise). */
    private String logged;
    private volatile boolean closing;
    /** Characters of a logged line: the bar takes what the task, counts, times and rate leave of them. */
    private static final int LOG_WIDTH = 110;

    public ProgressBar(String task, long total, String unit) {
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(0, total))
                .setUnit(" " + unit, 1).showSpeed(new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(
                        Locale.ROOT)));
        if (TERMINAL) {
            b.setUpdateIntervalMillis(200);
        } else {
            b.setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(15_000)
                    .setConsumer(new DelegatingProgressBarConsumer(this::logLine, LOG_WIDTH));
        }
        this.bar = b.build();
    }

    /** Extra text shown after the rate, e.g. a smoothed loss (asked for as the bar advances). */
    public ProgressBar extra(Supplier<String> text) {
        this.extra = text;
        bar.setExtraMessage(" " + text.get());
        return this;
    }

    public void step(long n) {
        bar.stepBy(n);
        Supplier<String> e = extra;
        if (e != null) {
            bar.setExtraMessage(" " + e.get()); // the library puts it right after the rate
        }
    }

    public long done() {
        return bar.getCurrent();
    }

    /** Items per second so far. */
    public double rate() {
        double s = seconds();
        return s > 0 ? done() / s : 0;
    }

    public double seconds() {
        return bar.getTotalElapsed().toNanos() / 1e9;
    }

    @Override
    public void close() {
        closing = true;
        bar.close();
    }

    private synchronized void logLine(String line) {
        String l = line.strip();
        me.tongfei.progressbar.ProgressBar b = bar; // null while the library draws its first line in build()
        if (l.equals(logged) || (b == null || b.getCurrent() == 0) && !closing) {
            return;
        }
        logged = l;
        log.info(l);
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
