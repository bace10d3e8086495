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
            labels.add(ImageNetMeta.get().isSynset(c) ? c + " " + ImageNetMeta.get().name(c) : c);
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

    /** Compiles every engine by running one batch of zeros through it; then the model is ready. */
    public void warm() {
        long t0 = System.nanoTime();
        for (int b : new ArrayList<>(engines.keySet())) {
            run(new float[b * inputLength()], b);
        }
        ready = true;
        log.info(String.format(Locale.ROOT, "model %s ready: %s net, %d classes, input %d, %s engine for batches %s "
                        + "(compiled and warmed in %.1f s)", name, net.variant().id(), net.numClasses(),
                net.inputSize(), engineName, engines.keySet(), (System.nanoTime() - t0) / 1e9));
    }

    /**
     * fc8's outputs ({@code [n, classes]} row-major) for {@code n} preprocessed NCHW inputs in {@code x}: on the
     * smallest compiled batch size that holds them, padded with zeros.
     */
    public float[] run(float[] x, int n) {
        Map.Entry<Integer, InferenceEngine> e = engines.ceilingEntry(n);
        if (e == null) {
            throw new IllegalArgumentException("batch of " + n + " over the largest, " + maxBatch());
        }
        int b = e.getValue().name().equals("DL4J") ? n : e.getKey();
        int s = net.inputSize();
        float[] padded = b == n ? x : java.util.Arrays.copyOf(x, b * inputLength());
        INDArray in = Nd4j.create(padded, new long[]{b, 3, s, s}, 'c');
        if (net.dataFormat() == CNN2DFormat.NHWC) {
            in = in.permute(0, 2, 3, 1).dup('c');
        }
        float[] logits = e.getValue().logits(in);
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
