package org.alexnet4j.data;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Opening a dataset the way the CLI takes it: a raw ILSVRC2012-layout directory or a prepared cache. */
public final class Datasets {
    private static final Logger log = LoggerFactory.getLogger(Datasets.class);
    public static final String MANIFEST_FILE = "manifest.tsv";

    private Datasets() {
    }

    /**
     * The manifest of a raw dataset: {@code manifest} if given, else {@code DIR/manifest.tsv} if present, else one
     * built now (and not written: the data directory may be read-only).
     */
    public static Manifest manifest(Path data, Path manifest, Path valLabels, int threads) throws IOException {
        return manifest(data, manifest, valLabels, null, threads);
    }

    /** As {@link #manifest(Path, Path, Path, int)}, or from a label list ({@code path<TAB>class} lines). */
    public static Manifest manifest(Path data, Path manifest, Path valLabels, Path labels, int threads)
            throws IOException {
        if (manifest != null) {
            return Manifest.read(manifest);
        }
        if (labels != null) {
            return Manifest.fromLabels(data, labels, threads);
        }
        Path standard = data.resolve(MANIFEST_FILE);
        if (Files.isRegularFile(standard)) {
            log.info("using the manifest {}", standard);
            return Manifest.read(standard);
        }
        long t = System.nanoTime();
        Manifest m = Manifest.build(data, valLabels == null ? null : Manifest.readValLabels(valLabels), threads);
        log.info("indexed {}: {} images, {} classes in {} s (save it with 'alexnet4j manifest build')", data,
                m.entries().size(), m.wnids().size(), String.format("%.1f", (System.nanoTime() - t) / 1e9));
        return m;
    }

    /**
     * One split of a dataset: a prepared cache's images if {@code data} is a cache, else the original files (each
     * decoded and brought to S x S on every access).
     */
    public static ImageSource open(Path data, String split, int threads) throws IOException {
        return open(data, threads, split).get(split);
    }

    /**
     * Several splits of one dataset, opened together: the cache (its statistics included) is read, or the directory
     * indexed, once.
     */
    public static Map<String, ImageSource> open(Path data, int threads, String... splits) throws IOException {
        return open(data, threads, Resize.CENTER, splits);
    }

    /**
     * As {@link #open(Path, int, String...)}; original files are brought to S x S with {@code resize} (a cache keeps
     * the resize it was prepared with: {@link ImageSource#resize()}).
     */
    public static Map<String, ImageSource> open(Path data, int threads, Resize resize, String... splits)
            throws IOException {
        Map<String, ImageSource> out = new LinkedHashMap<>();
        if (PreparedCache.isCache(data)) {
            PreparedCache cache = PreparedCache.open(data);
            for (String s : splits) {
                out.put(s, cache.split(s));
            }
            return out;
        }
        if (Files.exists(data.resolve("prepare.json"))) {
            throw new IllegalArgumentException(data + " is an unfinished prepared cache; run 'alexnet4j prepare' "
                    + "again with the same --out to finish it");
        }
        Manifest manifest = manifest(data, null, null, threads);
        for (String s : splits) {
            out.put(s, new FileImageSource(data, manifest, s, 256, resize, threads));
        }
        return out;
    }
}
