package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.WeightFiles;
import org.alexnet4j.runtime.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "import-weights", mixinStandardHelpOptions = true,
        description = "Load a PyTorch-layout .npz or an ONNX model into the net the model options describe and save it as an "
                + "alexnet4j model file (a DL4J ModelSerializer zip that also records the model settings).")
class ImportWeightsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--weights", required = true, paramLabel = "W.npz|W.onnx",
            description = "Input: a PyTorch-layout .npz or an ONNX model (matched to the net by its structure).")
    Path weights;

    @Option(names = "--out", required = true, paramLabel = "MODEL.zip", description = "Output model file.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        ModelFiles.Loaded loaded = WeightFiles.load(weights, model.build());
        AlexNet net = loaded.net();
        ModelFiles.save(out, net, loaded.graph(), false);
        spec.commandLine().getOut().printf("wrote %s: %s net with the weights of %s%n", out, net.variant().id(),
                weights);
        return 0;
    }
}
