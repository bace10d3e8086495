package org.alexnet4j.data;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;

/**
 * Encoders for the kinds of odd files ILSVRC2012 contains (22 CMYK JPEGs and a PNG named {@code .JPEG} in the
 * training set, see {@code data-manifests/imagenet1k/odd_files.txt}) and for broken files, so the synthetic
 * dataset can carry them and the pipeline's handling of each is tested.
 */
public final class OddImages {
    private OddImages() {
    }

    /**
     * A CMYK JPEG in Adobe's convention (APP14 "Adobe" marker, inverted CMYK values, as Photoshop writes them)
     * showing {@code image}: C = 1 - R/(1-K) etc. with K = 1 - max(R, G, B), each stored inverted.
     */
    public static byte[] cmykJpeg(RgbImage image) {
        int w = image.width();
        int h = image.height();
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        int[] px = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double rr = image.get(x, y, 0) / 255.0;
                double gg = image.get(x, y, 1) / 255.0;
                double bb = image.get(x, y, 2) / 255.0;
                double k = 1 - Math.max(rr, Math.max(gg, bb));
                double d = 1 - k;
                double c = d <= 0 ? 0 : (d - rr) / d;
                double m = d <= 0 ? 0 : (d - gg) / d;
                double ye = d <= 0 ? 0 : (d - bb) / d;
                px[0] = (int) Math.round(255 * (1 - c));
                px[1] = (int) Math.round(255 * (1 - m));
                px[2] = (int) Math.round(255 * (1 - ye));
                px[3] = (int) Math.round(255 * (1 - k));
                r.setPixel(x, y, px);
            }
        }
        try {
            ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (ImageOutputStream out = ImageIO.createImageOutputStream(bytes)) {
                writer.setOutput(out);
                writer.write(null, new IIOImage(r, null, null), writer.getDefaultWriteParam());
            } finally {
                writer.dispose();
            }
            return withAdobeMarker(bytes.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Inserts an APP14 Adobe marker (transform 0: no colour transform) after SOI. */
    private static byte[] withAdobeMarker(byte[] jpeg) {
        byte[] app14 = {(byte) 0xFF, (byte) 0xEE, 0x00, 0x0E, 'A', 'd', 'o', 'b', 'e', 0x00, 0x64, 0x00, 0x00, 0x00,
                0x00, 0x00};
        byte[] out = new byte[jpeg.length + app14.length];
        out[0] = jpeg[0];
        out[1] = jpeg[1];
        System.arraycopy(app14, 0, out, 2, app14.length);
        System.arraycopy(jpeg, 2, out, 2 + app14.length, jpeg.length - 2);
        return out;
    }

    /** A single-channel JPEG of the image's luma (ITU-R 601 weights). */
    public static byte[] grayJpeg(RgbImage image, int quality) {
        byte[] gray = new byte[image.width() * image.height()];
        byte[] px = image.pixels();
        for (int i = 0; i < gray.length; i++) {
            double v = 0.299 * (px[3 * i] & 0xFF) + 0.587 * (px[3 * i + 1] & 0xFF) + 0.114 * (px[3 * i + 2] & 0xFF);
            gray[i] = (byte) Math.round(v);
        }
        return ImageCodec.encodeGrayJpeg(gray, image.width(), image.height(), quality);
    }

    /** The first {@code fraction} of a file: what an interrupted download or copy leaves. */
    public static byte[] truncated(byte[] file, double fraction) {
        return Arrays.copyOf(file, (int) (file.length * fraction));
    }
}
