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
 * The index of a dataset: every image's relative path, split, class index and class (an ILSVRC2012 wnid, or the
 * user's class folder name), byte size and pixel size (read from its header). Class index = position of the class in
 * the sorted list of the dataset's classes, so on ILSVRC2012 it is the standard index (Caffe, torchvision,
 * {@code data-manifests/imagenet1k/synsets.tsv}), and on any other class folders it is torchvision's ImageFolder's.
 *
 * <p>Accepted layouts: ILSVRC2012's {@code train/<wnid>/*.JPEG} with {@code val/} flat (labels from the shipped
 * validation labels, or a given labels file) or {@code val/<wnid>/}; any class folders {@code train/<class>/...} and
 * {@code val/<class>/...} (nested folders included, links followed, hidden files left out); or a label list
 * ({@link #fromLabels}). File format: tab-separated text with a header row, {@code #} comment lines first.
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
        return n.endsWith(".jpeg") || n.endsWith(".jpg") || n.endsWith(".png") || n.endsWith(".bmp");
    }

    /** Whether {@code name} is an ILSVRC2012 wnid (n + 8 digits). */
    public static boolean isWnid(String name) {
        return WNID.matcher(name).matches();
    }

    /**
     * Indexes a dataset directory.
     *
     * @param valLabels labels for a flat {@code val/}: file name to wnid; null for the shipped ILSVRC2012 labels
     * @throws IllegalArgumentException when the layout is not one of the accepted ones (the message says what is)
     */
    public static Manifest build(Path root, Map<String, String> valLabels, int threads) throws IOException {
        String expected = expectedLayout(root);
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException("no such directory: " + root);
        }
        Path train = root.resolve("train");
        Path val = root.resolve("val");
        if (!Files.isDirectory(train) && !Files.isDirectory(val)) {
            throw new IllegalArgumentException("no train/ or val/ folder in " + root + "; " + expected);
        }
        List<String[]> found = new ArrayList<>(); // split, relative path, class
        TreeSet<String> trainWnids = new TreeSet<>();
        // ILSVRC2012 when every class folder is a wnid; otherwise any class folders (torchvision's ImageFolder)
        boolean imageFolder = Files.isDirectory(train) ? classFolders(train).stream()
                .anyMatch(d -> !isWnid(d.getFileName().toString()))
                : Files.isDirectory(val) && classFolders(val).stream().anyMatch(d -> !isWnid(d.getFileName()
                .toString()));
        if (Files.isDirectory(train)) {
            for (Path dir : list(train)) {
                String name = dir.getFileName().toString();
                if (!Files.isDirectory(dir)) {
                    if (isImageName(name)) {
                        throw new IllegalArgumentException("image files directly in train/ (" + name + "); "
                                + expectedLayout(root));
                    }
                    continue;
                }
                if (name.startsWith(".")) {
                    continue;
                }
                checkClassName("train/" + name);
                trainWnids.add(name);
                int before = found.size();
                addImages(dir, "train", "train/" + name + "/", name, found, imageFolder);
                if (found.size() == before) {
                    throw new IllegalArgumentException("class folder " + dir + " has no images (.jpg .jpeg .png "
                            + ".bmp, any case); add images or remove the folder");
                }
            }
            if (trainWnids.size() == 1) {
                throw new IllegalArgumentException(train + " has one class folder (" + trainWnids.first()
                        + "); a classifier needs at least 2 classes");
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
                    if (!Files.isDirectory(dir) || name.startsWith(".")) {
                        continue;
                    }
                    checkClassName("val/" + name);
                    valWnids.add(name);
                    addImages(dir, "val", "val/" + name + "/", name, found, imageFolder);
                }
            } else if (imageFolder && valLabels == null) {
                throw new IllegalArgumentException(val + " holds image files but no class folders; with your own "
                        + "classes val/ needs the same class folders as train/ (or give a labels file: "
                        + "'alexnet4j manifest build --labels FILE')");
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
        if (imageFolder && !trainWnids.isEmpty() && !valWnids.isEmpty() && !valWnids.equals(trainWnids)) {
            throw new IllegalArgumentException(classDifference(trainWnids, valWnids));
        }
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
        return index(root, wnids, found, threads);
    }

    /** Reads every image's size and header, and orders the entries (train first, then by path). */
    private static Manifest index(Path root, List<String> wnids, List<String[]> found, int threads) {
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < wnids.size(); i++) {            index.put(wnids.get(i), i);
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

    /**
     * The images of one class folder. ILSVRC2012: the files directly in it. Own classes: also those in nested
     * folders, following symbolic links (as torchvision's ImageFolder); hidden files and folders (a leading dot)
     * are left out, and counted in the log.
     */
    private static void addImages(Path dir, String split, String prefix, String wnid, List<String[]> found,
                                  boolean recursive) throws IOException {
        if (!recursive) {
            for (Path f : list(dir)) {
                String name = f.getFileName().toString();
                if (isImageName(name) && !Files.isDirectory(f)) {
                    found.add(new String[]{split, prefix + name, wnid});
                }
            }
            return;
        }
        int[] hidden = {0};
        List<String> rel = new ArrayList<>();
        Files.walkFileTree(dir, java.util.EnumSet.of(java.nio.file.FileVisitOption.FOLLOW_LINKS), Integer.MAX_VALUE,
                new java.nio.file.SimpleFileVisitor<>() {
                    @Override
                    public java.nio.file.FileVisitResult preVisitDirectory(Path d,
                            java.nio.file.attribute.BasicFileAttributes a) {
                        if (!d.equals(dir) && d.getFileName().toString().startsWith(".")) {
                            hidden[0]++;
                            return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                        }
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }

                    @Override
                    public java.nio.file.FileVisitResult visitFile(Path f,
                            java.nio.file.attribute.BasicFileAttributes a) {
                        String name = f.getFileName().toString();
                        if (name.startsWith(".")) {
                            hidden[0]++;
                        } else if (isImageName(name) && a.isRegularFile()) {
                            rel.add(dir.relativize(f).toString().replace(java.io.File.separatorChar, '/'));
                        }
                        return java.nio.file.FileVisitResult.CONTINUE;
                    }
                });
        Collections.sort(rel);
        for (String r : rel) {
            if (r.indexOf('\t') >= 0 || r.indexOf('\n') >= 0) {
                throw new IllegalArgumentException("file name with a tab or line break: " + dir.resolve(r)
                        + "; rename it");
            }
            found.add(new String[]{split, prefix + r, wnid});
        }
        if (hidden[0] > 0) {
            log.info("{}: left out {} hidden files or folders (names starting with '.')", dir, hidden[0]);
        }
    }

    private static List<Path> classFolders(Path split) throws IOException {
        return list(split).stream().filter(Files::isDirectory)
                .filter(d -> !d.getFileName().toString().startsWith(".")).toList();
    }

    private static void checkClassName(String where) {
        if (where.indexOf('\t') >= 0 || where.indexOf('\n') >= 0 || where.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("class folder '" + where + "' has a tab or line break in its name; "
                    + "rename it");
        }
    }

    private static String classDifference(java.util.Set<String> train, java.util.Set<String> val) {
        TreeSet<String> onlyTrain = new TreeSet<>(train);
        onlyTrain.removeAll(val);
        TreeSet<String> onlyVal = new TreeSet<>(val);
        onlyVal.removeAll(train);
        return "train/ and val/ have different classes: " + (onlyTrain.isEmpty() ? "" : "only in train/: "
                + onlyTrain.stream().limit(10).toList() + (onlyVal.isEmpty() ? "" : "; ")) + (onlyVal.isEmpty() ? ""
                : "only in val/: " + onlyVal.stream().limit(10).toList()) + "; give both the same class folders "
                + "(the class index is the position in the sorted folder names)";
    }

    private static String expectedLayout(Path root) {
        return "expected " + root + "/train/<class>/*.jpg (any class folder names; ILSVRC2012's wnid folders keep "
                + "their standard index) and " + root + "/val/<class>/ (or ILSVRC2012's flat val/)";
    }

    /**
     * A manifest from a label list instead of class folders: lines {@code path<TAB>class}, the path relative to
     * {@code root} and starting with {@code train/} or {@code val/} (the split). Blank and {@code #} lines are skipped.
     */
    public static Manifest fromLabels(Path root, Path labels, int threads) throws IOException {
        List<String[]> found = new ArrayList<>();
        TreeSet<String> trainClasses = new TreeSet<>();
        TreeSet<String> valClasses = new TreeSet<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(labels, StandardCharsets.UTF_8)) {
            lineNo++;
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] p = line.split("\t");
            if (p.length != 2 || p[1].isBlank() || !(p[0].startsWith("train/") || p[0].startsWith("val/"))) {
                throw new IllegalArgumentException(labels + ":" + lineNo + ": expected 'train/PATH<TAB>class' or "
                        + "'val/PATH<TAB>class', got: " + line);
            }
            String split = p[0].startsWith("train/") ? "train" : "val";
            (split.equals("train") ? trainClasses : valClasses).add(p[1].trim());
            found.add(new String[]{split, p[0], p[1].trim()});
        }
        if (trainClasses.size() < 2) {
            throw new IllegalArgumentException(labels + " names " + trainClasses.size() + " training class(es); a "
                    + "classifier needs at least 2");
        }
        if (!trainClasses.containsAll(valClasses)) {
            throw new IllegalArgumentException(labels + ": " + classDifference(trainClasses, valClasses));
        }
        List<String> missing = found.stream().map(f -> f[1]).filter(f -> !Files.isRegularFile(root.resolve(f)))
                .limit(10).toList();
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(labels + " lists files that are not under " + root + ", e.g. "
                    + missing);
        }
        return index(root, new ArrayList<>(trainClasses), found, threads);
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
                w.write("# classes\t" + String.join("\t", wnids) + "\n");
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
                    String list = line.substring("# classes\t".length());
                    // tab-separated (class names may hold commas); manifests before that: comma-separated wnids
                    wnids = List.of(list.split(list.indexOf('\t') >= 0 ? "\t" : ","));
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
