package org.alexnet4j.cli;

import org.alexnet4j.data.ClassList;
import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.WeightFiles;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a command's trained net comes from: PyTorch-layout .npz or ONNX weights for the net the model options
 * describe, an alexnet4j model file, or a training run (its best checkpoint, its classes and its preprocessing, all
 * read from the run directory).
 */
class WeightsSource {
    @Option(names = "--weights", paramLabel = "W.npz|W.onnx", description = "Weights for the net the model options "
            + "describe: a PyTorch-layout .npz, or an ONNX model (alexnet4j's export, the ONNX model zoo's "
            + "bvlcalexnet with --model caffe, torchvision's alexnet exported by torch.onnx.export).")
    Path weights;

    @Option(names = "--checkpoint", paramLabel = "MODEL.zip", description = "An alexnet4j model file instead "
            + "(a training checkpoint, best.zip, or import-weights output).")
    Path checkpoint;

    @Option(names = "--run", paramLabel = "RUN_DIR", description = "A training run: its checkpoints/best.zip, its "
            + "classes and the preprocessing it trained with (stored in the run).")
    Path run;

    /** Loads the net; model options are refused with a checkpoint or run (they carry their own settings). */
    ModelFiles.Loaded load(ModelOptions model) throws IOException {
        if (run != null) {
            return model.loadCheckpoint(RunDirectory.open(run).bestCheckpoint());
        }
        if (checkpoint != null) {
            return model.loadCheckpoint(checkpoint);
        }
        return WeightFiles.load(weights, model.build());
    }

    /** The file the weights are read from: the run's best checkpoint, the checkpoint or the weights file. */
    Path file() throws IOException {
        return run != null ? RunDirectory.open(run).bestCheckpoint() : checkpoint != null ? checkpoint : weights;
    }

    private Preprocessing.Trained trained;

    /** What the net trained with, when it comes from a run (read once: features asks for every split); else null. */
    Preprocessing.Trained trained() throws IOException {
        if (run != null && trained == null) {
            trained = RunDirectory.open(run).trained();
        }
        return trained;
    }

    /**
     * The net's input ({@link Preprocessing#input}): {@code normalize} (a command's --normalize, or null), what a run
     * trained with, else {@code data}'s statistics ({@code published}: the published constants whatever else).
     */
    Preprocessing.Input input(AlexNet net, String normalize, DatasetStats data, boolean published, int size)
            throws IOException {
        return Preprocessing.input(net, normalize == null ? null : Normalization.Kind.fromId(normalize), trained(),
                data, published, size);
    }

    /** Class names by index: the run's, else ILSVRC2012's wnids for 1000 classes, else "class N". */
    List<String> classNames(AlexNet net) throws IOException {
        return ClassList.forNet(run == null ? null : RunDirectory.open(run).classList(), net.numClasses());
    }
}
