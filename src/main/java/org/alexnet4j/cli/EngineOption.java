package org.alexnet4j.cli;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.eval.Calibrator;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.weights.Calibration;
import org.alexnet4j.infer.CpuPrecision;
import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code --engine} and {@code --precision} options of the inference commands (predict, eval, forward, serve;
 * bench for its alexnet4j models), and int8's calibration: {@code --calibrate CACHE}, else the calibration file
 * beside the weights ({@code alexnet4j calibrate}).
 */
class EngineOption {
    @Option(names = "--engine", defaultValue = "auto", paramLabel = "auto|onednn|dl4j|cuda", description = "What "
            + "computes the probabilities: onednn (the net compiled into oneDNN primitives once: fastest on a CPU, "
            + "above all for few images), dl4j (DL4J's own output), cuda (the CUDA 13 / cuDNN 9 engine on a GPU, "
            + "docs/gpu.md), auto (cuda where a usable GPU is found; else onednn where it covers the net: NCHW, "
            + "float, zero padding, max pooling, CPU backend; else dl4j) (default: ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N", description = "With the cuda engine: the GPU "
            + "(default: ${DEFAULT-VALUE}).")
    int device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|bf16|int8|fp32-fast|tf32",
            description = "Arithmetic: fp32 (exact, every engine); on the CPU's oneDNN engine bf16 (bf16 products, "
            + "fp32 sums) or int8 (8-bit products; needs a calibration: --calibrate or `alexnet4j calibrate`) "
            + "(docs/precision.md); on the cuda engine fp32-fast (any fp32 algorithm, Winograd and FFT included, as "
            + "PyTorch's fp32) or tf32 (tensor-core products); bench takes a list (fp32,bf16,int8) "
            + "(default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--calibrate", paramLabel = "CACHE", description = "With --precision int8: measure the "
            + "activation ranges now on the training split of this prepared cache (else the calibration file "
            + "beside the weights is used).")
    Path calibrate;

    @Option(names = "--calibration-images", defaultValue = "512", paramLabel = "N", description = "With "
            + "--calibrate: how many images (default: ${DEFAULT-VALUE}).")
    int calibrationImages;

    /** These options once per precision of bench's comma-separated {@code --precision} list, in its order. */
    java.util.List<EngineOption> perPrecision() {
        return java.util.Arrays.stream(precision.split(",")).map(this::with).toList();
    }

    /** These options with {@code --precision} set to {@code id}. */
    private EngineOption with(String id) {
        EngineOption o = new EngineOption();
        o.engine = engine;
        o.device = device;
        o.precision = id.trim();
        o.calibrate = calibrate;
        o.calibrationImages = calibrationImages;
        return o;
    }

    InferenceEngine.Kind kind() {
        return InferenceEngine.Kind.fromId(engine);
    }

    /** The CPU precision asked for: fp32 for the cuda engine's own precisions. */
    CpuPrecision cpuPrecision() {
        CpuPrecision p = CpuPrecision.fromIdOrNull(precision);
        if (p == null) {
            try {
                org.alexnet4j.cuda.Precision.fromId(precision);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--precision must be fp32, bf16 or int8 (the CPU), or fp32-fast or "
                        + "tf32 (the cuda engine), got '" + precision + "'");
            }
            if (kind() == InferenceEngine.Kind.ONEDNN || kind() == InferenceEngine.Kind.DL4J) {
                // auto keeps it for the GPU it may find (on a CPU the engines compute in fp32)
                throw new IllegalArgumentException("--precision " + precision + " is the cuda engine's, not --engine "
                        + kind().id() + "'s: use fp32, bf16 or int8 on the CPU");
            }
            return CpuPrecision.FP32;
        }
        return p;
    }

    InferenceEngine.Gpu gpu() {
        // the CPU's precisions (fp32, bf16, int8) leave the GPU in fp32; bf16 and int8 are refused there anyway
        return new InferenceEngine.Gpu(device, CpuPrecision.fromIdOrNull(precision) != null
                ? org.alexnet4j.cuda.Precision.FP32 : org.alexnet4j.cuda.Precision.fromId(precision));
    }

    /**
     * The engine for {@code net} with {@code graph}'s weights from {@code source}, in the precision asked for; int8
     * with the calibration measured now ({@code --calibrate}, through the preprocessing {@code source} gives) or
     * stored beside the weights file.
     */
    InferenceEngine open(AlexNet net, ComputationGraph graph, WeightsSource source, int threads) throws IOException {
        return opener(net, graph, source, threads).get();
    }

    /** {@link #open} as a maker of engines (a server's, one per batch size), the calibration found or measured once. */
    java.util.function.Supplier<InferenceEngine> opener(AlexNet net, ComputationGraph graph, WeightsSource source,
                                                        int threads) throws IOException {
        CpuPrecision p = cpuPrecision();
        Calibration calibration = null;
        if (p == CpuPrecision.INT8) {
            calibration = calibration(net, graph, source, threads);
        } else if (calibrate != null) {
            throw new IllegalArgumentException("--calibrate is for --precision int8");
        }
        Calibration c = calibration;
        InferenceEngine.Kind kind = kind();
        InferenceEngine.Gpu gpu = gpu();
        return () -> InferenceEngine.open(kind, net, graph, gpu, p, c);
    }

    /** int8's calibration: measured now with {@code --calibrate}, else the one beside the weights, else null. */
    Calibration calibration(AlexNet net, ComputationGraph graph, WeightsSource source, int threads)
            throws IOException {
        return calibration(calibrate, calibrationImages, net, graph, source, threads);
    }

    /**
     * int8's calibration of {@code net} with {@code graph}'s weights (from {@code source}, or null for fresh ones):
     * measured now on the training split of {@code cache} (through the preprocessing {@code source} gives) when it is
     * given, else the one stored beside the weights file, else null.
     */
    static Calibration calibration(Path cache, int images, AlexNet net, ComputationGraph graph, WeightsSource source,
                                   int threads) throws IOException {
        Path weights = source == null ? null : source.file();
        if (cache == null) {
            return weights == null ? null : Calibration.beside(weights);
        }
        ImageSource imgs = Datasets.open(cache, threads, Preprocessing.resize(net), "train").get("train");
        Preprocessing.Input input = source != null ? source.input(net, null, imgs.stats(), false, imgs.imageSize())
                : Preprocessing.input(net, null, null, imgs.stats(), false, imgs.imageSize());
        return Calibrator.calibrate(net, graph, imgs, input, images, 32, threads, cache.toString(), weights);
    }
}
