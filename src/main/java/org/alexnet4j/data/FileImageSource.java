package org.alexnet4j.data;

import org.alexnet4j.util.Parallel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Images read from the original files of a manifest split, decoded and brought to S x S ({@link Resize}) on every
 * access. Slower than a prepared cache (a full-size JPEG decode per image), but needs no preparation. Missing files
 * are reported when the source is opened, before any training starts.
 */
public final class FileImageSource implements ImageSource {
    private final Path root;
    private final List<Manifest.Entry> entries;
    private final List<String> wnids;
    private final int size;
    private final Resize resize;

    public FileImageSource(Path root, Manifest manifest, String split, int size, int threads) {
        this(root, manifest, split, size, Resize.CENTER, threads);
    }

    public FileImageSource(Path root, Manifest manifest, String split, int size, Resize resize, int threads) {
        this.root = root;
        this.resize = java.util.Objects.requireNonNull(resize, "resize");
        this.entries = manifest.split(split);
        this.wnids = manifest.wnids();
        this.size = size;
        if (entries.isEmpty()) {
            throw new IllegalArgumentException("the manifest of " + root + " has no '" + split + "' images");
        }
        List<String> missing = Collections.synchronizedList(new ArrayList<>());
        Parallel.forEach(entries, threads, e -> {
            if (!Files.isRegularFile(root.resolve(e.path()))) {
                missing.add(e.path());
            }
        });
        if (!missing.isEmpty()) {
            List<String> sorted = new ArrayList<>(missing);
            Collections.sort(sorted);
            throw new IllegalArgumentException(missing.size() + " of " + entries.size() + " " + split
                    + " files in the manifest are missing under " + root + ", e.g. "
                    + sorted.subList(0, Math.min(10, sorted.size()))
                    + "; rebuild it with 'alexnet4j manifest build' or restore the files");
        }
    }

    @Override
    public int size() {
        return entries.size();
    }

    @Override
    public int imageSize() {
        return size;
    }

    @Override
    public int label(int i) {
        return entries.get(i).label();
    }

    @Override
    public String path(int i) {
        return entries.get(i).path();
    }

    @Override
    public List<String> wnids() {
        return wnids;
    }

    @Override
    public RgbImage load(int i) throws ImageCodec.DecodeException, IOException {
        byte[] data = Files.readAllBytes(root.resolve(entries.get(i).path()));
        return resize.decode(data, data.length, size);
    }

    @Override
    public Resize resize() {
        return resize;
    }
}
