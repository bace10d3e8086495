package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.runtime.RunLog;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.train.Trainer;
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

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train AlexNet with the paper's recipe (section 5): batch 128, classical momentum 0.9, weight "
                + "decay 0.0005 through the momentum, lr 0.01 divided by 10 when the validation error stops improving "
                + "(at most 3 times), 90 epochs. Defaults < --config FILE (JSON) < flags; the resolved recipe goes to "
                + "RUN_DIR/config.json. Writes metrics.csv, plots/*.png, checkpoints/ and train.log in RUN_DIR. "
                + "Ctrl-C writes a checkpoint and exits; --resume RUN_DIR continues exactly."})
class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "DIR", description = "Dataset (ILSVRC2012's layout or any class folders) "
            + "or prepared cache.")
    Path data;

    @Option(names = "--out", paramLabel = "RUN_DIR", description = "Run directory (new).")
    Path out;

    @Option(names = "--resume", paramLabel = "RUN_DIR", description = "Continue the run in RUN_DIR from its last "
            + "checkpoint (--epochs, --max-iters, --limit-batches, --threads, --log-every, --checkpoint-every may "
            + "be changed).")
    Path resume;

    @Option(names = "--config", paramLabel = "FILE", description = "JSON recipe (keys as in config.json).")
    Path config;

    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: 90).")
    Integer epochs;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size (default: 128).")
    Integer batch;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: 0.01).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "X", description = "Classical momentum (default: 0.9).")
    Double momentum;

    @Option(names = "--optimizer", paramLabel = "sgd|adam", description = "sgd: the paper's classical momentum "
            + "(default); adam: for short runs on small data.")
    String optimizer;

    @Option(names = "--weight-decay", paramLabel = "X", description = "Weight decay on weights, inside the "
            + "momentum (default: 0.0005).")
    Double weightDecay;

    @Option(names = "--lr-patience", paramLabel = "N", description = "Epochs without a new best validation top-1 "
            + "error before dividing the lr (default: 3).")
    Integer lrPatience;

    @Option(names = "--lr-factor", paramLabel = "X", description = "Factor of each lr reduction (default: 0.1).")
    Double lrFactor;

    @Option(names = "--lr-max-reductions", paramLabel = "N", description = "At most this many reductions "
            + "(default: 3).")
    Integer lrMaxReductions;

    @Option(names = "--max-iters", paramLabel = "N", description = "Stop after N iterations in all.")
    Long maxIters;

    @Option(names = "--limit-batches", paramLabel = "N", description = "Batches per epoch, train and validation.")
    Integer limitBatches;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Also checkpoint every N iterations.")
    Integer checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", description = "Checkpoints kept besides best.zip "
            + "(default: 3).")
    Integer keepCheckpoints;

    @Option(names = "--log-every", paramLabel = "N", description = "A log line every N iterations (default: 20).")
    Integer logEvery;

    @Option(names = "--init", paramLabel = "paper|he", description = "Weight initialisation (default: paper).")
    String init;

    @Option(names = "--normalize", paramLabel = "mean-image|channel", description = "Input normalisation "
            + "(default: mean-image, the paper's).")
    String normalize;

    @Option(names = "--cache-mode", paramLabel = "none|device", description = "DL4J cache mode: device keeps "
            + "DL4J conv layers' pre-activations for their backward pass; it matters only with --conv-impl dl4j "
            + "(the default layers never recompute the forward pass). Default none. May change on --resume.")
    String cacheMode;

    @Option(names = "--devices", paramLabel = "N", description = "Data-parallel replicas through ParallelWrapper: "
            + "GPUs with the CUDA build, worker threads on the CPU (default: 1). Each trains on its own --batch, so "
            + "a step sees N x batch images at the same --lr. May change on --resume.")
    Integer devices;

    @Option(names = "--parallel-mode", paramLabel = "averaging|shared-gradients", description = "With --devices "
            + "N > 1: average parameters and momentum (default), or share threshold-encoded gradients.")
    String parallelMode;

    @Option(names = "--averaging-frequency", paramLabel = "K", description = "With --devices N > 1: average "
            + "every K steps (default: 1, which is exactly SGD on the N x batch images).")
    Integer averagingFrequency;

    @Option(names = "--prefetch", paramLabel = "N", description = "Batches loaded ahead of training by the data "
            + "threads (default: 2 per thread).")
    Integer prefetch;

    @Option(names = "--spark", paramLabel = "MASTER", description = "Train on Apache Spark (local[N], "
            + "spark://host:7077, yarn, ...) with DL4J's parameter averaging; the data must be at the same path on "
            + "every machine. See README, \"Training on Spark\". May change on --resume (none: back to this machine).")
    String spark;

    @Option(names = "--spark-workers", paramLabel = "N", description = "With --spark: training tasks at once "
            + "(default: Spark's default parallelism). Batches per step: N x --averaging-frequency.")
    Integer sparkWorkers;

    @Option(names = "--lighting", paramLabel = "STD", description = "PCA lighting alpha std, 0 = off "
            + "(default: 0.1).")
    Double lighting;

    @Option(names = "--init-from", paramLabel = "W.npz|W.onnx|MODEL.zip|RUN_DIR", description = "Fine-tuning: start "
            + "from these weights; every layer that fits is loaded, the others (a new fc8 for other classes) keep "
            + "their initialisation, and the log says which.")
    Path initFrom;

    @Option(names = "--freeze", paramLabel = "LAYERS", description = "Fine-tuning: layers whose parameters stay "
            + "bit-identical (no update, no weight decay), names or ranges of conv1..fc8, e.g. conv1-conv5.")
    String freeze;

    @Option(names = "--lr-mult", paramLabel = "LAYER=X[/B],...", description = "Fine-tuning: per-layer "
            + "learning-rate multipliers, X for the weights and B (default X) for the biases, e.g. fc8=10/20 "
            + "(Caffe's lr_mult).")
    String lrMult;

    @Option(names = "--engine", paramLabel = "auto|dl4j|cuda|reference", description = "What computes the training "
            + "steps: dl4j (DL4J's graph on ND4J: the CPU, or ND4J's CUDA 11.6 build), cuda (the CUDA 13 / cuDNN 9 "
            + "engine: Turing..Blackwell GPUs, README \"GPUs\"), reference (the CUDA engine's steps on the CPU: slow, "
            + "for checks), auto (cuda where a usable GPU is found and the recipe runs there, else dl4j) (default: "
            + "auto). May change on --resume.")
    String engine;

    @Option(names = "--device", paramLabel = "N", description = "With --engine cuda: the GPU (default: 0).")
    Integer device;

    @Option(names = "--precision", paramLabel = "fp32|fp32-fast|tf32", description = "With --engine cuda: fp32 "
            + "(exact: direct sums, deterministic, the CPU's results within 1e-4), fp32-fast (any fp32 algorithm, "
            + "Winograd and FFT included, as PyTorch's fp32) or tf32 (tensor-core products) (default: fp32).")
    String precision;

    @Option(names = "--strict", description = "Stop at the first unreadable image.")
    boolean strict;

    @Mixin
    ThreadsOption threads;

    @Mixin
    ModelOptions modelOptions;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        boolean isResume = resume != null;
        if (isResume == (out != null)) {
            throw new IllegalArgumentException("give either --out RUN_DIR (a new run) or --resume RUN_DIR");
        }
        Path runDir = isResume ? resume : out;
        TrainConfig cfg;
        if (isResume) {
            cfg = RunDirectory.open(runDir).readConfig();
            if (data != null || config != null || batch != null || lr != null || momentum != null
                    || weightDecay != null || init != null || optimizer != null || normalize != null || lighting != null
                    || initFrom != null || freeze != null || lrMult != null || lrPatience != null || lrFactor != null
                    || lrMaxReductions != null || strict
                    || spec.commandLine().getParseResult().hasMatchedOption("--seed")
                    || modelOptions.anyArchitectureOption()) {
                throw new IllegalArgumentException("--resume continues the recipe in " + runDir.resolve(
                        RunDirectory.CONFIG) + "; only --epochs, --max-iters, --limit-batches, --threads, --log-every,"
                        + " --checkpoint-every, --keep-checkpoints, --cache-mode, --devices, --parallel-mode,"
                        + " --averaging-frequency, --prefetch, --spark, --spark-workers, --engine, --device and"
                        + " --precision may change");
            }
        } else {
            cfg = config != null ? TrainConfig.read(config) : new TrainConfig();
            if (data != null) {
                cfg.data = data.toString();
            }
            if (cfg.data == null) {
                throw new IllegalArgumentException("--data DIR is required (or \"data\" in --config)");
            }
            if (batch != null) {
                cfg.batch = batch;
            }
            if (lr != null) {
                cfg.lr = lr;
            }
            if (momentum != null) {
                cfg.momentum = momentum;
            }
            if (weightDecay != null) {
                cfg.weightDecay = weightDecay;
            }
            if (lrPatience != null) {
                cfg.lrPatience = lrPatience;
            }
            if (lrFactor != null) {
                cfg.lrFactor = lrFactor;
            }
            if (lrMaxReductions != null) {
                cfg.lrMaxReductions = lrMaxReductions;
            }
            if (init != null) {
                cfg.init = init;
            }
            if (optimizer != null) {
                cfg.optimizer = optimizer;
            }
            if (normalize != null) {
                cfg.normalize = normalize;
            }
            if (lighting != null) {
                cfg.lighting = lighting;
            }
            if (strict) {
                cfg.strict = true;
            }
            if (initFrom != null) {
                cfg.initFrom = initFrom.toAbsolutePath().toString();
            }
            if (freeze != null) {
                cfg.freeze = freeze;
            }
            if (lrMult != null) {
                cfg.lrMult = lrMult;
            }
            boolean seedGiven = spec.commandLine().getParseResult().hasMatchedOption("--seed");
            if (seedGiven || config == null) {
                cfg.seed = modelOptions.seed;
            } else {
                modelOptions.seed = cfg.seed;
            }
            if (!spec.commandLine().getParseResult().hasMatchedOption("--model") && cfg.model != null) {
                modelOptions.model = cfg.model;
            }
            if (modelOptions.width == null && cfg.width != null) {
                modelOptions.width = cfg.width;
            }
            if (modelOptions.inputSize == null && cfg.inputSize != null) {
                modelOptions.inputSize = cfg.inputSize;
            }
            if (modelOptions.dropout == null && cfg.dropout != null) {
                modelOptions.dropout = cfg.dropout;
            }
            cfg.model = modelOptions.model;
            cfg.width = modelOptions.width;
            cfg.inputSize = modelOptions.inputSize;
            cfg.dropout = modelOptions.dropout;
        }
        if (epochs != null) {
            cfg.epochs = epochs;
        }
        if (keepCheckpoints != null) {
            cfg.keepCheckpoints = keepCheckpoints;
        }
        if (maxIters != null) {
            cfg.maxIters = maxIters;
        }
        if (limitBatches != null) {
            cfg.limitBatches = limitBatches;
        }
        if (checkpointEvery != null) {
            cfg.checkpointEvery = checkpointEvery;
        }
        if (logEvery != null) {
            cfg.logEvery = logEvery;
        }
        if (cacheMode != null) {
            cfg.cacheMode = cacheMode;
        }
        if (threads.threads != null) {
            cfg.threads = threads.count();
        }
        if (devices != null) {
            cfg.devices = devices;
        }
        if (parallelMode != null) {
            cfg.parallelMode = parallelMode;
        }
        if (averagingFrequency != null) {
            cfg.averagingFrequency = averagingFrequency;
        }
        if (prefetch != null) {
            cfg.prefetch = prefetch;
        }
        if (spark != null) {
            cfg.spark = spark.equalsIgnoreCase("none") ? null : spark;
        }
        if (sparkWorkers != null) {
            cfg.sparkWorkers = sparkWorkers;
        }
        if (engine != null) {
            cfg.engine = engine;
        }
        if (device != null) {
            cfg.device = device;
        }
        if (precision != null) {
            cfg.precision = precision;
        }
        cfg.validate();
        Files.createDirectories(runDir);

        Trainer.Result r;
        try (StopOnSignal stop = new StopOnSignal();
             AutoCloseable runLog = RunLog.attach(RunDirectory.at(runDir).log())) {
            if (isResume) {
                r = Trainer.resume(runDir, cfg, stop::requested);
            } else {
                AlexNet model = modelOptions.build();
                r = Trainer.start(cfg, model, runDir, stop::requested);
            }
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%s: %d iterations, %d epochs%n", r.stopReason(), r.iterations(), r.epochsCompleted());
        o.printf(Locale.ROOT, "validation (centre crop): top-1 error %.4f, top-5 error %.4f (chance %.4f / %.4f); "
                        + "best top-1 error %.4f%n", r.lastTop1Error(), r.lastTop5Error(), 1 - 1.0 / r.classes(),
                Math.max(0, 1 - 5.0 / r.classes()), r.bestTop1Error());
        o.printf("run directory %s: metrics.csv, plots/, checkpoints/, train.log%n", runDir);
        return 0;
    }
}
