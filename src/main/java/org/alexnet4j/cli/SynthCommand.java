package org.alexnet4j.cli;

import org.alexnet4j.data.SyntheticImageNet;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Generate an ImageNet-shaped dataset in the ILSVRC2012 layout: real JPEGs of ImageNet's "
                + "sizes and aspect ratios whose classes (shape x texture x colour, with clutter and noise) are "
                + "learnable but not trivial. The default data of the quickstart, the tests and the benchmarks."})
class SynthCommand implements Callable<Integer> {
    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (new or empty).")
    Path out;

    @Option(names = "--classes", defaultValue = "10", paramLabel = "N",
            description = "Classes, real ILSVRC2012 wnids spread over the 1000 (default: ${DEFAULT-VALUE}).")
    int classes;

    @Option(names = "--train-per-class", defaultValue = "100", paramLabel = "K",
            description = "Training images per class (default: ${DEFAULT-VALUE}).")
    int trainPerClass;

    @Option(names = "--val-per-class", defaultValue = "20", paramLabel = "M",
            description = "Validation images per class (default: ${DEFAULT-VALUE}; at most 50 with a flat val/).")
    int valPerClass;

    @Option(names = "--val-layout", defaultValue = "flat", paramLabel = "flat|folders",
            description = "val/ as ILSVRC2012 ships it (flat, labels from the validation list) or val/<wnid>/ "
                    + "(default: ${DEFAULT-VALUE}).")
    String valLayout;

    @Option(names = "--odd-files", description = "Also write a CMYK JPEG, a PNG named .JPEG, a grayscale JPEG, a "
            + "truncated JPEG and an empty file into the first class (see SYNTH.json).")
    boolean oddFiles;

    @Option(names = "--seed", defaultValue = "1", paramLabel = "S", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @picocli.CommandLine.Mixin

    ThreadsOption threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!valLayout.equals("flat") && !valLayout.equals("folders")) {
            throw new IllegalArgumentException("--val-layout must be flat or folders, got " + valLayout);
        }
        int t = threads.count();
        SyntheticImageNet.Result r = SyntheticImageNet.generate(out, new SyntheticImageNet.Options(classes,
                trainPerClass, valPerClass, seed, oddFiles, valLayout.equals("flat"), t));
        spec.commandLine().getOut().printf("wrote %s: %d classes, %d train and %d val images%s%n", out,
                r.wnids().size(), r.trainImages(), r.valImages(),
                r.oddFiles().isEmpty() ? "" : " (" + r.oddFiles().size() + " odd files, see SYNTH.json)");
        return 0;
    }
}
