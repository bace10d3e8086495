package org.alexnet4j.cli;

import org.alexnet4j.data.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** tune as a user runs it: a search, its reports, its best recipe trained by train --config, an extension. */
class TuneCliTest {
    @TempDir
    static Path tmp;
    static Path cache;
    static Path space;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
        space = tmp.resolve("space.json");
        Files.writeString(space, """
                {"base": {"width": 0.125, "batch": 8, "init": "he", "normalize": "channel", "optimizer": "adam"},
                 "parameters": {"lr": {"min": 1e-4, "max": 1e-2, "scale": "log"}, "weightDecay": [0, 0.0005]}}
                """);
    }

    @Test
    void aSearchWritesItsReportsAndItsBestRecipeTrains() throws Exception {
        Path dir = tmp.resolve("search");
        CliRunner.Result r = CliRunner.run("tune", "--data", cache.toString(), "--space", space.toString(),
                "--out", dir.toString(), "--candidates", "2", "--budget", "1e", "--limit-batches", "2",
                "--threads", "1", "--seed", "5");
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        assertThat(r.out()).contains("completed 2 candidates: 2 candidates trained in this session, 0 recalled")
                .contains("best: candidate").contains("train it: alexnet4j train --config");
        assertThat(Files.readAllLines(dir.resolve("results.csv"))).hasSize(3);
        assertThat(Files.readString(dir.resolve("results.md"))).contains("| rank | candidate | top-1 err");
        assertThat(dir.resolve("plots/score-vs-lr.png")).isNotEmptyFile();
        assertThat(dir.resolve("plots/score-vs-weightDecay.png")).isNotEmptyFile();
        assertThat(dir.resolve("tune.log")).isNotEmptyFile();
        assertThat(dir.resolve("candidates/c000/train.log")).isNotEmptyFile();

        CliRunner.Result t = CliRunner.run("train", "--config", dir.resolve("best-config.json").toString(),
                "--out", tmp.resolve("best-run").toString(), "--epochs", "1", "--limit-batches", "1");
        assertThat(t.exit()).as(t.err()).isEqualTo(0);
        assertThat(t.out()).contains("completed 1 epochs: 1 iterations");

        CliRunner.Result more = CliRunner.run("tune", "--resume", dir.toString(), "--candidates", "3");
        assertThat(more.exit()).as(more.err()).isEqualTo(0);
        assertThat(more.out()).contains("completed 3 candidates: 1 candidates trained in this session, 2 recalled");
        assertThat(Files.readAllLines(dir.resolve("results.csv"))).hasSize(4);
    }

    @Test
    void badInvocationsEndWithAClearMessage() throws Exception {
        CliRunner.Result noSpace = CliRunner.run("tune", "--data", cache.toString(), "--out",
                tmp.resolve("x").toString());
        assertThat(noSpace.exit()).isEqualTo(1);
        assertThat(noSpace.err()).contains("--space FILE is required");

        Path bad = tmp.resolve("bad-space.json");
        Files.writeString(bad, "{\"parameters\": {\"lr\": {\"min\": 0.1, \"max\": 0.01}}}");
        CliRunner.Result badSpace = CliRunner.run("tune", "--data", cache.toString(), "--space", bad.toString(),
                "--out", tmp.resolve("y").toString());
        assertThat(badSpace.exit()).isEqualTo(1);
        assertThat(badSpace.err()).contains(bad + ": \"lr\": min must be below max");

        CliRunner.Result badBudget = CliRunner.run("tune", "--data", cache.toString(), "--space", space.toString(),
                "--out", tmp.resolve("z").toString(), "--budget", "3 weeks");
        assertThat(badBudget.exit()).isEqualTo(1);
        assertThat(badBudget.err()).contains("--budget must be epochs (3e), iterations (200it) or time");

        CliRunner.Result mixed = CliRunner.run("tune", "--resume", tmp.resolve("z").toString(), "--space",
                space.toString());
        assertThat(mixed.exit()).isEqualTo(1);
        assertThat(mixed.err()).contains("only --candidates and --max-time may change");
    }
}
