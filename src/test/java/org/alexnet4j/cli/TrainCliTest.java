package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * train and eval as a user runs them, including a real SIGKILL (kill -9) and a SIGTERM (what Ctrl-C and `kill`
 * send) of a training process, each resumed to the end.
 */
class TrainCliTest {
    @TempDir
    static Path tmp;
    static Path cache;
    static final String[] RECIPE = {"--width", "0.125", "--batch", "8", "--limit-batches", "4",
            "--init", "he", "--normalize", "channel", "--threads", "1", "--log-every", "1"};

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
    }

    static List<String> args(String... extra) {
        List<String> a = new ArrayList<>(List.of("train", "--data", cache.toString()));
        a.addAll(List.of(RECIPE));
        a.addAll(List.of(extra));
        return a;
    }

    static Process launch(List<String> cliArgs, Path log) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g", "-Dorg.bytedeco.javacpp.maxbytes=6G", "-Dorg.bytedeco.javacpp.maxphysicalbytes=8G",
                "-cp", System.getProperty("java.class.path"), "org.alexnet4j.cli.Main"));
        cmd.addAll(cliArgs);
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    static long iteration(Path run) throws Exception {
        Path state = run.resolve("state.json");
        if (!Files.exists(state)) {
            return -1;
        }
        try {
            return new ObjectMapper().readTree(state.toFile()).get("iteration").asLong();
        } catch (Exception e) {
            return -1; // cannot happen with atomic writes, but do not fail the poll on it
        }
    }

    static void waitForIteration(Process p, Path run, long n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (iteration(run) < n) {
            assertThat(p.isAlive()).as("training process ended early").isTrue();
            assertThat(System.nanoTime()).as("no checkpoint at iteration %d within 120 s", n).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @Test
    void aRunKilledWithSigkillResumesToTheSameIterationCount() throws Exception {
        Path straight = tmp.resolve("straight");
        CliRunner.Result s = CliRunner.run(args("--out", straight.toString(), "--epochs", "3").toArray(new String[0]));
        assertThat(s.exit()).as(s.err()).isZero();
        assertThat(s.out()).contains("completed 3 epochs: 12 iterations");

        Path run = tmp.resolve("killed");
        Process p = launch(args("--out", run.toString(), "--epochs", "3", "--checkpoint-every", "1"), tmp.resolve("killed.log"));
        waitForIteration(p, run, 5);
        // a second writer while the first runs is refused, naming it
        CliRunner.Result second = CliRunner.run("train", "--resume", run.toString());
        assertThat(second.exit()).isEqualTo(1);
        assertThat(second.err()).contains("is in use by another alexnet4j process (pid " + p.pid() + " on ");
        p.destroyForcibly(); // SIGKILL: no hook, no last checkpoint
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        long atKill = iteration(run);
        assertThat(atKill).isBetween(5L, 11L);

        CliRunner.Result r = CliRunner.run("train", "--resume", run.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        assertThat(r.out()).contains("completed 3 epochs: 12 iterations, 3 epochs");
        JsonNode a = new ObjectMapper().readTree(straight.resolve("result.json").toFile());
        JsonNode b = new ObjectMapper().readTree(run.resolve("result.json").toFile());
        assertThat(b.get("iterations").asLong()).isEqualTo(a.get("iterations").asLong());
        assertThat(b.get("valTop1Error").asDouble()).isEqualTo(a.get("valTop1Error").asDouble());
        assertThat(Files.readAllLines(run.resolve("metrics.csv"))).hasSize(4);
    }

    @Test
    void sigtermWritesACheckpointAndExitsThenEvalReportsTopOneAndTopFive() throws Exception {
        Path run = tmp.resolve("terminated");
        Process p = launch(args("--out", run.toString(), "--epochs", "50"), tmp.resolve("term.log"));
        waitForIteration(p, run, 4); // the epoch-end checkpoint after epoch 1
        p.destroy(); // SIGTERM, like Ctrl-C
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String log = Files.readString(tmp.resolve("term.log"));
        assertThat(Files.readString(run.resolve("train.log"))).as("process output:\n" + log)
                .contains("interrupted; resume with --resume");
        long at = iteration(run);
        assertThat(at).isGreaterThanOrEqualTo(4);
        assertThat(log).doesNotContain("Exception");

        CliRunner.Result e = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(), "--batch", "20");
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(e.out()).contains("centre crop: top-1 error").contains("10 crops:    top-1 error")
                .contains("(12 images)");
        JsonNode j = new ObjectMapper().readTree(run.resolve("eval/eval.json").toFile());
        assertThat(j.get("tenCrop").get("images").asInt()).isEqualTo(12);
        assertThat(j.get("chanceTop1Error").asDouble()).isCloseTo(2 / 3.0, org.assertj.core.api.Assertions.within(1e-9));
        assertThat(Files.readAllLines(run.resolve("eval/per_class.csv"))).hasSize(4);

        CliRunner.Result bad = CliRunner.run("train", "--data", cache.toString(), "--out", run.toString());
        assertThat(bad.err()).contains("already holds a run; use --resume");
        CliRunner.Result cfg = CliRunner.run("train", "--resume", run.toString(), "--lr", "0.1");
        assertThat(cfg.err()).contains("only --epochs, --max-iters");
        CliRunner.Result cache2 = CliRunner.run("train", "--data", cache.toString(), "--out",
                run.resolveSibling("other").toString(), "--cache-mode", "host");
        assertThat(cache2.err()).contains("--cache-mode must be device or none, got host");
    }

    @Test
    void devicesTrainDataParallelAndCanChangeOnResume() throws Exception {
        Path run = tmp.resolve("devices");
        CliRunner.Result r = CliRunner.run(args("--out", run.toString(), "--epochs", "1", "--devices", "2",
                "--averaging-frequency", "2", "--prefetch", "3").toArray(new String[0]));
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        // 4 batches of 8 on 2 replicas: 2 steps of an effective batch of 16
        assertThat(r.out()).contains("completed 1 epochs: 2 iterations");
        JsonNode c = new ObjectMapper().readTree(run.resolve("config.json").toFile());
        assertThat(c.get("devices").asInt()).isEqualTo(2);
        assertThat(c.get("averagingFrequency").asInt()).isEqualTo(2);
        assertThat(c.get("prefetch").asInt()).isEqualTo(3);
        assertThat(Files.readString(run.resolve("train.log"))).contains("data-parallel: 2 replicas")
                .contains("an effective batch of 16 per step");
        CliRunner.Result more = CliRunner.run("train", "--resume", run.toString(), "--epochs", "2", "--devices", "1");
        assertThat(more.exit()).as(more.err()).isEqualTo(0);
        assertThat(more.out()).contains("completed 2 epochs: 6 iterations"); // 2 + 4 single-device steps
        CliRunner.Result bad = CliRunner.run(args("--out", tmp.resolve("bad").toString(), "--devices", "2",
                "--parallel-mode", "ring").toArray(new String[0]));
        assertThat(bad.err()).contains("--parallel-mode must be averaging or shared-gradients, got ring");
    }
}
