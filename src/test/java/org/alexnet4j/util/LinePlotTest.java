package org.alexnet4j.util;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The plots through XChart: lines with gaps and reference lines, categorical and log axes, no data; PNG files only. */
class LinePlotTest {
    @TempDir
    Path tmp;

    private static BufferedImage png(Path f) throws Exception {
        BufferedImage img = ImageIO.read(f.toFile());
        assertThat(img).as(f.toString()).isNotNull();
        return img;
    }

    @Test
    @Timeout(60) // XChart 3.8.8 hangs labelling jittered categorical ticks; LinePlot must not hand it those
    void everyKindOfPlotTheProjectDrawsIsWrittenAsAPng() throws Exception {
        double[] epoch = {1, 2, 3, 4, 5};
        new LinePlot("Validation error", "epoch", "error").add("top-1", epoch, new double[]{0.74, 0.6, Double.NaN, 0.5, 0.4})
                .add("top-5", epoch, new double[]{0.3, 0.2, 0.15, 0.1, 0.08}).horizontal("chance top-1", 0.75)
                .write(tmp.resolve("error.png"));
        new LinePlot("Learning rate", "epoch", "lr").logY(true).add("lr", epoch, new double[]{0.01, 0.01, 0.001, 0.001, 0})
                .write(tmp.resolve("lr.png"));
        new LinePlot("Score vs optimizer", "optimizer", "top-1 error").points("complete",
                        new double[]{0, 1.05, 0.95, 2}, new double[]{0.5, 0.3, 0.32, 0.7})
                .xCategories(List.of("sgd", "adam", "rmsprop")).write(tmp.resolve("categories.png"));
        new LinePlot("Throughput", "batch", "images/s").logX(true).add("x", new double[]{1, 8, 32, 128},
                new double[]{20, 120, 190, 215}).write(tmp.resolve("sub/throughput.png"));
        new LinePlot("Nothing yet", "epoch", "loss").add("train", new double[]{1}, new double[]{Double.NaN})
                .horizontal("chance", 1.0).write(tmp.resolve("empty.png"));
        for (String f : List.of("error.png", "lr.png", "categories.png", "sub/throughput.png", "empty.png")) {
            BufferedImage img = png(tmp.resolve(f));
            assertThat(img.getWidth()).isGreaterThan(300);
        }
        try (Stream<Path> files = Files.walk(tmp)) {
            assertThat(files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()))
                    .allMatch(n -> n.endsWith(".png") && !n.startsWith("."));
        }
    }
}
