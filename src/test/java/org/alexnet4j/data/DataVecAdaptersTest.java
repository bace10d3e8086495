package org.alexnet4j.data;

import org.alexnet4j.data.datavec.PaperResizeTransform;
import org.alexnet4j.data.datavec.PcaLightingTransform;
import org.alexnet4j.data.transforms.PcaLighting;
import org.datavec.image.loader.NativeImageLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The paper's resize and PCA lighting as DataVec ImageTransforms, inside DataVec's own NativeImageLoader. */
class DataVecAdaptersTest {
    @TempDir
    Path tmp;

    @Test
    void paperResizeInsideNativeImageLoaderMatchesTheCodec() throws Exception {
        RgbImage img = SyntheticImageNet.render(4, new SplittableRandom(3));
        byte[] png = ImageCodec.encodePng(img);
        Path file = tmp.resolve("a.png");
        Files.write(file, png);
        RgbImage expected = ImageCodec.decodeCentered(png, png.length, 256);
        NativeImageLoader loader = new NativeImageLoader(256, 256, 3, new PaperResizeTransform(256));
        INDArray bgr = loader.asMatrix(file.toFile()); // [1, 3, 256, 256], BGR order, 0..255
        assertThat(bgr.shape()).containsExactly(1, 3, 256, 256);
        for (int y = 0; y < 256; y += 17) {
            for (int x = 0; x < 256; x += 13) {
                for (int c = 0; c < 3; c++) {
                    assertThat(bgr.getDouble(0, 2 - c, y, x)).isEqualTo(expected.get(x, y, c));
                }
            }
        }
    }

    @Test
    void pcaLightingTransformAddsTheOffsetToEveryPixelUnclipped() throws Exception {
        RgbImage img = SyntheticImageNet.render(1, new SplittableRandom(4));
        Path file = tmp.resolve("b.png");
        Files.write(file, ImageCodec.encodePng(ImageCodec.centered(img, 64)));
        DatasetStats published = DatasetStats.published(64);
        PcaLightingTransform light = new PcaLightingTransform(new Random(7), PcaLighting.of(published, 0.1));
        INDArray plain = new NativeImageLoader(64, 64, 3).asMatrix(file.toFile());
        INDArray lit = new NativeImageLoader(64, 64, 3, light).asMatrix(file.toFile());
        float[] rgb = light.lastOffset();
        assertThat(rgb).isNotNull();
        INDArray diff = lit.sub(plain);
        for (int c = 0; c < 3; c++) { // BGR planes
            INDArray plane = diff.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(2 - c));
            assertThat(plane.minNumber().doubleValue()).isCloseTo(255 * rgb[c], within(1e-3));
            assertThat(plane.maxNumber().doubleValue()).isCloseTo(255 * rgb[c], within(1e-3));
        }
    }
}
