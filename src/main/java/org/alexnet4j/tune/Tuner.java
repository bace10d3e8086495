package org.alexnet4j.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.eval.TopK;
import org.alexnet4j.runtime.RunLog;
import org.alexnet4j.train.Recipe;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.train.Trainer;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.ProgressBar;
import org.deeplearning4j.arbiter.optimize.api.Candidate;
import org.deeplearning4j.arbiter.optimize.api.CandidateGenerator;
import org.deeplearning4j.arbiter.optimize.api.OptimizationResult;
import org.deeplearning4j.arbiter.optimize.api.TaskCreator;
import org.deeplearning4j.arbiter.optimize.api.data.DataProvider;
import org.deeplearning4j.arbiter.optimize.api.data.DataSource;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultReference;
import org.deeplearning4j.arbiter.optimize.api.saving.ResultSaver;
import org.deeplearning4j.arbiter.optimize.api.score.ScoreFunction;
import org.deeplearning4j.arbiter.optimize.api.termination.MaxCandidatesCondition;
import org.deeplearning4j.arbiter.optimize.api.termination.MaxTimeCondition;
import org.deeplearning4j.arbiter.optimize.api.termination.TerminationCondition;
import org.deeplearning4j.arbiter.optimize.config.OptimizationConfiguration;
import org.deeplearning4j.arbiter.optimize.generator.GridSearchCandidateGenerator;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.deeplearning4j.arbiter.optimize.runner.CandidateInfo;
import org.deeplearning4j.arbiter.optimize.runner.CandidateStatus;
import org.deeplearning4j.arbiter.optimize.runner.IOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.LocalOptimizationRunner;
import org.deeplearning4j.arbiter.optimize.runner.listener.StatusListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;

/**
 * Hyperparameter search over the training recipe with Arbiter: its random or grid candidate generator walks a
 * {@link SearchSpace}, its {@link LocalOptimizationRunner} runs the candidates and applies the termination conditions
 * (candidate count, search time); each candidate is a short run of this project's own {@link Trainer} (its builder,
 * data pipeline and checkpoints) under a {@link Budget}, scored by its validation top-1 error, and hopeless candidates
 * are stopped by the {@link MedianStopping} rule.
 *
 * <p>A search directory holds {@code search.json} (the settings and the space, as started), {@code candidates/cNNN/}
 * (each a training run directory plus {@code candidate.json}), and the reports {@link SearchReport} rewrites after
 * every candidate. Resume: the generator is seeded, so it yields the same candidates in the same order; finished
 * candidates are answered from their records without training, an interrupted one continues from its checkpoint.
 */
public final class Tuner {
    private static final Logger log = LoggerFactory.getLogger(Tuner.class);
    public static final String SETTINGS = "search.json";
    public static final String CANDIDATES = "candidates";
    /** Random-search candidates when --candidates is not given. */
    public static final int DEFAULT_RANDOM_CANDIDATES = 10;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A search's settings, as written to {@code search.json} (public fields for JSON). */
    public static class Settings {
        /** Dataset of every candidate's training and validation. */
        public String data;
        /** "random" or "grid". */
        public String search = "random";
        /** Candidates to evaluate (0: 10 for random search, the whole grid for grid search). */
        public int candidates;
        /** Grid points per continuous range. */
        public int gridPoints = 3;
        public String budget = "3e";
        /** "median" (the median stopping rule) or "none". */
        public String earlyStop = "median";
        /** Validations before the median rule may stop a candidate. */
        public int grace = 1;
        /** Seed of the candidate generator (each candidate trains with the recipe's own seed). */
        public long seed = 1;
        /** No new candidate starts after this much search time (e.g. "2h"; null: no limit). */
        public String maxTime;
        /** Batches per epoch of the candidates' runs, train and validation (0: all). */
        public int limitBatches;
        /** Data threads of the candidates' runs (0: all cores). */
        public int threads;
        /** The recipe every candidate starts from (config.json keys); also the base of best-config.json. */
        public Map<String, Object> base = new LinkedHashMap<>();
        /** The search space (the space file's content). */
        public JsonNode space;

