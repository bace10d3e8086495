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
    void aFullDiskDuringPrepareKeepsTheFinishedShardsAndTheRerunCompletes() throws Exception {
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here");
        Path small = tmp.resolve("small-prep");
        Files.createDirectories(small);
        assertThat(sh("mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", small.toString())).isTrue();
        try {
            // the 3-class dataset the cache was made from: 12 shards of 4 raw images (768 KB) and their statistics
            // (1.5 MB each): 6 MB holds two
            Path data = tmp.resolve("synth");
            Path out = small.resolve("cache");
            CliRunner.Result r = CliRunner.run("prepare", "--data", data.toString(), "--out", out.toString(),
                    "--format", "raw", "--shard-size", "4", "--threads", "1");
            assertThat(r.exit()).as(r.err()).isEqualTo(1);
            assertThat(r.err()).containsPattern("the [1-9]\\d* shards finished so far are kept")
                    .contains("prepare stopped: no space left on the device")
                    .contains("shards finished so far are kept (no half-written shard is)")
                    .contains("run the same command again to continue");
            assertThat(out.resolve("cache.json")).doesNotExist();
            assertThat(sh("mount", "-o", "remount,size=100m", small.toString())).isTrue();
            CliRunner.Result again = CliRunner.run("prepare", "--data", data.toString(), "--out", out.toString(),
                    "--format", "raw", "--shard-size", "4", "--threads", "1");
            assertThat(again.exit()).as(again.err()).isZero();
            assertThat(again.out()).containsPattern("shards written, [1-9]\\d* reused"); // what fitted is kept
        } finally {
            sh("umount", small.toString());
        }
    }

    @Test
    void aReadOnlyOutputIsNamedInASentence() throws Exception {
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here");
        Path ro = tmp.resolve("read-only");
        Files.createDirectories(ro);
        assertThat(sh("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", ro.toString())).isTrue();
        try {
            for (String[] a : new String[][]{{"train", "--data", cache.toString(), "--out", ro.resolve("run")
                    .toString()}, {"prepare", "--data", tmp.resolve("synth").toString(), "--out", ro.resolve("c")
                    .toString()}, {"export-weights", "--width", "0.125", "--out", ro.resolve("w.npz").toString()}}) {
                CliRunner.Result r = CliRunner.run(a);
                assertThat(r.exit()).as(String.join(" ", a)).isEqualTo(1);
                assertThat(r.err()).as(String.join(" ", a)).contains("read-only file system");
            }
        } finally {
            sh("umount", ro.toString());
        }
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
