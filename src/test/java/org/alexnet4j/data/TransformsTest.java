package org.alexnet4j.data;

import org.alexnet4j.data.transforms.CenterCrop;
import org.alexnet4j.data.transforms.Crop;
import org.alexnet4j.data.transforms.HorizontalFlip;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.RandomCrop;
import org.alexnet4j.data.transforms.TenCrop;
import org.alexnet4j.data.transforms.ViewWriter;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Each augmentation on its own, checked against its definition (paper sections 2 and 4.1). */
class TransformsTest {
    static final int S = 256;
    static final Normalization IDENTITY = Normalization.channelMeanStd(new double[]{0, 0, 0},
            new double[]{1, 1, 1});

    static RgbImage pattern(int size, long seed) {
        RgbImage img = RgbImage.blank(size, size);
        SplittableRandom r = new SplittableRandom(seed);
        r.nextBytes(img.pixels());
        return img;
    }

    @Test
    void randomCropCoversEveryPositionUniformly() {
        RandomCrop crop = new RandomCrop(227);
        int[] xs = new int[30];
        SplittableRandom rng = new SplittableRandom(1);
        for (int i = 0; i < 30_000; i++) {
            Crop c = crop.sample(S, rng);
            assertThat(c.size()).isEqualTo(227);
            assertThat(c.mirror()).isFalse();
            xs[c.x()]++;
            assertThat(c.y()).isBetween(0, 29);
        }
        for (int count : xs) { // 30 positions (0..29), ~1000 each
            assertThat(count).isBetween(850, 1150);
        }
        assertThat(new RandomCrop(224).sample(S, new SplittableRandom(2)).x()).isBetween(0, 32);
        assertThatThrownBy(() -> crop.sample(200, rng)).hasMessageContaining("larger than the 200x200");
    }

    @Test
    void centerAndTenCropsLandWhereThePaperPutsThem() {
        assertThat(new CenterCrop(227).of(S)).isEqualTo(new Crop(14, 14, 227, false));
        assertThat(new CenterCrop(224).of(S)).isEqualTo(new Crop(16, 16, 224, false));
        List<Crop> ten = new TenCrop(227).of(S);
        assertThat(ten).containsExactly(
                new Crop(0, 0, 227, false), new Crop(29, 0, 227, false), new Crop(0, 29, 227, false),
                new Crop(29, 29, 227, false), new Crop(14, 14, 227, false),
                new Crop(0, 0, 227, true), new Crop(29, 0, 227, true), new Crop(0, 29, 227, true),
                new Crop(29, 29, 227, true), new Crop(14, 14, 227, true));
    }

    @Test
    void horizontalFlipHappensWithProbabilityP() {
        SplittableRandom rng = new SplittableRandom(3);
        Crop c = new Crop(1, 2, 10, false);
        int flipped = 0;
        for (int i = 0; i < 20_000; i++) {
            Crop f = new HorizontalFlip(0.5).apply(c, rng);
            assertThat(f.x()).isEqualTo(1);
            assertThat(f.y()).isEqualTo(2);
            flipped += f.mirror() ? 1 : 0;
        }
        assertThat(flipped / 20_000.0).isCloseTo(0.5, within(0.015));
        assertThat(new HorizontalFlip(0).apply(c, rng).mirror()).isFalse();
        assertThat(new HorizontalFlip(1).apply(c, rng).mirror()).isTrue();
        assertThatThrownBy(() -> new HorizontalFlip(1.5)).hasMessageContaining("[0, 1]");
    }

    @Test
    void viewWriterCutsTheRightPixelsAndMirrorsExactly() {
        RgbImage img = pattern(S, 4);
        int n = 227;
        float[] plain = new float[3 * n * n];
        float[] mirror = new float[3 * n * n];
        Crop c = new Crop(7, 21, n, false);
        ViewWriter.write(img, c, null, IDENTITY, plain, 0);
        ViewWriter.write(img, c.mirrored(true), null, IDENTITY, mirror, 0);
        for (int ch = 0; ch < 3; ch++) {
            for (int y = 0; y < n; y += 13) {
                for (int x = 0; x < n; x++) {
                    float expected = img.get(7 + x, 21 + y, ch) / 255f;
                    assertThat(plain[(ch * n + y) * n + x]).isCloseTo(expected, within(1e-6f));
                    assertThat(mirror[(ch * n + y) * n + (n - 1 - x)]).isEqualTo(plain[(ch * n + y) * n + x]);
                }
            }
        }
    }

