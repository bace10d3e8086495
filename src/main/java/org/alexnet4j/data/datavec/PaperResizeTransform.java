package org.alexnet4j.data.datavec;

import org.bytedeco.javacv.OpenCVFrameConverter;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;
import org.datavec.image.data.ImageWritable;
import org.datavec.image.transform.BaseImageTransform;

import java.util.Random;

import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/**
 * The paper's preprocessing (section 2) as a DataVec {@code ImageTransform}: rescale so the shorter side is
 * {@code size}, keep the central {@code size x size} patch. DataVec's own {@code ResizeImageTransform} ignores the
 * aspect ratio (it warps, like Caffe's ImageNet script), which is not what the paper did. Same arithmetic as
 * {@link org.alexnet4j.data.ImageCodec#centered}, for users who build their own DataVec pipelines.
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
        int w = mat.cols();
        int h = mat.rows();
        int nw = w <= h ? size : Math.max(size, (int) Math.round((double) w * size / h));
        int nh = w <= h ? Math.max(size, (int) Math.round((double) h * size / w)) : size;
        Mat resized = new Mat();
        resize(mat, resized, new Size(nw, nh), 0, 0, nw > w ? INTER_CUBIC : (w >= 2 * nw ? INTER_AREA : INTER_LINEAR));
        Mat crop = new Mat(resized, new Rect((nw - size) / 2, (nh - size) / 2, size, size)).clone();
        return new ImageWritable(converter.convert(crop));
    }

    @Override
    public float[] query(float... coordinates) {
        throw new UnsupportedOperationException("query is not supported by PaperResizeTransform");
    }
}
