package org.alexnet4j.infer;

import org.alexnet4j.weights.Calibration;
import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.cuda.CudaRuntime;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.EngineWeights;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Locale;

/**
 * What computes a trained net's class probabilities for {@code predict}, {@code eval} and {@code bench}: the oneDNN
 * engine ({@link OneDnnInference}, compiled from the graph's weights) or DL4J's own {@code output}. {@code auto} takes
 * oneDNN wherever it covers the net and says otherwise why not. Any number of inputs: the oneDNN engine is compiled
 * for the first batch's size; a shorter batch is padded to it, a longer one cut into pieces of it.
 */
public final class InferenceEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceEngine.class);

    /** The engine asked for. */
    public enum Kind {
        AUTO, ONEDNN, DL4J, CUDA;

        /** {@code auto}, {@code onednn} or {@code dl4j}. */
        public static Kind fromId(String id) {
            for (Kind k : values()) {
                if (k.name().equalsIgnoreCase(id)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("--engine must be auto, onednn, dl4j or cuda, got '" + id + "'");
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The CUDA engine's device and arithmetic. */
    public record Gpu(int device, org.alexnet4j.cuda.Precision precision) {
        public static final Gpu DEFAULT = new Gpu(0, org.alexnet4j.cuda.Precision.FP32);
    }

    private final AlexNet net;
    private final ComputationGraph graph;
    private final boolean onednn;
    /** The oneDNN engine's arithmetic (what this CPU runs of the one asked for). */
    private CpuPrecision precision = CpuPrecision.FP32;
    /** int8's activation ranges. */
    private Calibration calibration;
    private OneDnnInference compiled;
    /** The compiled batch size's input buffer for batches that are cut or padded to it (reused). */
    private INDArray staging;
    private final Gpu gpu;
    private AlexNetEngine cuda;
    private boolean ownsCuda = true;

    private InferenceEngine(AlexNet net, ComputationGraph graph, boolean onednn) {
        this(net, graph, onednn, null);
    }

    private InferenceEngine(AlexNet net, ComputationGraph graph, boolean onednn, Gpu gpu) {
        this.net = net;
        this.graph = graph;
        this.onednn = onednn;
        this.gpu = gpu;
    }

    /**
     * The engine {@code kind} for {@code net}; {@code cuda} (or {@code auto} where a usable GPU is found) runs on
     * {@code gpu}. {@code cuda} without a usable GPU fails with the reason.
     */
    public static InferenceEngine open(Kind kind, AlexNet net, ComputationGraph graph, Gpu gpu) {
        if (usesCuda(kind, net)) {
            return new InferenceEngine(net, graph, false, gpu == null ? Gpu.DEFAULT : gpu);
        }
        return open(kind == Kind.CUDA ? Kind.AUTO : kind, net, graph);
    }

    /** Inference on an engine already holding the net's parameters (training's validation); not closed with this. */
    public static InferenceEngine onEngine(AlexNet net, AlexNetEngine engine) {
        InferenceEngine e = new InferenceEngine(net, null, false, Gpu.DEFAULT);
        e.cuda = engine;
        e.ownsCuda = false;
        return e;
    }

    /**
     * Whether {@code kind} means the CUDA engine: {@code cuda} always (failing with the reason where it cannot run),
     * {@code auto} where a usable GPU is found and the engine covers the net.
     */
    public static boolean usesCuda(Kind kind, AlexNet net) {
        if (kind != Kind.CUDA && kind != Kind.AUTO) {
            return false;
        }
        String why = net.spec().edgePadding() ? "the edge-padding ablation pads with edge pixels; cuDNN pads zeros"
                : null;
        String gpuWhy = why == null ? CudaRuntime.whyNot() : null;
        if (kind == Kind.CUDA) {
            if (why != null) {
                throw new IllegalArgumentException("--engine cuda cannot run this net: " + why);
            }
            if (gpuWhy != null) {
                throw new org.alexnet4j.cuda.CudaException("--engine cuda: " + gpuWhy);
            }
            return true;
        }
        if (why == null && gpuWhy == null) {
            log.info("inference on the CUDA engine (a usable GPU was found)");
            return true;
        }
        return false;
    }

    /**
     * The engine {@code kind} for {@code net} computing in {@code precision}: fp32 as {@link #open(Kind, AlexNet,
     * ComputationGraph, Gpu)}; bf16 and int8 on the oneDNN engine only ({@code auto} or {@code onednn}; int8 with
     * {@code calibration}'s activation ranges), refused with a sentence on any other engine, on a net the oneDNN
     * engine does not cover, and for int8 without a calibration. bf16 on a CPU without AVX-512 falls back to fp32
     * with a log line ({@link OneDnnInference#available}).
     */
    public static InferenceEngine open(Kind kind, AlexNet net, ComputationGraph graph, Gpu gpu,
                                       CpuPrecision precision, Calibration calibration) {
        if (precision == null || precision == CpuPrecision.FP32) {
            return open(kind, net, graph, gpu);
        }
        if (kind == Kind.DL4J || kind == Kind.CUDA) {
            throw new IllegalArgumentException("--precision " + precision + " runs on the oneDNN engine (--engine "
                    + "onednn or auto); --engine " + kind.id() + " computes in fp32"
                    + (kind == Kind.CUDA ? " (or fp32-fast, tf32)" : ""));
        }
        String why = OneDnnInference.unsupported(net);
        if (why != null) {
            throw new IllegalArgumentException("--precision " + precision + " runs on the oneDNN engine, which "
                    + "cannot run this net: " + why);
        }
        InferenceEngine e = new InferenceEngine(net, graph, true);
        e.precision = OneDnnInference.available(precision);
        if (e.precision == CpuPrecision.INT8) {
            OneDnnInference.requireCalibration(calibration, net);
            e.calibration = calibration;
        }
        return e;
    }

    /**
     * The engine {@code kind} for {@code net} with {@code graph}'s parameters (which must not change while it is
     * used: the oneDNN engine holds a copy). {@code onednn} on a net it does not cover fails with the reason.
     */
    public static InferenceEngine open(Kind kind, AlexNet net, ComputationGraph graph) {
        return new InferenceEngine(net, graph, usesOneDnn(kind, net));
    }

    /**
     * Whether {@code kind} means the oneDNN engine for {@code net}: {@code auto} where it covers the net (logging why
     * not otherwise), {@code onednn} always (failing with the reason on a net it does not cover).
     */
    public static boolean usesOneDnn(Kind kind, AlexNet net) {
        String why = OneDnnInference.unsupported(net);
        if (kind == Kind.ONEDNN && why != null) {
            throw new IllegalArgumentException("--engine onednn cannot run this net: " + why + "; use --engine dl4j");
        }
        if (kind == Kind.AUTO && why != null) {
            log.info("inference on DL4J: the oneDNN engine does not cover this net ({})", why);
        }
        return kind != Kind.DL4J && why == null;
    }

    /** DL4J's own inference of {@code graph}. */
    public static InferenceEngine dl4j(ComputationGraph graph) {
        return new InferenceEngine(null, graph, false);
    }

    /** "oneDNN", "CUDA" or "DL4J", with the precision where it is not fp32 ("oneDNN int8"). */
    public String name() {
        return gpu != null ? "CUDA" : onednn ? "oneDNN" + (precision == CpuPrecision.FP32 ? "" : " " + precision)
                : "DL4J";
    }

    /** The arithmetic of the CPU engine (fp32 on DL4J; the CUDA engine's is its {@link Gpu#precision()}). */
    public CpuPrecision precision() {
        return precision;
    }

    /** The softmax probabilities {@code [n, classes]} of the inputs {@code x} ({@code [n, ...]}, the net's layout). */
    public INDArray output(INDArray x) {
        if (gpu != null) {
            return cudaOutput(x);
        }
        if (!onednn) {
            return graph.outputSingle(false, x);
        }
        return Nd4j.create(onOneDnn(x, false), new long[]{x.size(0), net.numClasses()}, 'c');
    }

    /**
     * fc8's outputs before the softmax ({@code [n, classes]} row-major) of the inputs {@code x}: what {@link #output}
     * normalises, from the same single forward pass on every engine.
     */
    public float[] logits(INDArray x) {
        if (gpu != null) {
            return cudaLogits(x);
        }
        if (!onednn) {
            return dl4jLogits(graph, x).dup('c').data().asFloat();
        }
        return onOneDnn(x, true);
    }

    /** DL4J's fc8 outputs before the softmax: the graph's activations up to fc8's input, times its weights, plus bias. */
    public static INDArray dl4jLogits(ComputationGraph graph, INDArray x) {
        java.util.Map<String, INDArray> acts = graph.feedForward(new INDArray[]{x}, false, false);
        INDArray h = acts.get(graph.getConfiguration().getVertexInputs().get(AlexNet.OUTPUT).get(0));
        return h.mmul(graph.getLayer(AlexNet.OUTPUT).getParam("W"))
                .addiRowVector(graph.getLayer(AlexNet.OUTPUT).getParam("b"));
    }

    /**
     * The activations of {@code layer} ({@link OneDnnInference#FEATURE_LAYERS}) of the inputs {@code x}, {@code [n,
     * dims]} row-major: the oneDNN engine only (in its precision).
     */
    public float[] features(String layer, INDArray x) {
        if (!onednn) {
            throw new IllegalStateException("features on the " + name() + " engine are the caller's (DL4J's graph)");
        }
        return onOneDnn(x, layer);
    }

    /** The compiled engine's probabilities or logits of any number of inputs: short batches padded, long ones cut. */
    private float[] onOneDnn(INDArray x, boolean logits) {
        return onOneDnn(x, logits ? "logits" : "probabilities");
    }

    /**
     * The compiled engine's {@code what} ("probabilities", "logits" or a feature layer) of any number of inputs: short
     * batches padded, long ones cut.
     */
    private synchronized float[] onOneDnn(INDArray x, String what) {
        long n = x.size(0);
        if (compiled == null) {
            compiled = OneDnnInference.compile(net, graph, (int) n, precision, calibration);
            log.debug("oneDNN engine compiled for batches of {}", n);
        }
        int b = compiled.batch();
        boolean feature = !what.equals("logits") && !what.equals("probabilities");
        int classes = feature ? compiled.featureDims(what) : net.numClasses(); // outputs per example
        java.util.function.Function<INDArray, float[]> run = feature ? in -> compiled.features(what, in)
                : in -> compiled.run(in, what.equals("logits"));
        if (n == b) {
            return run.apply(x);
        }
        float[] out = new float[(int) n * classes];
        if (staging == null) {
            // one batch-sized buffer for every cut or padded batch: a fresh one each time cost more than the
            // forward pass of a small net (first-touch page faults of ~40 MB at batch 64: ten crops took twice as
            // long after a centre-crop pass had compiled the engine for 64)
            staging = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, withBatch(x.shape(), b));
        }
        long filled = b; // rows of the buffer that may hold data from before
        for (long from = 0; from < n; from += b) {
            long len = Math.min(b, n - from);
            staging.get(NDArrayIndex.interval(0, len)).assign(x.get(NDArrayIndex.interval(from, from + len)));
            if (len < filled) {
                staging.get(NDArrayIndex.interval(len, filled)).assign(0);
            }
            filled = len;
            float[] r = run.apply(staging);
            System.arraycopy(r, 0, out, (int) from * classes, (int) len * classes);
        }
        return out;
    }

    private float[] cudaLogits(INDArray x) {
        int n = (int) x.size(0);
        if (cuda == null) {
            cuda = new AlexNetEngine(net.spec(), CudaRuntime.open(gpu.device(), gpu.precision(), log::info), n,
                    net.seed());
            EngineWeights.toEngine(graph, net, cuda);
            log.debug("CUDA engine planned for batches of {}", n);
        }
        return cuda.features(AlexNet.OUTPUT, nchwFloats(x, net), n);
    }

    private INDArray cudaOutput(INDArray x) {
        int n = (int) x.size(0);
        float[] logits = cudaLogits(x);
        int classes = net.numClasses();
        float[] probs = new float[n * classes];
        for (int r = 0; r < n; r++) {
            org.alexnet4j.cuda.ReferenceOps.softmax(logits, r * classes, classes, probs, r * classes);
        }
        return Nd4j.create(probs, new long[]{n, classes}, 'c');
    }

    /**
     * A batch in the net's layout as the NCHW floats the CUDA engine reads (an NHWC batch transposed): one copy (the
     * float[] itself) for a dense float batch, as the iterator's are; views, other orders and types first densely.
     */
    public static float[] nchwFloats(INDArray features, AlexNet net) {
        INDArray x = net.dataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NHWC
                ? features.permute(0, 3, 1, 2) : features;
        if (x.dataType() != org.nd4j.linalg.api.buffer.DataType.FLOAT) {
            x = x.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
        }
        boolean dense = x.ordering() == 'c' && !x.isView() && x.length() == x.data().length();
        return (dense ? x : x.dup('c')).data().asFloat();
    }

    private static long[] withBatch(long[] shape, long b) {
        long[] s = shape.clone();
        s[0] = b;
        return s;
    }

    @Override
    public void close() {
        if (cuda != null && ownsCuda) {
            cuda.close();
            cuda = null;
        }
        if (compiled != null) {
            compiled.close();
            compiled = null;
        }
    }
}
