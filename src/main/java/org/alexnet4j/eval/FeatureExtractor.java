package org.alexnet4j.eval;

import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.data.transforms.TenCrop;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.util.ProgressBar;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.BufferedOutputStream;
import java.io.BufferedWriter;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A layer's activations as features for another classifier (fc7 for a linear SVM or logistic regression, as in
 * DeCAF and R-CNN): each image's centre view, or its ten views averaged, flattened in NCHW order, streamed to files
 * batch by batch so that memory does not grow with the dataset.
 */
public final class FeatureExtractor {
    /** What was written: images, feature width, images left out. */
    public record Summary(long images, long dims, long skipped) {
    }

    private final ComputationGraph graph;
    private final AlexNet net;
    private final String vertex;
    private final boolean logits;
    private final String layer;
    /** An engine's features of a batch ({@code [N * D]} row-major), or null for DL4J's graph. */
    private java.util.function.Function<INDArray, float[]> engineFeatures;

    /**
     * @param layer {@code fc6}, {@code fc7}, {@code fc8} (logits, before the softmax), {@code pool5} (the map fc6
     *              reads), or any vertex of the graph ({@code pool2}, {@code merge2}, {@code conv3a} ...)
     */
    public FeatureExtractor(ComputationGraph graph, AlexNet net, String layer) {
        this.graph = graph;
        this.net = net;
        this.logits = layer.equals(AlexNet.OUTPUT);
        this.vertex = logits ? AlexNet.OUTPUT : vertex(graph, layer);
        this.layer = layer;
    }

    /**
     * Computes the features on {@code engine} (the CUDA engine, holding the graph's parameters) instead of DL4J's
     * graph; it gives {@link org.alexnet4j.cuda.AlexNetEngine#FEATURE_LAYERS} only. Closed with the caller's engine.
     */
    public FeatureExtractor onEngine(org.alexnet4j.cuda.AlexNetEngine engine) {
        requireLayer(org.alexnet4j.cuda.AlexNetEngine.FEATURE_LAYERS, "CUDA");
        engineFeatures = x -> engine.features(layer, org.alexnet4j.infer.InferenceEngine.nchwFloats(x, net),
                (int) x.size(0));
        return this;
    }

    /**
     * Computes the features on the oneDNN engine {@code engine} (in its precision: bf16, int8's dequantised
     * activations) instead of DL4J's graph; it gives {@link org.alexnet4j.infer.OneDnnInference#FEATURE_LAYERS} only.
     */
    public FeatureExtractor onOneDnn(org.alexnet4j.infer.InferenceEngine engine) {
        requireLayer(org.alexnet4j.infer.OneDnnInference.FEATURE_LAYERS, "oneDNN");
        engineFeatures = x -> engine.features(layer, x);
        return this;
    }

    /** Refuses, with a sentence, a layer the engine {@code name} does not give. */
    private void requireLayer(List<String> layers, String name) {
        if (!layers.contains(layer)) {
            throw new IllegalArgumentException("--layer " + layer + " on the " + name + " engine: it gives " + layers
                    + "; use --engine dl4j for other layers");
        }
    }

    /** The graph vertex whose output is the feature {@code layer}. */
    static String vertex(ComputationGraph graph, String layer) {
        Map<String, List<String>> inputs = graph.getConfiguration().getVertexInputs();
        if (layer.equals("pool5")) {
            String v = inputs.get("fc6").get(0);
            while (graph.getConfiguration().getVertices().get(v) instanceof LayerVertex lv
                    && lv.getLayerConf().getLayer() instanceof DropoutLayer) {
                v = inputs.get(v).get(0); // torchvision: dropout before fc6
            }
            return v;
        }
        if (!graph.getConfiguration().getVertices().containsKey(layer) || layer.equals(AlexNet.INPUT)) {
            throw new IllegalArgumentException("--layer " + layer + " is not a layer of this net; choose fc6, fc7, "
                    + "fc8 (logits), pool5, or one of " + new TreeSet<>(inputs.keySet()));
        }
        return layer;
    }

    /** The vertex the features come from (for logs). */
    public String vertex() {
        return vertex;
    }

    /**
     * Writes the features of every readable image of {@code source} to {@code features} (float32 rows,
     * little-endian), their labels to {@code labels} (int64) and their paths to {@code names} (one per line).
     */
    public Summary extract(ImageSource source, Preset preset, int batch, int threads, Path features, Path labels,
                           Path names) throws IOException {
        boolean ten = preset.mode() == Preset.Mode.TEN_CROP;
        long images = 0;
        long dims = -1;
        try (ImageNetIterator it = new ImageNetIterator(source, preset, ImageNetIterator.Options.evaluation(batch,
                threads));
             BufferedOutputStream f = new BufferedOutputStream(Files.newOutputStream(features), 1 << 20);
             DataOutputStream l = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(labels)));
             BufferedWriter n = Files.newBufferedWriter(names, StandardCharsets.UTF_8);
             ProgressBar bar = new ProgressBar("features " + vertex, source.size(), "img")) {
            while (it.hasNext()) {
                DataSet ds = it.next();
                long rows = ds.getFeatures().size(0);
                if (rows == 0) {
                    continue;
                }
                INDArray x = ds.getFeatures();
                if (net.dataFormat() == CNN2DFormat.NHWC) {
                    x = x.permute(0, 2, 3, 1).dup('c');
                }
                INDArray a = engineFeatures != null ? engineFeatures(x) : activations(x);
                List<Serializable> meta = ds.getExampleMetaData();
                int[] label = ds.getLabels().argMax(1).toIntVector();
                int step = ten ? TenCrop.VIEWS : 1;
                if (ten) {
                    a = TenCrop.average(a);
                }
                dims = a.size(1);
                float[] data = a.dup('c').data().asFloat();
                ByteBuffer b = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().put(data);
                f.write(b.array());
                for (int r = 0; r < rows; r += step) {
                    l.writeLong(Long.reverseBytes(label[r]));
                    n.write(source.path((Integer) meta.get(r)));
                    n.write('\n');
                    images++;
                }
                bar.step(rows / step);
            }
            return new Summary(images, Math.max(dims, 0), it.skippedCount());
        }
    }

    /** As {@link #activations}, on the engine set by {@link #onEngine} or {@link #onOneDnn}. */
    INDArray engineFeatures(INDArray x) {
        int n = (int) x.size(0);
        float[] f = engineFeatures.apply(x);
        return org.nd4j.linalg.factory.Nd4j.create(f, new long[]{n, f.length / n}, 'c');
    }

    /** The features of an NCHW (or the net's layout) batch, flattened to {@code [N, D]} in NCHW order. */
    public INDArray activations(INDArray x) {
        INDArray a = logits ? org.alexnet4j.infer.InferenceEngine.dl4jLogits(graph, x)
                : graph.feedForward(new INDArray[]{x}, false, false).get(vertex);
        if (a.rank() == 4 && net.dataFormat() == CNN2DFormat.NHWC) {
            a = a.permute(0, 3, 1, 2);
        }
        return a.dup('c').reshape('c', a.size(0), a.length() / a.size(0));
    }
}