        public Settings validate() {
            if (data == null) {
                throw new IllegalArgumentException("--data DIR is required");
            }
            if (!search.equals("random") && !search.equals("grid")) {
                throw new IllegalArgumentException("--search must be random or grid, got " + search);
            }
            if (!earlyStop.equals("median") && !earlyStop.equals("none")) {
                throw new IllegalArgumentException("--early-stop must be median or none, got " + earlyStop);
            }
            if (candidates < 0 || gridPoints < 2 || limitBatches < 0 || threads < 0) {
                throw new IllegalArgumentException("--candidates, --limit-batches and --threads must be >= 0, "
                        + "--grid-points >= 2");
            }
            new MedianStopping(grace, MedianStopping.DEFAULT_MIN_PEERS);
            Budget.parse(budget);
            if (maxTime != null) {
                maxTimeSeconds();
            }
            return this;
        }

        long maxTimeSeconds() {
            Budget b = Budget.parse(maxTime);
            if (b.kind() != Budget.Kind.SECONDS) {
                throw new IllegalArgumentException("--max-time must be a time (90s, 30m, 2h), got " + maxTime);
            }
            return b.amount();
        }
    }

    /** How a search (or this session of it) ended. */
    public record Outcome(Path dir, List<CandidateRecord> records, int trainedNow, int fromEarlier,
                          CandidateRecord best, String stopReason) {
    }

    private final Settings settings;
    private final Path dir;
    private final BooleanSupplier stop;
    private final SearchSpace space;
    private final TrainConfig base;
    private final Budget budget;
    private final Map<Integer, CandidateRecord> records = new ConcurrentHashMap<>();
    private int trainedNow;
    private int fromEarlier;
    private double trainingSeconds;
    private int planned;

    private Tuner(Settings settings, Path dir, BooleanSupplier stop) {
        this.settings = settings.validate();
        this.dir = dir;
        this.stop = stop;
        this.space = SearchSpace.parse(settings.space, "search space");
        TrainConfig b = TrainConfig.fromMap(settings.base);
        b.data = settings.data;
        this.base = b.validate();
        this.budget = Budget.parse(settings.budget);
    }

    /** Starts a search in a new or empty directory. */
    public static Outcome start(Settings settings, Path dir, BooleanSupplier stop) throws IOException {
        Tuner t = new Tuner(settings, dir, stop);
        try (var lock = org.alexnet4j.util.DirLock.acquire(dir, "search directory")) {
            if (Files.exists(dir.resolve(SETTINGS))) {
                throw new IllegalArgumentException(dir + " already holds a search; use --resume " + dir
                        + " to continue it, or another --out");
            }
            byte[] json = JSON.writeValueAsBytes(settings);
            AtomicFiles.write(dir.resolve(SETTINGS), tmp -> Files.write(tmp, json));
            return stopCleanlyOnWriteFailure(dir, t);
        }
    }

    /** Runs the search; a failed write ends it with what is kept and the command that continues it. */
    private static Outcome stopCleanlyOnWriteFailure(Path dir, Tuner t) throws IOException {
        try {
            return t.run();
        } catch (IOException e) {
            throw new IllegalStateException("search stopped: " + org.alexnet4j.util.IoErrors.describe(e) + "; the "
                    + "finished candidates and the checkpoints of the one in progress are kept in " + dir + "; fix the "
                    + "cause (free space?), then continue with: alexnet4j tune --resume " + dir, e);
        }
    }

