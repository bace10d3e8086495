package org.alexnet4j.train;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Evaluator;
import org.alexnet4j.eval.TopK;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.util.ProgressBar;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * The paper's training loop (section 5) with crash-safe runs, written into a {@link RunDirectory} (which owns the
 * layout: config, commit point, checkpoints, metrics, plots, classes, preprocessing, result); what the recipe builds
 * (net, optimiser, views) comes from {@link Recipe}.
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
    private static Result stopCleanlyOnWriteFailure(RunDirectory runDir, Body body) throws IOException {
        try {
            return body.run();
        } catch (IOException e) {
            State st = null;
            try {
                st = runDir.readState();
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

    private final TrainConfig cfg;
    private final RunDirectory runDir;
    private final BooleanSupplier stopRequested;
    private final Monitor monitor;
    private AlexNet net;
    private ComputationGraph graph;
    private State state;

    private Trainer(TrainConfig cfg, RunDirectory runDir, BooleanSupplier stopRequested, Monitor monitor) {
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
            RunDirectory run = RunDirectory.at(runDir);
            if (run.hasState()) {
                throw new IllegalArgumentException(runDir + " already holds a run; use --resume " + runDir
                        + " to continue it, or another --out");
            }
            Trainer t = new Trainer(cfg, run, stop, monitor);
            return stopCleanlyOnWriteFailure(run, () -> t.run(model, null));
        }
    }

    /** Continues the run in {@code runDir} from its last checkpoint, with the configuration it was started with. */
    public static Result resume(Path runDir, TrainConfig overrides, BooleanSupplier stop) throws IOException {
        return resume(runDir, overrides, stop, Monitor.NONE);
    }

    /** {@link #resume(Path, TrainConfig, BooleanSupplier)} watched by {@code monitor}. */
    public static Result resume(Path runDir, TrainConfig overrides, BooleanSupplier stop, Monitor monitor)
            throws IOException {
        RunDirectory run = RunDirectory.at(runDir);
        if (!run.hasState()) {
            throw new IllegalArgumentException(runDir + " has no " + RunDirectory.STATE + ": nothing to resume (was a "
                    + "checkpoint ever written?)");
        }
        try (var lock = org.alexnet4j.util.DirLock.acquire(runDir, "run directory")) {
            run.removeLeftovers(); // a checkpoint write cut short by a kill
            TrainConfig cfg = overrides != null ? overrides : run.readConfig();
            cfg.validate();
            State st = run.intactCheckpoint(run.readState());
            Trainer t = new Trainer(cfg, run, stop, monitor);
            return stopCleanlyOnWriteFailure(run, () -> t.run(null, st));
        }
    }

    private Result run(AlexNet model, State resumed) throws IOException {
        org.alexnet4j.runtime.Backend.init(); // oneDNN helpers on (3.5x faster convolutions), as in the CLI
        int threads = cfg.dataThreads();
        Path data = Path.of(cfg.data);
        Map<String, ImageSource> splits = Datasets.open(data, threads, "train", "val");
        ImageSource train = splits.get("train");
        ImageSource val = splits.get("val");
        if (train.stats() == null) {
            log.info("no training statistics with {} (not a prepared cache): using the published ImageNet mean/std "
                    + "and PCA constants", data);
        }
        if (resumed == null) {
            net = AlexNet.fromSettings(withClasses(model.settings(), train.wnids().size()));
            var conf = net.configuration(new NeuralNetConfiguration.Builder()
                    .seed(cfg.seed)
                    .updater(Recipe.updater(cfg, cfg.lr))
                    .l2(cfg.weightDecay));
            FineTuning.apply(conf, net, cfg);
            graph = new ComputationGraph(conf);
            graph.init();
            if (cfg.init == Init.HE) {
                heInit(graph, cfg.seed);
            }
            if (cfg.initFrom != null) {
                FineTuning.initFrom(graph, net, Path.of(cfg.initFrom));
            }
            state = new State();
            state.schedule = new PlateauSchedule(cfg.lr, cfg.lrFactor, cfg.lrPatience, cfg.lrMaxReductions);
            cfg.write(runDir.config());
            org.alexnet4j.data.ClassList.write(runDir.classes(), train.wnids());
            runDir.writeMetrics(List.of());
        } else {
            state = resumed;
            ModelFiles.Loaded loaded = ModelFiles.load(runDir.path().resolve(state.checkpoint), true);
            net = loaded.net();
            graph = loaded.graph();
            if (net.numClasses() != train.wnids().size()) {
                throw new IllegalArgumentException("the checkpoint has " + net.numClasses() + " classes but "
                        + data + " has " + train.wnids().size());
            }
            runDir.keepMetricsUpTo(state.epoch);
            if (!Files.exists(runDir.classes())) { // a run from before runs kept their classes
                org.alexnet4j.data.ClassList.write(runDir.classes(), train.wnids());
            }
            log.info("resuming {} at epoch {} batch {} (iteration {}), lr {}", runDir, state.epoch + 1,
                    state.batchInEpoch, state.iteration, state.schedule.lr);
        }
        // what the input goes through, stored once (a run from before runs kept it gains it when resumed)
        runDir.writePreprocessing(net, cfg.normalize, train.stats());
        Backend.applyCacheMode(graph, cfg.cacheMode.dl4j());
        int crop = net.inputSize();
        Preset trainPreset = Recipe.trainPreset(cfg, train.stats(), crop, train.imageSize());
        Preset valPreset = Recipe.validationPreset(cfg, train.stats(), crop, train.imageSize());
        log.info("training {} ({} parameters, {} classes) on {}: {} train / {} val images, batch {}, {}", net.variant(),
                net.parameterCount(), net.numClasses(), data, train.size(), val.size(), cfg.batch, trainPreset);

        String stopReason = "completed " + cfg.epochs + " epochs";
        try (StepEngine engine = engine(cfg.devices, crop);
             ImageNetIterator it = new ImageNetIterator(train, trainPreset, Recipe.iteratorOptions(cfg,
                     cfg.devices))) {
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
                            stopReason = "interrupted; resume with --resume " + runDir.path();
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
                    runDir.saveBest(net, graph);
                }
                checkpoint();
                runDir.plot(net.numClasses());
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
        runDir.writeResult(result);
        log.info(String.format(Locale.ROOT, "%s: %d iterations, %d epochs; last val top-1 error %.4f, top-5 error "
                + "%.4f", stopReason, state.iteration, state.epoch, state.lastTop1Error, state.lastTop5Error));
        return new Result(runDir.path(), state.iteration, state.epoch, state.lastTop1Error, state.lastTop5Error,
                state.bestTop1Error, net.numClasses(), stopReason);
    }

    /**
     * Validates the latest checkpoint of the run in {@code runDir} as its epochs are validated (centre crops, the
     * run's normalisation and --limit-batches): the score of a run that ended between two epoch ends.
     */
    public static TopK validateLatest(Path runDir) throws IOException {
        RunDirectory run = RunDirectory.at(runDir);
        TrainConfig cfg = run.readConfig();
        State st = run.readState();
        Map<String, ImageSource> splits = Datasets.open(Path.of(cfg.data), cfg.dataThreads(), "train", "val");
        ImageSource train = splits.get("train");
        ModelFiles.Loaded loaded = ModelFiles.load(runDir.resolve(st.checkpoint), false);
        Preset preset = Recipe.validationPreset(cfg, train.stats(), loaded.net().inputSize(), train.imageSize());
        return Evaluator.evaluate(loaded.graph(), splits.get("val"), preset, cfg.batch, cfg.dataThreads(),
                cfg.limitBatches, false);
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

    /**
     * Whether the oneDNN engine trains in bf16: asked for, on a CPU with bf16 kernels; without AVX-512 it trains in
     * fp32, said in a WARN line (oneDNN emulates bf16 on AVX-512 without BF16 instructions, slower than fp32: said in
     * an INFO line).
     */
    private boolean oneDnnBf16() {
        if (cfg.precision != TrainPrecision.BF16) {
            return false;
        }
        if (!org.alexnet4j.cpu.OneDnnOps.bf16Available()) {
            log.warn("--precision bf16: this CPU ({}) has no AVX-512, where oneDNN's bf16 kernels run; training in "
                    + "fp32", org.alexnet4j.runtime.Dnnl.isaName());
            return false;
        }
        if (!org.alexnet4j.runtime.Dnnl.has(org.bytedeco.dnnl.global.dnnl.dnnl_cpu_isa_avx512_core_bf16)) {
            log.info("--precision bf16: this CPU ({}) has no bf16 instructions; oneDNN emulates them (slower than on a "
                    + "CPU with AVX512_BF16 or AMX)", org.alexnet4j.runtime.Dnnl.isaName());
        }
        return true;
    }

    private StepEngine engine(int replicas, int crop) {
        TrainingEngine engine = cfg.resolvedEngine(net.spec().edgePadding(), cfg.engine == TrainingEngine.AUTO
                ? org.alexnet4j.cuda.CudaRuntime.whyNot() : null, org.alexnet4j.cpu.OneDnnOps.covers(net.spec()),
                log::info);
        if (engine != TrainingEngine.DL4J) {
            boolean bf16 = engine == TrainingEngine.ONEDNN && oneDnnBf16();
            org.alexnet4j.cuda.Ops ops = switch (engine) {
                case CUDA -> org.alexnet4j.cuda.CudaRuntime.open(cfg.device, cfg.precision.cuda(), log::info);
                case ONEDNN -> new org.alexnet4j.cpu.OneDnnOps(bf16);
                default -> new org.alexnet4j.cuda.ReferenceOps();
            };
            log.info("training steps on the {} engine ({}{})", engine, ops.name(), switch (engine) {
                case CUDA -> ", device " + cfg.device + ", " + cfg.precision;
                case ONEDNN -> ", " + (bf16 ? "bf16 products, fp32 master weights" : "fp32") + ", "
                        + org.alexnet4j.runtime.Dnnl.isaName();
                default -> ", the CUDA engine's CPU reference";
            });
            return new EngineTraining(graph, net, new org.alexnet4j.cuda.AlexNetEngine(net.spec(), ops, cfg.batch,
                    cfg.seed), cfg, () -> state.schedule.lr,
                    () -> org.alexnet4j.data.Seeds.mix(cfg.seed, 0x5eed, state.iteration));
        }
        if (cfg.spark != null) {
            return new SparkTraining(graph, cfg, crop, runDir.path());
        }
        if (replicas == 1) {
            return new SingleDevice(graph, cfg.seed, () -> state.iteration, cfg.weightDecay);
        }
        DataParallel.Mode mode = cfg.parallelMode;
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

    /** Checkpoints the model, momentum and state into the run directory (the commit point). */
    private void checkpoint() throws IOException {
        runDir.checkpoint(net, graph, state, cfg.keepCheckpoints);
    }

    private void appendMetrics(int epoch, double trainLoss, TopK v, double lr, double rate, double secs)
            throws IOException {
        List<String> rows = runDir.metricsRows();
        rows.add(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.2f,%.1f", epoch, state.iteration,
                trainLoss, v.loss(), v.top1Error(), v.top5Error(), lr, rate, secs));
        runDir.writeMetrics(rows);
    }
}
