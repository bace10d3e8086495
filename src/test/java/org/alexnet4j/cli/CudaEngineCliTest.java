package org.alexnet4j.cli;

import org.alexnet4j.data.Fixtures;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The CUDA engine through the CLI on a machine without a GPU (CI's): {@code --engine cuda} says why it cannot run and
 * changes nothing; {@code --engine auto} goes on without it; {@code train --engine reference} runs the engine's
 * orchestration on the CPU and writes a normal run.
 */
class CudaEngineCliTest {

    @Test
    void withoutAGpuTheCudaEngineSaysWhyAndAutoGoesOn(@TempDir Path tmp) throws Exception {
        Assumptions.assumeFalse(Files.exists(Path.of("/proc/driver/nvidia/version")), "this machine has a GPU");
        Path cache = Fixtures.rawCache(tmp, 3, 8, 2, 5);
        CliRunner.Result train = CliRunner.run("train", "--data", cache.toString(), "--out", tmp.resolve("run")
                .toString(), "--width", "0.125", "--batch", "4", "--epochs", "1", "--limit-batches", "2",
                "--engine", "cuda");
        assertThat(train.exit()).isEqualTo(1);
        assertThat(train.err()).contains("No NVIDIA GPU driver").contains("--engine onednn or dl4j");

        CliRunner.Result bench = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes",
                "10", "--batch", "2", "--warmup", "0", "--iters", "1", "--engine", "cuda");
        assertThat(bench.exit()).isEqualTo(1);
        assertThat(bench.err()).contains("--engine cuda: no NVIDIA driver on this machine");

        CliRunner.Result precision = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125",
                "--batch", "2", "--iters", "1", "--engine", "cuda", "--precision", "fp16");
        assertThat(precision.exit()).isNotZero();
        assertThat(precision.err()).contains("unknown precision 'fp16'");

        CliRunner.Result auto = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes",
                "10", "--batch", "2", "--warmup", "0", "--iters", "1", "--engine", "auto");
        assertThat(auto.exit()).as(auto.err()).isZero();
        assertThat(auto.out()).contains("oneDNN inference");
    }

    @Test
    void trainingOnTheReferenceEngineWritesANormalRun(@TempDir Path tmp) throws Exception {
        Path cache = Fixtures.rawCache(tmp, 3, 8, 2, 5);
        Path run = tmp.resolve("run");
        CliRunner.Result train = CliRunner.run("train", "--data", cache.toString(), "--out", run.toString(),
                "--width", "0.125", "--batch", "4", "--epochs", "1", "--limit-batches", "2", "--engine", "reference");
        assertThat(train.exit()).as(train.err()).isZero();
        assertThat(train.out()).contains("completed 1 epochs: 2 iterations");
        assertThat(Files.readString(run.resolve("config.json"))).contains("\"engine\" : \"reference\"");
        assertThat(Files.readString(run.resolve("train.log"))).contains("training steps on the reference engine");
        CliRunner.Result resumed = CliRunner.run("train", "--resume", run.toString(), "--epochs", "2", "--engine",
                "dl4j");
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 2 epochs: 4 iterations");
    }
}
