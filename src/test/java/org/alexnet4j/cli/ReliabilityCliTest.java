package org.alexnet4j.cli;

import org.alexnet4j.data.Fixtures;
import org.alexnet4j.util.DirLock;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One writer per directory, checkpoints that can always be resumed, flags on resume honoured or refused, and errors
 * that are sentences.
 */
class ReliabilityCliTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
    }

    private static List<String> train(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", cache.toString()));
        a.addAll(List.of(TrainCliTest.RECIPE));
        a.addAll(List.of(extra));
        return a;
    }

    private static CliRunner.Result run(List<String> a) {
        return CliRunner.run(a.toArray(new String[0]));
    }

    @Test
    void aSecondWriterOfTheSameDirectoryIsRefused() throws Exception {
        Path dir = tmp.resolve("locked");
        try (DirLock l = DirLock.acquire(dir, "run directory")) {
            assertThatThrownBy(() -> DirLock.acquire(dir, "run directory"))
                    .hasMessageContaining("is in use by another alexnet4j task in this process")
                    .hasMessageContaining("pid " + ProcessHandle.current().pid());
            CliRunner.Result r = run(train("--out", dir.toString(), "--epochs", "1"));
            assertThat(r.exit()).isEqualTo(1);
            assertThat(r.err()).contains("the run directory " + dir + " is in use");
            CliRunner.Result p = CliRunner.run("prepare", "--data", tmp.resolve("synth").toString(), "--out",
                    dir.toString());
            assertThat(p.err()).contains("the cache " + dir + " is in use");
            Path space = tmp.resolve("space.json");
            Files.writeString(space, "{\"parameters\": {\"lr\": [0.001, 0.01]}}");
            CliRunner.Result t = CliRunner.run("tune", "--data", cache.toString(), "--space", space.toString(),
                    "--out", dir.toString());
            assertThat(t.err()).contains("the search directory " + dir + " is in use");
        }
        try (DirLock l = DirLock.acquire(dir, "run directory")) {
            assertThat(Files.readString(dir.resolve(DirLock.FILE))).startsWith("pid ");
        }
    }

    @Test
    void aDamagedLatestCheckpointFallsBackToTheNewestIntactOne() throws Exception {
        Path run = tmp.resolve("damaged");
        // 2 epochs, checkpoints after every step, then the latest cut short
        CliRunner.Result first = run(train("--out", run.toString(), "--epochs", "2", "--checkpoint-every", "1"));
        assertThat(first.exit()).as(first.err()).isZero();
        Path latest = run.resolve("checkpoints/ckpt-00000008.zip");
        byte[] bytes = Files.readAllBytes(latest);
        Files.write(latest, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        CliRunner.Result r = CliRunner.run("train", "--resume", run.toString(), "--epochs", "3", "--log-file",
                tmp.resolve("damaged.log").toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(tmp.resolve("damaged.log")))
                .contains("the latest checkpoint checkpoints/ckpt-00000008.zip is damaged")
                .contains("resuming from the intact checkpoints/ckpt-00000007.zip (iteration 7): 1 iterations will be "
                        + "replayed");
        assertThat(r.out()).contains("completed 3 epochs: 12 iterations");
        // every checkpoint damaged: a sentence saying so, nothing deleted
        Path bad = tmp.resolve("all-bad");
        assertThat(run(train("--out", bad.toString(), "--epochs", "1", "--keep-checkpoints", "1")).exit()).isZero();
        for (Path p : Files.list(bad.resolve("checkpoints")).filter(p -> p.toString().matches(".*ckpt-\\d+\\.zip"))
                .toList()) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(100);
            }
        }
        CliRunner.Result none = CliRunner.run("train", "--resume", bad.toString(), "--epochs", "2");
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("is damaged (100 bytes instead of").contains("no older intact checkpoint");
    }

    @Test
    void flagsOnResumeAreHonouredOrRefused() throws Exception {
        Path run = tmp.resolve("keep");
        assertThat(run(train("--out", run.toString(), "--epochs", "1", "--checkpoint-every", "1",
                "--keep-checkpoints", "10")).exit()).isZero();
        assertThat(zips(run)).hasSize(4);
        CliRunner.Result r = CliRunner.run("train", "--resume", run.toString(), "--epochs", "2",
                "--keep-checkpoints", "2");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(zips(run)).hasSize(2);
        for (String[] refused : new String[][]{{"--lr-patience", "5"}, {"--seed", "9"}, {"--width", "0.5"},
                {"--lr-factor", "0.5"}, {"--strict"}}) {
            List<String> a = new ArrayList<>(List.of("train", "--resume", run.toString()));
            a.addAll(List.of(refused));
            CliRunner.Result x = run(a);
            assertThat(x.exit()).as(String.join(" ", refused)).isEqualTo(1);
            assertThat(x.err()).contains("--resume continues the recipe in");
        }
    }

    private static List<Path> zips(Path run) throws Exception {
        try (var s = Files.list(run.resolve("checkpoints"))) {
            return s.filter(p -> p.getFileName().toString().matches("ckpt-\\d+\\.zip")).toList();
        }
    }

    /** What must never be the whole message: a bare path, or a stack trace. */
    private static final Pattern BARE = Pattern.compile("error: (/\\S+|\\S+/\\S+)\\s*$");

    @Test
    void errorsAreSentencesNotBarePathsOrStackTraces() throws Exception {
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "x");
        Path missing = tmp.resolve("missing");
        Path readOnly = tmp.resolve("read-only");
        Files.createDirectories(readOnly);
        List<String[]> wrong = List.of(
                new String[]{"bench-data", "--data", cache.toString(), "--images", "4"},
                new String[]{"prepare", "--data", missing.toString(), "--out", tmp.resolve("c1").toString()},
                new String[]{"prepare", "--data", cache.toString(), "--out", file.toString()},
                new String[]{"manifest", "build", "--data", file.toString()},
                new String[]{"manifest", "verify", "--data", missing.toString()},
                new String[]{"eval", "--data", missing.toString(), "--weights", file.toString()},
                new String[]{"eval", "--data", cache.toString(), "--run", missing.toString()},
                new String[]{"forward", "--weights", missing.toString(), "--input", file.toString(), "--output",
                        tmp.resolve("y.npy").toString()},
                new String[]{"import-weights", "--weights", file.toString(), "--out", tmp.resolve("m.zip").toString()},
                new String[]{"import-weights", "--weights", tmp.resolve("x.onnx").toString(), "--out",
                        tmp.resolve("m.zip").toString()},
                new String[]{"predict", "--weights", file.toString(), missing.toString()},
                new String[]{"features", "--run", missing.toString(), "--data", cache.toString(), "--out",
                        tmp.resolve("f.npz").toString()},
                new String[]{"train", "--data", missing.toString(), "--out", tmp.resolve("r1").toString()},
                new String[]{"train", "--resume", missing.toString()},
                new String[]{"train", "--data", cache.toString(), "--out", file.toString()},
                new String[]{"export-weights", "--checkpoint", file.toString(), "--out", tmp.resolve("w.npz")
                        .toString()},
                new String[]{"export-onnx", "--checkpoint", missing.toString(), "--out", tmp.resolve("o.onnx")
                        .toString()},
                new String[]{"tune", "--resume", missing.toString()},
                new String[]{"synth", "--out", file.toString(), "--classes", "2"});
        for (String[] a : wrong) {
            CliRunner.Result r = CliRunner.run(a);
            String what = String.join(" ", a) + " -> " + r.err();
            assertThat(r.exit()).as(what).isNotZero();
            String last = r.err().strip().lines().reduce((x, y) -> y).orElse("");
            assertThat(last).as(what).contains("error: ");
            assertThat(BARE.matcher(last).find()).as("bare path: " + what).isFalse();
            assertThat(r.err()).as(what).doesNotContain("\tat ").doesNotContain("Exception:");
            assertThat(last.substring(last.indexOf("error: ") + 7).split("\\s+").length).as(what)
                    .isGreaterThanOrEqualTo(4);
        }
    }
}