    @Test
    void pcaLightingOffsetIsEigvecTimesAlphaTimesEigval() {
        double[] eigval = {0.2175, 0.0188, 0.0045};
        double[][] eigvec = {{-0.5675, 0.7192, 0.4009}, {-0.5808, -0.0045, -0.8140}, {-0.5836, -0.6948, 0.4203}};
        PcaLighting l = new PcaLighting(0.1, eigval, eigvec);
        double[] alpha = {0.1, -0.2, 0.3};
        // by hand: rgb[i] = sum_j eigvec[i][j] * alpha[j] * eigval[j]
        double r = -0.5675 * 0.1 * 0.2175 + 0.7192 * -0.2 * 0.0188 + 0.4009 * 0.3 * 0.0045;
        double g = -0.5808 * 0.1 * 0.2175 + -0.0045 * -0.2 * 0.0188 + -0.8140 * 0.3 * 0.0045;
        double b = -0.5836 * 0.1 * 0.2175 + -0.6948 * -0.2 * 0.0188 + 0.4203 * 0.3 * 0.0045;
        float[] off = l.offset(alpha);
        assertThat(off[0]).isCloseTo((float) r, within(1e-7f));
        assertThat(off[1]).isCloseTo((float) g, within(1e-7f));
        assertThat(off[2]).isCloseTo((float) b, within(1e-7f));
        // the published constants are what the metadata ships
        assertThat(ImageNetMeta.get().pca().eigval()).containsExactly(eigval);
        assertThat(ImageNetMeta.get().pca().eigvec()).isDeepEqualTo(eigvec);

        // added to every pixel, on the 0..1 scale, before normalization
        RgbImage img = pattern(S, 5);
        int n = 227;
        float[] without = new float[3 * n * n];
        float[] with = new float[3 * n * n];
        Crop c = new Crop(3, 3, n, true);
        ViewWriter.write(img, c, null, IDENTITY, without, 0);
        ViewWriter.write(img, c, off, IDENTITY, with, 0);
        for (int i = 0; i < with.length; i++) {
            assertThat(with[i] - without[i]).isCloseTo(off[i / (n * n)], within(1e-6f));
        }
        // alphas are N(0, 0.1)
        SplittableRandom rng = new SplittableRandom(6);
        double sum = 0;
        double sq = 0;
        for (int i = 0; i < 10_000; i++) {
            double a = l.sampleAlpha(rng)[i % 3];
            sum += a;
            sq += a * a;
        }
        assertThat(sum / 10_000).isCloseTo(0, within(0.005));
        assertThat(Math.sqrt(sq / 10_000)).isCloseTo(0.1, within(0.004));
    }

