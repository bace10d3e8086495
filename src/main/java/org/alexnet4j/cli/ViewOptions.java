package org.alexnet4j.cli;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import picocli.CommandLine.Option;

import java.io.IOException;

/** How commands that run a trained net on images cut and normalise them: views and normalisation. */
class ViewOptions {
    @Option(names = "--crops", defaultValue = "center", paramLabel = "center|ten",
            description = "One centre view, or the paper's ten views averaged (default: ${DEFAULT-VALUE}).")
    String crops;

    @Option(names = "--normalize", paramLabel = "mean-image|channel",
            description = "Input normalisation (default: the run's, else the variant's).")
    String normalize;

    boolean tenCrop() {
        if (!crops.equals("center") && !crops.equals("ten")) {
            throw new IllegalArgumentException("--crops must be center or ten, got " + crops);
        }
        return crops.equals("ten");
    }

    /** The normalisation: --normalize, else the run's, else the variant's ({@link Preprocessing}). */
    Normalization normalization(WeightsSource source, AlexNet net, DatasetStats stats, int size) throws IOException {
        String kind = normalize != null ? normalize : source.runNormalization();
        return Preprocessing.normalization(net, kind == null ? null : Normalization.Kind.fromId(kind), stats, size);
    }

    /** The views of the net's crop size with that normalisation. */
    Preset preset(WeightsSource source, AlexNet net, DatasetStats stats, int size) throws IOException {
        Normalization n = normalization(source, net, stats, size);
        return tenCrop() ? Preset.tenCrop(net.inputSize(), n) : Preset.center(net.inputSize(), n);
    }
}
