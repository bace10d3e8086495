package org.alexnet4j.train;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import org.alexnet4j.data.transforms.Normalization;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The training recipe, defaulting to the paper's (section 5): batch 128, classical momentum 0.9, weight decay 0.0005
 * through the momentum, learning rate 0.01 divided by 10 when the validation error stops improving (at most 3 times),
 * 90 epochs, the paper's initialisation, mean-image subtraction, PCA lighting with alpha std 0.1. Layered like timm:
 * defaults &lt; config file (JSON, these field names) &lt; command-line flags; the resolved values are written to the run
 * directory as {@code config.json}. Public fields so that file, flags and JSON map one to one.
 */
/**
 * The training recipe, defaulting to the paper's (section 5): batch 128, classical momentum 0.9, weight decay 0.0005
 * through the momentum, learning rate 0.01 divided by 10 when the validation error stops improving (at most 3 times),
 * 90 epochs, the paper's initialisation, mean-image subtraction, PCA lighting with alpha std 0.1. Layered like timm:
 * defaults &lt; config file (JSON, these field names) &lt; command-line flags; the resolved values are written to the run
 * directory as {@code config.json}.
 *
 * <p>Each setting is declared once, here: its field (the config.json key, typed), its initial value (the default), and
 * its {@code @Option} (flag, description, shown by {@code train --help}); {@link Resumable} marks those that may
 * change on {@code --resume}. {@code train} uses this class as a picocli mixin, {@code tune} and {@code --config}
 * files read the same keys, and {@link #settingsTable()} is the table in docs/training.md (checked by a test).
 */
public class TrainConfig {
    /** Marks a setting that may change when a run is resumed (the others are the recipe it was started with). */
    @Retention(RetentionPolicy.RUNTIME)
    @Target(ElementType.FIELD)
    public @interface Resumable {
    }

    /** A typed setting's values: their names in flags and config.json, and back. */
    public record Choice<E>(Class<E> type, Function<E, String> id, Function<String, E> parse) {
    }

    /** Every typed setting's value type, for config files (Jackson) and flags (picocli converters). */
    public static final List<Choice<?>> CHOICES = List.of(
            new Choice<>(Optimizer.class, Optimizer::id, Optimizer::fromId),
            new Choice<>(Init.class, Init::id, Init::fromId),
            new Choice<>(Normalization.Kind.class, Normalization.Kind::id, TrainConfig::normalizeFromId),
            new Choice<>(CacheMode.class, CacheMode::id, CacheMode::fromId),
            new Choice<>(TrainingEngine.class, TrainingEngine::id, TrainingEngine::fromId),
            new Choice<>(TrainPrecision.class, TrainPrecision::id, TrainPrecision::fromId),
            new Choice<>(DataParallel.Mode.class, m -> m.id, DataParallel.Mode::fromId));

    private static Normalization.Kind normalizeFromId(String id) {
        try {
            return Normalization.Kind.fromId(id);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--normalize must be mean-image or channel, got " + id);
        }
    }

    @Option(names = "--data", paramLabel = "DIR", description = "Dataset (ILSVRC2012's layout or any class folders) "
            + "or prepared cache.")
    public String data;

    @Resumable
    @Option(names = "--epochs", paramLabel = "N", description = "Epochs (default: ${DEFAULT-VALUE}).")
    public int epochs = 90;

    @Option(names = "--optimizer", paramLabel = "sgd|adam", description = "sgd: the paper's classical momentum with "
            + "weight decay through it; adam: DL4J's Adam (L2 added to the gradient), for short runs on small data, "
            + "where the paper's SGD needs far more iterations than a quick run has (default: ${DEFAULT-VALUE}).")
    public Optimizer optimizer = Optimizer.SGD;

    @Option(names = "--batch", paramLabel = "N", description = "Batch size (default: ${DEFAULT-VALUE}).")
    public int batch = 128;

