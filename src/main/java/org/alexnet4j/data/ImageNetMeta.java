package org.alexnet4j.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The public ILSVRC2012 metadata shipped in {@code data-manifests/imagenet1k/} (packaged on the classpath under
 * {@code imagenet1k/}): the 1000 synsets in sorted-wnid order (class index = position, the Caffe/torchvision
 * convention), the 50,000 validation labels, the archive checksums, the known odd training files and the
 * published PCA lighting constants. Sources are listed in {@code data-manifests/imagenet1k/SOURCES.md}.
 */
public final class ImageNetMeta {
    private static volatile ImageNetMeta instance;

    private final List<String> wnids;
    private final Map<String, String> names;
    private final Map<String, String> valLabels;
    private final Map<String, String> archiveMd5;
    private final Map<String, String> oddFiles;
    private final PcaConstants pca;

    /** Eigen-decomposition of the RGB covariance (0..1 scale, RGB order) and per-channel mean/std. */
    public record PcaConstants(double[] eigval, double[][] eigvec, double[] mean, double[] std) {
    }

    private ImageNetMeta() {
        List<String> ids = new ArrayList<>();
        Map<String, String> nm = new LinkedHashMap<>();
        for (String[] row : rows("synsets.tsv")) {
            if (Integer.parseInt(row[0]) != ids.size()) {
                throw new IllegalStateException("synsets.tsv: index " + row[0] + " out of order");
            }
            ids.add(row[1]);
            nm.put(row[1], row[2]);
        }
        wnids = Collections.unmodifiableList(ids);
        names = Collections.unmodifiableMap(nm);
        Map<String, String> val = new LinkedHashMap<>(65536);
        for (String[] row : rows("val_labels.tsv")) {
            val.put(row[0], row[1]);
        }
        valLabels = Collections.unmodifiableMap(val);
        Map<String, String> md5 = new LinkedHashMap<>();
        for (String line : lines("archives.md5")) {
            String[] parts = line.trim().split("\\s+", 2);
            md5.put(parts[1], parts[0]);
        }
        archiveMd5 = Collections.unmodifiableMap(md5);
        Map<String, String> odd = new LinkedHashMap<>();
        for (String[] row : rows("odd_files.txt")) {
            odd.put(row[0], row.length > 1 ? row[1] : "");
        }
        oddFiles = Collections.unmodifiableMap(odd);
        double[] eigval = null;
        double[][] eigvec = new double[3][];
        double[] mean = null;
        double[] std = null;
        for (String[] row : rows("pca_lighting.txt")) {
            double[] v = new double[row.length - 1];
            for (int i = 1; i < row.length; i++) {
                v[i - 1] = Double.parseDouble(row[i]);
            }
            switch (row[0]) {
                case "eigval" -> eigval = v;
                case "eigvec_row_R" -> eigvec[0] = v;
                case "eigvec_row_G" -> eigvec[1] = v;
                case "eigvec_row_B" -> eigvec[2] = v;
                case "mean" -> mean = v;
                case "std" -> std = v;
                default -> throw new IllegalStateException("pca_lighting.txt: unknown row " + row[0]);
            }
        }
        pca = new PcaConstants(eigval, eigvec, mean, std);
    }

    /** The shared instance (the files are read once). */
    public static ImageNetMeta get() {
        ImageNetMeta m = instance;
        if (m == null) {
            synchronized (ImageNetMeta.class) {
                if (instance == null) {
                    instance = new ImageNetMeta();
                }
                m = instance;
            }
        }
        return m;
    }

    /** The 1000 wnids in class-index order (sorted). */
    public List<String> wnids() {
        return wnids;
    }

    /** Human-readable name of a wnid, or the wnid itself when it is not an ILSVRC2012 class. */
    public String name(String wnid) {
        return names.getOrDefault(wnid, wnid);
    }

    public boolean isSynset(String wnid) {
        return names.containsKey(wnid);
    }

    /** A class as people read it: "wnid name" for an ILSVRC2012 wnid, else the class name as it is. */
    public String label(String cls) {
        return isSynset(cls) ? cls + " " + name(cls) : cls;
    }

    /** Validation file name (e.g. {@code ILSVRC2012_val_00000001.JPEG}) to its wnid. */
    public Map<String, String> valLabels() {
        return valLabels;
    }

    /** Archive file name to its published md5. */
    public Map<String, String> archiveMd5() {
        return archiveMd5;
    }

    /** Known odd training files (CMYK JPEGs, a PNG named .JPEG) with a comment. */
    public Map<String, String> oddFiles() {
        return oddFiles;
    }

    /** fb.resnet.torch's published ImageNet PCA lighting constants and torchvision's mean/std. */
    public PcaConstants pca() {
        return pca;
    }

    private static List<String[]> rows(String file) {
        List<String[]> out = new ArrayList<>();
        for (String line : lines(file)) {
            out.add(line.split("\t"));
        }
        return out;
    }

    private static List<String> lines(String file) {
        String resource = "/imagenet1k/" + file;
        try (InputStream in = ImageNetMeta.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing classpath resource " + resource
                        + " (packaged from data-manifests/imagenet1k; rebuild with mvn package)");
            }
            List<String> out = new ArrayList<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    out.add(line);
                }
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
