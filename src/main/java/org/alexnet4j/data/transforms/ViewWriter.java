package org.alexnet4j.data.transforms;

import org.alexnet4j.data.RgbImage;

import java.nio.FloatBuffer;

/**
 * Writes one view of a preprocessed S x S image as a CHW float tensor: the crop (with its mirror), the lighting
 * offset and the normalization fused into one pass over the output, so no intermediate images are made. Equivalent
 * to applying {@link Crop}, {@link HorizontalFlip}, {@link PcaLighting} and {@link Normalization} one after another
 * (the tests check each against that definition).
 */
public final class ViewWriter {
    private ViewWriter() {
    }

    /**
     * @param lighting RGB offset on the 0..1 scale (from {@link PcaLighting#offset}); null for none
     * @param dst      receives {@code 3 * size * size} floats from {@code dstOffset}, channel-major (R, G, B planes,
     *                 or B, G, R for a {@link Normalization#bgr()} normalisation)
     */
    public static void write(RgbImage src, Crop crop, float[] lighting, Normalization norm, float[] dst,
                             int dstOffset) {
        write(src, crop, lighting, norm, FloatBuffer.wrap(dst), dstOffset);
    }

    /**
     * The same into a buffer, e.g. a direct view of an ND4J batch array: rows are assembled in a small array that
     * stays in L1 and copied out in bulk, so each output value is written to memory once.
     */
    public static void write(RgbImage src, Crop crop, float[] lighting, Normalization norm, FloatBuffer dst,
                             int dstOffset) {
        int s = src.width();
        if (src.height() != s) {
            throw new IllegalArgumentException("views are taken from square images, got " + s + "x" + src.height());
        }
        crop.checkFits(s);
        if (norm.size() != 0 && norm.size() != s) {
            throw new IllegalArgumentException("the mean image is " + norm.size() + "x" + norm.size()
                    + " but the image is " + s + "x" + s);
        }
        byte[] px = src.pixels();
        float[] meanImage = norm.meanImage();
        int n = crop.size();
        float[] row = new float[n];
        final float inv255 = 1f / 255f;
        for (int c = 0; c < 3; c++) {
            int o = dstOffset + norm.plane(c) * n * n;
            float off = lighting == null ? 0f : lighting[c];
            float scale = norm.scale(c);
            float mc = norm.mean(c);
            int plane = c * s * s;
            for (int y = 0; y < n; y++) {
                int rowBase = (crop.y() + y) * s;
                int first = rowBase + crop.x();
                int step = 1;
                if (crop.mirror()) {
                    first = rowBase + crop.x() + n - 1;
                    step = -1;
                }
                int sp = first;
                if (meanImage != null) {
                    for (int x = 0; x < n; x++, sp += step) {
                        row[x] = ((px[sp * 3 + c] & 0xFF) * inv255 + off - meanImage[plane + sp]) * scale;
                    }
                } else {
                    for (int x = 0; x < n; x++, sp += step) {
                        row[x] = ((px[sp * 3 + c] & 0xFF) * inv255 + off - mc) * scale;
                    }
                }
                dst.put(o, row, 0, n);
                o += n;
            }
        }
    }
}