    @Option(names = "--lr", paramLabel = "X", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    public double lr = 0.01;

    @Option(names = "--momentum", paramLabel = "X", description = "Classical momentum (default: ${DEFAULT-VALUE}).")
    public double momentum = 0.9;

    @Option(names = "--weight-decay", paramLabel = "X", description = "Weight decay on weights, inside the momentum "
            + "(default: ${DEFAULT-VALUE}).")
    public double weightDecay = 0.0005;

    @Option(names = "--lr-patience", paramLabel = "N", description = "Epochs without a new best validation top-1 "
            + "error before dividing the lr (default: ${DEFAULT-VALUE}).")
    public int lrPatience = 3;

    @Option(names = "--lr-factor", paramLabel = "X", description = "Factor of each lr reduction "
            + "(default: ${DEFAULT-VALUE}).")
    public double lrFactor = 0.1;

    @Option(names = "--lr-max-reductions", paramLabel = "N", description = "At most this many reductions "
            + "(default: ${DEFAULT-VALUE}).")
    public int lrMaxReductions = 3;

    @Resumable
    @Option(names = "--max-iters", paramLabel = "N", description = "Stop after N iterations in all (0: no limit).")
    public long maxIters = 0;

    @Resumable
    @Option(names = "--limit-batches", paramLabel = "N", description = "Batches per epoch, train and validation "
            + "(0: all).")
    public int limitBatches = 0;

    @Resumable
    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Also checkpoint every N iterations (0: only "
            + "at epoch ends).")
    public int checkpointEvery = 0;

    @Resumable
    @Option(names = "--keep-checkpoints", paramLabel = "K", description = "Checkpoints kept besides best.zip "
            + "(default: ${DEFAULT-VALUE}).")
    public int keepCheckpoints = 3;

    @Resumable
    @Option(names = "--log-every", paramLabel = "N", description = "A log line every N iterations "
            + "(default: ${DEFAULT-VALUE}).")
    public int logEvery = 20;

    @Option(names = "--init", paramLabel = "paper|he", description = "Weight initialisation: paper (N(0, 0.01), biases "
            + "1 in conv2/4/5, fc6/7) or he (N(0, 2/fan_in), biases 0) (default: ${DEFAULT-VALUE}).")
    public Init init = Init.PAPER;

    @Option(names = "--normalize", paramLabel = "mean-image|channel", description = "Input normalisation: mean-image "
            + "(the paper: x - mean image, 0..255 scale) or channel (torchvision: (x/255 - mean) / std) "
            + "(default: ${DEFAULT-VALUE}).")
    public Normalization.Kind normalize = Normalization.Kind.MEAN_IMAGE;

    @Option(names = "--lighting", paramLabel = "STD", description = "PCA lighting alpha std, 0 = off "
            + "(default: ${DEFAULT-VALUE}).")
    public double lighting = 0.1;

    @Resumable
    @Option(names = "--cache-mode", paramLabel = "none|device", description = "DL4J cache mode: device keeps DL4J conv "
            + "layers' pre-activations for their backward pass; it matters only with --conv-impl dl4j (the default "
            + "layers never recompute the forward pass) (default: ${DEFAULT-VALUE}).")
    public CacheMode cacheMode = CacheMode.NONE;

    @Resumable
    @Option(names = "--devices", paramLabel = "N", description = "Data-parallel replicas through ParallelWrapper: GPUs "
            + "with the CUDA build, worker threads on the CPU (default: ${DEFAULT-VALUE}). Each trains on its own "
            + "--batch, so a step sees N x batch images at the same --lr.")
    public int devices = 1;

    @Resumable
    @Option(names = "--engine", paramLabel = "auto|dl4j|onednn|cuda|reference", description = "What computes the "
            + "training steps: dl4j (DL4J's graph on ND4J: the CPU, or ND4J's CUDA 11.6 build), onednn (the whole step "
            + "on oneDNN's primitives on the CPU, in fp32 or --precision bf16: docs/training.md), cuda (the CUDA 13 / "
            + "cuDNN 9 engine: Turing..Blackwell GPUs, docs/gpu.md), reference (the CUDA engine's steps in plain Java: "
            + "slow, for checks), auto (onednn for bf16; cuda where a usable GPU is found and the recipe runs there; "
            + "else onednn where its kernels cover the net (every tower's channels fill the CPU's channel blocks: the "
            + "full-width nets) and the recipe runs there; else dl4j) (default: ${DEFAULT-VALUE}).")
    public TrainingEngine engine = TrainingEngine.AUTO;

    @Resumable
    @Option(names = "--device", paramLabel = "N", description = "With --engine cuda: the GPU "
            + "(default: ${DEFAULT-VALUE}).")
    public int device = 0;

    @Resumable
    @Option(names = "--precision", paramLabel = "fp32|bf16|fp32-fast|tf32", description = "The steps' arithmetic: "
            + "fp32; bf16 with --engine onednn (bf16 products with fp32 sums, fp32 master weights and update: "
            + "docs/precision.md); with --engine cuda fp32 (exact: direct sums, deterministic, the CPU's results "
            + "within 1e-4), fp32-fast (any fp32 algorithm, Winograd and FFT included, as PyTorch's fp32) or tf32 "
            + "(tensor-core products) (default: ${DEFAULT-VALUE}).")
    public TrainPrecision precision = TrainPrecision.FP32;

    @Resumable
    @Option(names = "--parallel-mode", paramLabel = "averaging|shared-gradients", description = "With --devices N > 1: "
            + "average parameters and momentum, or share threshold-encoded gradients (default: ${DEFAULT-VALUE}).")
    public DataParallel.Mode parallelMode = DataParallel.Mode.AVERAGING;

    @Resumable
    @Option(names = "--averaging-frequency", paramLabel = "K", description = "With --devices N > 1 or --spark: "
            + "average every K steps (default: ${DEFAULT-VALUE}, which is exactly SGD on the N x batch images).")
    public int averagingFrequency = 1;

    @Resumable
    @Option(names = "--prefetch", paramLabel = "N", description = "Batches loaded ahead of training by the data "
            + "threads (0: two per thread).")
    public int prefetch = 0;

    @Resumable
    @Option(names = "--spark", paramLabel = "MASTER", description = "Train on Apache Spark (local[N], "
            + "spark://host:7077, yarn, ...) with DL4J's parameter averaging; the data must be at the same path on "
            + "every machine (docs/spark.md). On --resume, none goes back to this machine.")
    public String spark;

    @Resumable
    @Option(names = "--spark-workers", paramLabel = "N", description = "With --spark: training tasks at once (0: "
            + "Spark's default parallelism). Batches per step: N x --averaging-frequency.")
    public int sparkWorkers = 0;

    @Resumable
    @Option(names = "--threads", paramLabel = "N", description = "Data loading threads (0: all cores).")
    public int threads = 0;

    /** The seed of initialisation, data order, augmentation and dropout: {@code --seed} of the model options. */
    public long seed = 1;

    @Option(names = "--strict", description = "Stop at the first unreadable image instead of skipping it.")
    public boolean strict = false;

    @Option(names = "--init-from", paramLabel = "W.npz|W.onnx|MODEL.zip|RUN_DIR", description = "Fine-tuning: start "
            + "from these weights; every layer that fits is loaded, the others (a new fc8 for other classes) keep "
            + "their initialisation, and the log says which.")
    public String initFrom;

    @Option(names = "--freeze", paramLabel = "LAYERS", description = "Fine-tuning: layers whose parameters stay "
            + "bit-identical (no update, no weight decay), names or ranges of conv1..fc8, e.g. conv1-conv5.")
    public String freeze;

    @Option(names = "--lr-mult", paramLabel = "LAYER=X[/B],...", description = "Fine-tuning: per-layer learning-rate "
            + "multipliers, X for the weights and B (default X) for the biases, e.g. fc8=10/20 (Caffe's lr_mult).")
    public String lrMult;

    /** The net: the model options' --model, --width, --input-size, --dropout as the run was started with. */
    public String model;
    public Double width;
    public Integer inputSize;
    public Double dropout;

    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).registerModule(choicesModule());

