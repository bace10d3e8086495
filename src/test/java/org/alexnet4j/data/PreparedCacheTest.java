package org.alexnet4j.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Preparation: contents, statistics, skipped files, resuming, and settings checks. */
class PreparedCacheTest {
    @TempDir
    static Path tmp;
    static Path data;
    static Manifest manifest;

    @BeforeAll
    static void generate() throws Exception {
        data = tmp.resolve("synth");
        SyntheticImageNet.generate(data, new SyntheticImageNet.Options(3, 5, 2, 21, true, true, 2));
        manifest = Manifest.build(data, null, 2);
    }

    static PreparedCache.Options opts(PreparedCache.Format f, int shard, boolean strict) {
        return new PreparedCache.Options(256, f, 90, shard, 2, strict);
    }

    @Test
    void rawCacheHoldsExactlyThePreprocessedImagesAndTheirStatistics() throws Exception {
        Path out = tmp.resolve("raw");
        PreparedCache.Summary s = PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.RAW, 4, false));
        assertThat(s.images()).containsEntry("train", 18).containsEntry("val", 6);
        assertThat(s.skipped()).containsEntry("train", 2).containsEntry("val", 0);
        assertThat(Files.readString(out.resolve("skipped.tsv"))).contains("n01440764_900004.JPEG\ttruncated JPEG")
                .contains("n01440764_900005.JPEG\tempty file");
        PreparedCache cache = PreparedCache.open(out);
        ImageSource train = cache.split("train");
        FileImageSource files = new FileImageSource(data, manifest, "train", 256, 1);
        assertThat(train.size()).isEqualTo(18); // 15 + CMYK, PNG and grayscale odd files
        DatasetStats.Accumulator acc = new DatasetStats.Accumulator(256);
        int j = 0;
        for (int i = 0; i < train.size(); i++) {
            while (!files.path(j).equals(train.path(i))) {
                j++; // the two unreadable files are not in the cache
            }
            RgbImage cached = train.load(i);
            assertThat(cached.pixels()).isEqualTo(files.load(j).pixels());
            assertThat(train.label(i)).isEqualTo(files.label(j));
            acc.add(cached);
        }
        DatasetStats direct = acc.finish();
        DatasetStats saved = cache.stats();
        assertThat(saved.images()).isEqualTo(18);
        assertThat(saved.meanImage()).containsExactly(direct.meanImage(), within(1e-6f));
        assertThat(saved.channelMean()).containsExactly(direct.channelMean(), within(1e-9));
        assertThat(saved.eigval()).containsExactly(direct.eigval(), within(1e-9));
        assertThat(saved.eigval()[0]).isGreaterThan(saved.eigval()[1]);
        assertThat(cache.wnids()).isEqualTo(manifest.wnids());
        assertThat(cache.split("val").size()).isEqualTo(6);
    }

    @Test
    void jpegCacheIsCompactAndCloseToTheOriginals() throws Exception {
        Path out = tmp.resolve("jpeg");
        PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.JPEG, 0, false));
        ImageSource train = PreparedCache.open(out).split("train");
        FileImageSource files = new FileImageSource(data, manifest, "train", 256, 1);
        RgbImage a = train.load(3);
        int j = 0;
        while (!files.path(j).equals(train.path(3))) {
            j++;
        }
        assertThat(CodecTest.meanAbsDiff(a, files.load(j))).isLessThan(3.0);
        long bytes;
        try (var s = Files.list(out.resolve("train"))) {
            bytes = s.filter(p -> p.toString().endsWith(".bin")).mapToLong(p -> p.toFile().length()).sum();
        }
        assertThat(bytes).isLessThan(18L * 256 * 256 * 3 / 3);
    }

    @Test
    void aDamagedShardIsNamedWithHowToRebuildItAndTheRebuildWorks() throws Exception {
        Path out = tmp.resolve("damaged");
        PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.JPEG, 4, false));
        Path bin = out.resolve("train/shard-00002.bin");
        byte[] good = Files.readAllBytes(bin);
        Files.write(bin, java.util.Arrays.copyOf(good, good.length / 2)); // cut short after preparation
        assertThatThrownBy(() -> PreparedCache.open(out).split("train"))
                .hasMessageContaining("the prepared cache " + out + " is damaged: " + bin + " has "
                        + good.length / 2 + " bytes but its index needs " + good.length)
                .hasMessageContaining("delete " + out.resolve(PreparedCache.COMPLETE) + " and "
                        + out.resolve("train/shard-00002.idx"));
        // bytes garbled in place: the image that no longer decodes names its shard
        byte[] garbled = good.clone();
        java.util.Arrays.fill(garbled, 0, garbled.length, (byte) 0x55);
        Files.write(bin, garbled);
        ImageSource train = PreparedCache.open(out).split("train");
        int first = java.util.stream.IntStream.range(0, train.size()).filter(i -> {
            try {
                train.load(i);
                return false;
            } catch (Exception e) {
                return true;
            }
        }).findFirst().orElseThrow();
        assertThatThrownBy(() -> train.load(first)).hasMessageContaining("does not decode")
                .hasMessageContaining("shard-00002.bin");
        // the rebuild as the message says
        Files.delete(out.resolve(PreparedCache.COMPLETE));
        Files.delete(out.resolve("train/shard-00002.idx"));
        PreparedCache.Summary s = PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.JPEG, 4,
                false));
        assertThat(s.shardsWritten()).isEqualTo(1);
        assertThat(Files.readAllBytes(bin)).isEqualTo(good);
        ImageSource again = PreparedCache.open(out).split("train");
        for (int i = 0; i < again.size(); i++) {
            assertThat(again.load(i).width()).isEqualTo(256);
        }
    }

    @Test
    void anInterruptedPreparationResumesWithoutRedoingCommittedShards() throws Exception {
        Path out = tmp.resolve("resume");
        PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.RAW, 4, false));
        byte[] shard1 = Files.readAllBytes(out.resolve("train/shard-00001.bin"));
        byte[] mean = Files.readAllBytes(out.resolve("stats/mean_image.npy"));
        // simulate a crash after shard 0 and 2 of train were committed: drop the completion marker and shard 1
        Files.delete(out.resolve(PreparedCache.COMPLETE));
        Files.delete(out.resolve("train/shard-00001.idx"));
        Files.delete(out.resolve("train/shard-00001.bin"));
        Files.delete(out.resolve("stats/mean_image.npy"));
        assertThatThrownBy(() -> PreparedCache.open(out)).hasMessageContaining("did not finish");
        assertThatThrownBy(() -> Datasets.open(out, "train", 1)).hasMessageContaining("unfinished");
        PreparedCache.Summary s = PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.RAW, 4, false));
        assertThat(s.shardsWritten()).isEqualTo(1);
        assertThat(s.shardsReused()).isEqualTo(s.shardsWritten() + s.shardsReused() - 1);
        assertThat(Files.readAllBytes(out.resolve("train/shard-00001.bin"))).isEqualTo(shard1);
        assertThat(Files.readAllBytes(out.resolve("stats/mean_image.npy"))).isEqualTo(mean);
        assertThat(s.images()).containsEntry("train", 18);
        // other settings on the same directory are refused; a finished cache is not overwritten
        Files.delete(out.resolve(PreparedCache.COMPLETE));
        assertThatThrownBy(() -> PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.JPEG, 4,
                false))).hasMessageContaining("other settings");
        PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.RAW, 4, false));
        assertThatThrownBy(() -> PreparedCache.prepare(data, manifest, out, opts(PreparedCache.Format.RAW, 4,
                false))).hasMessageContaining("already holds a complete");
    }

    @Test
    void strictStopsAtTheFirstUnreadableFileAndNamesIt() {
        assertThatThrownBy(() -> PreparedCache.prepare(data, manifest, tmp.resolve("strict"),
                opts(PreparedCache.Format.RAW, 64, true)))
                .hasMessageContaining("--strict").hasMessageContaining("n01440764_900004.JPEG")
                .hasMessageContaining("truncated");
    }

    @Test
    void publishedConstantsAreTheDefaultStatistics() {
        DatasetStats p = DatasetStats.published(256);
        assertThat(p.source()).isEqualTo("published");
        assertThat(p.eigval()).containsExactly(0.2175, 0.0188, 0.0045);
        assertThat(p.channelMean()).containsExactly(0.485, 0.456, 0.406);
        assertThat(p.meanImage()[256 * 256 + 17]).isEqualTo(0.456f);
    }
}
