package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The data commands end to end, as a user runs them: synth, manifest build/verify, prepare, bench-data. */
class DataCliTest {
    @TempDir
    Path tmp;

    private record Result(int exit, String out, String err) {
    }

    private static Result run(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int exit = Main.execute(cl, args);
        return new Result(exit, out.toString(), err.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"synth", "manifest", "prepare", "bench-data"})
    void dataCommandsHaveHelp(String command) {
        Result r = run(command, "--help");
        assertThat(r.exit).isZero();
        assertThat(r.out).contains("Usage: alexnet4j " + command);
    }

    @Test
    void synthManifestVerifyPrepareAndBenchData() throws Exception {
        Path data = tmp.resolve("data");
        Result s = run("synth", "--out", data.toString(), "--classes", "3", "--train-per-class", "4",
                "--val-per-class", "2", "--odd-files", "--seed", "3");
        assertThat(s.exit).as(s.err).isZero();
        assertThat(s.out).contains("3 classes, 17 train and 6 val images (5 odd files");

        Result b = run("manifest", "build", "--data", data.toString());
        assertThat(b.exit).as(b.err).isZero();
        assertThat(b.out).contains("manifest.tsv: 3 classes, {train=17, val=6}");

        Result v = run("manifest", "verify", "--data", data.toString());
        assertThat(v.exit).isEqualTo(1);
        assertThat(v.out).contains("unreadable: 2").contains("n01440764_900004.JPEG: truncated JPEG")
                .contains("PROBLEMS FOUND");

        Path cache = tmp.resolve("cache");
        Result p = run("prepare", "--data", data.toString(), "--out", cache.toString(), "--threads", "2");
        assertThat(p.exit).as(p.err).isZero();
        assertThat(p.out).contains("images {train=15, val=6}, skipped {train=2, val=0}")
                .contains("training statistics");
        assertThat(cache.resolve("cache.json")).exists();
        assertThat(cache.resolve("stats/mean_image.npy")).exists();

        Result strict = run("prepare", "--data", data.toString(), "--out", tmp.resolve("c2").toString(), "--strict");
        assertThat(strict.exit).isEqualTo(1);
        assertThat(strict.err).contains("alexnet4j prepare: error: --strict: cannot read");

        Result bench = run("bench-data", "--data", data.toString(), "--cache", cache.toString(), "--threads", "1",
                "--images", "24", "--batch", "8", "--json");
        assertThat(bench.exit).as(bench.err).isZero();
        JsonNode j = new ObjectMapper().readTree(bench.out);
        assertThat(j.get("results")).hasSize(3);
        assertThat(j.get("results").get(0).get("pipeline").asText()).startsWith("datavec ImageRecordReader");
        for (JsonNode row : j.get("results")) {
            assertThat(row.get("images").asLong()).isGreaterThanOrEqualTo(24);
            assertThat(row.get("imagesPerSecond").asDouble()).isPositive();
        }
    }

    @Test
    void wrongLayoutAndMissingManifestAreClearErrors() throws Exception {
        Files.createDirectories(tmp.resolve("photos/cats"));
        Result r = run("manifest", "build", "--data", tmp.resolve("photos").toString());
        assertThat(r.exit).isEqualTo(1);
        assertThat(r.err).contains("no train/ or val/ folder").contains("train/<wnid>/*.JPEG");
        Result v = run("manifest", "verify", "--data", tmp.resolve("photos").toString());
        assertThat(v.err).contains("no manifest at").contains("manifest build");
        Result s = run("synth", "--out", tmp.resolve("x").toString(), "--classes", "1");
        assertThat(s.err).contains("--classes must be in 2..1000");
    }
}
