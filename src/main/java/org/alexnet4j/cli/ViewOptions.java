package org.alexnet4j.cli;

import org.alexnet4j.data.DatasetStats;
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

    /** The net's input ({@link Preprocessing#input}) with --normalize; {@code data}: the statistics at hand or null. */
    Preprocessing.Input input(WeightsSource source, AlexNet net, DatasetStats data, int size) throws IOException {
        return source.input(net, normalize, data, false, size);
    }
}
