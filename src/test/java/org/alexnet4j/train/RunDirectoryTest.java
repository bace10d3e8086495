package org.alexnet4j.train;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A run directory is self-contained (its preprocessing is stored in it and read back the same after the dataset has
 * gone), old runs say where their statistics come from, and training validation and every {@code --run} command get
 * one and the same input from {@link Preprocessing}.
 */
class RunDirectoryTest {
    @TempDir
    static Path tmp;
    static Path cache;
    static DatasetStats cacheStats;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 11);
        cacheStats = PreparedCache.open(cache).stats();
        assertThat(cacheStats).isNotNull();
    }

    private static TrainConfig recipe(Variant variant, Normalization.Kind kind, Path data) {
        TrainConfig c = new TrainConfig();
        c.data = data.toString();
        c.model = variant.id();
        c.normalize = kind;
        return c;
    }

    /** A run directory as training writes it (config, classes, preprocessing) without the training. */
    private static RunDirectory fakeRun(String name, TrainConfig cfg, AlexNet net, DatasetStats stats)
            throws Exception {
        RunDirectory run = RunDirectory.at(tmp.resolve(name));
        Files.createDirectories(run.path());
        cfg.write(run.config());
        run.writePreprocessing(net, cfg.normalize, stats);
        return run;
    }

    /** The same normalisation: kind, channel order, and the same value for sampled pixels of every plane. */
    private static void assertSameNormalization(Normalization a, Normalization b, String what) {
        assertThat(a.kind()).as(what).isEqualTo(b.kind());
        assertThat(a.isBgr()).as(what).isEqualTo(b.isBgr());
        SplittableRandom r = new SplittableRandom(5);
        for (int i = 0; i < 200; i++) {
            int c = r.nextInt(3), x = r.nextInt(256), y = r.nextInt(256);
            float v = (float) r.nextDouble();
            assertThat(a.apply(c, x, y, v)).as("%s at c%d (%d, %d)", what, c, x, y).isEqualTo(b.apply(c, x, y, v));
        }
    }

    @Test
    void trainingValidationAndEveryRunCommandGetTheSameInputForEveryVariantNormalisationAndSource() throws Exception {
        for (Variant variant : Variant.values()) {
            AlexNet net = AlexNet.builder(variant).width(0.125).build();
            for (Normalization.Kind kind : Normalization.Kind.values()) {
                for (DatasetStats stats : new DatasetStats[]{cacheStats, null}) {
                    String what = variant.id() + " / " + kind.id() + " / " + (stats == null ? "published" : "cache");
                    TrainConfig cfg = recipe(variant, kind, cache);
                    Normalization training = Recipe.validationPreset(cfg, stats, net.inputSize(), 256)
                            .normalization();
                    RunDirectory run = fakeRun("views-" + variant.id() + "-" + kind.id() + "-"
                            + (stats == null ? "p" : "c"), cfg, net, stats);
                    // eval/predict/features/serve --run: the run's own, whatever statistics the data at hand has
                    for (DatasetStats data : new DatasetStats[]{cacheStats, null}) {
                        Preprocessing.Input fromRun = Preprocessing.input(net, null, run.trained(), data, false, 256);
                        assertSameNormalization(fromRun.normalization(), training, what);
                    }
                    assertThat(Preprocessing.training(variant, net.inputSize(), kind, stats, 256).describe())
                            .as(what).isEqualTo(Files.readString(run.preprocessing()
                                    .resolve(RunDirectory.PREPROCESSING_FILE)).replaceAll("(?s).*\"describe\" : "
                                    + "\"([^\"]*)\".*", "$1"));
                }
            }
        }
    }

    @Test
    void aRunPredictsFromItsOwnStatisticsAfterTheDatasetHasMoved() throws Exception {
        Path data = tmp.resolve("movable");
        Files.createDirectories(data);
        Fixtures.copyTree(cache, data);
        AlexNet net = AlexNet.builder().width(0.125).build();
        TrainConfig cfg = recipe(Variant.PAPER, Normalization.Kind.MEAN_IMAGE, data);
        RunDirectory run = fakeRun("self-contained", cfg, net, PreparedCache.open(data).stats());
        Normalization before = Preprocessing.input(net, null, run.trained(), null, false, 256).normalization();
        Path moved = tmp.resolve("moved-away");
        Files.move(data, moved);
        Preprocessing.Trained trained = run.trained();
        assertThat(trained.statsSource()).contains("the run's preprocessing/");
        assertThat(trained.stats().meanImage()).containsExactly(cacheStats.meanImage());
        assertSameNormalization(Preprocessing.input(net, null, trained, null, false, 256).normalization(), before,
                "cache moved");
    }

    @Test
    void anOldRunWithoutStoredPreprocessingSaysWhereItsStatisticsComeFrom() throws Exception {
        Path data = tmp.resolve("old-data");
        Files.createDirectories(data);
        Fixtures.copyTree(cache, data);
        AlexNet net = AlexNet.builder().width(0.125).build();
        RunDirectory run = fakeRun("old", recipe(Variant.PAPER, Normalization.Kind.CHANNEL, data), net, cacheStats);
        deleteTree(run.preprocessing()); // as runs were written before they kept it
        Preprocessing.Trained fromData = run.trained();
        assertThat(fromData.statsSource()).isEqualTo("its dataset " + data);
        assertThat(fromData.stats().channelMean()).containsExactly(cacheStats.channelMean());
        assertThat(fromData.kind()).isEqualTo(Normalization.Kind.CHANNEL);
        deleteTree(data);
        Preprocessing.Trained gone = run.trained();
        assertThat(gone.statsSource()).isEqualTo("published");
        assertThat(gone.stats()).isNull();
    }

    @Test
    void openRefusesWhatIsNotARunWithASentence() throws Exception {
        assertThatThrownBy(() -> RunDirectory.open(tmp.resolve("nowhere"))).hasMessageContaining("no such directory")
                .hasMessageContaining("--out of an alexnet4j train run");
        assertThatThrownBy(() -> RunDirectory.open(cache)).hasMessageContaining("no config.json");
        RunDirectory run = fakeRun("no-best", recipe(Variant.PAPER, Normalization.Kind.MEAN_IMAGE, cache),
                AlexNet.builder().width(0.125).build(), null);
        assertThatThrownBy(run::bestCheckpoint).hasMessageContaining("has no checkpoints/best.zip");
        assertThat(run.trained().statsSource()).isEqualTo("published"); // trained on the published constants
    }

    private static void deleteTree(Path dir) throws Exception {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
