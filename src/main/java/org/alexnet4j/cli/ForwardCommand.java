package org.alexnet4j.cli;

import org.alexnet4j.eval.Inference;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.ArgGroup;
import org.alexnet4j.runtime.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "forward", mixinStandardHelpOptions = true,
        description = {"Run the net in inference mode (no dropout) on a float32 NCHW .npy, fed as is (no "
                + "preprocessing), and write fc8's outputs [N, classes] as float32 .npy: logits before the softmax, "
                + "or probabilities with --probabilities."})
class ForwardCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @ArgGroup(exclusive = true, multiplicity = "1")
    WeightsSource source;

    @Option(names = "--input", required = true, paramLabel = "X.npy", description = "float32 [N, 3, S, S].")
    Path input;

    @Option(names = "--output", required = true, paramLabel = "Y.npy", description = "float32 [N, classes].")
    Path output;

    @Option(names = "--probabilities", description = "Write softmax probabilities instead of logits.")
    boolean probabilities;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "32",
            description = "Examples per forward pass (bounds memory; default: ${DEFAULT-VALUE}).")
    int batch;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NpyArray x = Npy.read(input);
        if (!x.isFloat32()) {
            throw new IllegalArgumentException(input + ": array has dtype " + x.dtype() + ", expected float32 (<f4)");
        }
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        ComputationGraph graph = loaded.graph();
        String problem = Inference.inputShapeProblem(net, x.shape());
        if (problem != null) {
            throw new IllegalArgumentException(input + ": array " + problem);
        }
        INDArray in = x.toINDArray();
        Inference inference = new Inference(graph, net, batch);
        INDArray y = probabilities ? inference.probabilities(in) : inference.logits(in);
        Npy.write(output, NpyArray.of(y));
        spec.commandLine().getOut().printf("wrote %s: %s [%d, %d]%n", output,
                probabilities ? "probabilities" : "logits", y.size(0), y.size(1));
        return 0;
    }
}
