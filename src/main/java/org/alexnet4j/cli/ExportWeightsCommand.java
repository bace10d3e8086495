package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.alexnet4j.runtime.Backend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "export-weights", mixinStandardHelpOptions = true,
        description = {"Write a net's weights as a NumPy .npz of float32 arrays in PyTorch's layout "
                + "(conv1.weight [96,3,11,11] ... fc8.bias; torchvision's state_dict names for --model torchvision).",
                "From a model file (--checkpoint), a training run's best checkpoint (--run), or freshly initialised "
                        + "from the model options and --seed."})
class ExportWeightsCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--checkpoint", paramLabel = "MODEL.zip", description = "An alexnet4j model file or checkpoint.")
    Path checkpoint;

    @Option(names = "--run", paramLabel = "RUN_DIR", description = "A training run: its checkpoints/best.zip.")
    Path run;

    @Option(names = "--out", required = true, paramLabel = "W.npz", description = "Output .npz file.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Backend.init();
        AlexNet net;
        ComputationGraph graph;
        if (checkpoint != null && run != null) {
            throw new IllegalArgumentException("give --checkpoint or --run, not both");
        }
        if (checkpoint != null || run != null) {
            ModelFiles.Loaded loaded = model.loadCheckpoint(run != null
                    ? org.alexnet4j.train.RunDirectory.open(run).bestCheckpoint()
                    : checkpoint);
            net = loaded.net();
            graph = loaded.graph();
        } else {
            net = model.build();
            graph = net.newGraph();
        }
        var arrays = TorchLayout.export(graph, net);
        Npz.write(out, arrays);
        org.slf4j.LoggerFactory.getLogger(ExportWeightsCommand.class).info("exported {} arrays of the {} net to {}",
                arrays.size(), net.variant().id(), out);
        spec.commandLine().getOut().printf("wrote %s: %s net, %,d parameters%n", out, net.variant().id(),
                net.parameterCount());
        return 0;
    }
}
