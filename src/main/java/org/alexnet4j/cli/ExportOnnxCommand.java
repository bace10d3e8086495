package org.alexnet4j.cli;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.OnnxExport;
import org.alexnet4j.weights.TorchLayout;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "export-onnx", mixinStandardHelpOptions = true,
        description = {"Write a net as an ONNX model for ONNX Runtime, TensorRT, OpenVINO: NCHW float32 input "
                + "'input' [N, 3, S, S] (dynamic batch), outputs 'logits' (fc8) and 'probabilities'; towers as "
                + "group=2 Conv nodes, the paper's per-tower LRN as Split/LRN/Concat, dropout left out.",
                "From .npz or ONNX weights, a model file, a run's best checkpoint, or freshly initialised from the "
                        + "model options and --seed."})
class ExportOnnxCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true)
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Option(names = "--out", required = true, paramLabel = "MODEL.onnx", description = "Output ONNX file.")
    Path out;

    @Option(names = "--opset", defaultValue = "" + OnnxExport.DEFAULT_OPSET, paramLabel = "N",
            description = "ONNX opset, " + OnnxExport.MIN_OPSET + ".." + OnnxExport.MAX_OPSET
                    + " (default: ${DEFAULT-VALUE}).")
    int opset;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (opset < OnnxExport.MIN_OPSET || opset > OnnxExport.MAX_OPSET) {
            throw new IllegalArgumentException("--opset must be in " + OnnxExport.MIN_OPSET + ".."
                    + OnnxExport.MAX_OPSET + ", got " + opset);
        }
        Backend.init();
        ModelFiles.Loaded loaded;
        if (source != null) {
            loaded = source.load(model);
        } else {
            AlexNet fresh = model.build();
            loaded = new ModelFiles.Loaded(fresh, fresh.newGraph());
        }
        AlexNet net = loaded.net();
        long t = System.nanoTime();
        OnnxExport.write(out, net, TorchLayout.export(loaded.graph(), net), opset);
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %s net, opset %d, %,d parameters, %.1f MB in "
                        + "%.1f s%n", out, net.variant().id(), opset, net.parameterCount(), Files.size(out) / 1e6,
                (System.nanoTime() - t) / 1e9);
        return 0;
    }
}
