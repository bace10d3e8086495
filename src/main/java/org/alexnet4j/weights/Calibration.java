package org.alexnet4j.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.google.common.hash.Hashing;
import com.google.common.io.MoreFiles;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ParamLayer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What int8 inference quantises activations with: the largest |value| of each parameter layer's input (conv1: the
 * normalised image; conv2: pool1's output; ...; fc8: fc7's) over real images, measured on the fp32 engine ("minmax",
 * ONNX Runtime's and OpenVINO's default). A layer's input is quantised symmetrically: s8 for the signed image
 * ({@code scale = 127 / range}), u8 for the rectified rest ({@code 255 / range}). Weights need no calibration: they
 * are quantised per output channel from their own largest |w| when the engine is compiled.
 *
 * <p>Stored as JSON beside the weights ({@link #fileFor}: {@code best.zip} -> {@code best.calibration.json}) with the
 * weights file's SHA-256, so that a calibration is never applied to other weights.
 *
 * @param format         {@link #FORMAT}
 * @param method         how the ranges were measured
 * @param images         how many images (views) were measured
 * @param data           where they came from
 * @param preprocessing  the preprocessing they went through (the one inference uses)
 * @param weights        the weights file's name
 * @param weightsSha256  its SHA-256
 * @param inputRanges    each parameter layer's name and the largest |value| of its input
 */
public record Calibration(String format, String method, long images, String data, String preprocessing,
                          String weights, String weightsSha256, Map<String, Double> inputRanges) {
    public static final String FORMAT = "alexnet4j-calibration/1";
    public static final String MINMAX = "minmax: the largest |value| of each layer's input over all calibration "
            + "images; weights per output channel (largest |w| -> 127)";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The quantisation scale of layer {@code layer}'s input: 127 (s8, {@code signed}) or 255 (u8) over its range. */
    public float scale(String layer, boolean signed) {
        Double range = inputRanges.get(layer);
        if (range == null) {
            throw new IllegalArgumentException("the calibration has no range for " + layer + "'s input");
        }
        return range > 0 ? (float) ((signed ? 127.0 : 255.0) / range) : 1f;
    }

    /**
     * The s8 scales of a layer's weights ({@code [outChannels, ...]} row-major), one per output channel: 127 over the
     * channel's largest |w| ({@code q = round(w * scale)}), 1 for a channel of zeros. The int8 engine and the QDQ ONNX
     * export quantise with these.
     */
    public static float[] weightScales(float[] w, int outChannels) {
        int per = w.length / outChannels;
        float[] scales = new float[outChannels];
        for (int o = 0; o < outChannels; o++) {
            float largest = 0;
            for (int i = o * per; i < (o + 1) * per; i++) {
                largest = Math.max(largest, Math.abs(w[i]));
            }
            scales[o] = largest > 0 ? 127f / largest : 1f;
        }
        return scales;
    }

    /**
     * A calibration giving every layer of {@code net} the same input range: for timing and for checks that compile
     * an int8 engine without images; its scales are not measured ones.
     */
    public static Calibration uniform(AlexNet net, double range) {
        Map<String, Double> r = new LinkedHashMap<>();
        net.paramLayers().forEach(l -> r.put(l.name(), range));
        return new Calibration(FORMAT, "uniform: every input's range " + range + " (not measured)", 0, "none",
                "none", null, null, r);
    }

    /** Refuses, with a sentence, a calibration that lacks one of {@code net}'s layers. */
    public void checkCovers(AlexNet net) {
        for (ParamLayer l : net.paramLayers()) {
            if (!inputRanges.containsKey(l.name())) {
                throw new IllegalArgumentException("the calibration (of " + weights + ") has no range for " + l.name()
                        + "'s input: it was made for another net; run `alexnet4j calibrate` for this one");
            }
        }
    }

    /** The calibration file of weights file {@code weights}: its name without extension + {@code .calibration.json}. */
    public static Path fileFor(Path weights) {
        String name = weights.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return weights.resolveSibling((dot > 0 ? name.substring(0, dot) : name) + ".calibration.json");
    }

    /** The SHA-256 of {@code file}, in hex. */
    public static String sha256(Path file) throws IOException {
        return MoreFiles.asByteSource(file).hash(Hashing.sha256()).toString();
    }

    /** Writes this calibration to {@code file}. */
    public void write(Path file) throws IOException {
        byte[] json = JSON.writeValueAsBytes(this);
        org.alexnet4j.util.AtomicFiles.write(file, tmp -> Files.write(tmp, json));
    }

    /** Reads a calibration file, refusing (with a sentence) a file of another format. */
    public static Calibration read(Path file) throws IOException {
        Calibration c;
        try {
            c = JSON.readValue(file.toFile(), Calibration.class);
        } catch (com.fasterxml.jackson.core.JacksonException e) {
            throw new IllegalArgumentException(file + " is not a calibration file (" + e.getOriginalMessage()
                    + "): make it again with `alexnet4j calibrate`");
        }
        if (!FORMAT.equals(c.format()) || c.inputRanges() == null) {
            throw new IllegalArgumentException(file + " is not an " + FORMAT + " file: make it again with "
                    + "`alexnet4j calibrate`");
        }
        return c;
    }

    /**
     * The calibration stored beside {@code weights}, refused (with a sentence) when it was made for other weights;
     * null when there is none.
     */
    public static Calibration beside(Path weights) throws IOException {
        Path file = fileFor(weights);
        if (!Files.exists(file)) {
            return null;
        }
        Calibration c = read(file);
        if (!sha256(weights).equals(c.weightsSha256())) {
            throw new IllegalArgumentException(file + " was made for other weights than " + weights + " (SHA-256 "
                    + "differs): run `alexnet4j calibrate` again");
        }
        return c;
    }

    /** Accumulates ranges batch by batch ({@code OneDnnInference.inputRanges}). */
    public static final class Ranges {
        private final Map<String, Double> max = new LinkedHashMap<>();
        private long images;

        /** Adds one batch's ranges of {@code n} images. */
        public void add(Map<String, Float> batch, long n) {
            batch.forEach((k, v) -> max.merge(k, (double) v, Math::max));
            images += n;
        }

        public long images() {
            return images;
        }

        /** The calibration of these ranges. */
        public Calibration toCalibration(String data, String preprocessing, Path weightsFile) throws IOException {
            return of(data, preprocessing, weightsFile == null ? null : weightsFile.getFileName().toString(),
                    weightsFile == null ? null : sha256(weightsFile));
        }

        /** The calibration of these ranges, tied to no weights file (measured on weights held in memory). */
        public Calibration toCalibration(String data) {
            return of(data, "none", null, null);
        }

        private Calibration of(String data, String preprocessing, String weights, String sha256) {
            if (images == 0) {
                throw new IllegalArgumentException("no images were measured: the calibration data is empty");
            }
            return new Calibration(FORMAT, MINMAX, images, data, preprocessing, weights, sha256,
                    new LinkedHashMap<>(max));
        }
    }
}
