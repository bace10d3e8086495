package org.alexnet4j.eval;

import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.weights.Calibration;
import org.alexnet4j.infer.OneDnnInference;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.util.ProgressBar;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Measures int8's activation ranges ({@link Calibration}) on real images: the centre views of up to {@code images}
 * images of a split (the training split: calibrating on the evaluation images would flatter the evaluation), through
 * the preprocessing inference uses, on the fp32 oneDNN engine.
 */
public final class Calibrator {
    private static final Logger log = LoggerFactory.getLogger(Calibrator.class);

    private Calibrator() {
    }

    /**
     * The calibration of {@code net} with {@code graph}'s weights (read from {@code weightsFile}, whose SHA-256 it
     * records; null for weights that live nowhere) on {@code source}'s images through {@code input}.
     */
    public static Calibration calibrate(AlexNet net, ComputationGraph graph, ImageSource source,
                                        Preprocessing.Input input, int images, int batch, int threads,
                                        String data, Path weightsFile) throws IOException {
        if (images < 1 || batch < 1) {
            throw new IllegalArgumentException("calibration needs at least one image and a batch of at least one");
        }
        long available = Math.min(images, source.size());
        if (available == 0) {
            throw new IllegalArgumentException(data + " has no images to calibrate on");
        }
        int b = (int) Math.min(batch, available); // whole batches only: no padding enters the ranges
        Preset preset = input.views(false);
        Calibration.Ranges ranges = new Calibration.Ranges();
        try (OneDnnInference engine = OneDnnInference.compile(net, graph, b);
             ImageNetIterator it = new ImageNetIterator(source, preset, ImageNetIterator.Options.evaluation(b,
                     threads));
             ProgressBar bar = new ProgressBar("calibrate", available / b * b, "img")) {
            while (it.hasNext() && ranges.images() + b <= available) {
                DataSet ds = it.next();
                if (ds.getFeatures().size(0) != b) {
                    continue; // a short last batch, or one with unreadable images left out
                }
                Map<String, Float> r = engine.inputRanges(ds.getFeatures());
                ranges.add(r, b);
                bar.step(b);
            }
        }
        Calibration c = ranges.toCalibration(data, input.describe(), weightsFile);
        log.info("calibrated on {} images of {}: input ranges {}", c.images(), data, c.inputRanges());
        return c;
    }
}
