package org.alexnet4j.serve;

import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.ImageHeader;
import org.alexnet4j.data.ImageNetMeta;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.eval.Predictor;
import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/**
 * One trained net as the server offers it: its name and version, its inputs ({@code input}: FP32 {@code [N, 3, S,
 * S]} already preprocessed; {@code image}: BYTES {@code [N]} encoded JPEG/PNG/BMP files that it preprocesses with the
 * net's own pipeline, as {@code predict} does), its outputs ({@code logits}, {@code probabilities}, {@code top_k}),
 * and its engines: one compiled per batch size (the oneDNN and CUDA engines are compiled for a fixed batch; a batch
 * runs on the smallest size that holds it, padded), all compiled and run once before the model says it is ready.
 * Only the batcher's thread runs the engines.
 */
public final class ServedModel implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServedModel.class);

    public static final String VERSION = "1";
    public static final String INPUT = "input";
    public static final String IMAGE = "image";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";
    public static final String TOP_K = "top_k";

    private final String name;
    private final AlexNet net;
    private final Predictor pipeline;
    private final List<String> labels;
    private final int top;
    private final long maxImagePixels;
    private final TreeMap<Integer, InferenceEngine> engines = new TreeMap<>();
    /** Seconds one forward pass takes at each compiled size, measured by {@link #warm}. */
    private final TreeMap<Integer, Double> seconds = new TreeMap<>();
    private final String engineName;
    private volatile boolean ready;

    /**
     * @param engines        opens one inference engine for the net (called once per batch size; DL4J's own engine,
     *                       which runs any batch size, is opened once)
     * @param pipeline       the net's preprocessing (centre view; its engine is not used here)
     * @param classes        class names by index: ImageNet wnids become "wnid name" labels
     * @param batchSizes     the sizes to compile for, ascending; the last is the largest batch
     * @param top            classes in {@code top_k}
     * @param maxImagePixels images larger than this (width x height from the header) are refused before decoding
     */
    public ServedModel(String name, AlexNet net, Supplier<InferenceEngine> engines, Predictor pipeline,
                       List<String> classes, List<Integer> batchSizes, int top, long maxImagePixels) {
        if (name == null || !name.matches("[A-Za-z0-9_.-]+")) {
            throw new IllegalArgumentException("a model name is letters, digits, '_', '.' or '-', got '" + name + "'");
        }
        if (classes.size() != net.numClasses()) {
            throw new IllegalArgumentException("model " + name + ": " + classes.size() + " class names for "
                    + net.numClasses() + " classes");
        }
        if (batchSizes.isEmpty() || batchSizes.get(0) < 1) {
            throw new IllegalArgumentException("batch sizes must be at least 1, got " + batchSizes);
        }
        if (top < 1) {
            throw new IllegalArgumentException("--top must be at least 1, got " + top);
        }
        if (pipeline.viewsPerImage() != 1) {
            throw new IllegalArgumentException("the server classifies the centre view; give a centre-crop pipeline");
        }
        this.name = name;
        this.net = net;
        this.pipeline = pipeline;
        this.top = Math.min(top, net.numClasses());
        this.maxImagePixels = maxImagePixels;
        this.labels = new ArrayList<>();
        for (String c : classes) {
            labels.add(ImageNetMeta.get().label(c));
        }
        InferenceEngine first = engines.get();
        this.engineName = first.name();
        // DL4J's own engine runs any batch size: one engine, no padding
        List<Integer> sizes = first.name().equals("DL4J") ? List.of(batchSizes.get(batchSizes.size() - 1))
                : batchSizes;
        for (int i = 0; i < sizes.size(); i++) {
            this.engines.put(sizes.get(i), i == 0 ? first : engines.get());
        }
    }

    /**
     * Compiles every engine by running one batch of zeros through it, then times each size (the fastest of three); then the model
     * is ready. The times decide how a batch is run ({@link #plan}).
     */
    public void warm() {
        long t0 = System.nanoTime();
        for (int b : new ArrayList<>(engines.keySet())) {
            float[] zeros = new float[b * inputLength()];
            runOn(engines.get(b), b, zeros, b);
            double fastest = Double.MAX_VALUE;
            for (int k = 0; k < 3; k++) {
                long a = System.nanoTime();
                runOn(engines.get(b), b, zeros, b);
                fastest = Math.min(fastest, (System.nanoTime() - a) / 1e9);
            }
            seconds.put(b, fastest);
        }
        ready = true;
        StringBuilder times = new StringBuilder();
        seconds.forEach((b, t) -> times.append(String.format(Locale.ROOT, " %d: %.1f ms", b, t * 1e3)));
        log.info(String.format(Locale.ROOT, "model %s ready: %s net, %d classes, input %d, %s engine, a batch of"
                        + "%s (compiled and warmed in %.1f s)", name, net.variant().id(), net.numClasses(),
                net.inputSize(), engineName, times, (System.nanoTime() - t0) / 1e9));
    }

    /**
     * How {@code n} images run: the compiled sizes whose measured times add up to the least, padding the last piece
     * (e.g. 9 images as 8 + 1 rather than 16 with 7 of padding). Before {@link #warm}, the smallest size that holds
     * them. DL4J's own engine runs {@code n} as it is.
     */
    public List<Integer> plan(int n) {
        if (n < 1 || n > maxBatch()) {
            throw new IllegalArgumentException("a batch of " + n + " images; this model takes 1 to " + maxBatch());
        }
        if (engineName.equals("DL4J")) {
            return List.of(n);
        }
        if (seconds.size() < engines.size()) {
            return List.of(engines.ceilingKey(n));
        }
        double[] best = new double[n + 1];
        int[] choice = new int[n + 1];
        for (int m = 1; m <= n; m++) {
            best[m] = Double.MAX_VALUE;
            for (Map.Entry<Integer, Double> e : seconds.entrySet()) {
                double t = best[Math.max(0, m - e.getKey())] + e.getValue();
                if (t < best[m]) {
                    best[m] = t;
                    choice[m] = e.getKey();
                }
            }
        }
        List<Integer> pieces = new ArrayList<>();
        for (int m = n; m > 0; m -= choice[m]) {
            pieces.add(choice[m]);
        }
        return pieces;
    }

    /** fc8's outputs ({@code [n, classes]} row-major) for {@code n} preprocessed NCHW inputs in {@code x}. */
    public float[] run(float[] x, int n) {
        int c = net.numClasses();
        List<Integer> pieces = plan(n);
        if (pieces.size() == 1) {
            return runOn(engines.ceilingEntry(pieces.get(0)).getValue(), pieces.get(0), x, n);
        }
        float[] out = new float[n * c];
        int done = 0;
        for (int b : pieces) {
            int len = Math.min(b, n - done);
            float[] part = java.util.Arrays.copyOfRange(x, done * inputLength(), (done + len) * inputLength());
            System.arraycopy(runOn(engines.get(b), b, part, len), 0, out, done * c, len * c);
            done += len;
        }
        return out;
    }

    /** The first {@code n} inputs of {@code x} on the engine compiled for {@code b} (padded to it with zeros). */
    private float[] runOn(InferenceEngine engine, int b, float[] x, int n) {
        int size = engine.name().equals("DL4J") ? n : b;
        int s = net.inputSize();
        float[] padded = x.length == size * inputLength() ? x : java.util.Arrays.copyOf(x, size * inputLength());
        INDArray in = Nd4j.create(padded, new long[]{size, 3, s, s}, 'c');
        if (net.dataFormat() == CNN2DFormat.NHWC) {
            in = in.permute(0, 2, 3, 1).dup('c');
        }
        float[] logits = engine.logits(in);
        int c = net.numClasses();
        return logits.length == n * c ? logits : java.util.Arrays.copyOf(logits, n * c);
    }

    /**
     * Decodes an encoded image and writes its preprocessed centre view into {@code x} from {@code offset}; an image
     * larger than the pixel limit is refused from its header, before any decoding.
     */
    public void preprocess(byte[] encoded, float[] x, int offset) throws ImageCodec.DecodeException {
        ImageHeader h = ImageHeader.parse(encoded, encoded.length);
        if (h.width() > 0 && h.height() > 0 && (long) h.width() * h.height() > maxImagePixels) {
            throw new ImageCodec.DecodeException(String.format(Locale.ROOT, "a %dx%d image (%.0f megapixels) is over "
                            + "the server's limit of %.0f megapixels (--max-image-pixels); send it smaller", h.width(),
                    h.height(), h.width() * (double) h.height() / 1e6, maxImagePixels / 1e6));
        }
        RgbImage square = pipeline.square(encoded);
        pipeline.writeViews(square, x, offset);
    }

    public String name() {
        return name;
    }

    public String version() {
        return VERSION;
    }

    public AlexNet net() {
        return net;
    }

    /** Floats per preprocessed input: {@code 3 x size x size}. */
    public int inputLength() {
        return 3 * net.inputSize() * net.inputSize();
    }

    /** A tensor the model takes or gives: name, datatype and shape (-1: any batch). */
    public record TensorSpec(String name, String datatype, long... shape) {
    }

    /** The inputs it takes, as its metadata (REST and gRPC) lists them. */
    public List<TensorSpec> inputs() {
        int s = net.inputSize();
        return List.of(new TensorSpec(INPUT, Tensor.FP32, -1, 3, s, s), new TensorSpec(IMAGE, Tensor.BYTES, -1));
    }

    /** The outputs it gives. */
    public List<TensorSpec> outputs() {
        return List.of(new TensorSpec(LOGITS, Tensor.FP32, -1, classes()),
                new TensorSpec(PROBABILITIES, Tensor.FP32, -1, classes()), new TensorSpec(TOP_K, Tensor.BYTES, -1, top()));
    }

    public int classes() {
        return net.numClasses();
    }

    /** "wnid name" for ImageNet classes, else the class name, by index. */
    public String label(int index) {
        return labels.get(index);
    }

    public int top() {
        return top;
    }

    /** The largest batch the engines take. */
    public int maxBatch() {
        return engines.lastKey();
    }

    public List<Integer> batchSizes() {
        return List.copyOf(engines.keySet());
    }

    /** "oneDNN", "CUDA" or "DL4J". */
    public String engineName() {
        return engineName;
    }

    public boolean ready() {
        return ready;
    }

    /** Not ready from now on (the server is stopping). */
    public void unready() {
        ready = false;
    }

    @Override
    public void close() {
        ready = false;
        engines.values().forEach(InferenceEngine::close);
        engines.clear();
    }
}
