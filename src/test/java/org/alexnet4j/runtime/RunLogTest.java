package org.alexnet4j.runtime;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** SLF4J is bound to Log4j2 (not the silent NOP logger), and the run log receives every logger family's lines. */
class RunLogTest {

    @Test
    void slf4jIsBoundToLog4j() {
        // DL4J declares slf4j-api 1.7; with log4j-slf4j2-impl that would mean "NOP logger": no line at all
        assertThat(LoggerFactory.getILoggerFactory().getClass().getName())
                .isEqualTo("org.apache.logging.slf4j.Log4jLoggerFactory");
    }

    @Test
    void linesOfEveryLoggerFamilyReachTheFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("run.log");
        try (AutoCloseable ignored = RunLog.attach(file)) {
            Nd4j.getExecutioner().printEnvironmentInformation(); // ND4J's own INFO lines
            LoggerFactory.getLogger("org.deeplearning4j.nn.graph.ComputationGraph").info("dl4j line");
            LoggerFactory.getLogger(RunLogTest.class).info("our line");
        }
        LoggerFactory.getLogger(RunLogTest.class).info("after detach");
        String log = Files.readString(file);
        assertThat(log).contains("Blas vendor") // from ND4J itself, kept off the console but not out of the file
                .contains("org.deeplearning4j.nn.graph.ComputationGraph dl4j line")
                .contains("our line").doesNotContain("after detach");
    }
}
