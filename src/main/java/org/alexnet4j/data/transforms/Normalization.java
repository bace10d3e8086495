package org.alexnet4j.data.transforms;

import org.alexnet4j.data.DatasetStats;

import java.util.Arrays;

/**
 * The last step of every view: how a pixel value v (0..1 scale, after lighting) becomes a network input.
 * <ul>
 *   <li>{@link #meanImage}: the paper's (section 2) "subtract the mean activity over the training set from each
 *   pixel": {@code 255 * (v - mean[c][y][x])}, the per-pixel mean image taken at the same source pixel as the value
 *   (a crop of the mean, mirrored with the view, as Caffe and cuda-convnet do), on the 0..255 scale the paper's
 *   initialisation was made for.</li>
 *   <li>{@link #channelMeanStd}: torchvision's {@code (v - mean[c]) / std[c]} per channel.</li>
 * </ul>
 * Either can write its planes in B, G, R order ({@link #bgr()}) for nets trained on OpenCV's channel order (Caffe).
 */
public final class Normalization {
    /** The selectable kinds. */
    public enum Kind {
        MEAN_IMAGE, CHANNEL;

        /** The command-line and config.json name: {@code mean-image} or {@code channel}. */
        public String id() {
            return this == MEAN_IMAGE ? "mean-image" : "channel";
        }

        /** The name in flags and config.json. */
        @Override
        public String toString() {
            return id();
        }

        /** The command-line name: {@code mean-image} or {@code channel}. */
        public static Kind fromId(String id) {
            return switch (id) {
                case "mean-image" -> MEAN_IMAGE;
                case "channel" -> CHANNEL;
                default -> throw new IllegalArgumentException("normalization must be mean-image or channel, got "
                        + id);
            };
        }
    }

    private final Kind kind;
    private final int size;
    private final float[] meanImage; // CHW, 0..1, only for MEAN_IMAGE
    private final float[] mean = new float[3];
    private final float[] scale = new float[3];
    private final boolean bgr;

    private Normalization(Kind kind, int size, float[] meanImage, double[] mean, double[] scale) {
        this(kind, size, meanImage, mean, scale, false);
    }

    private Normalization(Kind kind, int size, float[] meanImage, double[] mean, double[] scale, boolean bgr) {
        this.kind = kind;
        this.bgr = bgr;
        this.size = size;
        this.meanImage = meanImage;
        for (int c = 0; c < 3; c++) {
            this.mean[c] = (float) mean[c];
            this.scale[c] = (float) scale[c];
        }
    }

    /** The paper's mean-image subtraction, output on the 0..255 scale. */
    public static Normalization meanImage(DatasetStats stats) {
        int s = stats.size();
        if (stats.meanImage().length != 3 * s * s) {
            throw new IllegalArgumentException("mean image must be 3x" + s + "x" + s);
        }
        return new Normalization(Kind.MEAN_IMAGE, s, stats.meanImage(), stats.channelMean(),
                new double[]{255, 255, 255});
    }

    /**
     * A mean pixel subtracted on the 0..255 scale, {@code 255 * (v - mean[c])}: the paper's mean subtraction where no
     * mean image is at hand (Caffe's published ImageNet mean pixel).
     *
     * @param mean the mean of each channel on the 0..1 scale, R, G, B
     */
    public static Normalization meanPixel(double[] mean) {
        if (mean.length != 3) {
            throw new IllegalArgumentException("need 3 channel means");
        }
        return new Normalization(Kind.MEAN_IMAGE, 0, null, mean, new double[]{255, 255, 255});
    }

    /** Per-channel {@code (v - mean) / std}. */
    public static Normalization channelMeanStd(double[] mean, double[] std) {
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("need 3 channel means and 3 stds");
        }
        double[] inv = new double[3];
        for (int c = 0; c < 3; c++) {
            if (!(std[c] > 0)) {
                throw new IllegalArgumentException("channel std must be positive, got " + Arrays.toString(std));
            }
            inv[c] = 1 / std[c];
        }
        return new Normalization(Kind.CHANNEL, 0, null, mean, inv);
    }

    public static Normalization of(Kind kind, DatasetStats stats) {
        return kind == Kind.MEAN_IMAGE ? meanImage(stats) : channelMeanStd(stats.channelMean(), stats.channelStd());
    }

    public Kind kind() {
        return kind;
    }

    /**
     * The same normalisation with the output planes in B, G, R order (Caffe's input convention, OpenCV's channel
     * order: bvlc_alexnet's conv1 reads blue first).
     */
    public Normalization bgr() {
        double[] m = new double[3], sc = new double[3];
        for (int c = 0; c < 3; c++) {
            m[c] = mean[c];
            sc[c] = scale[c];
        }
        return new Normalization(kind, size, meanImage, m, sc, true);
    }

    /** Whether views are written in B, G, R plane order (else R, G, B). */
    public boolean isBgr() {
        return bgr;
    }

    /** Output plane of input channel {@code c} (0 red, 1 green, 2 blue). */
    public int plane(int c) {
        return bgr ? 2 - c : c;
    }

    /** Source image side the mean image applies to (0 for per-channel normalization and a mean pixel). */
    public int size() {
        return size;
    }

    /** Normalized value of v at source pixel (x, y), channel c. */
    public float apply(int c, int x, int y, float v) {
        float m = meanImage != null ? meanImage[(c * size + y) * size + x] : mean[c];
        return (v - m) * scale[c];
    }

    float[] meanImage() {
        return meanImage;
    }

    float mean(int c) {
        return mean[c];
    }

    float scale(int c) {
        return scale[c];
    }
}
