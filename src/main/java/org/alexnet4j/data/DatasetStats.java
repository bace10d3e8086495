package org.alexnet4j.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Training-set statistics on the 0..1 RGB scale: the per-pixel mean image (3 x S x S, CHW, what the paper subtracts,
 * section 2), the per-channel mean and standard deviation, and the 3x3 RGB covariance over all pixels with its
 * eigen-decomposition (eigenvalues descending; eigenvector j is column j, rows are R, G, B: the layout of the
 * published constants), which PCA lighting (section 4.1) uses.
 *
 * @param source "computed" (from {@code images} training images) or "published" (ImageNet constants)
 */
public record DatasetStats(String source, long images, int size, float[] meanImage, double[] channelMean,
                           double[] channelStd, double[][] covariance, double[] eigval, double[][] eigvec) {

    public static final String MEAN_IMAGE_FILE = "mean_image.npy";
    public static final String STATS_FILE = "stats.json";

    /**
     * The published ImageNet constants: fb.resnet.torch's eigen-decomposition and torchvision's mean/std; the mean
     * "image" is the per-channel mean everywhere (no per-pixel mean was published).
     */
    public static DatasetStats published(int size) {
        ImageNetMeta.PcaConstants p = ImageNetMeta.get().pca();
        float[] mean = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            Arrays.fill(mean, c * size * size, (c + 1) * size * size, (float) p.mean()[c]);
        }
        return new DatasetStats("published", 0, size, mean, p.mean().clone(), p.std().clone(), null,
                p.eigval().clone(), deepCopy(p.eigvec()));
    }

    /** The statistics that come with {@code source} (a prepared cache's), else the published ImageNet ones. */
    public static DatasetStats of(ImageSource source) {
        DatasetStats s = source.stats();
        return s != null ? s : published(source.imageSize());
    }

    /** Running sums over images, to be merged across shards. */
    public static final class Accumulator {
        final int size;
        final long[] pixelSums;
        final double[] sum = new double[3];
        final double[] cross = new double[6]; // rr gg bb rg rb gb
        long images;

        public Accumulator(int size) {
            this.size = size;
            this.pixelSums = new long[3 * size * size];
        }

        /** Adds one S x S RGB image. */
        public void add(RgbImage image) {
            if (image.width() != size || image.height() != size) {
                throw new IllegalArgumentException("statistics need " + size + "x" + size + " images");
            }
            byte[] px = image.pixels();
            int plane = size * size;
            long s0 = 0;
            long s1 = 0;
            long s2 = 0;
            long rr = 0;
            long gg = 0;
            long bb = 0;
            long rg = 0;
            long rb = 0;
            long gb = 0;
            for (int i = 0; i < plane; i++) {
                int r = px[3 * i] & 0xFF;
                int g = px[3 * i + 1] & 0xFF;
                int b = px[3 * i + 2] & 0xFF;
                pixelSums[i] += r;
                pixelSums[plane + i] += g;
                pixelSums[2 * plane + i] += b;
                s0 += r;
                s1 += g;
                s2 += b;
                rr += r * r;
                gg += g * g;
                bb += b * b;
                rg += r * g;
                rb += r * b;
                gb += g * b;
            }
            sum[0] += s0 / 255.0;
            sum[1] += s1 / 255.0;
            sum[2] += s2 / 255.0;
            double k = 255.0 * 255.0;
            cross[0] += rr / k;
            cross[1] += gg / k;
            cross[2] += bb / k;
            cross[3] += rg / k;
            cross[4] += rb / k;
            cross[5] += gb / k;
            images++;
        }

        public void merge(Accumulator o) {
            for (int i = 0; i < pixelSums.length; i++) {
                pixelSums[i] += o.pixelSums[i];
            }
            for (int i = 0; i < 3; i++) {
                sum[i] += o.sum[i];
            }
            for (int i = 0; i < 6; i++) {
                cross[i] += o.cross[i];
            }
            images += o.images;
        }

        /** Serialised form (for per-shard files that make preparation resumable). */
        public void write(java.io.DataOutputStream out) throws IOException {
            out.writeInt(size);
            out.writeLong(images);
            for (long v : pixelSums) {
                out.writeLong(v);
            }
            for (double v : sum) {
                out.writeDouble(v);
            }
            for (double v : cross) {
                out.writeDouble(v);
            }
        }

        public static Accumulator read(java.io.DataInputStream in) throws IOException {
            Accumulator a = new Accumulator(in.readInt());
            a.images = in.readLong();
            for (int i = 0; i < a.pixelSums.length; i++) {
                a.pixelSums[i] = in.readLong();
            }
            for (int i = 0; i < 3; i++) {
                a.sum[i] = in.readDouble();
            }
            for (int i = 0; i < 6; i++) {
                a.cross[i] = in.readDouble();
            }
            return a;
        }

        public DatasetStats finish() {
            if (images == 0) {
                throw new IllegalStateException("no training images to compute statistics from");
            }
            float[] mean = new float[pixelSums.length];
            for (int i = 0; i < mean.length; i++) {
                mean[i] = (float) (pixelSums[i] / (255.0 * images));
            }
            double n = (double) images * size * size;
            double[] mu = {sum[0] / n, sum[1] / n, sum[2] / n};
            double[][] cov = new double[3][3];
            int[][] idx = {{0, 3, 4}, {3, 1, 5}, {4, 5, 2}};
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 3; j++) {
                    cov[i][j] = cross[idx[i][j]] / n - mu[i] * mu[j];
                }
            }
            double[] std = {Math.sqrt(cov[0][0]), Math.sqrt(cov[1][1]), Math.sqrt(cov[2][2])};
            double[][] vec = new double[3][3];
            double[] val = symmetricEigen(cov, vec);
            return new DatasetStats("computed", images, size, mean, mu, std, cov, val, vec);
        }
    }

    /**
     * Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi rotations. Returns eigenvalues in descending
     * order and fills {@code vectors} with the eigenvectors as columns, each signed like the published ImageNet
     * eigenvector of the same rank (so computed and published constants are comparable).
     */
    static double[] symmetricEigen(double[][] m, double[][] vectors) {
        double[][] a = deepCopy(m);
        double[][] v = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = a[0][1] * a[0][1] + a[0][2] * a[0][2] + a[1][2] * a[1][2];
            if (off < 1e-30) {
                break;
            }
            for (int p = 0; p < 2; p++) {
                for (int q = p + 1; q < 3; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) {
                        continue;
                    }
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < 3; k++) { // A <- A J
                        double akp = a[k][p];
                        double akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++) { // A <- J^T A
                        double apk = a[p][k];
                        double aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        Integer[] order = {0, 1, 2};
        Arrays.sort(order, (x, y) -> Double.compare(a[y][y], a[x][x]));
        double[][] ref = ImageNetMeta.get().pca().eigvec();
        double[] values = new double[3];
        for (int j = 0; j < 3; j++) {
            int src = order[j];
            values[j] = a[src][src];
            double dot = 0;
            for (int i = 0; i < 3; i++) {
                dot += v[i][src] * ref[i][j];
            }
            double sign = dot < 0 ? -1 : 1;
            for (int i = 0; i < 3; i++) {
                vectors[i][j] = sign * v[i][src];
            }
        }
        return values;
    }

    private static double[][] deepCopy(double[][] m) {
        double[][] out = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i].clone();
        }
        return out;
    }

    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        Npy.write(dir.resolve(MEAN_IMAGE_FILE), NpyArray.float32(new long[]{3, size, size}, meanImage));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("source", source);
        json.put("images", images);
        json.put("size", size);
        json.put("scale", "0..1 RGB");
        json.put("channelMean", channelMean);
        json.put("channelStd", channelStd);
        json.put("covariance", covariance);
        json.put("eigval", eigval);
        json.put("eigvec", eigvec);
        json.put("meanImage", MEAN_IMAGE_FILE + " (float32 [3," + size + "," + size + "], CHW, RGB)");
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(dir.resolve(STATS_FILE).toFile(),
                json);
    }

    public static DatasetStats load(Path dir) throws IOException {
        ObjectMapper om = new ObjectMapper();
        Map<?, ?> json = om.readValue(dir.resolve(STATS_FILE).toFile(), Map.class);
        NpyArray mean = Npy.read(dir.resolve(MEAN_IMAGE_FILE));
        int size = ((Number) json.get("size")).intValue();
        return new DatasetStats((String) json.get("source"), ((Number) json.get("images")).longValue(), size,
                mean.data(), om.convertValue(json.get("channelMean"), double[].class),
                om.convertValue(json.get("channelStd"), double[].class),
                om.convertValue(json.get("covariance"), double[][].class),
                om.convertValue(json.get("eigval"), double[].class),
                om.convertValue(json.get("eigvec"), double[][].class));
    }
}
