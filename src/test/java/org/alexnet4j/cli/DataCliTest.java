package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The data commands end to end, as a user runs them: synth, manifest build/verify, prepare, bench-data. */
class DataCliTest {
    private static CliRunner.Result run(String... args) {
        return CliRunner.run(args);
    }

    @TempDir
    Path tmp;


    @Test
    void synthManifestVerifyPrepareAndBenchData() throws Exception {
        Path data = tmp.resolve("data");
        CliRunner.Result s = run("synth", "--out", data.toString(), "--classes", "3", "--train-per-class", "4",
                "--val-per-class", "2", "--odd-files", "--seed", "3");
        assertThat(s.exit()).as(s.err()).isZero();
        assertThat(s.out()).contains("3 classes, 17 train and 6 val images (5 odd files");

        CliRunner.Result b = run("manifest", "build", "--data", data.toString());
        assertThat(b.exit()).as(b.err()).isZero();
        assertThat(b.out()).contains("manifest.tsv: 3 classes, {train=17, val=6}");

        CliRunner.Result v = run("manifest", "verify", "--data", data.toString());
        assertThat(v.exit()).isEqualTo(1);
        assertThat(v.out()).contains("unreadable: 2").contains("n01440764_900004.JPEG: truncated JPEG")
                .contains("PROBLEMS FOUND");

        Path cache = tmp.resolve("cache");
        CliRunner.Result p = run("prepare", "--data", data.toString(), "--out", cache.toString(), "--threads", "2");
        assertThat(p.exit()).as(p.err()).isZero();
        assertThat(p.out()).contains("images {train=15, val=6}, skipped {train=2, val=0}")
                .contains("training statistics");
        assertThat(cache.resolve("cache.json")).exists();
        assertThat(cache.resolve("stats/mean_image.npy")).exists();

        Path aFile = Files.writeString(tmp.resolve("not-a-dir"), "x");
        CliRunner.Result onFile = run("prepare", "--data", data.toString(), "--out", aFile.toString());
        assertThat(onFile.exit()).isEqualTo(1);
        assertThat(onFile.err()).contains(aFile + " is a file where a directory is needed");

        CliRunner.Result strict = run("prepare", "--data", data.toString(), "--out", tmp.resolve("c2").toString(), "--strict");
        assertThat(strict.exit()).isEqualTo(1);
        assertThat(strict.err()).contains("alexnet4j prepare: error: --strict: cannot read");

        CliRunner.Result bench = run("bench-data", "--data", data.toString(), "--cache", cache.toString(), "--threads", "1",
                "--images", "24", "--batch", "8", "--json");
        assertThat(bench.exit()).as(bench.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(bench.out());
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
        CliRunner.Result r = run("manifest", "build", "--data", tmp.resolve("photos").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("no train/ or val/ folder").contains("train/<class>/");
        CliRunner.Result v = run("manifest", "verify", "--data", tmp.resolve("photos").toString());
        assertThat(v.err()).contains("no manifest at").contains("manifest build");
        CliRunner.Result s = run("synth", "--out", tmp.resolve("x").toString(), "--classes", "1");
        assertThat(s.err()).contains("--classes must be in 2..1000");
    }
}
