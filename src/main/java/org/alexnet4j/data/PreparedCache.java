package org.alexnet4j.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.Parallel;
import org.alexnet4j.util.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The prepared cache: every image of a manifest once decoded and brought to the paper's form (shorter side S=256,
 * central S x S patch, section 2), stored as JPEG (default, quality 90: about 4x smaller than raw) or raw RGB bytes in
 * shards of a few hundred images, so training never decodes full-size JPEGs again. While preparing, the training
 * split's statistics (mean image, channel mean/std, RGB covariance and its eigen-decomposition) are computed.
 *
 * <p>Layout: {@code prepare.json} (settings, written first), {@code <split>/shard-NNNNN.bin} (concatenated images),
 * {@code .idx} (offset, length, label, source path per image; skipped files as {@code #skipped} lines) and, for
 * train, {@code .stats} (partial sums); {@code stats/} (mean_image.npy, stats.json), {@code classes.tsv},
 * {@code skipped.tsv}, and {@code cache.json}, written last: its presence marks a complete cache.
 *
 * <p>Resumable: a shard is committed by renaming its {@code .idx} into place after its data and statistics, so an
 * interrupted run redoes at most the shards in flight; a rerun with the same settings skips committed shards.
 * Unreadable files are skipped, counted, listed in {@code skipped.tsv} and logged; with {@code strict} the first
 * one stops preparation with an error naming it.
 */
public final class PreparedCache {
    private static final Logger log = LoggerFactory.getLogger(PreparedCache.class);
    public static final String COMPLETE = "cache.json";
    static final String SETTINGS = "prepare.json";

    /** How images are stored. */
    public enum Format { JPEG, RAW }

    /** Preparation settings. */
    public record Options(int size, Format format, int quality, int shardSize, int threads, boolean strict,
                          Resize resize) {
        public Options(int size, Format format, int quality, int shardSize, int threads, boolean strict) {
            this(size, format, quality, shardSize, threads, strict, Resize.CENTER);
        }

        public Options {
            Objects.requireNonNull(resize, "resize");
            if (size < 32 || size > 1024) {
                throw new IllegalArgumentException("--size must be in 32..1024, got " + size);
            }
            if (quality < 50 || quality > 100) {
                throw new IllegalArgumentException("--quality must be in 50..100, got " + quality);
            }
            if (shardSize < 0) {
                throw new IllegalArgumentException("--shard-size must be positive (or 0 for automatic)");
            }
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
            Objects.requireNonNull(format, "format");
        }

        public static Options defaults(int threads) {
            return new Options(256, Format.JPEG, 90, 0, threads, false);
        }
    }

    /** What preparation did. */
    public record Summary(Path dir, Map<String, Integer> images, Map<String, Integer> skipped, int shardsWritten,
                          int shardsReused, double seconds, DatasetStats stats) {
    }

    private final Path dir;
    private final Map<String, Object> info;
    private final List<String> wnids;
    private final DatasetStats stats;
    private final int size;
    private final Format format;
    private final Resize resize;

    private PreparedCache(Path dir, Map<String, Object> info, List<String> wnids, DatasetStats stats) {
        this.dir = dir;
        this.info = info;
        this.wnids = wnids;
        this.stats = stats;
        this.size = ((Number) info.get("size")).intValue();
        this.format = Format.valueOf((String) info.get("format"));
        this.resize = Resize.fromId((String) info.getOrDefault("resize", Resize.CENTER.id()));
    }

    /** Whether {@code dir} holds a complete prepared cache. */
    public static boolean isCache(Path dir) {
        return Files.isRegularFile(dir.resolve(COMPLETE));
    }

    // ---------------------------------------------------------------------------------------------- writing

    /** Prepares (or resumes preparing) a cache of the dataset at {@code root} described by {@code manifest}. */
    public static Summary prepare(Path root, Manifest manifest, Path out, Options o) throws IOException {
        try (var lock = org.alexnet4j.util.DirLock.acquire(out, "cache")) {
            org.alexnet4j.util.AtomicFiles.removeLeftovers(out.resolve("train"));
            org.alexnet4j.util.AtomicFiles.removeLeftovers(out.resolve("val"));
            return prepareLocked(root, manifest, out, o);
        } catch (IOException e) {
            if (isCache(out)) {
                throw e;
            }
            long done = 0;
            for (String split : List.of("train", "val")) {
                if (Files.isDirectory(out.resolve(split))) {
                    try (var files = Files.list(out.resolve(split))) {
                        done += files.filter(f -> f.getFileName().toString().endsWith(".idx")).count();
                    }
                }
            }
            throw new IllegalStateException("prepare stopped: " + org.alexnet4j.util.IoErrors.describe(e) + "; the "
                    + done + " shards finished so far are kept (no half-written shard is); fix the cause and run "
                    + "the same command again to continue", e);
        }
    }

    private static Summary prepareLocked(Path root, Manifest manifest, Path out, Options o) throws IOException {
        long start = System.nanoTime();
        Files.createDirectories(out);
        if (isCache(out)) {
            throw new IllegalArgumentException(out + " already holds a complete prepared cache; use another --out"
                    + " (or delete it to prepare again)");
        }
        List<String> splits = new ArrayList<>();
        for (String s : List.of("train", "val")) {
            if (!manifest.split(s).isEmpty()) {
                splits.add(s);
            }
        }
        int total = manifest.entries().size();
        int shardSize = o.shardSize() > 0 ? o.shardSize()
                : Math.max(64, Math.min(1024, (int) Math.ceil(total / (o.threads() * 4.0))));
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("version", 1);
        settings.put("size", o.size());
        settings.put("format", o.format().name());
        settings.put("quality", o.quality());
        if (o.resize() != Resize.CENTER) {
            settings.put("resize", o.resize().id()); // absent: the paper's (caches made before the option)
        }
        settings.put("shardSize", shardSize);
        settings.put("source", root.toAbsolutePath().toString());
        settings.put("manifestDigest", digest(manifest));
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (String s : splits) {
            counts.put(s, manifest.split(s).size());
        }
        settings.put("manifestImages", counts);
        settings.put("classes", manifest.wnids().size());
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Path settingsFile = out.resolve(SETTINGS);
        if (Files.exists(settingsFile)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> previous = om.readValue(settingsFile.toFile(), Map.class);
            Map<String, Object> compare = new LinkedHashMap<>(settings);
            compare.remove("source");
            previous.remove("source");
            if (o.shardSize() == 0) {
                compare.put("shardSize", previous.get("shardSize"));
                settings.put("shardSize", previous.get("shardSize"));
                shardSize = ((Number) previous.get("shardSize")).intValue();
            }
            if (!om.valueToTree(compare).equals(om.valueToTree(previous))) {
                throw new IllegalArgumentException(out + " holds an interrupted preparation with other settings or"
                        + " another manifest (" + settingsFile + "); use a new --out or the same settings");
            }
            log.info("resuming the preparation in {}", out);
        } else {
            byte[] json = om.writeValueAsBytes(settings);
            AtomicFiles.write(settingsFile, tmp -> Files.write(tmp, json));
        }
        ClassList.write(out.resolve(ClassList.FILE), manifest.wnids());

        record Shard(String split, int index, List<Manifest.Entry> entries) {
        }
        List<Shard> shards = new ArrayList<>();
        List<Shard> todo = new ArrayList<>();
        for (String s : splits) {
            List<Manifest.Entry> entries = manifest.split(s);
            Files.createDirectories(out.resolve(s));
            for (int i = 0, k = 0; i < entries.size(); i += shardSize, k++) {
                Shard sh = new Shard(s, k, entries.subList(i, Math.min(entries.size(), i + shardSize)));
                shards.add(sh);
                if (!Files.exists(shardFile(out, s, k, ".idx"))) {
                    todo.add(sh);
                }
            }
        }
        int todoImages = todo.stream().mapToInt(s -> s.entries().size()).sum();
        log.info("prepare: {} images in {} shards ({} to do, {} done before), {} threads, {}x{} {}", total,
                shards.size(), todo.size(), shards.size() - todo.size(), o.threads(), o.size(), o.size(),
                o.format() == Format.JPEG ? "JPEG q" + o.quality() : "raw RGB");
        try (ProgressBar bar = new ProgressBar("prepare", todoImages, "img")) {
            Parallel.forEach(todo, o.threads(), sh -> {
                try {
                    writeShard(root, out, sh.split(), sh.index(), sh.entries(), o, bar);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }

        // gather counts, skipped files and statistics from all committed shards
        Map<String, Integer> kept = new LinkedHashMap<>();
        Map<String, Integer> skipped = new LinkedHashMap<>();
        List<String> skippedLines = new ArrayList<>();
        DatasetStats.Accumulator acc = new DatasetStats.Accumulator(o.size());
        for (Shard sh : shards) {
            for (String line : Files.readAllLines(shardFile(out, sh.split(), sh.index(), ".idx"))) {
                if (line.startsWith("#skipped\t")) {
                    skipped.merge(sh.split(), 1, Integer::sum);
                    skippedLines.add(sh.split() + "\t" + line.substring("#skipped\t".length()));
                } else if (!line.isBlank()) {
                    kept.merge(sh.split(), 1, Integer::sum);
                }
            }
            if (sh.split().equals("train")) {
                try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(
                        Files.newInputStream(shardFile(out, "train", sh.index(), ".stats"))))) {
                    acc.merge(DatasetStats.Accumulator.read(in));
                }
            }
        }
        for (String s : splits) {
            kept.putIfAbsent(s, 0);
            skipped.putIfAbsent(s, 0);
        }
        DatasetStats stats = null;
        if (acc.images > 0) {
            stats = acc.finish();
            stats.save(out.resolve("stats"));
        }
        AtomicFiles.write(out.resolve("skipped.tsv"), tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("split\tpath\treason\n");
                for (String l : skippedLines) {
                    w.write(l + "\n");
                }
            }
        });
        manifest.write(out.resolve("manifest.tsv"));
        Map<String, Object> done = new LinkedHashMap<>(settings);
        done.put("images", kept);
        done.put("skipped", skipped);
        done.put("shards", shards.stream().collect(java.util.stream.Collectors.groupingBy(Shard::split,
                LinkedHashMap::new, java.util.stream.Collectors.counting())));
        done.put("stats", stats != null ? "computed from " + stats.images() + " training images" : "none");
        byte[] json = om.writeValueAsBytes(done);
        AtomicFiles.write(out.resolve(COMPLETE), tmp -> Files.write(tmp, json));
        int skippedTotal = skipped.values().stream().mapToInt(Integer::intValue).sum();
        if (skippedTotal > 0) {
            log.warn("prepare: skipped {} unreadable files (listed in {})", skippedTotal, out.resolve("skipped.tsv"));
        }
        double secs = (System.nanoTime() - start) / 1e9;
        log.info("prepare: done in {} s: {} kept, {} skipped -> {}", String.format("%.1f", secs), kept, skipped, out);
        return new Summary(out, kept, skipped, todo.size(), shards.size() - todo.size(), secs, stats);
    }

    private static void writeShard(Path root, Path out, String split, int index, List<Manifest.Entry> entries,
                                   Options o, ProgressBar bar) throws IOException {
        Path bin = shardFile(out, split, index, ".bin");
        Path idx = shardFile(out, split, index, ".idx");
        DatasetStats.Accumulator acc = split.equals("train") ? new DatasetStats.Accumulator(o.size()) : null;
        StringBuilder lines = new StringBuilder();
        AtomicFiles.write(bin, tmp -> {
            try (OutputStream os = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                long offset = 0;
                for (Manifest.Entry e : entries) {
                    RgbImage img;
                    try {
                        byte[] data = Files.readAllBytes(root.resolve(e.path()));
                        img = o.resize().decode(data, data.length, o.size());
                    } catch (ImageCodec.DecodeException | IOException ex) {
                        String reason = ex instanceof java.nio.file.NoSuchFileException ? "missing file"
                                : ex.getMessage();
                        if (o.strict()) {
                            throw new IllegalStateException("--strict: cannot read " + e.path() + ": " + reason);
                        }
                        log.warn("skipping {}: {}", e.path(), reason);
                        lines.append("#skipped\t").append(e.path()).append('\t').append(reason).append('\n');
                        bar.step(1);
                        continue;
                    }
                    byte[] stored = o.format() == Format.JPEG ? ImageCodec.encodeJpeg(img, o.quality())
                            : img.pixels();
                    os.write(stored);
                    lines.append(offset).append('\t').append(stored.length).append('\t').append(e.label())
                            .append('\t').append(e.path()).append('\n');
                    offset += stored.length;
                    if (acc != null) {
                        acc.add(img);
                    }
                    bar.step(1);
                }
            }
        });
        if (acc != null) {
            AtomicFiles.write(shardFile(out, split, index, ".stats"), tmp -> {
                try (DataOutputStream ds = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp)))) {
                    acc.write(ds);
                }
            });
        }
        byte[] idxBytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(idx, tmp -> Files.write(tmp, idxBytes)); // the commit
    }

    static Path shardFile(Path out, String split, int index, String ext) {
        return out.resolve(split).resolve(String.format("shard-%05d%s", index, ext));
    }

    private static String digest(Manifest m) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(String.join(",", m.wnids()).getBytes(StandardCharsets.UTF_8));
            for (Manifest.Entry e : m.entries()) {
                md.update((e.split() + "\t" + e.path() + "\t" + e.label() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------------------------------------- reading

    /** Opens a complete cache. */
    public static PreparedCache open(Path dir) throws IOException {
        if (!isCache(dir)) {
            String why = Files.exists(dir.resolve(SETTINGS)) ? "its preparation did not finish; run 'alexnet4j "
                    + "prepare' again with the same --out to resume" : "no " + COMPLETE + " there";
            throw new IllegalArgumentException(dir + " is not a prepared cache: " + why);
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> info = new ObjectMapper().readValue(dir.resolve(COMPLETE).toFile(), Map.class);
        List<String> wnids = ClassList.read(dir.resolve(ClassList.FILE));
        DatasetStats stats = Files.exists(dir.resolve("stats").resolve(DatasetStats.STATS_FILE))
                ? DatasetStats.load(dir.resolve("stats")) : null;
        return new PreparedCache(dir, info, List.copyOf(wnids), stats);
    }

    public Path dir() {
        return dir;
    }

    public int imageSize() {
        return size;
    }

    public List<String> wnids() {
        return wnids;
    }

    /** The training statistics computed during preparation, or null when the cache has no training split. */
    public DatasetStats stats() {
        return stats;
    }

    public Map<String, Object> info() {
        return info;
    }

    public boolean hasSplit(String split) {
        return Files.isDirectory(dir.resolve(split)) && Files.exists(shardFile(dir, split, 0, ".idx"));
    }

    /** The images of one split. */
    public ImageSource split(String split) throws IOException {
        if (!hasSplit(split)) {
            throw new IllegalArgumentException("the prepared cache " + dir + " has no '" + split + "' split");
        }
        return new CacheSplit(split);
    }

    /** What to say about a damaged shard: which, and how to prepare just that shard again. */
    private String damaged(String split, int shard, String what) {
        return "the prepared cache " + dir + " is damaged: " + what + "; to rebuild that shard, delete "
                + dir.resolve(COMPLETE) + " and " + shardFile(dir, split, shard, ".idx") + ", then run 'alexnet4j "
                + "prepare' again with the same --data, --out and settings (only that shard is prepared again)";
    }

    private final class CacheSplit implements ImageSource {
        private final String split;
        private final int[] shard;
        private final long[] offset;
        private final int[] length;
        private final int[] label;
        private final String[] path;
        private final MappedByteBuffer[] maps;

        CacheSplit(String split) throws IOException {
            this.split = split;
            List<MappedByteBuffer> m = new ArrayList<>();
            List<long[]> rows = new ArrayList<>();
            List<String> paths = new ArrayList<>();
            for (int k = 0; Files.exists(shardFile(dir, split, k, ".idx")); k++) {
                for (String line : Files.readAllLines(shardFile(dir, split, k, ".idx"))) {
                    if (line.isBlank() || line.startsWith("#")) {
                        continue;
                    }
                    String[] p = line.split("\t", 4);
                    rows.add(new long[]{k, Long.parseLong(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])});
                    paths.add(p[3]);
                }
                long needed = rows.isEmpty() || rows.get(rows.size() - 1)[0] != k ? 0
                        : rows.get(rows.size() - 1)[1] + rows.get(rows.size() - 1)[2];
                Path bin = shardFile(dir, split, k, ".bin");
                if (!Files.isRegularFile(bin) || Files.size(bin) < needed) {
                    throw new IllegalArgumentException(damaged(split, k, bin + (Files.isRegularFile(bin)
                            ? " has " + Files.size(bin) + " bytes but its index needs " + needed : " is missing")));
                }
                try (FileChannel ch = FileChannel.open(bin)) {
                    m.add(ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size()));
                }
            }
            int n = rows.size();
            shard = new int[n];
            offset = new long[n];
            length = new int[n];
            label = new int[n];
            for (int i = 0; i < n; i++) {
                long[] r = rows.get(i);
                shard[i] = (int) r[0];
                offset[i] = r[1];
                length[i] = (int) r[2];
                label[i] = (int) r[3];
            }
            path = paths.toArray(new String[0]);
            maps = m.toArray(new MappedByteBuffer[0]);
        }

        @Override
        public int size() {
            return label.length;
        }

        @Override
        public int imageSize() {
            return size;
        }

        @Override
        public int label(int i) {
            return label[i];
        }

        @Override
        public String path(int i) {
            return path[i];
        }

        @Override
        public List<String> wnids() {
            return wnids;
        }

        @Override
        public DatasetStats stats() {
            return stats;
        }

        @Override
        public Resize resize() {
            return resize;
        }

        @Override
        public RgbImage load(int i) throws ImageCodec.DecodeException {
            ByteBuffer b = maps[shard[i]].slice((int) offset[i], length[i]);
            if (format == Format.RAW) {
                byte[] px = new byte[length[i]];
                b.get(px);
                return new RgbImage(size, size, px);
            }
            RgbImage img;
            try {
                img = ImageCodec.decodeCached(b, length[i]);
            } catch (ImageCodec.DecodeException e) {
                throw new ImageCodec.DecodeException("cached image " + path[i] + " does not decode: "
                        + damaged(split, shard[i], shardFile(dir, split, shard[i], ".bin").toString()));
            }
            if (img.width() != size || img.height() != size) {
                throw new ImageCodec.DecodeException("cached image " + path[i] + " is " + img.width() + "x"
                        + img.height() + ", expected " + size + "x" + size + " (cache damaged?)");
            }
            return img;
        }

        @Override
        public String toString() {
            return "prepared cache " + dir + " (" + split + ", " + label.length + " images)";
        }
    }
}
