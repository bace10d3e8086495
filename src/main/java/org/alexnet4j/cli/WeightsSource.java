package org.alexnet4j.cli;

import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.train.Trainer;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.WeightFiles;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where a command's trained net comes from: PyTorch-layout .npz or ONNX weights for the net the model options
 * describe, an alexnet4j model file, or a training run (its best checkpoint).
 */
class WeightsSource {
    @Option(names = "--weights", paramLabel = "W.npz|W.onnx", description = "Weights for the net the model options "
            + "describe: a PyTorch-layout .npz, or an ONNX model (alexnet4j's export, the ONNX model zoo's "
            + "bvlcalexnet with --model caffe, torchvision's alexnet exported by torch.onnx.export).")
    Path weights;

    @Option(names = "--checkpoint", paramLabel = "MODEL.zip", description = "An alexnet4j model file instead "
            + "(a training checkpoint, best.zip, or import-weights output).")
    Path checkpoint;

    @Option(names = "--run", paramLabel = "RUN_DIR", description = "A training run: its checkpoints/best.zip (and "
            + "its normalisation).")
    Path run;

    /** Loads the net; model options are refused with a checkpoint or run (they carry their own settings). */
    ModelFiles.Loaded load(ModelOptions model) throws IOException {
        if (run != null) {
            return model.loadCheckpoint(bestCheckpoint(run));
        }
        if (checkpoint != null) {
            return model.loadCheckpoint(checkpoint);
        }
        return WeightFiles.load(weights, model.build());
    }

    /** The normalisation the run trained with ({@code mean-image} or {@code channel}), or null. */
    String runNormalization() throws IOException {
        if (run == null || !Files.exists(run.resolve(Trainer.CONFIG))) {
            return null;
        }
        return TrainConfig.read(run.resolve(Trainer.CONFIG)).normalize;
    }

    static Path bestCheckpoint(Path run) {
        if (!Files.isDirectory(run)) {
            throw new IllegalArgumentException(run + " is not a run directory (no such directory)");
        }
        Path best = run.resolve("checkpoints").resolve("best.zip");
        if (!Files.exists(best)) {
            throw new IllegalArgumentException(run + " has no checkpoints/best.zip (no epoch finished yet?)");
        }
        return best;
    }
}
