package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Where a command's trained net comes from: PyTorch-layout .npz weights, or an alexnet4j model file. */
class WeightsSource {
    @Option(names = "--weights", paramLabel = "W.npz", description = "PyTorch-layout weights for the net the "
            + "model options describe.")
    Path weights;

    @Option(names = "--checkpoint", paramLabel = "MODEL.zip", description = "An alexnet4j model file instead "
            + "(a training checkpoint, best.zip, or import-weights output).")
    Path checkpoint;

    /** Loads the net; model options are refused with a checkpoint (it carries its own settings). */
    ModelFiles.Loaded load(ModelOptions model) throws IOException {
        if (checkpoint != null) {
            return model.loadCheckpoint(checkpoint);
        }
        AlexNet net = model.build();
        Map<String, NpyArray> w = Npz.read(weights);
        TorchLayout.validate(net, w); // before allocating the graph
        ComputationGraph graph = net.newGraph();
        TorchLayout.load(graph, net, w);
        return new ModelFiles.Loaded(net, graph);
    }
}
