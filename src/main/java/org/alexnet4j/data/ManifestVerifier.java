package org.alexnet4j.data;

import org.alexnet4j.util.Parallel;
import org.alexnet4j.util.ProgressBar;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Checks a dataset directory against its manifest: images per split and per class, files listed but missing, image
 * files present but not listed, files whose size changed, and unreadable files (empty, truncated, not an image;
 * with {@code decode}, every file is also fully decoded). Given the directory holding the ILSVRC2012 tar files, it
 * also checks their md5 against the published checksums.
 */
public final class ManifestVerifier {
    private ManifestVerifier() {
    }

    /** A file and what is wrong with it. */
    public record Problem(String path, String reason) {
    }

    /** The verification result; {@link #ok()} when nothing is missing, unreadable, changed or mismatched. */
    public record Report(Map<String, Integer> imagesPerSplit, int classes, int minPerClass, int maxPerClass,
                         List<String> missing, List<String> extra, List<Problem> unreadable, List<Problem> changed,
                         Map<String, String> archives) {
        public boolean ok() {
            return missing.isEmpty() && unreadable.isEmpty() && changed.isEmpty()
                    && archives.values().stream().allMatch(s -> s.startsWith("ok") || s.startsWith("not present"));
        }
    }

    public static Report verify(Path root, Manifest manifest, boolean decode, Path archiveDir, int threads)
            throws IOException {
        List<String> missing = Collections.synchronizedList(new ArrayList<>());
        List<Problem> unreadable = Collections.synchronizedList(new ArrayList<>());
        List<Problem> changed = Collections.synchronizedList(new ArrayList<>());
        Map<String, Integer> perSplit = new TreeMap<>();
        Map<Integer, Integer> perClass = new TreeMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            perSplit.merge(e.split(), 1, Integer::sum);
            if (e.split().equals("train")) {
                perClass.merge(e.label(), 1, Integer::sum);
            }
        }
        try (ProgressBar bar = new ProgressBar("verify", manifest.entries().size(), "files")) {
            Parallel.forEach(manifest.entries(), threads, e -> {
                Path f = root.resolve(e.path());
                try {
                    if (!Files.exists(f)) {
                        missing.add(e.path());
                        return;
                    }
                    long size = Files.size(f);
                    if (e.bytes() >= 0 && size != e.bytes()) {
                        changed.add(new Problem(e.path(), "size " + size + " bytes, manifest says " + e.bytes()));
                    }
                    if (decode) {
                        byte[] data = Files.readAllBytes(f);
                        ImageCodec.decode(data, data.length);
                    } else {
                        ImageHeader h = ImageHeader.read(f);
                        if (!h.ok()) {
                            unreadable.add(new Problem(e.path(), h.problem()));
                        }
                    }
                } catch (ImageCodec.DecodeException ex) {
                    unreadable.add(new Problem(e.path(), ex.getMessage()));
                } catch (IOException ex) {
                    unreadable.add(new Problem(e.path(), "cannot read: " + ex.getMessage()));
                } finally {
                    bar.step(1);
                }
            });
        }
        Set<String> listed = new HashSet<>();
        manifest.entries().forEach(e -> listed.add(e.path()));
        List<String> extra = new ArrayList<>();
        for (String split : List.of("train", "val")) {
            Path dir = root.resolve(split);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> s = Files.walk(dir)) {
                s.filter(Files::isRegularFile)
                        .filter(p -> Manifest.isImageName(p.getFileName().toString()))
                        .map(p -> root.relativize(p).toString().replace('\\', '/'))
                        .filter(p -> !listed.contains(p))
                        .sorted()
                        .forEach(extra::add);
            }
        }
        Map<String, String> archives = new LinkedHashMap<>();
        if (archiveDir != null) {
            for (Map.Entry<String, String> a : ImageNetMeta.get().archiveMd5().entrySet()) {
                Path tar = archiveDir.resolve(a.getKey());
                if (!Files.exists(tar)) {
                    archives.put(a.getKey(), "not present");
                    continue;
                }
                String md5 = md5(tar);
                archives.put(a.getKey(), md5.equals(a.getValue()) ? "ok (" + md5 + ")"
                        : "MISMATCH: md5 " + md5 + ", published " + a.getValue());
            }
        }
        List<Problem> unreadableSorted = new ArrayList<>(unreadable);
        unreadableSorted.sort((a, b) -> a.path().compareTo(b.path()));
        List<String> missingSorted = new ArrayList<>(missing);
        Collections.sort(missingSorted);
        int min = perClass.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = perClass.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        return new Report(perSplit, manifest.wnids().size(), min, max, missingSorted, extra, unreadableSorted,
                new ArrayList<>(changed), archives);
    }

    /** md5 of a file, with a progress bar (the training archive is 147 GB). */
    public static String md5(Path file) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("MD5");
            long size = Files.size(file);
            byte[] buf = new byte[1 << 20];
            try (InputStream in = Files.newInputStream(file);
                 ProgressBar bar = new ProgressBar("md5 " + file.getFileName(), size >> 20, "MiB")) {
                for (int n; (n = in.read(buf)) > 0; ) {
                    md.update(buf, 0, n);
                    if (n == buf.length) {
                        bar.step(1);
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
