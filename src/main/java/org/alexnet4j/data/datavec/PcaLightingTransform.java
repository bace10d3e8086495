package org.alexnet4j.data.datavec;

import org.alexnet4j.data.transforms.PcaLighting;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.datavec.image.data.ImageWritable;
import org.datavec.image.transform.BaseImageTransform;

import java.util.Random;

/**
 * PCA lighting (paper section 4.1) as a DataVec {@code ImageTransform}, which DataVec lacks: adds
 * {@code 255 * eigvec * (alpha .* eigval)} to every pixel of the (BGR, 0..255, as {@code NativeImageLoader} decodes)
 * image, with fresh alpha ~ N(0, std) per call from the transform's {@code Random}. The result is a float image, so
 * nothing is clipped or rounded.
 */
public class PcaLightingTransform extends BaseImageTransform<Mat> {
    private final PcaLighting lighting;
    private float[] lastOffset;

    public PcaLightingTransform(Random random, PcaLighting lighting) {
        super(random);
        this.lighting = java.util.Objects.requireNonNull(lighting, "lighting");
        this.converter = new OpenCVFrameConverter.ToMat();
    }

    /** The RGB offset (0..1 scale) added by the last call. */
    public float[] lastOffset() {
        return lastOffset == null ? null : lastOffset.clone();
    }

    @Override
    protected ImageWritable doTransform(ImageWritable image, Random random) {
        if (image == null) {
            return null;
        }
        float[] rgb = lighting.offset(lighting.sampleAlpha(random != null ? random : new Random()));
        lastOffset = rgb;
        Mat mat = converter.convert(image.getFrame());
        if (mat.channels() != 3) {
            throw new IllegalArgumentException("PCA lighting needs a 3-channel image, got " + mat.channels());
        }
        Mat f = new Mat();
        mat.convertTo(f, opencv_core.CV_32FC3);
        float[] bgr = {255 * rgb[2], 255 * rgb[1], 255 * rgb[0]};
        try (FloatIndexer idx = f.createIndexer()) {
            for (long y = 0; y < f.rows(); y++) {
                for (long x = 0; x < f.cols(); x++) {
                    for (int c = 0; c < 3; c++) {
                        idx.put(y, x, c, idx.get(y, x, c) + bgr[c]);
                    }
                }
            }
        }
        return new ImageWritable(converter.convert(f));
    }

    @Override
    public float[] query(float... coordinates) {
        return coordinates;
    }
}
