package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Evaluator;
import org.alexnet4j.eval.TopK;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.util.ProgressBar;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * The paper's training loop (section 5) with crash-safe runs. A run directory holds {@code config.json} (the resolved
 * recipe), {@code metrics.csv} and {@code plots/*.png} (updated every epoch), {@code checkpoints/} (model with
 * updater state, written atomically; the last {@code keepCheckpoints} and {@code best.zip}) and {@code state.json}, the
 * commit point: it names the latest checkpoint and holds the counters, the data position and the schedule.
 *
 * <p>Exact resume: the model and the momentum come from the checkpoint, the learning-rate schedule and counters from
 * the state, the data order from the iterator's (seed, epoch) permutation and {@code seek}, and dropout's random
 * stream is reseeded from (seed, iteration) before every step, so a resumed run repeats an uninterrupted one (on one
 * device; data-parallel and Spark runs resume from the same point, without bit-identical dropout).
 *
 * <p>Steps run through a {@link StepEngine}: one network ({@link SingleDevice}), replicas through ParallelWrapper
 * ({@link DataParallel}, {@code --devices N}) or Spark ({@link SparkTraining}, {@code --spark MASTER}). A step is one
 * batch per replica (times the local steps per averaging on Spark); iterations, {@code --max-iters},
 * {@code --checkpoint-every} and {@code --log-every} count steps, the data position is kept in batches.
 */
public final class Trainer {
    private static final Logger log = LoggerFactory.getLogger(Trainer.class);
    public static final String STATE = "state.json";
    public static final String CONFIG = "config.json";
    public static final String METRICS = "metrics.csv";
    /**
     * The training data's statistics (mean image, channel mean/std, PCA: {@link DatasetStats#save}), kept in the run so
     * that predict, serve and the other {@code --run} commands normalise as training did after the dataset has moved.
     */
    public static final String PREPROCESSING = "preprocessing";
    static final String HEADER = "epoch,iterations,train_loss,val_loss,val_top1_err,val_top5_err,lr,images_per_s,"
            + "seconds";

    /** What a run ended with. */
    public record Result(Path runDir, long iterations, int epochsCompleted, double lastTop1Error,
                         double lastTop5Error, double bestTop1Error, int classes, String stopReason) {
    }

    /** A run body that may fail on a file system write. */
    private interface Body {
        Result run() throws IOException;
    }

    /**
     * Runs {@code body}; a failed write (a full disk, an I/O error: checkpoint, state, metrics, plots) ends the run
     * with a message that names the intact state on disk (state.json, the commit point) and the resume command.
     */
    private static Result stopCleanlyOnWriteFailure(Path runDir, Body body) throws IOException {
        try {
            return body.run();
        } catch (IOException e) {
            State st = null;
            try {
                st = JSON.readValue(runDir.resolve(STATE).toFile(), State.class);
            } catch (IOException unreadable) {
                // no commit yet
            }
            String what = org.alexnet4j.util.IoErrors.describe(e);
            if (st == null || st.checkpoint == null) {
                throw new IllegalStateException("training stopped: " + what + "; no checkpoint was written yet: fix "
                        + "the cause and run the command again", e);
            }
            throw new IllegalStateException("training stopped: " + what + "; the run is intact up to "
                    + st.checkpoint + " (iteration " + st.iteration + ", " + st.epoch + " epochs done); free space "
                    + "or fix the cause, then continue with: alexnet4j train --resume " + runDir, e);
        }
    }

    /** The counters and schedule saved with every checkpoint (public fields for JSON). */
    public static class State {
        public String checkpoint;
        /** SHA-256 and size of the checkpoint file as written (null/0 in runs from before they were recorded). */
        public String checkpointSha256;
        public long checkpointBytes;
        public long iteration;
        /** The epoch in progress (0-based), which is also the number of epochs completed. */
        public int epoch;
        public int batchInEpoch;
        public PlateauSchedule schedule;
        public double bestTop1Error = Double.POSITIVE_INFINITY;
        public double lastTop1Error = Double.NaN;
        public double lastTop5Error = Double.NaN;
    }

    /**
     * Watches a run and may end it early: hyperparameter search's budgets and its stopping of hopeless candidates.
     * A returned reason ends the run (with a checkpoint) and becomes its stop reason.
     */
    public interface Monitor {
        Monitor NONE = new Monitor() {
        };

        /** After every step; a non-null reason ends the run at this step (the partial epoch is not validated). */
        default String afterStep(long iteration) {
            return null;
        }

        /** After each epoch's validation and checkpoint; a non-null reason ends the run there. */
        default String afterEpoch(int epochsCompleted, long iteration, TopK validation) {
            return null;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final TrainConfig cfg;
    private final Path runDir;
    private final BooleanSupplier stopRequested;
    private final Monitor monitor;
    private AlexNet net;
    private ComputationGraph graph;
    private State state;

    private Trainer(TrainConfig cfg, Path runDir, BooleanSupplier stopRequested, Monitor monitor) {
        this.cfg = cfg;
        this.runDir = runDir;
        this.stopRequested = stopRequested;
        this.monitor = monitor;
    }

    /** Starts a new run of {@code model} (its class count is set from the data) in a new or empty directory. */
    public static Result start(TrainConfig cfg, AlexNet model, Path runDir, BooleanSupplier stop) throws IOException {
        return start(cfg, model, runDir, stop, Monitor.NONE);
    }

    /** {@link #start(TrainConfig, AlexNet, Path, BooleanSupplier)} watched by {@code monitor}. */
    public static Result start(TrainConfig cfg, AlexNet model, Path runDir, BooleanSupplier stop, Monitor monitor)
            throws IOException {
        cfg.validate();
        try (var lock = org.alexnet4j.util.DirLock.acquire(runDir, "run directory")) {
            if (Files.exists(runDir.resolve(STATE))) {
                throw new IllegalArgumentException(runDir + " already holds a run; use --resume " + runDir
                        + " to continue it, or another --out");
            }
            Trainer t = new Trainer(cfg, runDir, stop, monitor);
            return stopCleanlyOnWriteFailure(runDir, () -> t.run(model, null));
        }
    }

    /** Continues the run in {@code runDir} from its last checkpoint, with the configuration it was started with. */
    public static Result resume(Path runDir, TrainConfig overrides, BooleanSupplier stop) throws IOException {
        return resume(runDir, overrides, stop, Monitor.NONE);
    }

    /** {@link #resume(Path, TrainConfig, BooleanSupplier)} watched by {@code monitor}. */
    public static Result resume(Path runDir, TrainConfig overrides, BooleanSupplier stop, Monitor monitor)
            throws IOException {
        if (!Files.exists(runDir.resolve(STATE))) {
            throw new IllegalArgumentException(runDir + " has no " + STATE + ": nothing to resume (was a checkpoint"
                    + " ever written?)");
        }
        try (var lock = org.alexnet4j.util.DirLock.acquire(runDir, "run directory")) {
            AtomicFiles.removeLeftovers(runDir.resolve("checkpoints")); // a checkpoint write cut short by a kill
            AtomicFiles.removeLeftovers(runDir);
            TrainConfig cfg = overrides != null ? overrides : TrainConfig.read(runDir.resolve(CONFIG));
            cfg.validate();
            State st = intactCheckpoint(runDir, JSON.readValue(runDir.resolve(STATE).toFile(), State.class));
            Trainer t = new Trainer(cfg, runDir, stop, monitor);
            return stopCleanlyOnWriteFailure(runDir, () -> t.run(null, st));
        }
    }

    private Result run(AlexNet model, State resumed) throws IOException {
        org.alexnet4j.runtime.Backend.init(); // oneDNN helpers on (3.5x faster convolutions), as in the CLI
        int threads = cfg.dataThreads();
        Path data = Path.of(cfg.data);
        Map<String, ImageSource> splits = Datasets.open(data, threads, "train", "val");
        ImageSource train = splits.get("train");
        ImageSource val = splits.get("val");
        DatasetStats stats = DatasetStats.of(train);
        if (train.stats() == null) {
            log.info("no training statistics with {} (not a prepared cache): using the published ImageNet mean/std "
                    + "and PCA constants", data);
        } else if (!Files.exists(runDir.resolve(PREPROCESSING).resolve(DatasetStats.STATS_FILE))) {
            Files.createDirectories(runDir.resolve(PREPROCESSING));
            stats.save(runDir.resolve(PREPROCESSING));
        }
        if (resumed == null) {
            net = AlexNet.fromSettings(withClasses(model.settings(), train.wnids().size()));
            var conf = net.configuration(new NeuralNetConfiguration.Builder()
                    .seed(cfg.seed)
                    .updater(updater(cfg, cfg.lr))
                    .l2(cfg.weightDecay));
            FineTuning.apply(conf, net, cfg);
            graph = new ComputationGraph(conf);
            graph.init();
            if (cfg.init.equals("he")) {
                heInit(graph, cfg.seed);
            }
            if (cfg.initFrom != null) {
                FineTuning.initFrom(graph, net, Path.of(cfg.initFrom));
            }
            state = new State();
            state.schedule = new PlateauSchedule(cfg.lr, cfg.lrFactor, cfg.lrPatience, cfg.lrMaxReductions);
            cfg.write(runDir.resolve(CONFIG));
            org.alexnet4j.data.ClassList.write(runDir.resolve(org.alexnet4j.data.ClassList.FILE), train.wnids());
            writeMetricsHeader(List.of());
        } else {
            state = resumed;
            ModelFiles.Loaded loaded = ModelFiles.load(runDir.resolve(state.checkpoint), true);
            net = loaded.net();
            graph = loaded.graph();
            if (net.numClasses() != train.wnids().size()) {
                throw new IllegalArgumentException("the checkpoint has " + net.numClasses() + " classes but "
                        + data + " has " + train.wnids().size());
            }
            keepMetricsUpTo(state.epoch);
            log.info("resuming {} at epoch {} batch {} (iteration {}), lr {}", runDir, state.epoch + 1,
                    state.batchInEpoch, state.iteration, state.schedule.lr);
        }
        Backend.applyCacheMode(graph, cfg.cacheMode);
        int crop = net.inputSize();
        Preset trainPreset = trainPreset(cfg, stats, crop);
        Preset valPreset = validationPreset(cfg, stats, crop);
        log.info("training {} ({} parameters, {} classes) on {}: {} train / {} val images, batch {}, {}", net.variant(),
                net.parameterCount(), net.numClasses(), data, train.size(), val.size(), cfg.batch, trainPreset);

        String stopReason = "completed " + cfg.epochs + " epochs";
        try (StepEngine engine = engine(cfg.devices, crop);
             ImageNetIterator it = new ImageNetIterator(train, trainPreset, iteratorOptions(cfg, cfg.devices))) {
            int perStep = engine.batchesPerStep();
            int perEpoch = cfg.limitBatches > 0 ? Math.min(cfg.limitBatches, it.batchesPerEpoch())
                    : it.batchesPerEpoch();
            epochs:
            while (state.epoch < cfg.epochs) {
                int epoch = state.epoch;
                EpochStats es = new EpochStats();
                long epochStart = System.nanoTime();
                int stepsPerEpoch = (perEpoch + perStep - 1) / perStep;
                long epochImages = Math.min((long) perEpoch * cfg.batch, train.size())
                        - (long) state.batchInEpoch * cfg.batch;
                try (ProgressBar bar = new ProgressBar(String.format(Locale.ROOT, "epoch %d/%d", epoch + 1,
                        cfg.epochs), Math.max(0, epochImages), "img")) {
                    bar.extra(() -> String.format(Locale.ROOT, "loss %.4f lr %.2g", es.smooth, state.schedule.lr));
                    while (state.batchInEpoch < perEpoch) {
                        if (cfg.maxIters > 0 && state.iteration >= cfg.maxIters) {
                            stopReason = "reached --max-iters " + cfg.maxIters;
                            checkpoint();
                            break epochs;
                        }
                        // a span of steps between the points where the loop must act: checkpoint, max-iters, epoch end
                        long steps = perEpoch; // never more than an epoch (and no overflow below)
                        if (cfg.checkpointEvery > 0) {
                            steps = cfg.checkpointEvery - state.iteration % cfg.checkpointEvery;
                        }
                        if (cfg.maxIters > 0) {
                            steps = Math.min(steps, cfg.maxIters - state.iteration);
                        }
                        int batches = (int) Math.min(perEpoch - state.batchInEpoch, steps * perStep);
                        it.seek(epoch, state.batchInEpoch);
                        engine.train(it, batches, step -> onStep(step, es, bar, epoch, perEpoch, perStep, stepsPerEpoch,
                                epochStart));
                        if (es.failure != null) {
                            throw new Diverged(es.failure);
                        }
                        if (cfg.checkpointEvery > 0 && state.iteration % cfg.checkpointEvery == 0) {
                            checkpoint();
                        }
                        if (es.stopped) {
                            stopReason = "interrupted; resume with --resume " + runDir;
                            checkpoint();
                            break epochs;
                        }
                        if (es.monitorStop != null) {
                            stopReason = es.monitorStop;
                            checkpoint();
                            break epochs;
                        }
                    }
                }
                double secs = (System.nanoTime() - epochStart) / 1e9;
                // validated where it trained: on the CUDA engine (or its reference) when it trains there
                TopK v = engine instanceof EngineTraining et
                        ? Evaluator.evaluate(org.alexnet4j.infer.InferenceEngine.onEngine(net, et.engine()), val,
                        valPreset, cfg.batch, threads, cfg.limitBatches, false)
                        : Evaluator.evaluate(graph, val, valPreset, cfg.batch, threads, cfg.limitBatches, false);
                state.lastTop1Error = v.top1Error();
                state.lastTop5Error = v.top5Error();
                double lrUsed = state.schedule.lr;
                appendMetrics(epoch + 1, es.steps == 0 ? Double.NaN : es.lossSum / es.steps, v, lrUsed,
                        es.images / secs, secs);
                log.info(String.format(Locale.ROOT, "Epoch: [%d] val: top-1 error %.4f, top-5 error %.4f, loss "
                                + "%.4f (%d images; chance top-1 %.4f)", epoch + 1, v.top1Error(), v.top5Error(),
                        v.loss(), v.examples(), 1 - 1.0 / net.numClasses()));
                if (state.schedule.step(epoch, v.top1Error())) {
                    FineTuning.setLearningRate(graph, net, cfg, state.schedule.lr);
                    log.info("validation error stopped improving: learning rate divided to {} (reduction {} of {})",
                            state.schedule.lr, state.schedule.reductions.size(), cfg.lrMaxReductions);
                }
                state.epoch++;
                state.batchInEpoch = 0;
                if (v.top1Error() < state.bestTop1Error) {
                    state.bestTop1Error = v.top1Error();
                    ModelFiles.save(runDir.resolve("checkpoints").resolve("best.zip"), net, graph, false);
                }
                checkpoint();
                plots();
                String end = monitor.afterEpoch(state.epoch, state.iteration, v);
                if (end != null && state.epoch < cfg.epochs) {
                    stopReason = end;
                    break;
                }
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("stopReason", stopReason);
        result.put("iterations", state.iteration);
        result.put("epochsCompleted", state.epoch);
        result.put("valTop1Error", state.lastTop1Error);
        result.put("valTop5Error", state.lastTop5Error);
        result.put("bestValTop1Error", state.bestTop1Error);
        result.put("chanceTop1Error", 1 - 1.0 / net.numClasses());
        result.put("chanceTop5Error", Math.max(0, 1 - 5.0 / net.numClasses()));
        result.put("lr", state.schedule.lr);
        result.put("lrReductionsAfterEpochs", state.schedule.reductions.stream().map(e -> e + 1).toList());
        result.put("checkpoint", state.checkpoint);
        byte[] json = JSON.writeValueAsBytes(result);
        AtomicFiles.write(runDir.resolve("result.json"), tmp -> Files.write(tmp, json));
        log.info(String.format(Locale.ROOT, "%s: %d iterations, %d epochs; last val top-1 error %.4f, top-5 error "
                + "%.4f", stopReason, state.iteration, state.epoch, state.lastTop1Error, state.lastTop5Error));
        return new Result(runDir, state.iteration, state.epoch, state.lastTop1Error, state.lastTop5Error,
                state.bestTop1Error, net.numClasses(), stopReason);
    }

    /**
     * Validates the latest checkpoint of the run in {@code runDir} as its epochs are validated (centre crops, the
     * run's normalisation and --limit-batches): the score of a run that ended between two epoch ends.
     */
    public static TopK validateLatest(Path runDir) throws IOException {
        TrainConfig cfg = TrainConfig.read(runDir.resolve(CONFIG));
        State st = JSON.readValue(runDir.resolve(STATE).toFile(), State.class);
        Map<String, ImageSource> splits = Datasets.open(Path.of(cfg.data), cfg.dataThreads(), "train", "val");
        DatasetStats stats = DatasetStats.of(splits.get("train"));
        ModelFiles.Loaded loaded = ModelFiles.load(runDir.resolve(st.checkpoint), false);
        Preset preset = validationPreset(cfg, stats, loaded.net().inputSize());
        return Evaluator.evaluate(loaded.graph(), splits.get("val"), preset, cfg.batch, cfg.dataThreads(),
                cfg.limitBatches, false);
    }

    /** The recipe's optimiser at learning rate {@code lr}: the paper's classical momentum, or Adam. */
    static org.nd4j.linalg.learning.config.IUpdater updater(TrainConfig cfg, double lr) {
        return cfg.optimizer.equals("adam") ? new org.nd4j.linalg.learning.config.Adam(lr)
                : new ClassicalMomentum(lr, cfg.momentum);
    }

    /** The net a recipe describes: its "model", "width", "inputSize" and "dropout" (the variant's defaults where
     *  unset), seeded with its seed, as {@code alexnet4j train} builds it from a config file. */
    public static AlexNet model(TrainConfig cfg) {
        AlexNet.Builder b = AlexNet.builder(org.alexnet4j.model.Variant.fromId(cfg.model == null ? "paper"
                : cfg.model)).seed(cfg.seed);
        if (cfg.width != null) {
            b.width(cfg.width);
        }
        if (cfg.inputSize != null) {
            b.inputSize(cfg.inputSize);
        }
        if (cfg.dropout != null) {
            b.dropout(cfg.dropout);
        }
        return b.build();
    }

    /** A run stopped because its loss became NaN or infinite (its last good checkpoint is intact). */
    public static final class Diverged extends IllegalStateException {
        Diverged(String message) {
            super(message);
        }
    }

    /** Running numbers of the epoch in progress, updated after every step. */
    private static final class EpochStats {
        int steps;
        double lossSum;
        double smooth = Double.NaN;
        long images;
        double dataSecs;
        double computeSecs;
        /** Why training must stop with an error (a non-finite loss), set by the step hook. */
        String failure;
        /** A stop was requested (signal): checkpoint and end. */
        boolean stopped;
        /** The monitor ended the run after a step, for this reason. */
        String monitorStop;
    }

    /** How the recipe validates: centre crops with its normalisation. */
    static Preset validationPreset(TrainConfig cfg, DatasetStats stats, int crop) {
        return Preset.center(crop, normalization(cfg, stats));
    }

    /** The recipe's normalisation, in the variant's channel order (BGR for the caffe net). */
    private static Normalization normalization(TrainConfig cfg, DatasetStats stats) {
        Normalization n = Normalization.of(Normalization.Kind.fromId(cfg.normalize), stats);
        return org.alexnet4j.eval.Preprocessing.inChannelOrder(org.alexnet4j.model.Variant.fromId(cfg.model == null
                ? "paper" : cfg.model), n);
    }

    /** The training augmentation of the recipe: random crops, flips, PCA lighting, the chosen normalisation. */
    public static Preset trainPreset(TrainConfig cfg, DatasetStats stats, int crop) {
        Normalization norm = normalization(cfg, stats);
        return Preset.train(crop, cfg.lighting > 0 ? PcaLighting.of(stats, cfg.lighting) : null, norm);
    }

    /** The training iterator's settings for this recipe ({@code held}: batches in use at once). */
    public static ImageNetIterator.Options iteratorOptions(TrainConfig cfg, int held) {
        ImageNetIterator.Options opts = ImageNetIterator.Options.training(cfg.batch, cfg.seed, cfg.dataThreads())
                .withStrict(cfg.strict).withHeld(held);
        return cfg.prefetch > 0 ? opts.withPrefetch(cfg.prefetch) : opts;
    }

    private StepEngine engine(int replicas, int crop) {
        String engine = cfg.resolvedEngine(net.spec().edgePadding(), cfg.engine.equals("auto")
                ? org.alexnet4j.cuda.CudaRuntime.whyNot() : null, log::info);
        if (!engine.equals("dl4j")) {
            org.alexnet4j.cuda.Ops ops = engine.equals("cuda")
                    ? org.alexnet4j.cuda.CudaRuntime.open(cfg.device, org.alexnet4j.cuda.Precision.fromId(cfg.precision),
                    log::info) : new org.alexnet4j.cuda.ReferenceOps();
            log.info("training steps on the {} engine ({}{})", engine, ops.name(), engine.equals("cuda")
                    ? ", device " + cfg.device + ", " + cfg.precision : ", the CUDA engine's CPU reference");
            return new EngineTraining(graph, net, new org.alexnet4j.cuda.AlexNetEngine(net.spec(), ops, cfg.batch,
                    cfg.seed), cfg, () -> state.schedule.lr);
        }
        if (cfg.spark != null) {
            return new SparkTraining(graph, cfg, crop, runDir);
        }
        if (replicas == 1) {
            return new SingleDevice(graph, cfg.seed, () -> state.iteration, cfg.weightDecay);
        }
        DataParallel.Mode mode = DataParallel.Mode.fromId(cfg.parallelMode);
        int gpus = Nd4j.getAffinityManager().getNumberOfDevices();
        if (Backend.isCudaBuild() && replicas > gpus) {
            throw new IllegalArgumentException("--devices " + replicas + " but ND4J sees " + gpus + " GPU(s); check "
                    + "CUDA_VISIBLE_DEVICES and alexnet4j gpu-check");
        }
        if (!Backend.isCudaBuild() && replicas > Runtime.getRuntime().availableProcessors()) {
            log.warn("--devices {} on the CPU backend: {} worker threads share {} cores", replicas, replicas,
                    Runtime.getRuntime().availableProcessors());
        }
        log.info(String.format(Locale.ROOT, "data-parallel: %d replicas (%s), batch %d each: an effective batch of %d "
                        + "per step at lr %.3g; %s", replicas, Backend.isCudaBuild() ? "one per GPU"
                        : "worker threads on the CPU", cfg.batch, replicas * cfg.batch, state.schedule.lr,
                mode == DataParallel.Mode.AVERAGING ? "parameters and momentum averaged every "
                        + cfg.averagingFrequency + " step(s)" : "threshold-encoded updates shared every step"));
        return new DataParallel(graph, replicas, mode, cfg.averagingFrequency, cfg.weightDecay);
    }

    /** After every step (on a worker thread when data-parallel): counters, progress, log lines, stop checks. */
    private boolean onStep(StepEngine.Step step, EpochStats es, ProgressBar bar, int epoch, int perEpoch,
                           int perStep, int stepsPerEpoch, long epochStart) {
        if (!Double.isFinite(step.loss())) {
            es.failure = String.format(Locale.ROOT, "the loss became %s at epoch %d, iteration %d (lr %.3g): "
                            + "training stopped; %s. Try a lower --lr or --init he.",
                    step.loss(), epoch + 1, state.iteration + 1, state.schedule.lr, state.checkpoint == null
                            ? "no checkpoint had been written yet" : "the last good checkpoint (" + state.checkpoint
                            + ") is intact");
            return false;
        }
        state.iteration++;
        state.batchInEpoch += step.batches();
        es.steps++;
        es.images += step.images();
        es.dataSecs += step.dataSeconds();
        es.computeSecs += step.computeSeconds();
        es.lossSum += step.loss();
        es.smooth = Double.isNaN(es.smooth) ? step.loss() : 0.9 * es.smooth + 0.1 * step.loss();
        bar.step(step.images());
        if (state.iteration % cfg.logEvery == 0 || state.batchInEpoch == perEpoch) {
            double secs = (System.nanoTime() - epochStart) / 1e9;
            int stepInEpoch = (state.batchInEpoch + perStep - 1) / perStep;
            log.info(String.format(Locale.ROOT, "Epoch: [%d] [%d/%d] eta: %s lr: %.3g img/s: %.1f loss: %.4f "
                            + "(%.4f) data: %.3f s compute: %.3f s", epoch + 1, stepInEpoch, stepsPerEpoch,
                    ProgressBar.time((stepsPerEpoch - stepInEpoch) * (secs / es.steps)), state.schedule.lr,
                    es.images / secs, es.smooth, es.lossSum / es.steps, es.dataSecs / es.steps,
                    es.computeSecs / es.steps));
        }
        if (stopRequested.getAsBoolean()) {
            es.stopped = true;
            return false;
        }
        es.monitorStop = monitor.afterStep(state.iteration);
        return es.monitorStop == null;
    }

    private static Map<String, Object> withClasses(Map<String, Object> settings, int classes) {
        Map<String, Object> m = new LinkedHashMap<>(settings);
        m.put("numClasses", classes);
        return m;
    }

    /** He initialisation (N(0, 2/fan_in), biases 0), the option for short runs on small data. */
    static void heInit(ComputationGraph graph, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Map.Entry<String, INDArray> e : graph.paramTable().entrySet()) {
            INDArray p = e.getValue();
            long[] s = p.shape();
            if (e.getKey().endsWith("_W")) {
                double fanIn = s.length == 4 ? s[1] * s[2] * s[3] : s[0];
                float[] v = new float[(int) p.length()];
                double std = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < v.length; i++) {
                    v[i] = (float) (r.nextGaussian() * std);
                }
                p.assign(Nd4j.create(v, s, p.ordering()));
            } else {
                p.assign(0);
            }
        }
    }

    /**
     * Writes the model (with momentum), its checksum and size, and the state as of this checkpoint beside it
     * ({@code ckpt-N.json}, to resume from it should a later one be damaged), then, as the commit, the state naming
     * it; prunes old checkpoints (the one just written, checksummed from disk, always stays).
     */
    private void checkpoint() throws IOException {
        Path dir = runDir.resolve("checkpoints");
        String name = String.format("ckpt-%08d.zip", state.iteration);
        Path file = dir.resolve(name);
        ModelFiles.save(file, net, graph, true);
        state.checkpoint = "checkpoints/" + name;
        state.checkpointSha256 = sha256(file);
        state.checkpointBytes = Files.size(file);
        byte[] json = JSON.writeValueAsBytes(state);
        AtomicFiles.write(sidecar(file), tmp -> Files.write(tmp, json));
        AtomicFiles.write(runDir.resolve(STATE), tmp -> Files.write(tmp, json));
        List<Path> old = checkpoints(dir);
        for (int i = 0; i < old.size() - cfg.keepCheckpoints; i++) {
            Files.deleteIfExists(old.get(i));
            Files.deleteIfExists(sidecar(old.get(i)));
        }
    }

    /** The run's ckpt-N.zip files, oldest first. */
    private static List<Path> checkpoints(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (var s = Files.list(dir)) {
                s.filter(p -> p.getFileName().toString().matches("ckpt-\\d+\\.zip")).sorted().forEach(out::add);
            }
        }
        return out;
    }

    private static Path sidecar(Path checkpoint) {
        String n = checkpoint.getFileName().toString();
        return checkpoint.resolveSibling(n.substring(0, n.length() - ".zip".length()) + ".json");
    }

    /**
     * The state to resume from: {@code latest} if its checkpoint is intact (size and SHA-256 as recorded), else the
     * newest older checkpoint that is, with the state saved beside it (the iterations since are replayed).
     *
     * @throws IllegalArgumentException if no checkpoint of the run is intact, saying what is wrong with the latest
     */
    static State intactCheckpoint(Path runDir, State latest) throws IOException {
        String problem = damage(runDir, latest);
        if (problem == null) {
            return latest;
        }
        List<Path> all = checkpoints(runDir.resolve("checkpoints"));
        for (int i = all.size() - 1; i >= 0; i--) {
            Path side = sidecar(all.get(i));
            if (!Files.isRegularFile(side) || ("checkpoints/" + all.get(i).getFileName()).equals(latest.checkpoint)) {
                continue;
            }
            State older;
            try {
                older = JSON.readValue(side.toFile(), State.class);
            } catch (IOException e) {
                continue;
            }
            if (damage(runDir, older) == null && older.iteration <= latest.iteration) {
                log.warn("the latest checkpoint {} is damaged ({}); resuming from the intact {} (iteration {}): {} "
                                + "iterations will be replayed", latest.checkpoint, problem, older.checkpoint,
                        older.iteration, latest.iteration - older.iteration);
                return older;
            }
        }
        throw new IllegalArgumentException("cannot resume " + runDir + ": the latest checkpoint " + latest.checkpoint
                + " is damaged (" + problem + ") and no older intact checkpoint is left in " + runDir.resolve(
                "checkpoints") + "; start a new run (checkpoints/best.zip, if present, holds the best weights)");
    }

    /** What is wrong with a state's checkpoint file, or null if it is intact. */
    private static String damage(Path runDir, State s) throws IOException {
        if (s.checkpoint == null) {
            return "no checkpoint recorded";
        }
        Path f = runDir.resolve(s.checkpoint);
        if (!Files.isRegularFile(f)) {
            return "missing";
        }
        if (s.checkpointSha256 == null) {
            return null; // a run from before checksums: ModelFiles.load reports a broken file
        }
        long size = Files.size(f);
        if (size != s.checkpointBytes) {
            return size + " bytes instead of " + s.checkpointBytes;
        }
        return sha256(f).equals(s.checkpointSha256) ? null : "its SHA-256 differs from the recorded one";
    }

    private static String sha256(Path f) throws IOException {
        try (var in = Files.newInputStream(f)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The data rows of metrics.csv (none if it does not exist yet). */
    private List<String> metricsRows() throws IOException {
        Path f = runDir.resolve(METRICS);
        if (!Files.exists(f)) {
            return new ArrayList<>();
        }
        List<String> rows = new ArrayList<>();
        for (String line : Files.readAllLines(f)) {
            if (!line.equals(HEADER) && !line.isBlank()) {
                rows.add(line);
            }
        }
        return rows;
    }

    private void writeMetricsHeader(List<String> rows) throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        rows.forEach(r -> sb.append(r).append('\n'));
        byte[] bytes = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        AtomicFiles.write(runDir.resolve(METRICS), tmp -> Files.write(tmp, bytes));
    }

    /** On resume: drops rows of epochs after the checkpoint (written before a crash, to be redone). */
    private void keepMetricsUpTo(int epochs) throws IOException {
        List<String> keep = new ArrayList<>();
        for (String row : metricsRows()) {
            if (Integer.parseInt(row.split(",")[0]) <= epochs) {
                keep.add(row);
            }
        }
        writeMetricsHeader(keep);
    }

    private void appendMetrics(int epoch, double trainLoss, TopK v, double lr, double rate, double secs)
            throws IOException {
        List<String> rows = metricsRows();
        rows.add(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f,%.1f", epoch, state.iteration,
                trainLoss, v.loss(), v.top1Error(), v.top5Error(), lr, rate, secs));
        writeMetricsHeader(rows);
    }

    /**
     * Loss, error and learning-rate curves from metrics.csv. A chart that cannot be drawn (Java2D refuses to start
     * its font machinery once the JVM is shutting down after Ctrl-C: "Shutdown in progress") costs the pictures of
     * this epoch, never the run or its checkpoint: logged, and drawn again at the next epoch.
     */
    private void plots() throws IOException {
        Metrics m = Metrics.read(runDir.resolve(METRICS));
        try {
            m.plot(runDir.resolve("plots"), net.numClasses());
        } catch (RuntimeException | InternalError e) {
            log.warn("plots not redrawn this time ({}); metrics.csv is complete", String.valueOf(e.getMessage()));
        }
    }
}