    private static ObjectMapper mapper() {
        return MAPPER;
    }

    /** Typed settings as their names in JSON ("mean-image", "sgd"), as config files have always written them. */
    private static SimpleModule choicesModule() {
        SimpleModule m = new SimpleModule("alexnet4j-settings");
        for (Choice<?> c : CHOICES) {
            register(m, c);
        }
        return m;
    }

    private static <E> void register(SimpleModule m, Choice<E> c) {
        m.addSerializer(c.type(), new StdSerializer<E>(c.type()) {
            @Override
            public void serialize(E value, JsonGenerator gen, SerializerProvider provider) throws IOException {
                gen.writeString(c.id().apply(value));
            }
        });
        m.addDeserializer(c.type(), new StdDeserializer<E>(c.type()) {
            @Override
            public E deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
                try {
                    return c.parse().apply(p.getValueAsString());
                } catch (IllegalArgumentException e) {
                    throw new SettingException(e.getMessage(), p);
                }
            }
        });
    }

    /** A setting's value that is not one of its names: the sentence of its parser, for the caller to show. */
    private static final class SettingException extends com.fasterxml.jackson.core.JsonProcessingException {
        SettingException(String message, JsonParser p) {
            super(message, p.currentLocation());
        }
    }

    /** The sentence of a {@link SettingException} inside {@code e}, or null. */
    private static String settingProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SettingException s) {
                return s.getOriginalMessage();
            }
        }
        return null;
    }

    /** Reads a config file; unknown keys are an error naming them. */
    public static TrainConfig read(Path file) throws IOException {
        try {
            return mapper().readValue(file.toFile(), TrainConfig.class);
        } catch (com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException e) {
            throw new IllegalArgumentException(file + ": unknown setting '" + e.getPropertyName() + "'");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            String problem = settingProblem(e);
            if (problem != null) {
                throw new IllegalArgumentException(file + ": " + problem);
            }
            throw e;
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
            String problem = settingProblem(e);
            if (problem != null) {
                throw new IllegalArgumentException(problem);
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
        check(init != null && optimizer != null && normalize != null && cacheMode != null && engine != null
                && precision != null && parallelMode != null, "a setting is null in the configuration");
        check(lighting >= 0 && Double.isFinite(lighting), "--lighting must be >= 0");
        check(threads >= 0, "--threads must be >= 0");
        check(devices >= 1, "--devices must be at least 1");
        check(averagingFrequency >= 1, "--averaging-frequency must be at least 1");
        check(prefetch >= 0, "--prefetch must be >= 0");
        check(sparkWorkers >= 0, "--spark-workers must be >= 0");
        check(spark == null || parallelMode == DataParallel.Mode.AVERAGING, "--spark trains with parameter averaging: "
                + "gradient sharing on Spark (SharedTrainingMaster) runs without learning on this stack (docs/stack.md)");
        check(spark == null || devices == 1, "--spark and --devices N > 1 do not combine: on Spark, workers are "
                + "Spark tasks (--spark-workers)");
        boolean own = engine.ownEngine();
        check(!own || (devices == 1 && spark == null), "--engine " + engine + " trains on one "
                + "device: --devices N > 1 and --spark run on DL4J's engine (multi-GPU on the CUDA engine is not built)");
        check(!own || optimizer == Optimizer.SGD, "--engine " + engine + " trains with the paper's "
                + "classical momentum (--optimizer sgd)");
        check(precision != TrainPrecision.BF16 || engine == TrainingEngine.ONEDNN || engine == TrainingEngine.AUTO,
                "--precision bf16 trains on the oneDNN engine (--engine onednn or auto), not --engine " + engine);
        check(precision != TrainPrecision.BF16 || (devices == 1 && spark == null && optimizer == Optimizer.SGD),
                "--precision bf16 trains on the oneDNN engine: one device, no --spark, --optimizer sgd (the paper's "
                        + "classical momentum)");
        check(!(precision == TrainPrecision.FP32_FAST || precision == TrainPrecision.TF32)
                        || engine == TrainingEngine.CUDA || engine == TrainingEngine.AUTO,
                "--precision " + precision + " is the CUDA engine's (--engine cuda), not --engine " + engine + "'s");
        check(device >= 0, "--device must be >= 0");
        FineTuning.validate(this);
        return this;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * The engine {@code auto} means for this recipe and net here: onednn for bf16; cuda where {@code gpuProblem} is
     * null (a usable GPU) and the recipe runs on it (one device, no Spark, the paper's momentum, no edge padding), with
     * the reason when a GPU was there but the recipe kept it on DL4J; without a usable GPU onednn where
     * {@code oneDnnCovers} ({@link org.alexnet4j.cpu.OneDnnOps#covers}: measured faster than dl4j for that net,
     * docs/benchmarks.md) and the recipe runs there; else dl4j. Other engines are themselves.
     */
    public TrainingEngine resolvedEngine(boolean edgePadding, String gpuProblem, boolean oneDnnCovers,
                                         java.util.function.Consumer<String> why) {
        if (engine != TrainingEngine.AUTO) {
            return engine;
        }
        if (precision == TrainPrecision.BF16) {
            return TrainingEngine.ONEDNN; // the one engine that trains in bf16 (validate() checked the recipe)
        }
        String keep = devices > 1 ? "--devices " + devices : spark != null ? "--spark"
                : optimizer != Optimizer.SGD ? "--optimizer " + optimizer : edgePadding ? "edge padding" : null;
        if (gpuProblem != null) {
            return oneDnnCovers && keep == null ? TrainingEngine.ONEDNN : TrainingEngine.DL4J;
        }
        if (keep != null) {
            why.accept("a usable GPU was found, but " + keep + " trains on DL4J's engine");
            return TrainingEngine.DL4J;
        }
        return TrainingEngine.CUDA;
    }

    /** The settings declared with a flag, in declaration order. */
    public static List<Field> settings() {
        List<Field> out = new ArrayList<>();
        for (Field f : TrainConfig.class.getFields()) {
            if (f.isAnnotationPresent(Option.class)) {
                out.add(f);
            }
        }
        return out;
    }

    /** A setting's flag ({@code --lr}). */
    public static String flag(Field setting) {
        return setting.getAnnotation(Option.class).names()[0];
    }

    /** The flags of the settings that may change on {@code --resume}. */
    public static List<String> resumableFlags() {
        return settings().stream().filter(f -> f.isAnnotationPresent(Resumable.class)).map(TrainConfig::flag)
                .toList();
    }

    /**
     * The settings as a Markdown table (flag, config.json key, default, may change on --resume, description): the
     * table of docs/training.md, made from the declarations above.
     */
    public static String settingsTable() {
        TrainConfig defaults = new TrainConfig();
        StringBuilder sb = new StringBuilder("| flag | config.json | default | on --resume | what |\n"
                + "|---|---|---|---|---|\n");
        for (Field f : settings()) {
            Option o = f.getAnnotation(Option.class);
            Object v;
            try {
                v = f.get(defaults);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException(e);
            }
            String desc = String.join(" ", o.description()).replaceAll(" ?\\(default: \\$\\{DEFAULT-VALUE}[^)]*\\)", "")
                    .replace("|", "\\|");
            sb.append("| `").append(o.names()[0]).append("` | `").append(f.getName()).append("` | ")
                    .append(v == null ? "" : "`" + (v instanceof Double d ? new java.math.BigDecimal(d.toString())
                            .stripTrailingZeros().toPlainString() : v) + "`").append(" | ")
                    .append(f.isAnnotationPresent(Resumable.class) ? "may change" : "kept").append(" | ")
                    .append(desc).append(" |\n");
        }
        return sb.toString();
    }

    public int dataThreads() {
        return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
    }
}