    @Test
    void meanImageSubtractionUsesTheSourcePixelsMeanOnThe255Scale() {
        int s = 64;
        float[] mean = new float[3 * s * s];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < mean.length; i++) {
            mean[i] = (float) r.nextDouble();
        }
        DatasetStats stats = new DatasetStats("computed", 1, s, mean, new double[]{0.5, 0.5, 0.5},
                new double[]{0.2, 0.2, 0.2}, null, new double[]{1, 1, 1}, new double[3][3]);
        Normalization norm = Normalization.meanImage(stats);
        RgbImage img = pattern(s, 8);
        int n = 50;
        float[] out = new float[3 * n * n];
        ViewWriter.write(img, new Crop(10, 4, n, true), null, norm, out, 0);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++) {
                    int sx = 10 + n - 1 - x;
                    int sy = 4 + y;
                    float expected = 255f * (img.get(sx, sy, c) / 255f - mean[(c * s + sy) * s + sx]);
                    assertThat(out[(c * n + y) * n + x]).isCloseTo(expected, within(1e-3f));
                }
            }
        }
        Normalization ch = Normalization.channelMeanStd(new double[]{0.485, 0.456, 0.406},
                new double[]{0.229, 0.224, 0.225});
        assertThat(ch.apply(1, 0, 0, 0.7f)).isCloseTo((0.7f - 0.456f) / 0.224f, within(1e-5f));
        assertThatThrownBy(() -> Normalization.channelMeanStd(new double[]{0, 0, 0}, new double[]{1, 0, 1}))
                .hasMessageContaining("positive");
        assertThatThrownBy(() -> ViewWriter.write(pattern(S, 1), new Crop(0, 0, 10, false), null, norm,
                new float[300], 0)).hasMessageContaining("mean image is 64x64");
    }

    @Test
    void bgrNormalisationWritesTheSameValuesInReversedPlaneOrder() {
        Normalization rgb = Normalization.channelMeanStd(new double[]{0.48, 0.46, 0.41},
                new double[]{1 / 255.0, 1 / 255.0, 1 / 255.0});
        Normalization bgr = rgb.bgr();
        assertThat(bgr.isBgr()).isTrue();
        assertThat(rgb.isBgr()).isFalse();
        RgbImage img = pattern(S, 3);
        int n = 40;
        float[] a = new float[3 * n * n], b = new float[3 * n * n];
        Crop crop = new Crop(7, 9, n, true);
        ViewWriter.write(img, crop, new float[]{0.01f, -0.02f, 0.03f}, rgb, a, 0);
        ViewWriter.write(img, crop, new float[]{0.01f, -0.02f, 0.03f}, bgr, b, 0);
        int plane = n * n;
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                assertThat(b[(2 - c) * plane + i]).isEqualTo(a[c * plane + i]);
            }
        }
        // Caffe's convention: plane 0 is blue, 0..255 minus the mean
        assertThat(b[0]).isCloseTo((img.get(7 + n - 1, 9, 2) / 255f + 0.03f - 0.41f) * 255f, within(1e-3f));
        Normalization pixel = Normalization.meanPixel(new double[]{0.48, 0.46, 0.41});
        assertThat(pixel.kind()).isEqualTo(Normalization.Kind.MEAN_IMAGE);
        assertThat(pixel.apply(2, 5, 6, 0.5f)).isCloseTo(255f * (0.5f - 0.41f), within(1e-4f));
    }

    @Test
    void warpKeepsTheWholeImageAndCenterCutsTheMiddle() throws Exception {
        // 512x256: the left quarter red, the rest blue
        RgbImage wide = RgbImage.blank(512, 256);
        for (int y = 0; y < 256; y++) {
            for (int x = 0; x < 512; x++) {
                wide.set(x, y, x < 128 ? 0 : 2, 255);
            }
        }
        byte[] png = ImageCodec.encodePng(wide);
        RgbImage warped = Resize.WARP.decode(png, png.length, 256);
        RgbImage centred = Resize.CENTER.decode(png, png.length, 256);
        assertThat(warped.width()).isEqualTo(256);
        assertThat(warped.height()).isEqualTo(256);
        // warp squeezes the whole width: columns 0..63 come from the red quarter; the centre crop never sees it
        assertThat(warped.get(10, 100, 0)).isEqualTo(255);
        assertThat(warped.get(10, 100, 2)).isZero();
        assertThat(warped.get(100, 100, 2)).isEqualTo(255);
        assertThat(centred.get(10, 100, 0)).isZero();
        assertThat(centred.get(10, 100, 2)).isEqualTo(255);
        assertThat(Resize.fromId("warp")).isEqualTo(Resize.WARP);
        assertThatThrownBy(() -> Resize.fromId("crop")).hasMessageContaining("center or warp");
    }

    @Test
    void tenCropAveragingAveragesTheTenViewsOfEachImage() {
        // 2 images x 10 views x 3 classes
        float[] p = new float[60];
        for (int v = 0; v < 10; v++) {
            p[v * 3] = v < 5 ? 1 : 0;       // image 0: class 0 in 5 views, class 1 in 5
            p[v * 3 + 1] = v < 5 ? 0 : 1;
            p[30 + v * 3 + 2] = 1;          // image 1: class 2 always
        }
        INDArray avg = TenCrop.average(Nd4j.create(p, new long[]{20, 3}, 'c'));
        assertThat(avg.shape()).containsExactly(2, 3);
        assertThat(avg.toFloatMatrix()[0]).containsExactly(0.5f, 0.5f, 0f);
        assertThat(avg.toFloatMatrix()[1]).containsExactly(0f, 0f, 1f);
        assertThatThrownBy(() -> TenCrop.average(Nd4j.create(new float[9], new long[]{3, 3}, 'c')))
                .hasMessageContaining("multiple of 10");
    }
}
