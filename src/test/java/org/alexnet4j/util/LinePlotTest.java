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

    /**
     * A child JVM draws charts in a loop while it exits (as when SIGTERM arrives during a training run's epoch-end
     * plots). ImageIO's disk cache, closed by a JDK shutdown hook, made such a write fail with "IOException: closed"
     * in 2 of 3 runs of this; the charts are now encoded in memory.
     */
    @Test
    @Timeout(120)
    void aChartDrawnWhileTheJvmExitsIsWrittenOrLeftAloneButDoesNotFail() throws Exception {
        Path log = tmp.resolve("child.log");
        for (int run = 0; run < 4; run++) {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                    DrawWhileExiting.class.getName(), tmp.resolve("run" + run).toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            assertThat(p.waitFor(100, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            String out = Files.readString(log);
            assertThat(out).as(out).contains("drawn").doesNotContain("FAILED");
        }
    }

    /** The child of the test above: draws until the JVM exits (0.3 s after 30 charts), reporting a failed write. */
    static final class DrawWhileExiting {
        public static void main(String[] args) throws Exception {
            Path dir = Files.createDirectories(Path.of(args[0]));
            java.util.concurrent.CountDownLatch drawing = new java.util.concurrent.CountDownLatch(1);
            // a slow hook, like the training command's, keeps the JVM in its shutdown while drawing goes on
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    Thread.sleep(1500);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            Thread draw = new Thread(() -> {
                for (int i = 0; ; i++) {
                    try {
                        new LinePlot("t", "epoch", "loss").add("a", new double[]{1, 2, 3}, new double[]{3, 2, 1})
                                .write(dir.resolve("p.png"));
                        if (i == 30) {
                            System.out.println("drawn");
                            drawing.countDown();
                        }
                    } catch (java.io.IOException e) {
                        System.out.println("FAILED after " + i + " charts: " + e);
                        drawing.countDown();
                        return;
                    } catch (RuntimeException | InternalError e) {
                        drawing.countDown();
                        return; // Java2D refuses during shutdown: the caller logs and draws again later
                    }
                }
            });
            draw.setDaemon(true);
            draw.start();
            drawing.await(); // warmed up: the exit then lands in the middle of a write most of the time
            Thread.sleep(300);
            System.exit(0);
        }
    }
}
