package org.alexnet4j.cli;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.eval.Calibrator;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.weights.Calibration;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.ModelFiles;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Measure the activation ranges int8 inference quantises with (the largest |value| of each "
                + "layer's input over real images, on the fp32 engine) and write them beside the weights "
                + "(W.calibration.json; for a run, checkpoints/best.calibration.json), where --precision int8 finds "
                + "them. docs/precision.md."})
class CalibrateCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Option(names = "--data", required = true, paramLabel = "CACHE", description = "A prepared cache (or dataset) "
            + "whose images to measure.")
    Path data;

    @Option(names = "--split", defaultValue = "train", paramLabel = "NAME", description = "Its split: the training "
            + "images, so that the evaluation's are not used to tune what is evaluated (default: ${DEFAULT-VALUE}).")
    String split;

    @Option(names = "--images", defaultValue = "512", paramLabel = "N", description = "How many images (centre "
            + "crops) (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N", description = "Images per batch "
            + "(default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", paramLabel = "FILE", description = "Where to write it (default: beside the weights). "
            + "Elsewhere, inference commands will not find it by themselves.")
    Path out;

    @Mixin
    ThreadsOption threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        int t = threads.count();
        ImageSource imgs = Datasets.open(data, t, Preprocessing.resize(net), split).get(split);
        if (imgs.wnids().size() != net.numClasses()) {
            throw new IllegalArgumentException("the net has " + net.numClasses() + " classes but " + data + " has "
                    + imgs.wnids().size() + ": calibrate on images of the classes it was trained on");
        }
        Preprocessing.Input input = source.input(net, null, imgs.stats(), false, imgs.imageSize());
        Path weights = source.file();
        Calibration c = Calibrator.calibrate(net, loaded.graph(), imgs, input, images, batch, t, data + " (" + split
                + ")", weights);
        Path file = out != null ? out : Calibration.fileFor(weights);
        c.write(file);
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%d images of %s, %s%n", c.images(), c.data(), c.preprocessing());
        o.println("largest |value| of each layer's input:");
        for (Map.Entry<String, Double> e : c.inputRanges().entrySet()) {
            o.printf(Locale.ROOT, "  %-6s %10.4f%n", e.getKey(), e.getValue());
        }
        o.printf("wrote %s%n", file);
        o.flush();
        return 0;
    }
}
