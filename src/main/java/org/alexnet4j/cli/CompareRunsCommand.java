package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.train.Metrics;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.util.LinePlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Several runs' per-epoch metrics side by side: one plot with a curve per run (validation loss by default), and the
 * table of the same numbers. What {@code train --precision bf16} against fp32 (or two seeds, two recipes) is judged by.
 */
@Command(name = "compare-runs", mixinStandardHelpOptions = true,
        description = "Plot one metric of several runs by epoch in one chart (a curve per run) and print the table.")
class CompareRunsCommand implements Callable<Integer> {
    private static final List<String> METRICS = List.of("val_loss", "train_loss", "val_top1_err", "val_top5_err");

    @Parameters(paramLabel = "RUN_DIR", arity = "1..*", description = "Run directories (train --out).")
    List<Path> runs;

    @Option(names = "--metric", defaultValue = "val_loss", paramLabel = "val_loss|train_loss|val_top1_err|"
            + "val_top5_err", description = "What to plot (default: ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--out", required = true, paramLabel = "FILE.png", description = "The chart to write.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!METRICS.contains(metric)) {
            throw new IllegalArgumentException("--metric must be one of " + String.join(", ", METRICS) + ", got "
                    + metric);
        }
        LinePlot plot = new LinePlot(metric.replace('_', ' ') + " by epoch", "epoch", metric.replace('_', ' '));
        List<String> names = new ArrayList<>();
        List<double[]> epochs = new ArrayList<>(), values = new ArrayList<>();
        for (Path run : runs) {
            Path csv = run.resolve(RunDirectory.METRICS);
            if (!Files.isRegularFile(csv)) {
                throw new IllegalArgumentException(run + " has no " + RunDirectory.METRICS + ": is it a run directory "
                        + "(train --out) with a finished epoch?");
            }
            Metrics m = Metrics.read(csv);
            double[] v = switch (metric) {
                case "val_loss" -> m.valLoss();
                case "train_loss" -> m.trainLoss();
                case "val_top1_err" -> m.top1();
                default -> m.top5();
            };
            String name = run.getFileName() + label(run);
            names.add(name);
            epochs.add(m.epoch());
            values.add(v);
            plot.add(name, m.epoch(), v);
        }
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        plot.write(out);
        PrintWriter o = spec.commandLine().getOut();
        int rows = epochs.stream().mapToInt(e -> e.length).max().orElse(0);
        o.println("epoch\t" + String.join("\t", names));
        for (int r = 0; r < rows; r++) {
            StringBuilder line = new StringBuilder(String.valueOf(r + 1));
            for (double[] v : values) {
                line.append('\t').append(r < v.length ? String.format(Locale.ROOT, "%.4f", v[r]) : "-");
            }
            o.println(line);
        }
        o.println("wrote " + out);
        o.flush();
        return 0;
    }

    /** " (engine, precision, seed)" from the run's config.json, where it has one. */
    private static String label(Path run) {
        try {
            JsonNode c = new ObjectMapper().readTree(run.resolve(RunDirectory.CONFIG).toFile());
            return " (" + c.path("precision").asText("fp32") + ", seed " + c.path("seed").asText("?") + ")";
        } catch (Exception e) {
            return "";
        }
    }
}
