package org.alexnet4j.data;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.Size;

import java.nio.ByteBuffer;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_IGNORE_ORIENTATION;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_2;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_4;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_REDUCED_COLOR_8;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_AREA;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_CUBIC;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.bytedeco.opencv.global.opencv_imgproc.resize;

/**
 * Image decoding and encoding on OpenCV 4.5.5 (the JavaCV build DataVec's {@code NativeImageLoader} uses), and the
 * paper's preprocessing (section 2): rescale so the shorter side is 256, keep the central 256x256 patch.
 *
 * <p>Decoding goes by content, so the PNG stored as {@code .JPEG} decodes; grayscale becomes RGB (R=G=B) and CMYK
 * JPEGs (Adobe's inverted convention, as in ILSVRC2012) are converted to RGB by libjpeg/OpenCV. EXIF orientation is
 * ignored, like PIL and so torchvision. Files that are empty, truncated or corrupt raise {@link DecodeException}
 * with the reason; truncation is caught from the header because libjpeg would fill the missing rows with gray.
 *
 * <p>Large JPEGs are decoded at 1/2, 1/4 or 1/8 scale in the DCT domain (libjpeg's scaled IDCT) when the shorter side
 * stays at least {@code size}: a proper low-pass, and 2-4x faster for big images. OpenCV's own
 * thread pool is set to one thread: the pipeline parallelises over images.
 */
public final class ImageCodec {
    static {
        Loader.load(opencv_core.class);
        opencv_core.setNumThreads(1);
    }

    private ImageCodec() {
    }

    /** Thrown for a file that cannot be decoded into an image; the message says why. */
    public static final class DecodeException extends Exception {
        public DecodeException(String message) {
            super(message);
        }
    }

    /** Decodes to full-size RGB. */
    public static RgbImage decode(byte[] data, int length) throws DecodeException {
        check(data, length);
        try (BytePointer p = new BytePointer(length)) {
            p.put(data, 0, length);
            try (Mat buf = new Mat(1, length, opencv_core.CV_8UC1, p);
                 Mat bgr = imdecode(buf, IMREAD_COLOR | IMREAD_IGNORE_ORIENTATION)) {
                return toRgb(bgr, 0, 0, bgr.cols(), bgr.rows());
            }
        }
    }

    /**
     * Decodes and applies the paper's preprocessing: shorter side to {@code size}, central {@code size x size}
     * patch. Downscaling by less than 2x (after any DCT-domain reduction: every JPEG) is bilinear, as Caffe's
     * ImageNet conversion (OpenCV's default); by 2x or more (PNGs) area averaging; upscaling bicubic. OpenCV's area
     * averaging costs 1.6 ms per 500x375 image at non-integer factors against 0.2 ms for bilinear.
     */
    public static RgbImage decodeCentered(byte[] data, int length, int size) throws DecodeException {
        ImageHeader h = check(data, length);
        int flags = decodeFlags(h, size);
        try (BytePointer p = new BytePointer(length)) {
            p.put(data, 0, length);
            try (Mat buf = new Mat(1, length, opencv_core.CV_8UC1, p); Mat bgr = imdecode(buf, flags)) {
                return centered(bgr, size);
            }
        }
    }

    /**
     * Decodes and warps the whole image to {@code size x size}, aspect ratio ignored (Caffe's ImageNet conversion,
     * OpenCV's bilinear {@code resize} as {@code convert_imageset} calls it). JPEGs at least twice the size are
     * decoded at a reduced scale first, as in {@link #decodeCentered}.
     */
    public static RgbImage decodeWarped(byte[] data, int length, int size) throws DecodeException {
        ImageHeader h = check(data, length);
        int flags = decodeFlags(h, size);
        try (BytePointer p = new BytePointer(length)) {
            p.put(data, 0, length);
            try (Mat buf = new Mat(1, length, opencv_core.CV_8UC1, p); Mat bgr = imdecode(buf, flags);
                 Mat resized = new Mat(); Size s = new Size(size, size)) {
                if (bgr.empty()) {
                    throw new DecodeException("corrupt image (decoder returned nothing)");
                }
                if (bgr.cols() == size && bgr.rows() == size) {
                    return toRgb(bgr, 0, 0, size, size);
                }
                resize(bgr, resized, s, 0, 0, INTER_LINEAR);
                return toRgb(resized, 0, 0, size, size);
            }
        }
    }

    /** OpenCV's decode flags: a JPEG whose shorter side is 2, 4 or 8 times {@code size} decodes at that reduction. */
    private static int decodeFlags(ImageHeader h, int size) {
        if (h.format() == ImageHeader.Format.JPEG) {
            int shorter = Math.min(h.width(), h.height());
            if (shorter >= 8 * size) {
                return IMREAD_REDUCED_COLOR_8 | IMREAD_IGNORE_ORIENTATION;
            } else if (shorter >= 4 * size) {
                return IMREAD_REDUCED_COLOR_4 | IMREAD_IGNORE_ORIENTATION;
            } else if (shorter >= 2 * size) {
                return IMREAD_REDUCED_COLOR_2 | IMREAD_IGNORE_ORIENTATION;
            }
        }
        return IMREAD_COLOR | IMREAD_IGNORE_ORIENTATION;
    }

