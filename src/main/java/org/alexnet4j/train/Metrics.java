package org.alexnet4j.train;

import org.alexnet4j.util.LinePlot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A run's {@code metrics.csv} (one row per epoch: epoch, iterations, train_loss, val_loss, val_top1_err,
 * val_top5_err, lr, images_per_s, seconds) and its plots: {@code loss.png}, {@code error.png} (with chance levels),
 * {@code lr.png} (log scale).
 */
public record Metrics(double[] epoch, double[] trainLoss, double[] valLoss, double[] top1, double[] top5,
                      double[] lr) {

    public static Metrics read(Path csv) throws IOException {
        List<double[]> rows = new ArrayList<>();
        for (String line : Files.readAllLines(csv)) {
            if (line.isBlank() || line.startsWith("epoch")) {
                continue;
            }
            String[] p = line.split(",");
            double[] r = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                r[i] = Double.parseDouble(p[i]);
            }
            rows.add(r);
        }
        int n = rows.size();
        double[][] cols = new double[9][n];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 9; c++) {
                cols[c][i] = rows.get(i)[c];
            }
        }
        return new Metrics(cols[0], cols[2], cols[3], cols[4], cols[5], cols[6]);
    }

    public void plot(Path dir, int classes) throws IOException {
        Files.createDirectories(dir);
        new LinePlot("Loss", "epoch", "cross-entropy").add("train (mean over epoch)", epoch, trainLoss)
                .add("validation (centre crop)", epoch, valLoss).write(dir.resolve("loss.png"));
        LinePlot err = new LinePlot("Validation error (centre crop)", "epoch", "error")
                .add("top-1", epoch, top1).add("top-5", epoch, top5)
                .horizontal("chance top-1", 1 - 1.0 / classes);
        if (classes > 5) {
            err.horizontal("chance top-5", 1 - 5.0 / classes);
        }
        err.write(dir.resolve("error.png"));
        new LinePlot("Learning rate", "epoch", "lr").logY(true).add("lr", epoch, lr).write(dir.resolve("lr.png"));
    }
}
