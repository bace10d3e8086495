package org.alexnet4j.tune;

import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.LinePlot;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * A search's results, rewritten after every candidate: {@code results.csv} (every candidate, hyperparameters and
 * scores), {@code results.md} (the same ranked, for reading), {@code best-config.json} (the base recipe with the best
 * candidate's values: {@code alexnet4j train --config} takes it as it is, for the full run) and
 * {@code plots/score-vs-NAME.png} per hyperparameter plus {@code plots/search-progress.png}.
 */
public final class SearchReport {
    public static final String CSV = "results.csv";
    public static final String MARKDOWN = "results.md";
    public static final String BEST_CONFIG = "best-config.json";

    private SearchReport() {
    }

    /** Ranking: complete candidates by score, then those stopped early by score, then those without a score. */
    static final Comparator<CandidateRecord> RANK = Comparator
            .comparingInt((CandidateRecord r) -> !r.scored() ? 2 : CandidateRecord.COMPLETE.equals(r.status) ? 0 : 1)
            .thenComparingDouble(r -> r.top1Error == null ? Double.MAX_VALUE : r.top1Error)
            .thenComparingInt(r -> r.index);

    /** The best complete candidate (or, if none completed, the best scored one); null if none has a score. */
    public static CandidateRecord best(List<CandidateRecord> records) {
        return records.stream().filter(CandidateRecord::scored).min(RANK).orElse(null);
    }

    public static void write(Path dir, SearchSpace space, List<CandidateRecord> records, TrainConfig base)
            throws IOException {
        List<SearchSpace.Dimension> dims = space.dimensions();
        StringBuilder csv = new StringBuilder("candidate,status,top1_err,top5_err,best_top1_err,epochs,iterations,"
                + "seconds");
        dims.forEach(d -> csv.append(',').append(d.name()));
        csv.append(",reason\n");
        for (CandidateRecord r : records) {
            csv.append(r.index + 1).append(',').append(r.status).append(',').append(num(r.top1Error)).append(',')
                    .append(num(r.top5Error)).append(',').append(num(r.bestTop1Error)).append(',').append(r.epochs)
                    .append(',').append(r.iterations).append(',')
                    .append(String.format(Locale.ROOT, "%.1f", r.seconds));
            dims.forEach(d -> csv.append(',').append(value(r.values.get(d.name()))));
            csv.append(',').append(quote(r.reason)).append('\n');
        }
        write(dir.resolve(CSV), csv.toString());

        List<CandidateRecord> ranked = new ArrayList<>(records);
        ranked.sort(RANK);
        StringBuilder md = new StringBuilder("# Hyperparameter search\n\n");
        md.append("Validation top-1 error at the end of each candidate's budget (centre crops), best first.\n\n");
        md.append("| rank | candidate | top-1 err | top-5 err | status | epochs | time |");
        dims.forEach(d -> md.append(' ').append(d.name()).append(" |"));
        md.append("\n|---:|---:|---:|---:|---|---:|---:|");
        dims.forEach(d -> md.append("---:|"));
        md.append('\n');
        int rank = 1;
        for (CandidateRecord r : ranked) {
            md.append("| ").append(r.scored() ? String.valueOf(rank++) : "-").append(" | ").append(r.index + 1)
                    .append(" | ").append(r.top1Error == null ? "-" : num(r.top1Error)).append(" | ")
                    .append(r.top5Error == null ? "-" : num(r.top5Error)).append(" | ").append(r.status)
                    .append(" | ").append(r.epochs).append(" | ")
                    .append(org.alexnet4j.util.ProgressBar.time(r.seconds)).append(" |");
            dims.forEach(d -> md.append(' ').append(value(r.values.get(d.name()))).append(" |"));
            md.append('\n');
        }
        CandidateRecord best = best(records);
        if (best != null) {
            md.append("\nBest: candidate ").append(best.index + 1).append(", ").append(describe(best.values))
                    .append("; its full recipe is in `").append(BEST_CONFIG).append("`.\n");
            space.recipe(base, best.values).validate().write(dir.resolve(BEST_CONFIG));
        }
        write(dir.resolve(MARKDOWN), md.toString());
        try {
            plots(dir.resolve("plots"), dims, records);
        } catch (RuntimeException | InternalError e) {
            // e.g. Java2D refusing to start once the JVM shuts down after Ctrl-C: the report stands without pictures
            org.slf4j.LoggerFactory.getLogger(SearchReport.class).warn("search plots not redrawn ({})",
                    String.valueOf(e.getMessage()));
        }
    }

    private static void plots(Path plots, List<SearchSpace.Dimension> dims, List<CandidateRecord> records)
            throws IOException {
        Files.createDirectories(plots);
        List<CandidateRecord> scored = records.stream().filter(CandidateRecord::scored).toList();
        long unscored = records.stream().filter(r -> r.finished() && !r.scored()).count();
        String note = unscored == 0 ? "" : " (" + unscored + " without a score not shown)";
        for (SearchSpace.Dimension d : dims) {
            LinePlot p = new LinePlot("Validation top-1 error vs " + d.name() + note, d.name()
                    + (d.logScale() ? " (log scale)" : ""), "top-1 error");
            List<String> categories = d.categorical() ? d.values().stream().map(SearchReport::value).toList() : null;
            for (String status : List.of(CandidateRecord.COMPLETE, CandidateRecord.STOPPED_EARLY)) {
                List<CandidateRecord> group = scored.stream().filter(r -> r.status.equals(status)).toList();
                if (group.isEmpty()) {
                    continue;
                }
                double[] x = new double[group.size()];
                double[] y = new double[group.size()];
                for (int i = 0; i < x.length; i++) {
                    Object v = group.get(i).values.get(d.name());
                    x[i] = categories != null ? categories.indexOf(value(v)) : ((Number) v).doubleValue();
                    y[i] = group.get(i).top1Error;
                }
                p.points(status, x, y);
            }
            if (categories != null) {
                p.xCategories(categories);
            }
            p.logX(d.logScale()).write(plots.resolve("score-vs-" + d.name() + ".png"));
        }
        double[] idx = new double[scored.size()];
        double[] err = new double[scored.size()];
        double[] bestSoFar = new double[scored.size()];
        double b = Double.POSITIVE_INFINITY;
        for (int i = 0; i < idx.length; i++) {
            idx[i] = scored.get(i).index + 1;
            err[i] = scored.get(i).top1Error;
            b = Math.min(b, err[i]);
            bestSoFar[i] = b;
        }
        new LinePlot("Search progress" + note, "candidate", "top-1 error").points("candidate", idx, err)
                .add("best so far", idx, bestSoFar).write(plots.resolve("search-progress.png"));
    }

    private static String num(Double v) {
        return v == null ? "" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** Hyperparameter values for logs and tables: {@code lr=0.001558, batch=8}. */
    public static String describe(java.util.Map<String, Object> values) {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(k).append('=').append(value(v)));
        return sb.toString();
    }

    static String value(Object v) {
        if (v instanceof Double d) {
            return SearchSpace.fmt(d);
        }
        return String.valueOf(v);
    }

    private static String quote(String s) {
        if (s == null) {
            return "";
        }
        return "\"" + s.replace("\"", "\"\"").replace('\n', ' ') + "\"";
    }

    private static void write(Path file, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
    }
}
