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

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|int8", description = "fp32, or int8: "
            + "a QDQ model (QuantizeLinear/DequantizeLinear around every Conv and Gemm input, int8 weights with a "
            + "scale per output channel) of what --precision int8 computes, from the calibration beside the weights "
            + "or --calibrate; opset 13 or later (default: ${DEFAULT-VALUE}).")
    String precision;

    @Option(names = "--calibrate", paramLabel = "CACHE", description = "With --precision int8: measure the "
            + "activation ranges now on the training split of this prepared cache.")
    Path calibrate;

    @Option(names = "--calibration-images", defaultValue = "512", paramLabel = "N", description = "With "
            + "--calibrate: how many images (default: ${DEFAULT-VALUE}).")
    int calibrationImages;

    @Mixin
    ThreadsOption threads;

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
        org.alexnet4j.weights.Calibration calibration = null;
        if (precision.equals("int8")) {
            calibration = EngineOption.calibration(calibrate, calibrationImages, net, loaded.graph(), source,
                    threads.count());
            if (calibration == null) {
                throw new IllegalArgumentException("an int8 ONNX model needs the activation ranges: run `alexnet4j "
                        + "calibrate` first (it writes them beside the weights) or add --calibrate CACHE");
            }
        } else if (!precision.equals("fp32")) {
            throw new IllegalArgumentException("--precision must be fp32 or int8 for ONNX (ONNX Runtime's CPU "
                    + "provider has no bf16 convolution), got " + precision);
        } else if (calibrate != null) {
            throw new IllegalArgumentException("--calibrate is for --precision int8");
        }
        long t = System.nanoTime();
        OnnxExport.write(out, net, TorchLayout.export(loaded.graph(), net), opset, calibration);
        spec.commandLine().getOut().printf(Locale.ROOT, "wrote %s: %s net, %s, opset %d, %,d parameters, %.1f MB in "
                        + "%.1f s%n", out, net.variant().id(), calibration == null ? "fp32" : "int8 QDQ", opset,
                net.parameterCount(), Files.size(out) / 1e6, (System.nanoTime() - t) / 1e9);
        return 0;
    }
}
