package org.alexnet4j.cli;

import org.alexnet4j.runtime.Gpus;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * `gpu-check` where CI runs it (no GPU): a clear message and a non-zero exit; the support matrix; and the reference
 * comparison the CUDA build runs, exercised on the CPU backend (it must pass against itself and fail on a changed
 * reference).
 */
class GpuCheckCliTest {

    @Test
    void withoutAGpuItSaysSoAndExitsNonZero() {
        Assumptions.assumeFalse(Files.exists(Path.of("/proc/driver/nvidia/version")), "this machine has a GPU");
        CliRunner.Result r = CliRunner.run("gpu-check", "--engine", "nd4j");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("NVIDIA driver: no").contains("No NVIDIA GPU")
                .contains("compute capability 3.7-8.9");
        CliRunner.Result cuda = CliRunner.run("gpu-check");
        assertThat(cuda.exit()).isEqualTo(1);
        assertThat(cuda.out()).contains("No NVIDIA GPU usable by the CUDA engine: no NVIDIA driver")
                .contains("compute capability 7.5 or newer").contains("--engine nd4j");
    }

    @Test
    void supportMatrixOfTheReleasedCudaBackend() {
        assertThat(Gpus.unsupported("8.6")).isNull();
        assertThat(Gpus.unsupported("8.9")).isNull(); // Ada runs sm_86 machine code
        assertThat(Gpus.unsupported("7.2")).isNull();
        assertThat(Gpus.unsupported("3.7")).isNull();
        assertThat(Gpus.unsupported("9.0")).contains("Hopper").contains("no PTX").contains("-Dlibnd4j.compute=9.0");
        assertThat(Gpus.unsupported("12.0")).contains("Hopper or newer");
        assertThat(Gpus.unsupported("3.5")).contains("older");
        assertThat(Gpus.unsupported("")).contains("unknown");
        assertThat(Gpus.parse("0, NVIDIA H100 80GB HBM3, 9.0, 550.54.15, 81559\n1, Tesla K80, [N/A], 470.1, 11441\n"))
                .containsExactly(new Gpus.Device(0, "NVIDIA H100 80GB HBM3", "9.0", "550.54.15", "81559"),
                        new Gpus.Device(1, "Tesla K80", "", "470.1", "11441"));
    }

    @Test
    void referenceComparisonPassesOnTheSameResultsAndFailsOnOthers(@TempDir Path tmp) throws Exception {
        Path ref = tmp.resolve("ref");
        CliRunner.Result w = CliRunner.run("gpu-check", "--write-reference", ref.toString(), "--width", "0.125",
                "--classes", "10", "--batch", "4");
        assertThat(w.exit()).as(w.err()).isZero();
        assertThat(ref.resolve("weights.npz")).exists();
        assertThat(ref.resolve("after-step.npz")).exists();

        CliRunner.Result same = CliRunner.run("gpu-check", "--reference", ref.toString(), "--allow-cpu", "--iters",
                "1", "--timing-batch", "8");
        assertThat(same.exit()).as(same.out() + same.err()).isZero();
        assertThat(same.out()).contains("PASSED").contains("training step, batch 8:").contains("inference, batch 8:").contains("training steps through the data "
                + "iterator").contains("engines: CPU backend, oneDNN helpers on").contains("host memory direct");

        // what a GPU runs (device-safe twins) reproduces the direct CPU reference, iterator run included
        System.setProperty(org.alexnet4j.runtime.HostMemory.DEVICE_SAFE, "true");
        CliRunner.Result safe;
        try {
            safe = CliRunner.run("gpu-check", "--reference", ref.toString(), "--allow-cpu", "--iters", "0");
        } finally {
            System.clearProperty(org.alexnet4j.runtime.HostMemory.DEVICE_SAFE);
        }
        assertThat(safe.exit()).as(safe.out() + safe.err()).isZero();
        assertThat(safe.out()).contains("PASSED").contains("host memory device-safe");

        // a run that trained on other batches (as with stale batch memory) fails the check
        Path runData = ref.resolve("run-data/train");
        try (var classes = Files.list(runData)) {
            for (Path c : classes.toList()) {
                try (var files = Files.list(c)) {
                    List<Path> images = files.sorted().toList();
                    Path first = images.get(0);
                    for (Path other : images.subList(1, images.size())) {
                        Files.copy(first, other, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        }
        CliRunner.Result stale = CliRunner.run("gpu-check", "--reference", ref.toString(), "--allow-cpu", "--iters",
                "0");
        assertThat(stale.exit()).as(stale.out()).isEqualTo(4);
        assertThat(stale.out()).contains("FAILED");

        NpyArray p = Npy.read(ref.resolve("probabilities.npy"));
        float[] changed = p.data().clone();
        for (int i = 0; i < changed.length; i++) {
            changed[i] *= 1.01f;
        }
        Npy.write(ref.resolve("probabilities.npy"), NpyArray.float32(p.shape(), changed));
        CliRunner.Result differs = CliRunner.run("gpu-check", "--reference", ref.toString(), "--allow-cpu",
                "--iters", "0");
        assertThat(differs.exit()).isEqualTo(4);
        assertThat(differs.out()).contains("FAILED");
    }
}
