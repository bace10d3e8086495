package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.data.SyntheticImageNet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real processes killed with SIGKILL at the worst moments: during {@code prepare}, during a checkpoint write, during
 * {@code tune}. Each rerun or resume continues from what was committed, with nothing half-written kept.
 */
class FaultProcessTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
    }

    private static void waitFor(Process p, String what, java.util.function.BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!done.getAsBoolean()) {
            assertThat(p.isAlive()).as(what + ": the process ended first").isTrue();
            assertThat(System.nanoTime()).as(what + " within 120 s").isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static long count(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).count();
        } catch (Exception e) {
            return 0;
        }
    }

    private static long iteration(Path run) {
        try {
            return TrainCliTest.iteration(run);
        } catch (Exception e) {
            return -1;
        }
    }

    private static void kill(Process p) throws Exception {
        p.destroyForcibly();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void prepareKilledMidwayResumesAndEndsAsAnUninterruptedOne() throws Exception {
        Path data = tmp.resolve("prep-data");
        SyntheticImageNet.generate(data, new SyntheticImageNet.Options(4, 40, 5, 3, false, true, 2));
        Path straight = tmp.resolve("prep-straight"), killed = tmp.resolve("prep-killed");
        CliRunner.Result s = CliRunner.run("prepare", "--data", data.toString(), "--out", straight.toString(),
                "--shard-size", "8", "--threads", "1");
        assertThat(s.exit()).as(s.err()).isZero();
        Process p = TrainCliTest.launch(List.of("prepare", "--data", data.toString(), "--out", killed.toString(),
                "--shard-size", "8", "--threads", "1"), tmp.resolve("prep.log"));
        waitFor(p, "two committed shards", () -> count(killed.resolve("train"), ".idx") >= 2);
        kill(p);
        assertThat(killed.resolve("cache.json")).doesNotExist();
        long committed = count(killed.resolve("train"), ".idx");
        CliRunner.Result r = CliRunner.run("prepare", "--data", data.toString(), "--out", killed.toString(),
                "--shard-size", "8", "--threads", "1");
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains(committed + " reused");
        try (Stream<Path> files = Files.list(killed.resolve("train"))) {
            assertThat(files.map(f -> f.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
        }
        for (String f : List.of("train/shard-00000.bin", "train/shard-00003.bin", "val/shard-00000.bin",
                "stats/mean_image.npy")) {
            assertThat(Files.readAllBytes(killed.resolve(f))).as(f).isEqualTo(Files.readAllBytes(straight.resolve(f)));
        }
    }

    @Test
    void aKillDuringACheckpointWriteLeavesThePreviousOneIntactAndResumes() throws Exception {
        Path run = tmp.resolve("ckpt-kill");
        List<String> a = new ArrayList<>(List.of("train", "--data", cache.toString(), "--out", run.toString()));
        a.addAll(List.of(TrainCliTest.RECIPE));
        a.addAll(List.of("--epochs", "2", "--checkpoint-every", "1", "--width", "0.5"));
        a.remove("--width");
        a.remove("0.125");
        Process p = TrainCliTest.launch(a, tmp.resolve("ckpt-kill.log"));
        Path dir = run.resolve("checkpoints");
        // wait until a checkpoint after the first is being written (its temporary file exists), then kill
        waitFor(p, "a checkpoint being written", () -> iteration(run) >= 2
                && count(dir, ".tmp") + count(dir, ".tmp.model") > 0);
        kill(p);
        String latest = new ObjectMapper().readTree(run.resolve("state.json").toFile()).get("checkpoint").asText();
        assertThat(run.resolve(latest)).exists();
        CliRunner.Result r = CliRunner.run("train", "--resume", run.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 2 epochs: 8 iterations");
        assertThat(count(dir, ".tmp")).isZero();
    }

    @Test
    void tuneKilledInACandidateResumes() throws Exception {
        Path space = tmp.resolve("space.json");
        Files.writeString(space, "{\"base\": {\"optimizer\": \"adam\", \"init\": \"he\", \"normalize\": "
                + "\"channel\", \"width\": 0.125, \"batch\": 8}, \"parameters\": {\"lr\": {\"min\": 1e-4, "
                + "\"max\": 1e-2, \"scale\": \"log\"}}}");
        Path search = tmp.resolve("search");
        Process p = TrainCliTest.launch(List.of("tune", "--data", cache.toString(), "--space", space.toString(),
                "--out", search.toString(), "--candidates", "4", "--budget", "1e", "--limit-batches", "3",
                "--threads", "1"), tmp.resolve("tune.log"));
        waitFor(p, "the second candidate", () -> Files.isDirectory(search.resolve("candidates/c001")));
        kill(p);
        CliRunner.Result r = CliRunner.run("tune", "--resume", search.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(Files.readString(search.resolve("results.csv")).lines().count()).isEqualTo(5); // header + 4
        assertThat(Files.readString(search.resolve("results.csv"))).doesNotContain("failed");
    }
}
