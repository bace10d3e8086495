package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.runtime.RunLog;
import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.tune.CandidateRecord;
import org.alexnet4j.tune.SearchReport;
import org.alexnet4j.tune.SearchSpace;
import org.alexnet4j.tune.Tuner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "tune", mixinStandardHelpOptions = true,
        description = {"Search hyperparameters of the training recipe with Arbiter: random or grid search over a "
                + "space file (ranges, log-scale ranges, choices), each candidate a short training run scored by its "
                + "validation top-1 error; hopeless candidates are stopped by the median rule. Writes results.csv, "
                + "results.md, best-config.json (for train --config), plots/*.png and candidates/ in SEARCH_DIR. "
                + "Ctrl-C stops after a checkpoint; --resume SEARCH_DIR continues without repeating finished "
                + "candidates."})
class TuneCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Dataset (ILSVRC2012 layout or prepared cache); "
            + "typically a subset of the one of the full run.")
    Path data;

    @Option(names = "--space", paramLabel = "FILE", description = "Search space (JSON): see docs/search.md "
            + "and the examples in scripts/spaces/.")
    Path space;

    @Option(names = "--out", paramLabel = "SEARCH_DIR", description = "Search directory (new).")
    Path out;

    @Option(names = "--resume", paramLabel = "SEARCH_DIR", description = "Continue the search in SEARCH_DIR "
            + "(--candidates and --max-time may change, e.g. to extend a finished search).")
    Path resume;

    @Option(names = "--config", paramLabel = "FILE", description = "Base recipe (JSON, keys as in config.json) every "
            + "candidate starts from; the space file's \"base\" and values override it.")
    Path config;

    @Option(names = "--search", paramLabel = "random|grid", description = "Candidate generator (default: random).")
    String search;

    @Option(names = "--candidates", paramLabel = "N", description = "Candidates to evaluate (default: 10 for random "
            + "search, the whole grid for grid search).")
    Integer candidates;

    @Option(names = "--grid-points", paramLabel = "K", description = "Grid search: points per continuous range, "
            + "evenly spaced in its scale (default: 3).")
    Integer gridPoints;

    @Option(names = "--budget", paramLabel = "B", description = "Training per candidate: epochs (3e), iterations "
            + "(200it) or time (90s, 10m, 1h) (default: 3e).")
    String budget;

    @Option(names = "--max-time", paramLabel = "T", description = "No new candidate starts after T (e.g. 2h) in "
            + "this session; the running one finishes its budget.")
    String maxTime;

    @Option(names = "--early-stop", paramLabel = "median|none", description = "Stop a candidate whose best error "
            + "is worse than the median of earlier candidates at the same epoch (default: median; needs 3 earlier "
            + "candidates).")
    String earlyStop;

    @Option(names = "--grace", paramLabel = "N", description = "Epochs before the median rule may stop a candidate "
            + "(default: 1).")
    Integer grace;

    @Option(names = "--limit-batches", paramLabel = "N", description = "Batches per epoch of every candidate, train "
            + "and validation (default: all).")
    Integer limitBatches;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the candidate generator (default: 1); each "
            + "candidate trains with the recipe's own seed.")
    Long seed;

    @Mixin
    ThreadsOption threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        boolean isResume = resume != null;
        if (isResume == (out != null)) {
            throw new IllegalArgumentException("give either --out SEARCH_DIR (a new search) or --resume SEARCH_DIR");
        }
        Path dir = isResume ? resume : out;
        if (isResume && (data != null || space != null || config != null || search != null || gridPoints != null
                || budget != null || earlyStop != null || grace != null || limitBatches != null || seed != null
                || threads.threads != null)) {
            throw new IllegalArgumentException("--resume continues the search as it was started (" + dir.resolve(
                    Tuner.SETTINGS) + "); only --candidates and --max-time may change");
        }
        Tuner.Settings s = null;
        if (!isResume) {
            if (space == null) {
                throw new IllegalArgumentException("--space FILE is required (see docs/search.md)");
            }
            s = new Tuner.Settings();
            TrainConfig base = config != null ? TrainConfig.read(config) : new TrainConfig();
            s.data = data != null ? data.toString() : base.data;
            if (s.data == null) {
                throw new IllegalArgumentException("--data DIR is required (or \"data\" in --config)");
            }
            base.data = null;
            s.base = base.toMap();
            s.space = new ObjectMapper().readTree(space.toFile());
            SearchSpace.parse(s.space, space.toString()); // errors name the file
            if (search != null) {
                s.search = search;
            }
            if (candidates != null) {
                s.candidates = candidates;
            }
            if (gridPoints != null) {
                s.gridPoints = gridPoints;
            }
            if (budget != null) {
                s.budget = budget;
            }
            s.maxTime = maxTime;
            if (earlyStop != null) {
                s.earlyStop = earlyStop;
            }
            if (grace != null) {
                s.grace = grace;
            }
            if (limitBatches != null) {
                s.limitBatches = limitBatches;
            }
            if (seed != null) {
                s.seed = seed;
            }
            if (threads.threads != null) {
                s.threads = threads.count();
            }
            s.validate();
        }
        Files.createDirectories(dir);
        Tuner.Outcome o;
        try (StopOnSignal stop = new StopOnSignal();
             AutoCloseable runLog = RunLog.attach(dir.resolve("tune.log"))) {
            o = isResume ? Tuner.resume(dir, candidates, maxTime, stop::requested)
                    : Tuner.start(s, dir, stop::requested);
        }
        PrintWriter w = spec.commandLine().getOut();
        w.printf("%s: %d candidates trained in this session, %d recalled from earlier ones%n", o.stopReason(),
                o.trainedNow(), o.fromEarlier());
        CandidateRecord best = o.best();
        if (best != null) {
            w.printf(Locale.ROOT, "best: candidate %d, validation top-1 error %.4f (top-5 %.4f) with %s%n",
                    best.index + 1, best.top1Error, best.top5Error, SearchReport.describe(best.values));
            w.printf("train it: alexnet4j train --config %s --out RUN_DIR%n", dir.resolve(SearchReport.BEST_CONFIG));
        }
        w.printf("search directory %s: %s, %s, plots/, candidates/, tune.log%n", dir, SearchReport.MARKDOWN,
                SearchReport.CSV);
        return 0;
    }
}