    /**
     * Continues the search in {@code dir}; {@code candidates} and {@code maxTime} (when not null) replace the saved
     * ones, so a finished search can also be extended.
     */
    public static Outcome resume(Path dir, Integer candidates, String maxTime, BooleanSupplier stop)
            throws IOException {
        if (!Files.exists(dir.resolve(SETTINGS))) {
            throw new IllegalArgumentException(dir + " has no " + SETTINGS + ": not a search directory");
        }
        try (var lock = org.alexnet4j.util.DirLock.acquire(dir, "search directory")) {
            return resumeLocked(dir, candidates, maxTime, stop);
        }
    }

    private static Outcome resumeLocked(Path dir, Integer candidates, String maxTime, BooleanSupplier stop)
            throws IOException {
        Settings s = JSON.readValue(dir.resolve(SETTINGS).toFile(), Settings.class);
        if (candidates != null) {
            s.candidates = candidates;
        }
        if (maxTime != null) {
            s.maxTime = maxTime.equalsIgnoreCase("none") ? null : maxTime;
        }
        Tuner t = new Tuner(s, dir, stop);
        byte[] json = JSON.writeValueAsBytes(s);
        AtomicFiles.write(dir.resolve(SETTINGS), tmp -> Files.write(tmp, json));
        return stopCleanlyOnWriteFailure(dir, t);
    }

    private CandidateGenerator generator() {
        if (settings.search.equals("grid")) {
            // Sequential: Arbiter's RandomOrder shuffles in its constructor, before a seed can be set, so its order
            // would differ on resume
            return new GridSearchCandidateGenerator(space, settings.gridPoints,
                    GridSearchCandidateGenerator.Mode.Sequential, null);
        }
        return new RandomSearchGenerator(space, null);
    }

    private Outcome run() throws IOException {
        records.putAll(CandidateRecord.readAll(dir.resolve(CANDIDATES)));
        checkRecordsMatch();
        long gridSize = space.gridSize(settings.gridPoints);
        if (settings.search.equals("grid")) {
            planned = (int) Math.min(gridSize, settings.candidates > 0 ? settings.candidates : gridSize);
        } else {
            planned = settings.candidates > 0 ? settings.candidates : DEFAULT_RANDOM_CANDIDATES;
        }
        log.info("search {}: {} search, {} candidates{}, each {}, scored by validation top-1 error; early stop: {}",
                dir, settings.search, planned, settings.search.equals("grid") ? " (grid of " + gridSize + ")" : "",
                budget.describe(), settings.earlyStop.equals("median") ? "median rule after " + settings.grace
                        + " validation(s)" : "none");
        for (SearchSpace.Dimension d : space.dimensions()) {
            log.info("  {}", d.describe());
        }
        if (!records.isEmpty()) {
            log.info("resuming: {} candidate(s) recorded, {} finished", records.size(),
                    records.values().stream().filter(CandidateRecord::finished).count());
        }

        CandidateGenerator gen = generator();
        List<TerminationCondition> conditions = new ArrayList<>();
        conditions.add(new MaxCandidatesCondition(planned));
        if (settings.maxTime != null) {
            conditions.add(new MaxTimeCondition(settings.maxTimeSeconds(), TimeUnit.SECONDS));
        }
        conditions.add(new EndOfSearch(gen, stop));
        OptimizationConfiguration conf = new OptimizationConfiguration.Builder()
                .candidateGenerator(gen)
                .scoreFunction(new ValidationTop1Error())
                .modelSaver(new RecordSaver())
                .terminationConditions(conditions)
                .rngSeed(settings.seed)
                .build();
        IOptimizationRunner runner = new LocalOptimizationRunner(1, conf, new CandidateTasks());
        runner.execute();

        List<CandidateRecord> all = sortedRecords();
        SearchReport.write(dir, space, all, base);
        String reason;
        long done = all.stream().filter(CandidateRecord::finished).count();
        if (stop.getAsBoolean()) {
            reason = "interrupted; resume with --resume " + dir;
        } else if (done >= planned) {
            reason = "completed " + planned + " candidates";
        } else if (settings.search.equals("grid") && done >= gridSize) {
            reason = "completed the grid of " + gridSize;
        } else {
            reason = "reached --max-time " + settings.maxTime;
        }
        CandidateRecord best = SearchReport.best(all);
        if (best != null) {
            log.info(String.format(Locale.ROOT, "%s: best candidate %d, top-1 error %.4f with %s; recipe in %s",
                    reason, best.index + 1, best.top1Error, SearchReport.describe(best.values),
                    dir.resolve(SearchReport.BEST_CONFIG)));
        } else {
            log.info("{}: no candidate has a score yet", reason);
        }
        return new Outcome(dir, all, trainedNow, fromEarlier, best, reason);
    }

