package org.alexnet4j.data;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Decoding by content, ILSVRC2012's odd files, broken files, and the paper's resize and centre patch. */
class CodecTest {
    static RgbImage photo(long seed) {
        return SyntheticImageNet.render(3, new SplittableRandom(seed));
    }

    static double meanAbsDiff(RgbImage a, RgbImage b) {
        assertThat(a.width()).isEqualTo(b.width());
        assertThat(a.height()).isEqualTo(b.height());
        double d = 0;
        for (int i = 0; i < a.pixels().length; i++) {
            d += Math.abs((a.pixels()[i] & 0xFF) - (b.pixels()[i] & 0xFF));
        }
        return d / a.pixels().length;
    }

    @Test
    void pngNamedJpegCmykAndGrayscaleDecodeToCorrectRgb() throws Exception {
        RgbImage img = photo(1);
        byte[] png = ImageCodec.encodePng(img);
        assertThat(ImageHeader.parse(png, png.length).format()).isEqualTo(ImageHeader.Format.PNG);
        assertThat(meanAbsDiff(ImageCodec.decode(png, png.length), img)).isZero(); // lossless, channel order kept

        byte[] cmyk = OddImages.cmykJpeg(img);
        ImageHeader h = ImageHeader.parse(cmyk, cmyk.length);
        assertThat(h.components()).isEqualTo(4);
        assertThat(h.width()).isEqualTo(img.width());
        RgbImage fromCmyk = ImageCodec.decode(cmyk, cmyk.length);
        byte[] rgbJpeg = ImageCodec.encodeJpeg(img, 90);
        double jpegError = meanAbsDiff(ImageCodec.decode(rgbJpeg, rgbJpeg.length), img);
        // CMYK through JPEG is lossier than RGB JPEG, but it must be the same picture in the same colours
        assertThat(meanAbsDiff(fromCmyk, img)).isLessThan(Math.max(8, 3 * jpegError));
        RgbImage swapped = new RgbImage(img.width(), img.height(), img.pixels().clone());
        for (int i = 0; i < swapped.pixels().length; i += 3) {
            byte t = swapped.pixels()[i];
            swapped.pixels()[i] = swapped.pixels()[i + 2];
            swapped.pixels()[i + 2] = t;
        }
        assertThat(meanAbsDiff(fromCmyk, swapped)).isGreaterThan(2 * meanAbsDiff(fromCmyk, img));

        byte[] gray = OddImages.grayJpeg(img, 95);
        assertThat(ImageHeader.parse(gray, gray.length).components()).isEqualTo(1);
        RgbImage g = ImageCodec.decode(gray, gray.length);
        for (int i = 0; i < g.pixels().length; i += 3) {
            assertThat(g.pixels()[i]).isEqualTo(g.pixels()[i + 1]).isEqualTo(g.pixels()[i + 2]);
        }
        int x = img.width() / 2;
        int y = img.height() / 2;
        double luma = 0.299 * img.get(x, y, 0) + 0.587 * img.get(x, y, 1) + 0.114 * img.get(x, y, 2);
        assertThat((double) g.get(x, y, 0)).isCloseTo(luma, org.assertj.core.api.Assertions.within(12.0));
    }

    @Test
    void truncatedEmptyAndNonImageFilesFailWithTheReason() {
        byte[] jpeg = ImageCodec.encodeJpeg(photo(2), 90);
        byte[] cut = OddImages.truncated(jpeg, 0.6);
        assertThatThrownBy(() -> ImageCodec.decodeCentered(cut, cut.length, 256))
                .isInstanceOf(ImageCodec.DecodeException.class).hasMessageContaining("truncated JPEG");
        assertThatThrownBy(() -> ImageCodec.decode(new byte[0], 0)).hasMessageContaining("empty file");
        byte[] text = "hello, not an image".getBytes();
        assertThatThrownBy(() -> ImageCodec.decode(text, text.length)).hasMessageContaining("not a JPEG, PNG or BMP");
        byte[] head = java.util.Arrays.copyOf(jpeg, 100);
        assertThatThrownBy(() -> ImageCodec.decode(head, head.length)).hasMessageContaining("JPEG");
        byte[] png = ImageCodec.encodePng(photo(3));
        byte[] cutPng = OddImages.truncated(png, 0.5);
        assertThatThrownBy(() -> ImageCodec.decode(cutPng, cutPng.length)).hasMessageContaining("truncated PNG");
    }

    @Test
    void shorterSideBecomes256AndTheCentralPatchIsKept() throws Exception {
        // columns coloured by x: after the resize the centre patch must start at the right column
        int w = 600;
        int h = 300;
        RgbImage img = RgbImage.blank(w, h);
        for (int yy = 0; yy < h; yy++) {
            for (int xx = 0; xx < w; xx++) {
                img.set(xx, yy, 0, xx * 255 / (w - 1));
                img.set(xx, yy, 1, yy * 255 / (h - 1));
                img.set(xx, yy, 2, 77);
            }
        }
        byte[] png = ImageCodec.encodePng(img);
        RgbImage c = ImageCodec.decodeCentered(png, png.length, 256);
        assertThat(c.width()).isEqualTo(256);
        assertThat(c.height()).isEqualTo(256);
        // 600x300 -> 512x256; the patch spans resized columns 128..383 = source columns 150..449
        assertThat(c.get(0, 128, 0)).isCloseTo(150 * 255 / 599, org.assertj.core.api.Assertions.within(2));
        assertThat(c.get(255, 128, 0)).isCloseTo(449 * 255 / 599, org.assertj.core.api.Assertions.within(2));
        assertThat(c.get(128, 0, 1)).isLessThanOrEqualTo(2);
        assertThat(c.get(128, 255, 1)).isGreaterThanOrEqualTo(252);
        assertThat(c.get(100, 100, 2)).isEqualTo(77);
        // portrait and small (upscaled) images too
        for (int[] size : new int[][]{{375, 500}, {200, 240}, {1200, 900}}) {
            RgbImage src = RgbImage.blank(size[0], size[1]);
            byte[] jpg = ImageCodec.encodeJpeg(src, 90);
            RgbImage out = ImageCodec.decodeCentered(jpg, jpg.length, 256);
            assertThat(out.width()).isEqualTo(256);
            assertThat(out.height()).isEqualTo(256);
        }
        // a large JPEG is decoded at reduced scale: same picture as the full decode
        RgbImage big = ImageCodec.centered(photoAt(1200, 900), 900);
        byte[] bigJpeg = ImageCodec.encodeJpeg(big, 92);
        RgbImage reduced = ImageCodec.decodeCentered(bigJpeg, bigJpeg.length, 256);
        RgbImage full = ImageCodec.centered(ImageCodec.decode(bigJpeg, bigJpeg.length), 256);
        assertThat(meanAbsDiff(reduced, full)).isLessThan(4);
    }

    private static RgbImage photoAt(int w, int h) {
        RgbImage p = photo(9);
        return ImageCodec.centered(p, Math.max(w, h));
    }
}
