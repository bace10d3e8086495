package org.alexnet4j.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The training recipe, defaulting to the paper's (section 5): batch 128, classical momentum 0.9, weight decay 0.0005
 * through the momentum, learning rate 0.01 divided by 10 when the validation error stops improving (at most 3 times),
 * 90 epochs, the paper's initialisation, mean-image subtraction, PCA lighting with alpha std 0.1. Layered like timm:
 * defaults &lt; config file (JSON, these field names) &lt; command-line flags; the resolved values are written to the run
 * directory as {@code config.json}. Public fields so that file, flags and JSON map one to one.
 */
public class TrainConfig {
    /** Dataset: an ILSVRC2012-layout directory or a prepared cache. */
    public String data;
    public int epochs = 90;
    /**
     * "sgd": the paper's classical momentum with weight decay through it; "adam": DL4J's Adam (L2 added to the
     * gradient), for short runs on small data, where the paper's SGD needs far more iterations than a quick run has.
     */
    public String optimizer = "sgd";
    public int batch = 128;
    public double lr = 0.01;
    public double momentum = 0.9;
    public double weightDecay = 0.0005;
    /** Epochs without a new best validation top-1 error before the learning rate is divided. */
    public int lrPatience = 3;
    public double lrFactor = 0.1;
    public int lrMaxReductions = 3;
    /** Stop after this many iterations in all (0: no limit). */
    public long maxIters = 0;
    /** Batches per epoch, for training and validation (0: all). */
    public int limitBatches = 0;
    /** Also checkpoint every N iterations (0: only at epoch ends). */
    public int checkpointEvery = 0;
    /** Periodic checkpoints kept besides the best. */
    public int keepCheckpoints = 3;
    /** A log line every N iterations. */
    public int logEvery = 20;
    /** "paper" (N(0, 0.01), biases 1 in conv2/4/5, fc6/7) or "he" (N(0, 2/fan_in), biases 0). */
    public String init = "paper";
    /** "mean-image" (the paper: x - mean image, 0..255 scale) or "channel" (torchvision: (x/255 - mean) / std). */
    public String normalize = "mean-image";
    /** PCA lighting alpha std (0 turns it off). */
    public double lighting = 0.1;
    /**
     * DL4J cache mode: "none" (default) recomputes each convolution's pre-activation in the backward pass; "device"
     * keeps it (~12% faster at batch 128, but peak memory 4.1-4.7 GiB instead of 3.2-3.5). May change on resume.
     */
    public String cacheMode = "none";
    /**
     * Data-parallel replicas (ParallelWrapper): GPUs with the CUDA backend, worker threads on the CPU. Each trains on
     * its own batch of {@code batch} images, so one step sees {@code devices * batch} images at the same learning
     * rate (with averaging after every step, exactly SGD on that larger batch). May change on resume.
     */
    public int devices = 1;
    /**
     * What computes the steps: {@code dl4j} (DL4J's graph on ND4J's backend), {@code cuda} (the project's CUDA 13 /
     * cuDNN 9 engine, org.alexnet4j.cuda), {@code reference} (that engine's orchestration on its CPU reference ops:
     * slow, for checks) or {@code auto} (cuda where a usable GPU is found and the recipe runs there, else dl4j).
     * Checkpoints are the same for all, so a run resumes on another engine.
     */
    public String engine = "auto";
    /** The GPU of {@code --engine cuda}. */
    public int device = 0;
    /** The CUDA engine's arithmetic: fp32 (exact) or tf32. */
    public String precision = "fp32";
    /** "averaging" (parameters and momentum every {@code averagingFrequency} steps) or "shared-gradients". */
    public String parallelMode = "averaging";
    public int averagingFrequency = 1;
    /** Batches loaded ahead by the data threads (0: two per thread). */
    public int prefetch = 0;
    /**
     * Spark master URL ("local[2]", "spark://host:7077", "yarn", ...): train with DL4J's parameter averaging on Spark
     * instead of on this machine (null: no Spark). May change on resume.
     */
    public String spark;
    /** Spark workers (training tasks at once; 0: Spark's default parallelism). */
    public int sparkWorkers = 0;
    /** Data loading threads (0: all cores). */
    public int threads = 0;
    public long seed = 1;
    /** Stop at the first unreadable image instead of skipping it. */
    public boolean strict = false;
    /** Model settings used when the flags do not give them: "model", "width", "inputSize", "dropout". */
    public String model;
    /** Fine-tuning: weights to start from (.npz, .onnx, model file or run directory); null: the recipe's init. */
    public String initFrom;
    /** Fine-tuning: layers kept frozen, e.g. "conv1-conv5". */
    public String freeze;
    /** Fine-tuning: per-layer learning-rate multipliers, e.g. "fc8=10/20" (Caffe's lr_mult, bias 20). */
    public String lrMult;
    public Double width;
    public Integer inputSize;
    public Double dropout;

    private static ObjectMapper mapper() {
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    }

    /** Reads a config file; unknown keys are an error naming them. */
    public static TrainConfig read(Path file) throws IOException {
        try {
            return mapper().readValue(file.toFile(), TrainConfig.class);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(file + ": unknown setting '" + e.getPropertyName() + "'");
        }
    }

