package org.alexnet4j.bench;

import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.LinePlot;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code bench}'s files: a CSV with timm's benchmark columns (so the numbers line up with
 * {@code timm/benchmark.py}'s) plus latency percentiles, and a throughput-against-batch chart ({@link LinePlot}).
 */
public final class BenchReport {
    /** The CSV's columns: timm's names first, then this project's. */
    public static final List<String> COLUMNS = List.of("model", "precision", "batch_size", "infer_samples_per_sec",
            "infer_step_time", "infer_p50_ms", "infer_p90_ms", "infer_p99_ms", "train_samples_per_sec",
            "train_step_time", "param_count", "gmacs", "peak_rss_mib");

    private BenchReport() {
    }

    /**
     * One row per result. Times in ms per batch (timm's {@code *_step_time}), {@code param_count} in millions and
     * {@code gmacs} per image, as timm reports them; empty cells where a figure was not measured.
     */
    public static void writeCsv(Path file, List<ModelBench.Result> results, Map<String, Long> macsPerImage)
            throws IOException {
        StringBuilder sb = new StringBuilder(String.join(",", COLUMNS)).append('\n');
        for (ModelBench.Result r : results) {
            double inf = ModelBench.median(r.inferMs());
            double step = ModelBench.median(r.stepMs());
            Long macs = macsPerImage.get(r.model());
            List<String> cells = List.of(quote(r.model()), r.precision(), Integer.toString(r.batch()),
                    num(r.inferImagesPerSecond(), 2), num(inf, 3), num(ModelBench.percentile(r.inferMs(), 50), 3),
                    num(ModelBench.percentile(r.inferMs(), 90), 3), num(ModelBench.percentile(r.inferMs(), 99), 3),
                    num(r.trainImagesPerSecond(), 2), num(step, 3), num(r.parameters() / 1e6, 2),
                    macs == null ? "" : num(macs / 1e9, 3), Long.toString(r.peakResidentBytes() >> 20));
            sb.append(String.join(",", cells)).append('\n');
        }
        byte[] bytes = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AtomicFiles.write(file, tmp -> java.nio.file.Files.write(tmp, bytes));
    }

    /** Images/s against the batch (log scale), a line per model and mode (inference, training). */
    public static void plotThroughput(Path png, List<ModelBench.Result> results) throws IOException {
        Map<String, List<double[]>> series = new LinkedHashMap<>();
        for (ModelBench.Result r : results) {
            if (r.inferMs().length > 0) {
                series.computeIfAbsent(r.model() + " inference", k -> new ArrayList<>())
                        .add(new double[]{r.batch(), r.inferImagesPerSecond()});
            }
            if (r.stepMs().length > 0) {
                series.computeIfAbsent(r.model() + " training", k -> new ArrayList<>())
                        .add(new double[]{r.batch(), r.trainImagesPerSecond()});
            }
        }
        boolean several = results.stream().map(ModelBench.Result::batch).distinct().count() > 1;
        LinePlot plot = new LinePlot("Throughput against batch", "batch" + (several ? " (log scale)" : ""),
                "images/s").logX(several);
        for (Map.Entry<String, List<double[]>> e : series.entrySet()) {
            plot.add(e.getKey(), e.getValue().stream().mapToDouble(p -> p[0]).toArray(),
                    e.getValue().stream().mapToDouble(p -> p[1]).toArray());
        }
        plot.write(png);
    }

    private static String num(double v, int decimals) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%." + decimals + "f", v) : "";
    }

    private static String quote(String s) {
        return s.contains(",") || s.contains("\"") ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
}
