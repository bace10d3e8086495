package org.alexnet4j.data;

import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.data.transforms.TenCrop;
import org.alexnet4j.data.transforms.ViewWriter;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Batches, epochs, determinism across thread counts, resuming positions, ten-crop grouping and bad files. */
class ImageNetIteratorTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Manifest manifest;
    static PreparedCache cache;

    @BeforeAll
    static void prepare() throws Exception {
        data = tmp.resolve("synth");
        SyntheticImageNet.generate(data, new SyntheticImageNet.Options(3, 7, 2, 31, true, true, 2));
        manifest = Manifest.build(data, null, 2);
        PreparedCache.prepare(data, manifest, tmp.resolve("cache"),
                new PreparedCache.Options(256, PreparedCache.Format.RAW, 90, 8, 2, false));
        cache = PreparedCache.open(tmp.resolve("cache"));
    }

    static Preset trainPreset() {
        return Preset.train(227, PcaLighting.of(cache.stats(), 0.1), Normalization.meanImage(cache.stats()));
    }

    static List<DataSet> epoch(ImageNetIterator it) {
        return Fixtures.batches(it);
    }

    @Test
    void anEpochIsEveryImageOnceInBatchesOfNchwWithOneHotLabels() throws Exception {
        ImageSource train = cache.split("train"); // 21 + 3 decodable odd files
        assertThat(train.size()).isEqualTo(24);
        try (ImageNetIterator it = new ImageNetIterator(train, trainPreset(),
                ImageNetIterator.Options.training(10, 1, 2))) {
            assertThat(it.batchesPerEpoch()).isEqualTo(3);
            assertThat(it.totalOutcomes()).isEqualTo(3);
            assertThat(it.inputColumns()).isEqualTo(3 * 227 * 227);
            List<DataSet> batches = epoch(it);
            assertThat(batches).extracting(d -> d.getFeatures().size(0)).containsExactly(10L, 10L, 4L);
            assertThat(batches.get(0).getFeatures().shape()).containsExactly(10, 3, 227, 227);
            Map<Integer, Integer> seen = new HashMap<>();
            for (DataSet d : batches) {
                INDArray y = d.getLabels();
                assertThat(y.sum(1).toFloatVector()).containsOnly(1f);
                for (long r = 0; r < y.size(0); r++) {
                    seen.merge(y.getRow(r).argMax().getInt(0), 1, Integer::sum);
                }
            }
            Map<Integer, Integer> expected = new HashMap<>();
            for (int i = 0; i < train.size(); i++) {
                expected.merge(train.label(i), 1, Integer::sum);
            }
            assertThat(seen).isEqualTo(expected);
            // mean-image normalized inputs on the 0..255 scale: centred, spread like pixels
            double mean = batches.get(0).getFeatures().meanNumber().doubleValue();
            double std = batches.get(0).getFeatures().stdNumber().doubleValue();
            assertThat(Math.abs(mean)).isLessThan(20);
            assertThat(std).isBetween(20.0, 120.0);
            assertThatThrownBy(it::next).hasMessageContaining("call reset()");
            it.reset();
            assertThat(it.epoch()).isEqualTo(1);
            it.reset(); // nothing taken yet: still epoch 1
            assertThat(it.epoch()).isEqualTo(1);
        }
    }

    @Test
    void batchesDependOnSeedAndEpochOnlyNotOnThreadsAndResumeExactly() throws Exception {
        ImageSource train = cache.split("train");
        List<DataSet> one;
        List<DataSet> epoch1;
        try (ImageNetIterator it = new ImageNetIterator(train, trainPreset(),
                ImageNetIterator.Options.training(8, 42, 1))) {
            one = epoch(it);
            it.reset();
            epoch1 = epoch(it);
        }
        try (ImageNetIterator it = new ImageNetIterator(train, trainPreset(),
                ImageNetIterator.Options.training(8, 42, 3).withRecycle(false))) {
            List<DataSet> three = epoch(it);
            for (int b = 0; b < one.size(); b++) {
                assertThat(three.get(b).getFeatures()).isEqualTo(one.get(b).getFeatures());
                assertThat(three.get(b).getLabels()).isEqualTo(one.get(b).getLabels());
            }
        }
        assertThat(epoch1.get(0).getFeatures()).isNotEqualTo(one.get(0).getFeatures()); // new order and views
        try (ImageNetIterator it = new ImageNetIterator(train, trainPreset(),
                ImageNetIterator.Options.training(8, 42, 2))) {
            it.seek(1, 1); // as a resumed run would
            assertThat(it.next().getFeatures()).isEqualTo(epoch1.get(1).getFeatures());
            assertThat(it.batchIndex()).isEqualTo(2);
        }
        try (ImageNetIterator it = new ImageNetIterator(train, trainPreset(),
                ImageNetIterator.Options.training(8, 43, 2))) {
            assertThat(it.next().getFeatures()).isNotEqualTo(one.get(0).getFeatures());
        }
    }

    @Test
    void tenCropBatchesHoldTheTenViewsOfEachImageInOrder() throws Exception {
        ImageSource val = cache.split("val");
        Normalization norm = Normalization.meanImage(cache.stats());
        try (ImageNetIterator it = new ImageNetIterator(val, Preset.tenCrop(227, norm),
                ImageNetIterator.Options.evaluation(4, 2))) {
            DataSet d = it.next();
            assertThat(d.getFeatures().shape()).containsExactly(40, 3, 227, 227);
            RgbImage first = val.load(0);
            float[] expected = new float[3 * 227 * 227];
            for (int v = 0; v < 10; v++) {
                ViewWriter.write(first, new TenCrop(227).of(256).get(v), null, norm, expected, 0);
                assertThat(d.getFeatures().get(org.nd4j.linalg.indexing.NDArrayIndex.point(v)).dup()
                        .reshape(-1).toFloatVector()).containsExactly(expected);
                assertThat(d.getLabels().getRow(v).argMax().getInt(0)).isEqualTo(val.label(0));
            }
        }
        try (ImageNetIterator it = new ImageNetIterator(val, Preset.center(227, norm),
                ImageNetIterator.Options.evaluation(4, 1))) {
            assertThat(epoch(it)).extracting(x -> x.getFeatures().size(0)).containsExactly(4L, 2L);
        }
    }

    @Test
    void unreadableFilesAreSkippedCountedAndNamedAndStrictStops() throws Exception {
        FileImageSource files = new FileImageSource(data, manifest, "train", 256, 2);
        assertThat(files.size()).isEqualTo(26);
        Preset preset = Preset.train(227, null, Normalization.channelMeanStd(new double[]{0.5, 0.5, 0.5},
                new double[]{0.25, 0.25, 0.25}));
        try (ImageNetIterator it = new ImageNetIterator(files, preset, ImageNetIterator.Options.training(8, 1, 2))) {
            long rows = 0;
            while (it.hasNext()) {
                rows += it.next().getFeatures().size(0);
            }
            assertThat(rows).isEqualTo(24);
            assertThat(it.skippedFiles()).containsOnlyKeys("train/n01440764/n01440764_900004.JPEG",
                    "train/n01440764/n01440764_900005.JPEG");
            assertThat(it.skippedCount()).isEqualTo(2);
        }
        try (ImageNetIterator it = new ImageNetIterator(files, preset,
                ImageNetIterator.Options.training(30, 1, 1).withStrict(true))) {
            assertThatThrownBy(it::next).hasMessageContaining("--strict").hasMessageContaining("_9000");
            assertThatThrownBy(it::next).hasMessageContaining("--strict"); // the same error again, not a broken state
        }
        Path gone = tmp.resolve("gone");
        Fixtures.copyTree(data, gone);
        Files.delete(gone.resolve("train/n02342885/n02342885_3.JPEG"));
        assertThatThrownBy(() -> new FileImageSource(gone, manifest, "train", 256, 1))
                .hasMessageContaining("1 of 26 train files in the manifest are missing")
                .hasMessageContaining("n02342885_3.JPEG");
    }

    @Test
    void recycledBatchesMatchFreshOnes() throws Exception {
        ImageSource train = cache.split("train");
        try (ImageNetIterator a = new ImageNetIterator(train, trainPreset(), ImageNetIterator.Options.training(4, 5, 2));
             ImageNetIterator b = new ImageNetIterator(train, trainPreset(),
                     ImageNetIterator.Options.training(4, 5, 2).withRecycle(false))) {
            for (int e = 0; e < 2; e++) {
                while (a.hasNext()) {
                    assertThat(a.next().getFeatures()).isEqualTo(b.next().getFeatures());
                }
                a.reset();
                b.reset();
            }
        }
        assertThatThrownBy(() -> new ImageNetIterator(train, Preset.center(300, Normalization.meanImage(
                cache.stats())), ImageNetIterator.Options.evaluation(4, 1))).hasMessageContaining("larger than");
    }
}
