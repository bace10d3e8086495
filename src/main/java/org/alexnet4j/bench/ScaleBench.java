package org.alexnet4j.bench;

import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.ImageNetMeta;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.ManifestVerifier;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.data.ImageSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * ImageNet scale by simulation: datasets of N small synthetic JPEGs (a few hundred distinct files, hard-linked to N
 * names in 1000 class folders, so that building them is cheap), on which the per-image costs of {@code manifest
 * build}, {@code manifest verify}, {@code prepare} and the training iterator's index are measured, to see that none
 * grows faster than linearly and to project ILSVRC2012's 1,281,167 + 50,000 images.
 */
public final class ScaleBench {
    /** One size's measurements. */
    public record Row(int images, double buildSeconds, double verifySeconds, double prepareSeconds,
                      double indexSeconds, long indexHeapBytes, long cacheBytes, long manifestBytes) {
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("images", images);
            m.put("manifestBuildSeconds", buildSeconds);
            m.put("manifestVerifySeconds", verifySeconds);
            m.put("prepareSeconds", prepareSeconds);
            m.put("iteratorIndexSeconds", indexSeconds);
            m.put("iteratorIndexHeapBytes", indexHeapBytes);
            m.put("cacheBytes", cacheBytes);
            m.put("manifestBytes", manifestBytes);
            return m;
        }
    }

    private ScaleBench() {
    }

    /** Measures one dataset of {@code images} training images (and a 4% validation split) under {@code dir}. */
    public static Row run(Path dir, int images, int side, int threads) throws IOException {
        Path data = dir.resolve("data-" + images);
        List<Path> distinct = distinctImages(dir.resolve("distinct-" + side), side);
        List<String> wnids = ImageNetMeta.get().wnids();
        int val = Math.max(10, images / 25);
        for (int i = 0; i < images + val; i++) {
            String split = i < images ? "train" : "val";
            String wnid = wnids.get(i % wnids.size());
            Path f = data.resolve(split).resolve(wnid).resolve(wnid + "_" + i + ".JPEG");
            Files.createDirectories(f.getParent());
            if (!Files.exists(f)) {
                Files.createLink(f, distinct.get(i % distinct.size()));
            }
        }
        long t = System.nanoTime();
        Manifest m = Manifest.build(data, null, threads);
        double build = seconds(t);
        Path manifestFile = dir.resolve("manifest-" + images + ".tsv");
        m.write(manifestFile);
        t = System.nanoTime();
        ManifestVerifier.verify(data, m, false, null, threads);
        double verify = seconds(t);
        Path cache = dir.resolve("cache-" + images);
        t = System.nanoTime();
        PreparedCache.prepare(data, m, cache, new PreparedCache.Options(256, PreparedCache.Format.JPEG, 90, 0,
                threads, false));
        double prepare = seconds(t);
        long before = usedHeap();
        t = System.nanoTime();
        ImageSource train = PreparedCache.open(cache).split("train");
        double index = seconds(t);
        long heap = usedHeap() - before;
        if (train.size() != images) {
            throw new IllegalStateException("cache has " + train.size() + " training images, expected " + images);
        }
        return new Row(images, build, verify, prepare, index, Math.max(0, heap), size(cache),
                Files.size(manifestFile));
    }

    /** A few hundred distinct JPEGs of side x 3/4 side with random content (noise and blocks). */
    private static List<Path> distinctImages(Path dir, int side) throws IOException {
        Files.createDirectories(dir);
        List<Path> out = new ArrayList<>();
        SplittableRandom r = new SplittableRandom(1);
        for (int k = 0; k < 256; k++) {
            Path f = dir.resolve("img" + k + ".jpg");
            if (!Files.exists(f)) {
                int w = side, h = side * 3 / 4;
                RgbImage img = RgbImage.blank(w, h);
                int base = r.nextInt(256);
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        for (int c = 0; c < 3; c++) {
                            img.set(x, y, c, (base + (x / 16) * 7 * (c + 1) + (y / 16) * 13 + r.nextInt(24)) & 0xFF);
                        }
                    }
                }
                Files.write(f, ImageCodec.encodeJpeg(img, 85));
            }
            out.add(f);
        }
        return out;
    }

    private static long usedHeap() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static double seconds(long start) {
        return (System.nanoTime() - start) / 1e9;
    }

    private static long size(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        }
    }
}
