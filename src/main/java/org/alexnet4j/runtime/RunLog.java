package org.alexnet4j.runtime;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.FileAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.layout.PatternLayout;

import java.nio.file.Path;

/**
 * Sends every log line (ours, DL4J's and ND4J's, at the levels log4j2.xml sets) to a file as well as the console:
 * the log of a run directory. Attached at run time, so it works whenever Log4j was initialised.
 */
public final class RunLog {
    private RunLog() {
    }

    /** Starts copying log lines to {@code file} (appending); returns a handle that stops it. */
    public static AutoCloseable attach(Path file) {
        LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
        Configuration config = ctx.getConfiguration();
        PatternLayout layout = PatternLayout.newBuilder().withConfiguration(config)
                .withPattern("%d{ISO8601} %-5level [%t] %c %msg%n").build();
        String name = "runlog-" + file.toAbsolutePath();
        FileAppender appender = FileAppender.newBuilder().setName(name).setConfiguration(config)
                .withFileName(file.toAbsolutePath().toString()).withAppend(true).setLayout(layout).build();
        appender.start();
        config.addAppender(appender);
        config.getRootLogger().addAppender(appender, null, null);
        for (LoggerConfig lc : config.getLoggers().values()) {
            if (!lc.isAdditive() && lc != config.getRootLogger()) {
                lc.addAppender(appender, null, null); // e.g. org.nd4j, which keeps its banner off the console
            }
        }
        ctx.updateLoggers();
        return () -> {
            for (LoggerConfig lc : config.getLoggers().values()) {
                lc.removeAppender(name);
            }
            config.getRootLogger().removeAppender(name);
            ctx.updateLoggers();
            appender.stop();
        };
    }
}
