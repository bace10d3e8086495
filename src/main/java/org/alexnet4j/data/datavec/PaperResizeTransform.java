package org.alexnet4j.data.datavec;

import org.alexnet4j.data.ImageCodec;
import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.datavec.image.data.ImageWritable;
import org.datavec.image.transform.BaseImageTransform;

import java.util.Random;

/**
 * The paper's preprocessing (section 2) as a DataVec {@code ImageTransform}: rescale so the shorter side is
 * {@code size}, keep the central {@code size x size} patch. DataVec's own {@code ResizeImageTransform} ignores the
 * aspect ratio (it warps, like Caffe's ImageNet script), which is not what the paper did. The rescale is
 * {@link ImageCodec#shorterSide}, the one the prepared cache uses, for users who build their own DataVec pipelines.
 */
public class PaperResizeTransform extends BaseImageTransform<Mat> {
    private final int size;

    public PaperResizeTransform(int size) {
        super(null);
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
        this.size = size;
        this.converter = new OpenCVFrameConverter.ToMat();
    }

    @Override
    protected ImageWritable doTransform(ImageWritable image, Random random) {
        if (image == null) {
            return null;
        }
        Mat mat = converter.convert(image.getFrame());
        Mat resized = ImageCodec.shorterSide(mat, size, new Mat());
        Mat crop = new Mat(resized, new Rect((resized.cols() - size) / 2, (resized.rows() - size) / 2, size, size))
                .clone();
        return new ImageWritable(converter.convert(crop));
    }

    @Override
    public float[] query(float... coordinates) {
        throw new UnsupportedOperationException("query is not supported by PaperResizeTransform");
    }
}
