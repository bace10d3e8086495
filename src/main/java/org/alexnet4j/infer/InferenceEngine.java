package org.alexnet4j.infer;

import org.alexnet4j.model.AlexNet;
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
        AUTO, ONEDNN, DL4J;

        /** {@code auto}, {@code onednn} or {@code dl4j}. */
        public static Kind fromId(String id) {
            for (Kind k : values()) {
                if (k.name().equalsIgnoreCase(id)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("--engine must be auto, onednn or dl4j, got '" + id + "'");
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final AlexNet net;
    private final ComputationGraph graph;
    private final boolean onednn;
    private OneDnnInference compiled;

    private InferenceEngine(AlexNet net, ComputationGraph graph, boolean onednn) {
        this.net = net;
        this.graph = graph;
        this.onednn = onednn;
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

    /** "oneDNN" or "DL4J". */
    public String name() {
        return onednn ? "oneDNN" : "DL4J";
    }

    /** The softmax probabilities {@code [n, classes]} of the inputs {@code x} ({@code [n, ...]}, the net's layout). */
    public INDArray output(INDArray x) {
        if (!onednn) {
            return graph.outputSingle(false, x);
        }
        long n = x.size(0);
        if (compiled == null) {
            compiled = OneDnnInference.compile(net, graph, (int) n);
            log.debug("oneDNN engine compiled for batches of {}", n);
        }
        int b = compiled.batch();
        if (n == b) {
            return compiled.output(x);
        }
        INDArray out = Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, n, net.numClasses());
        for (long from = 0; from < n; from += b) {
            long len = Math.min(b, n - from);
            INDArray part = x.get(NDArrayIndex.interval(from, from + len));
            if (len < b) {
                INDArray padded = Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, withBatch(x.shape(), b));
                padded.get(NDArrayIndex.interval(0, len)).assign(part);
                part = padded;
            }
            INDArray p = compiled.output(part.dup('c'));
            out.get(NDArrayIndex.interval(from, from + len)).assign(p.get(NDArrayIndex.interval(0, len)));
        }
        return out;
    }

    private static long[] withBatch(long[] shape, long b) {
        long[] s = shape.clone();
        s[0] = b;
        return s;
    }

    @Override
    public void close() {
        if (compiled != null) {
            compiled.close();
            compiled = null;
        }
    }
}
