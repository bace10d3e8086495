package org.alexnet4j.data;

import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.Parallel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The index of an ILSVRC2012-layout dataset: every image's relative path, split, class index and wnid, byte size and
 * pixel size (read from its header). Class index = position of the wnid in the sorted list of the dataset's
 * classes, so on ILSVRC2012 it is the standard index (Caffe, torchvision, {@code data-manifests/imagenet1k/synsets.tsv}).
 *
 * <p>Accepted layouts: {@code train/<wnid>/*.JPEG}; {@code val/} either flat (labels from the shipped validation
 * labels, or a given labels file) or {@code val/<wnid>/*.JPEG}. File format: tab-separated text with a header row,
 * {@code #} comment lines first.
 */
public final class Manifest {
    private static final Logger log = LoggerFactory.getLogger(Manifest.class);
    private static final Pattern WNID = Pattern.compile("n\\d{8}");
    static final String HEADER = "split\tpath\tlabel\twnid\tbytes\twidth\theight";

    /** One image. Width/height are 0 when the header could not be read (the verifier reports those files). */
    public record Entry(String split, String path, int label, String wnid, long bytes, int width, int height) {
    }

    private final List<String> wnids;
    private final List<Entry> entries;

    public Manifest(List<String> wnids, List<Entry> entries) {
        this.wnids = List.copyOf(wnids);
        this.entries = List.copyOf(entries);
    }

    public List<String> wnids() {
        return wnids;
    }

    public List<Entry> entries() {
        return entries;
    }

    public List<Entry> split(String split) {
        return entries.stream().filter(e -> e.split().equals(split)).toList();
    }

    public static boolean isImageName(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        return n.endsWith(".jpeg") || n.endsWith(".jpg") || n.endsWith(".png");
    }

    /**
     * Indexes a dataset directory.
     *
     * @param valLabels labels for a flat {@code val/}: file name to wnid; null for the shipped ILSVRC2012 labels
     * @throws IllegalArgumentException when the layout is not one of the accepted ones (the message says what is)
     */
    public static Manifest build(Path root, Map<String, String> valLabels, int threads) throws IOException {
        String expected = "expected an ILSVRC2012 layout: " + root + "/train/<wnid>/*.JPEG and/or " + root
                + "/val/ (flat ILSVRC2012_val_*.JPEG files, or val/<wnid>/*.JPEG)";
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("no such directory: " + root);
        }
        Path train = root.resolve("train");
        Path val = root.resolve("val");
        if (!Files.isDirectory(train) && !Files.isDirectory(val)) {
            throw new IllegalArgumentException("no train/ or val/ folder in " + root + "; " + expected);
        }
        List<String[]> found = new ArrayList<>(); // split, relative path, wnid
        TreeSet<String> trainWnids = new TreeSet<>();
        if (Files.isDirectory(train)) {
            for (Path dir : list(train)) {
                String name = dir.getFileName().toString();
                if (!Files.isDirectory(dir)) {
                    if (isImageName(name)) {
                        throw new IllegalArgumentException("image files directly in train/ (" + name + "); "
                                + expected);
                    }
                    continue;
                }
                if (!WNID.matcher(name).matches()) {
                    throw new IllegalArgumentException("train/" + name + " is not a wnid folder (like n01440764); "
                            + expected);
                }
                trainWnids.add(name);
                addImages(dir, "train", "train/" + name + "/", name, found);
            }
        }
        int unlabelled = 0;
        TreeSet<String> valWnids = new TreeSet<>();
        if (Files.isDirectory(val)) {
            List<Path> children = list(val);
            boolean folders = children.stream().anyMatch(Files::isDirectory);
            boolean files = children.stream().anyMatch(p -> !Files.isDirectory(p)
                    && isImageName(p.getFileName().toString()));
            if (folders && files) {
                throw new IllegalArgumentException("val/ mixes image files and folders; " + expected);
            }
            if (folders) {
                for (Path dir : children) {
                    String name = dir.getFileName().toString();
                    if (!WNID.matcher(name).matches()) {
                        throw new IllegalArgumentException("val/" + name + " is not a wnid folder; " + expected);
                    }
                    valWnids.add(name);
                    addImages(dir, "val", "val/" + name + "/", name, found);
                }
            } else {
                Map<String, String> labels = valLabels != null ? valLabels : ImageNetMeta.get().valLabels();
                List<String> missing = new ArrayList<>();
                for (Path f : children) {
                    String name = f.getFileName().toString();
                    if (!isImageName(name)) {
                        continue;
                    }
                    String wnid = labels.get(name);
                    if (wnid == null) {
                        unlabelled++;
                        if (missing.size() < 10) {
                            missing.add(name);
                        }
                        continue;
                    }
                    valWnids.add(wnid);
                    found.add(new String[]{"val", "val/" + name, wnid});
                }
                if (unlabelled > 0) {
                    log.warn("{} files in flat val/ have no label in the {} and are left out, e.g. {}", unlabelled,
                            valLabels != null ? "given labels file" : "ILSVRC2012 validation labels", missing);
                }
            }
        }
        List<String> wnids = classList(trainWnids, valWnids);
        if (!trainWnids.isEmpty()) {
            TreeSet<String> stray = new TreeSet<>(valWnids);
            stray.removeAll(trainWnids);
            if (!stray.isEmpty()) {
                throw new IllegalArgumentException(stray.size() + " validation classes have no train/ folder, e.g. "
                        + stray.stream().limit(5).toList() + "; the class index comes from train/'s wnids");
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("no images found in " + root + "; " + expected);
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < wnids.size(); i++) {
            index.put(wnids.get(i), i);
        }
        Entry[] entries = new Entry[found.size()];
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < entries.length; i++) {
            ids.add(i);
        }
        Parallel.forEach(ids, threads, i -> {
            String[] f = found.get(i);
            Path file = root.resolve(f[1]);
            long bytes;
            int w = 0;
            int h = 0;
            try {
                bytes = Files.size(file);
                ImageHeader header = ImageHeader.read(file);
                w = header.width();
                h = header.height();
            } catch (IOException e) {
                bytes = -1;
            }
            entries[i] = new Entry(f[0], f[1], index.get(f[2]), f[2], bytes, w, h);
        });
        List<Entry> list = new ArrayList<>(List.of(entries));
        list.sort((a, b) -> a.split().equals(b.split()) ? a.path().compareTo(b.path())
                : a.split().equals("train") ? -1 : 1);
        return new Manifest(wnids, list);
    }

    private static List<String> classList(TreeSet<String> trainWnids, TreeSet<String> valWnids) {
        if (!trainWnids.isEmpty()) {
            return new ArrayList<>(trainWnids);
        }
        // a validation-only dataset: if it is ILSVRC2012's, keep the 1000-class index
        List<String> all = ImageNetMeta.get().wnids();
        if (all.containsAll(valWnids) && valWnids.size() > all.size() / 2) {
            return all;
        }
        return new ArrayList<>(valWnids);
    }

    private static void addImages(Path dir, String split, String prefix, String wnid, List<String[]> found)
            throws IOException {
        for (Path f : list(dir)) {
            String name = f.getFileName().toString();
            if (isImageName(name) && !Files.isDirectory(f)) {
                found.add(new String[]{split, prefix + name, wnid});
            }
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> out = new ArrayList<>(s.toList());
            Collections.sort(out);
            return out;
        }
    }

    /** Reads a {@code wnid}-per-file labels file for a flat val/: "name wnid" or "name wnid index" per line. */
    public static Map<String, String> readValLabels(Path file) throws IOException {
        Map<String, String> out = new HashMap<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.trim().split("[\\s,]+");
            if (parts.length < 2 || !WNID.matcher(parts[1]).matches()) {
                throw new IllegalArgumentException(file + ": expected 'file<TAB>wnid' lines, got: " + line);
            }
            out.put(parts[0], parts[1]);
        }
        return out;
    }

    public void write(Path file) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                w.write("# alexnet4j manifest v1: " + wnids.size() + " classes, " + entries.size() + " images\n");
                w.write("# classes\t" + String.join(",", wnids) + "\n");
                w.write(HEADER + "\n");
                for (Entry e : entries) {
                    w.write(e.split() + "\t" + e.path() + "\t" + e.label() + "\t" + e.wnid() + "\t" + e.bytes() + "\t"
                            + e.width() + "\t" + e.height() + "\n");
                }
            }
        });
    }

    public static Manifest read(Path file) throws IOException {
        List<String> wnids = null;
        List<Entry> entries = new ArrayList<>();
        try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            int lineNo = 0;
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.startsWith("# classes\t")) {
                    wnids = List.of(line.substring("# classes\t".length()).split(","));
                    continue;
                }
                if (line.startsWith("#") || line.isBlank() || line.equals(HEADER)) {
                    continue;
                }
                String[] p = line.split("\t");
                if (p.length != 7) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": expected 7 tab-separated columns ("
                            + HEADER.replace('\t', ' ') + "), got " + p.length);
                }
                try {
                    entries.add(new Entry(p[0], p[1], Integer.parseInt(p[2]), p[3], Long.parseLong(p[4]),
                            Integer.parseInt(p[5]), Integer.parseInt(p[6])));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(file + ":" + lineNo + ": " + e.getMessage());
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        if (wnids == null) {
            throw new IllegalArgumentException(file + " is not an alexnet4j manifest (no '# classes' line)");
        }
        return new Manifest(wnids, entries);
    }
}
