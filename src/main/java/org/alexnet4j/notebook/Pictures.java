package org.alexnet4j.notebook;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.data.transforms.Crop;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.ViewWriter;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns what the pipeline and the model hold into pictures: decoded images, the views the training iterator writes
 * (through the pipeline's own {@link ViewWriter}, so a picture is exactly what the network is fed, before
 * normalisation), the mean image and convolution filters.
 */
public final class Pictures {
    private Pictures() {
    }

    /** An image file decoded at full size. */
    public static RgbImage load(Path file) throws IOException, ImageCodec.DecodeException {
        byte[] b = Files.readAllBytes(file);
        return ImageCodec.decode(b, b.length);
    }

    /** The paper's preprocessing of an image file: shorter side to {@code size}, the central square. */
    public static RgbImage centered(Path file, int size) throws IOException, ImageCodec.DecodeException {
        byte[] b = Files.readAllBytes(file);
        return ImageCodec.decodeCentered(b, b.length, size);
    }

    public static BufferedImage of(RgbImage img) {
        BufferedImage out = new BufferedImage(img.width(), img.height(), BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < img.height(); y++) {
            for (int x = 0; x < img.width(); x++) {
                out.setRGB(x, y, (img.get(x, y, 0) << 16) | (img.get(x, y, 1) << 8) | img.get(x, y, 2));
            }
        }
        return out;
    }

    /**
     * The view {@code crop} of a square image with a PCA lighting offset (0..1 scale, or null), as the pipeline
     * writes it for the network, shown before normalisation (values clipped to 0..255 for display only).
     */
    public static BufferedImage view(RgbImage square, Crop crop, float[] lighting) {
        int n = crop.size();
        float[] chw = new float[3 * n * n];
        ViewWriter.write(square, crop, lighting, Normalization.channelMeanStd(new double[]{0, 0, 0},
                new double[]{1, 1, 1}), chw, 0);
        return planes(chw, n, n, 0, 1);
    }

    /** The dataset's mean image (what the paper subtracts from every input). */
    public static BufferedImage meanImage(DatasetStats stats) {
        return planes(stats.meanImage(), stats.size(), stats.size(), 0, 1);
    }

    /** The same mean image with its contrast stretched to the full range, so its faint structure shows. */
    public static BufferedImage meanImageStretched(DatasetStats stats) {
        float[] m = stats.meanImage();
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : m) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        return planes(m, stats.size(), stats.size(), lo, hi);
    }

    /**
     * Convolution filters {@code [out, 3, k, k]} as small RGB pictures, each stretched to its own range (as
     * cuda-convnet draws them), returned in filter order.
     */
    public static List<BufferedImage> filters(INDArray weights) {
        long[] s = weights.shape();
        if (s.length != 4 || s[1] != 3) {
            throw new IllegalArgumentException("expected RGB filters [out, 3, k, k], got " + java.util.Arrays
                    .toString(s));
        }
        int k = (int) s[2];
        List<BufferedImage> out = new ArrayList<>();
        for (int f = 0; f < s[0]; f++) {
            float[] w = weights.get(org.nd4j.linalg.indexing.NDArrayIndex.point(f)).dup('c').data().asFloat();
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (float v : w) {
                lo = Math.min(lo, v);
                hi = Math.max(hi, v);
            }
            out.add(planes(w, k, k, lo, hi));
        }
        return out;
    }

    /** Channel-major RGB planes mapped from [lo, hi] to 0..255 (clipped). */
    static BufferedImage planes(float[] chw, int w, int h, float lo, float hi) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        float scale = hi > lo ? 255f / (hi - lo) : 0f;
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = 0;
                for (int c = 0; c < 3; c++) {
                    int v = Math.round((chw[c * plane + y * w + x] - lo) * scale);
                    rgb = (rgb << 8) | Math.max(0, Math.min(255, v));
                }
                out.setRGB(x, y, rgb);
            }
        }
        return out;
    }
}