    /** A resumed search must regenerate the candidates it recorded: a twin generator, seeded alike, checks that. */
    private void checkRecordsMatch() {
        if (records.isEmpty()) {
            return;
        }
        int last = Collections.max(records.keySet());
        CandidateGenerator twin = generator();
        twin.setRngSeed(settings.seed);
        for (int i = 0; i <= last && twin.hasMoreCandidates(); i++) {
            Candidate c = twin.getCandidate();
            CandidateRecord r = records.get(c.getIndex());
            if (r != null && !sameValues(r.values, castValues(c.getValue()))) {
                throw new IllegalStateException("candidate " + c.getIndex() + " was recorded with " + r.values
                        + " but the search now generates " + c.getValue() + ": the search's space, mode or seed "
                        + "changed; start a new search with --out");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static LinkedHashMap<String, Object> castValues(Object v) {
        return (LinkedHashMap<String, Object>) v;
    }

    /** Equal as recorded in JSON (numbers compared as doubles, which is how they come back from the file). */
    static boolean sameValues(Map<String, Object> a, Map<String, Object> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (String k : a.keySet()) {
            Object x = a.get(k);
            Object y = b.get(k);
            if (x instanceof Number nx && y instanceof Number ny) {
                if (Double.compare(nx.doubleValue(), ny.doubleValue()) != 0) {
                    return false;
                }
            } else if (!String.valueOf(x).equals(String.valueOf(y))) {
                return false;
            }
        }
        return true;
    }

    /** The records so far, by candidate index. */
    private List<CandidateRecord> sortedRecords() {
        return new ArrayList<>(new java.util.TreeMap<>(records).values());
    }

    private Path candidateDir(int index) {
        return dir.resolve(CANDIDATES).resolve(String.format("c%03d", index));
    }

    /** Trains (or recalls) one candidate; never throws: failures are recorded and the search goes on. */
    private CandidateRecord evaluate(Candidate candidate) {
        int index = candidate.getIndex();
        LinkedHashMap<String, Object> values = castValues(candidate.getValue());
        String label = String.format(Locale.ROOT, "candidate %d/%d", index + 1, planned);
        CandidateRecord rec = records.get(index);
        if (rec != null && rec.finished()) {
            fromEarlier++;
            String score = rec.top1Error == null ? "" : String.format(Locale.ROOT, ", top-1 error %.4f",
                    rec.top1Error);
            log.info("{} ({}): finished in an earlier session ({}{}), not repeated", label,
                    SearchReport.describe(values), rec.status, score);
            return rec;
        }
        Path runDir = candidateDir(index);
        RunDirectory run = RunDirectory.at(runDir);
        boolean resuming = rec != null && run.hasState();
        if (rec == null) {
            rec = new CandidateRecord();
            rec.index = index;
            rec.values = values;
            rec.point = candidate.getFlatParameters();
        }
        rec.status = CandidateRecord.RUNNING;
        long start = System.nanoTime();
        double secondsBefore = resuming ? rec.seconds : 0;
        CandidateMonitor monitor = null;
        try (AutoCloseable runLog = RunLog.attach(run.log())) {
            rec.write(runDir);
            records.put(index, rec);
            List<Double> curve = new ArrayList<>();
            if (resuming) {
                int epochs = run.readState().epoch;
                double[] top1 = run.readMetrics().top1();
                for (int i = 0; i < Math.min(epochs, top1.length); i++) {
                    curve.add(top1[i]);
                }
            }
            monitor = new CandidateMonitor(rec, runDir, curve, secondsBefore, peers(index));
            log.info("{} ({}): {} {}", label, SearchReport.describe(values),
                    resuming ? "resuming from its checkpoint, for the rest of" : "training for", budget.describe());
            Trainer.Result r;
            if (resuming) { // with the recipe in its config.json
                r = Trainer.resume(runDir, null, stop, monitor);
            } else {
                TrainConfig cfg = recipe(values);
                r = Trainer.start(cfg, Recipe.model(cfg), runDir, stop, monitor);
            }
            rec.seconds = secondsBefore + (System.nanoTime() - start) / 1e9;
            rec.iterations = r.iterations();
            rec.epochs = r.epochsCompleted();
            rec.curve = new ArrayList<>(curve);
            if (stop.getAsBoolean() && r.stopReason().startsWith("interrupted")) {
                rec.reason = "interrupted after " + r.iterations() + " iterations";
                rec.write(runDir);
                log.info("{}: interrupted; a resumed search continues it from its checkpoint", label);
                return rec;
            }
            if (monitor.lastValidated == r.iterations() && !curve.isEmpty()) {
                rec.top1Error = curve.get(curve.size() - 1);
                rec.top5Error = monitor.lastTop5;
            } else { // the budget ended inside an epoch: validate where it ended
                TopK v = Trainer.validateLatest(runDir);
                rec.top1Error = v.top1Error();
                rec.top5Error = v.top5Error();
            }
            rec.bestTop1Error = Math.min(rec.top1Error, curve.stream().min(Double::compare).orElse(rec.top1Error));
            rec.status = r.stopReason().startsWith(MedianStopping.PREFIX) ? CandidateRecord.STOPPED_EARLY
                    : CandidateRecord.COMPLETE;
            rec.reason = r.stopReason();
        } catch (Exception e) {
            rec.seconds = secondsBefore + (System.nanoTime() - start) / 1e9;
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            rec.status = e instanceof Trainer.Diverged ? CandidateRecord.DIVERGED : CandidateRecord.FAILED;
            rec.reason = msg;
            if (monitor != null) {
                rec.curve = new ArrayList<>(monitor.curve);
            }
            log.warn("{} ({}): {}: {}", label, SearchReport.describe(values), rec.status, msg);
        }
        try {
            rec.write(runDir);
        } catch (IOException e) {
            log.warn("{}: could not write its record: {}", label, e.getMessage());
        }
        trainedNow++;
        trainingSeconds += rec.seconds - secondsBefore;
        List<CandidateRecord> all = sortedRecords();
        CandidateRecord best = SearchReport.best(all);
        long done = all.stream().filter(CandidateRecord::finished).count();
        long left = Math.max(0, planned - done);
        log.info(String.format(Locale.ROOT, "%s: %s%s; best so far: %s; %d of %d done, ETA %s", label, rec.status,
                rec.top1Error == null ? "" : String.format(Locale.ROOT, ", top-1 error %.4f (top-5 %.4f)",
                        rec.top1Error, rec.top5Error),
                best == null ? "none" : String.format(Locale.ROOT, "candidate %d, %.4f", best.index + 1,
                        best.top1Error), done, planned, ProgressBar.time(left * trainingSeconds / trainedNow)));
        try {
            SearchReport.write(dir, space, all, base);
        } catch (IOException | RuntimeException e) {
            log.warn("could not write the search's reports: {}", e.getMessage());
        }
        return rec;
    }

    /** The run recipe of a candidate: the base with its values, under the budget and the search's data settings. */
    TrainConfig recipe(Map<String, Object> values) throws IOException {
        TrainConfig cfg = space.recipe(base, values);
        cfg.data = settings.data;
        cfg.limitBatches = settings.limitBatches;
        cfg.threads = settings.threads;
        cfg.maxIters = 0;
        cfg.logEvery = Math.max(cfg.logEvery, 50);
        switch (budget.kind()) {
            case EPOCHS -> cfg.epochs = (int) budget.amount();
            case ITERATIONS -> {
                cfg.maxIters = budget.amount();
                int perEpoch = batchesPerEpoch(cfg);
                cfg.epochs = (int) Math.max(1, (budget.amount() * cfg.devices + perEpoch - 1) / perEpoch);
            }
            case SECONDS -> {
                // runs whole epochs until the time is spent (the recipe's epochs are the upper bound)
            }
        }
        return cfg.validate();
    }

    private int trainSize = -1;

    private int batchesPerEpoch(TrainConfig cfg) throws IOException {
        if (trainSize < 0) {
            trainSize = org.alexnet4j.data.Datasets.open(Path.of(settings.data), "train", cfg.dataThreads()).size();
        }
        int all = (trainSize + cfg.batch - 1) / cfg.batch;
        return cfg.limitBatches > 0 ? Math.min(cfg.limitBatches, all) : all;
    }

    /** Validation curves of the other scored candidates (the median rule's reference). */
    private List<List<Double>> peers(int index) {
        return records.values().stream().filter(r -> r.index != index && r.scored()).map(r -> r.curve)
                .collect(Collectors.toList());
    }

    /** Watches one candidate's run: its time budget and the median stopping rule. */
    private final class CandidateMonitor implements Trainer.Monitor {
        private final CandidateRecord rec;
        private final Path runDir;
        final List<Double> curve;
        private final double secondsBefore;
        private final List<List<Double>> peers;
        private final MedianStopping rule;
        private final long start = System.nanoTime();
        long lastValidated = -1;
        double lastTop5 = Double.NaN;

        CandidateMonitor(CandidateRecord rec, Path runDir, List<Double> curve, double secondsBefore,
                         List<List<Double>> peers) {
            this.rec = rec;
            this.runDir = runDir;
            this.curve = curve;
            this.secondsBefore = secondsBefore;
            this.peers = peers;
            this.rule = settings.earlyStop.equals("median")
                    ? new MedianStopping(settings.grace, MedianStopping.DEFAULT_MIN_PEERS) : null;
        }

        private double seconds() {
            return secondsBefore + (System.nanoTime() - start) / 1e9;
        }

        private String timeUp() {
            return budget.kind() == Budget.Kind.SECONDS && seconds() >= budget.amount()
                    ? "time budget of " + budget.describe() + " spent" : null;
        }

        @Override
        public String afterStep(long iteration) {
            return timeUp();
        }

        @Override
        public String afterEpoch(int epochsCompleted, long iteration, TopK validation) {
            curve.add(validation.top1Error());
            lastValidated = iteration;
            lastTop5 = validation.top5Error();
            rec.curve = new ArrayList<>(curve);
            rec.seconds = seconds();
            rec.epochs = epochsCompleted;
            rec.iterations = iteration;
            try {
                rec.write(runDir);
            } catch (IOException e) {
                log.warn("could not update {}: {}", runDir.resolve(CandidateRecord.FILE), e.getMessage());
            }
            String t = timeUp();
            if (t != null) {
                return t;
            }
            return rule == null ? null : rule.check(curve, peers, 1 - 1.0 / validation.classes());
        }
    }

    /** Arbiter's task creator: each candidate becomes a call of {@link #evaluate}. */
    private final class CandidateTasks implements TaskCreator {
        @Override
        public Callable<OptimizationResult> create(Candidate candidate, DataProvider dataProvider,
                                                   ScoreFunction scoreFunction, List<StatusListener> statusListeners,
                                                   IOptimizationRunner runner) {
            return () -> {
                long started = System.currentTimeMillis();
                CandidateRecord rec = evaluate(candidate);
                CandidateStatus status = switch (rec.status) {
                    case CandidateRecord.COMPLETE, CandidateRecord.STOPPED_EARLY -> CandidateStatus.Complete;
                    case CandidateRecord.RUNNING -> CandidateStatus.Cancelled;
                    default -> CandidateStatus.Failed;
                };
                Double score = rec.scored() ? scoreFunction.score(rec, dataProvider, candidate.getDataParameters())
                        : null;
                CandidateInfo info = new CandidateInfo(candidate.getIndex(), status, score, started, started,
                        System.currentTimeMillis(), candidate.getFlatParameters(),
                        status == CandidateStatus.Failed ? rec.reason : null);
                OptimizationResult result = new OptimizationResult(candidate, score, candidate.getIndex(), rec, info,
                        null);
                result.setResultReference(runner.getConfiguration().getResultSaver().saveModel(result, rec));
                return result;
            };
        }

        @Override
        public Callable<OptimizationResult> create(Candidate candidate, Class<? extends DataSource> dataSource,
                                                   Properties dataSourceProperties, ScoreFunction scoreFunction,
                                                   List<StatusListener> statusListeners, IOptimizationRunner runner) {
            return create(candidate, (DataProvider) null, scoreFunction, statusListeners, runner);
        }
    }

    /** The score Arbiter ranks by: a candidate's validation top-1 error at the end of its budget (lower is better). */
    static final class ValidationTop1Error implements ScoreFunction {
        @Override
        public double score(Object model, DataProvider dataProvider, Map<String, Object> dataParameters) {
            return ((CandidateRecord) model).top1Error;
        }

        @Override
        public double score(Object model, Class<? extends DataSource> dataSource, Properties dataSourceProperties) {
            return ((CandidateRecord) model).top1Error;
        }

        @Override
        public boolean minimize() {
            return true;
        }

        @Override
        public List<Class<?>> getSupportedModelTypes() {
            return List.of(CandidateRecord.class);
        }

        @Override
        public List<Class<?>> getSupportedDataTypes() {
            return List.of(Object.class);
        }
    }

    /**
     * Arbiter's model saver: the candidate's run directory already holds its models (checkpoints/best.zip) and its
     * record, so saving returns a reference to them.
     */
    private final class RecordSaver implements ResultSaver {
        @Override
        public ResultReference saveModel(OptimizationResult result, Object modelResult) {
            Path runDir = candidateDir(result.getIndex());
            return new ResultReference() {
                @Override
                public OptimizationResult getResult() {
                    return result;
                }

                @Override
                public Object getResultModel() throws IOException {
                    return org.alexnet4j.weights.ModelFiles.load(RunDirectory.at(runDir).best(), false);
                }
            };
        }

        @Override
        public List<Class<?>> getSupportedCandidateTypes() {
            return List.of(LinkedHashMap.class);
        }

        @Override
        public List<Class<?>> getSupportedModelTypes() {
            return List.of(CandidateRecord.class);
        }
    }

    /**
     * Ends the runner's loop when the user asked to stop, or when a grid is exhausted: Arbiter's runner otherwise
     * polls forever once a grid smaller than the candidate count has run out.
     */
    private static final class EndOfSearch implements TerminationCondition {
        private final CandidateGenerator generator;
        private final BooleanSupplier stop;

        EndOfSearch(CandidateGenerator generator, BooleanSupplier stop) {
            this.generator = generator;
            this.stop = stop;
        }

        @Override
        public void initialize(IOptimizationRunner runner) {
        }

        @Override
        public boolean terminate(IOptimizationRunner runner) {
            return stop.getAsBoolean() || (!generator.hasMoreCandidates() && runner.numCandidatesQueued() == 0);
        }

        @Override
        public String toString() {
            return "EndOfSearch";
        }
    }
}
