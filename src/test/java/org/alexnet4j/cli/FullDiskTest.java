package org.alexnet4j.cli;

import org.alexnet4j.data.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real full file system: a small tmpfs made by the test (skipped, with the reason logged, where mounting is not
 * permitted). A run whose second checkpoint does not fit stops with the intact checkpoint and the resume command
 * named; after the disk grows it resumes and finishes.
 */
class FullDiskTest {
    @TempDir
    static Path tmp;
    static Path cache;
    static Path mount;
    static boolean mounted;

    @BeforeAll
    static void setUp() throws Exception {
        mount = tmp.resolve("small");
        Files.createDirectories(mount);
        mounted = sh("mount", "-t", "tmpfs", "-o", "size=13m", "tmpfs", mount.toString());
        if (!mounted) {
            LoggerFactory.getLogger(FullDiskTest.class).warn("FullDiskTest skipped: cannot mount a tmpfs here (not "
                    + "root, or no mount permission in this container)");
            return;
        }
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (mounted) {
            sh("umount", mount.toString());
        }
    }

    private static boolean sh(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    @Test
    void aFullDiskDuringACheckpointStopsCleanlyAndTheRunResumesWhenThereIsRoom() throws Exception {
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here");
        Path run = mount.resolve("run");
        List<String> a = new ArrayList<>(List.of("train", "--data", cache.toString(), "--out", run.toString()));
        a.addAll(List.of(TrainCliTest.RECIPE));
        a.addAll(List.of("--epochs", "3", "--keep-checkpoints", "1"));
        CliRunner.Result r = CliRunner.run(a.toArray(new String[0]));
        // a checkpoint with momentum is ~6.7 MB and best.zip ~3.3 MB: the second checkpoint does not fit in 13 MB
        assertThat(r.exit()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.err()).contains("training stopped: no space left on the device")
                .contains("the run is intact up to checkpoints/ckpt-")
                .contains("continue with: alexnet4j train --resume " + run);
        assertThat(sh("mount", "-o", "remount,size=200m", mount.toString())).isTrue();
        CliRunner.Result resumed = CliRunner.run("train", "--resume", run.toString());
        assertThat(resumed.exit()).as(resumed.err()).isZero();
        assertThat(resumed.out()).contains("completed 3 epochs: 12 iterations");
    }
}