    /** This configuration as JSON (to ship it to Spark executors). */
    public String toJson() {
        try {
            return mapper().writeValueAsString(this);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static TrainConfig fromJson(String json) {
        try {
            return mapper().readValue(json, TrainConfig.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not a training configuration: " + e.getMessage(), e);
        }
    }

    public void write(Path file) throws IOException {
        byte[] json = mapper().writeValueAsBytes(this);
        org.alexnet4j.util.AtomicFiles.write(file, tmp -> java.nio.file.Files.write(tmp, json));
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> toMap() {
        return mapper().convertValue(this, Map.class);
    }

    /** The configuration with these settings (keys as in config.json); an unknown key is an error naming it. */
    public static TrainConfig fromMap(Map<String, ?> settings) {
        try {
            return mapper().convertValue(settings, TrainConfig.class);
        } catch (IllegalArgumentException e) {
            if (e.getCause() instanceof com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException u) {
                throw new IllegalArgumentException("unknown setting '" + u.getPropertyName() + "'");
            }
            throw new IllegalArgumentException("not a training configuration: " + e.getMessage(), e);
        }
    }

    /** Checks every value; the message names the flag. */
    public TrainConfig validate() {
        check(epochs >= 1, "--epochs must be at least 1");
        check(batch >= 1, "--batch must be at least 1");
        check(lr > 0 && Double.isFinite(lr), "--lr must be positive");
        check(momentum >= 0 && momentum < 1, "--momentum must be in [0, 1)");
        check(weightDecay >= 0 && Double.isFinite(weightDecay), "--weight-decay must be >= 0");
        check(lrPatience >= 1, "--lr-patience must be at least 1");
        check(lrFactor > 0 && lrFactor < 1, "--lr-factor must be in (0, 1)");
        check(lrMaxReductions >= 0, "--lr-max-reductions must be >= 0");
        check(maxIters >= 0 && limitBatches >= 0 && checkpointEvery >= 0, "limits must be >= 0");
        check(keepCheckpoints >= 1, "--keep-checkpoints must be at least 1");
        check(logEvery >= 1, "--log-every must be at least 1");
        check(init.equals("paper") || init.equals("he"), "--init must be paper or he, got " + init);
        check(optimizer.equals("sgd") || optimizer.equals("adam"), "--optimizer must be sgd or adam, got "
                + optimizer);
        check(normalize.equals("mean-image") || normalize.equals("channel"),
                "--normalize must be mean-image or channel, got " + normalize);
        check(lighting >= 0 && Double.isFinite(lighting), "--lighting must be >= 0");
        check(threads >= 0, "--threads must be >= 0");
        check(devices >= 1, "--devices must be at least 1");
        check(averagingFrequency >= 1, "--averaging-frequency must be at least 1");
        check(prefetch >= 0, "--prefetch must be >= 0");
        check(sparkWorkers >= 0, "--spark-workers must be >= 0");
        check(spark == null || parallelMode.equals("averaging"), "--spark trains with parameter averaging: gradient "
                + "sharing on Spark (SharedTrainingMaster) runs without learning on this stack (docs/stack.md)");
        check(spark == null || devices == 1, "--spark and --devices N > 1 do not combine: on Spark, workers are "
                + "Spark tasks (--spark-workers)");
        DataParallel.Mode.fromId(parallelMode);
        check(engine.equals("auto") || engine.equals("dl4j") || engine.equals("cuda") || engine.equals("reference"),
                "--engine must be auto, dl4j, cuda or reference, got " + engine);
        boolean own = engine.equals("cuda") || engine.equals("reference");
        check(!own || (devices == 1 && spark == null), "--engine " + engine + " trains on one "
                + "device: --devices N > 1 and --spark run on DL4J's engine (multi-GPU on the CUDA engine is not built)");
        check(!own || optimizer.equals("sgd"), "--engine " + engine + " trains with the paper's "
                + "classical momentum (--optimizer sgd)");
        check(device >= 0, "--device must be >= 0");
        org.alexnet4j.cuda.Precision.fromId(precision);
        FineTuning.validate(this);
        org.alexnet4j.runtime.Backend.cacheMode(cacheMode);
        return this;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * The engine {@code auto} means for this recipe and net here: cuda where {@code gpuProblem} is null (a usable GPU)
     * and the recipe runs on it (one device, no Spark, the paper's momentum, no edge padding), else dl4j; with the
     * reason when a GPU was there but the recipe kept it on DL4J. Other engines are themselves.
     */
    public String resolvedEngine(boolean edgePadding, String gpuProblem, java.util.function.Consumer<String> why) {
        if (!engine.equals("auto")) {
            return engine;
        }
        if (gpuProblem != null) {
            return "dl4j";
        }
        String keep = devices > 1 ? "--devices " + devices : spark != null ? "--spark"
                : !optimizer.equals("sgd") ? "--optimizer " + optimizer : edgePadding ? "edge padding" : null;
        if (keep != null) {
            why.accept("a usable GPU was found, but " + keep + " trains on DL4J's engine");
            return "dl4j";
        }
        return "cuda";
    }

    public int dataThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