    /** Decodes an image that is already the cache's size (no checks beyond OpenCV's). */
    public static RgbImage decodeCached(ByteBuffer direct, int length) throws DecodeException {
        // OpenCV 4.5.5's imdecode(buf, flags, dst) returns dst as it was when it cannot decode: without the release
        // a damaged cached image would silently come back as the previous image of this thread
        Mat scratch = SCRATCH.get()[0];
        scratch.release();
        try (BytePointer p = new BytePointer(direct); Mat buf = new Mat(1, length, opencv_core.CV_8UC1, p);
             Mat bgr = imdecode(buf, IMREAD_COLOR | IMREAD_IGNORE_ORIENTATION, scratch)) {
            if (bgr.empty()) {
                throw new DecodeException("cached image does not decode (cache damaged?)");
            }
            return toRgb(bgr, 0, 0, bgr.cols(), bgr.rows());
        }
    }

    /** Per-thread output Mats (decoded image, RGB copy): no native allocation per cached image. */
    private static final ThreadLocal<Mat[]> SCRATCH = ThreadLocal.withInitial(() -> new Mat[]{new Mat(), new Mat()});

    /** The paper's preprocessing on an already decoded image. */
    public static RgbImage centered(RgbImage image, int size) {
        try (Mat bgr = toMat(image)) {
            return centered(bgr, size);
        } catch (DecodeException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JPEG bytes of an RGB image. */
    public static byte[] encodeJpeg(RgbImage image, int quality) {
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException("JPEG quality must be in 1..100, got " + quality);
        }
        try (Mat bgr = toMat(image); BytePointer out = new BytePointer();
             IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, quality)) {
            return encode(".jpg", bgr, out, params);
        }
    }

    /** PNG bytes of an RGB image. */
    public static byte[] encodePng(RgbImage image) {
        try (Mat bgr = toMat(image); BytePointer out = new BytePointer(); IntPointer params = new IntPointer()) {
            return encode(".png", bgr, out, params);
        }
    }

    /** BMP bytes of an RGB image (24-bit). */
    public static byte[] encodeBmp(RgbImage image) {
        try (Mat bgr = toMat(image); BytePointer out = new BytePointer(); IntPointer params = new IntPointer()) {
            return encode(".bmp", bgr, out, params);
        }
    }

    /** JPEG bytes of a single-channel (grayscale) image given as 0..255 values. */
    public static byte[] encodeGrayJpeg(byte[] gray, int width, int height, int quality) {
        try (BytePointer p = new BytePointer(gray); Mat m = new Mat(height, width, opencv_core.CV_8UC1, p);
             BytePointer out = new BytePointer(); IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, quality)) {
            return encode(".jpg", m, out, params);
        }
    }

    private static byte[] encode(String ext, Mat m, BytePointer out, IntPointer params) {
        if (!imencode(ext, m, out, params)) {
            throw new IllegalStateException("OpenCV could not encode " + ext);
        }
        byte[] bytes = new byte[(int) out.limit()];
        out.get(bytes);
        return bytes;
    }

    private static ImageHeader check(byte[] data, int length) throws DecodeException {
        ImageHeader h = ImageHeader.parse(data, length);
        if (!h.ok()) {
            throw new DecodeException(h.problem());
        }
        return h;
    }

    private static RgbImage centered(Mat bgr, int size) throws DecodeException {
        if (bgr.empty()) {
            throw new DecodeException("corrupt image (decoder returned nothing)");
        }
        try (Mat resized = new Mat()) {
            Mat r = shorterSide(bgr, size, resized);
            return toRgb(r, (r.cols() - size) / 2, (r.rows() - size) / 2, size, size);
        }
    }

    /**
     * The paper's rescale of a decoded image: shorter side to {@code size}, aspect kept (interpolation as in
     * {@link #decodeCentered}). Returns {@code src} itself when it already has that size, else {@code dst}.
     */
    public static Mat shorterSide(Mat src, int size, Mat dst) {
        int w = src.cols();
        int h = src.rows();
        int nw = w <= h ? size : Math.max(size, (int) Math.round((double) w * size / h));
        int nh = w <= h ? Math.max(size, (int) Math.round((double) h * size / w)) : size;
        if (nw == w && nh == h) {
            return src;
        }
        int interp = nw > w ? INTER_CUBIC : (w >= 2 * nw ? INTER_AREA : INTER_LINEAR);
        try (Size s = new Size(nw, nh)) {
            resize(src, dst, s, 0, 0, interp);
        }
        return dst;
    }

    /** Copies a window of a BGR 8UC3 Mat into a new RGB image (colour conversion in OpenCV, one bulk copy). */
    private static RgbImage toRgb(Mat bgr, int x0, int y0, int w, int h) throws DecodeException {
        if (bgr.empty()) {
            throw new DecodeException("corrupt image (decoder returned nothing)");
        }
        if (bgr.type() != opencv_core.CV_8UC3) {
            throw new DecodeException("unexpected decoded type " + bgr.type());
        }
        byte[] out = new byte[w * h * 3];
        Mat rgb = SCRATCH.get()[1];
        try (Rect r = new Rect(x0, y0, w, h); Mat window = new Mat(bgr, r)) {
            cvtColor(window, rgb, COLOR_BGR2RGB);
            rgb.data().get(out);
        }
        return new RgbImage(w, h, out);
    }

    private static Mat toMat(RgbImage image) {
        byte[] px = image.pixels();
        byte[] bgr = new byte[px.length];
        for (int i = 0; i < px.length; i += 3) {
            bgr[i] = px[i + 2];
            bgr[i + 1] = px[i + 1];
            bgr[i + 2] = px[i];
        }
        Mat m = new Mat(image.height(), image.width(), opencv_core.CV_8UC3);
        m.data().put(bgr);
        return m;
    }
}
