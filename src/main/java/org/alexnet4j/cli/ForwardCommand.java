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
                + "or probabilities with --probabilities. fp32 on DL4J's graph (the reference) unless --engine or "
                + "--precision bf16|int8 (the oneDNN engine) say otherwise."})
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

    @Mixin
    EngineOption engine;

    @Mixin
    ThreadsOption threads;

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
        INDArray y;
        boolean explicit = spec.commandLine().getParseResult().hasMatchedOption("--engine");
        if (!explicit && engine.cpuPrecision() == org.alexnet4j.infer.CpuPrecision.FP32) {
            Inference inference = new Inference(graph, net, batch);
            y = probabilities ? inference.probabilities(in) : inference.logits(in);
        } else {
            y = onEngine(net, graph, in);
        }
        Npy.write(output, NpyArray.of(y));
        spec.commandLine().getOut().printf("wrote %s: %s [%d, %d]%n", output,
                probabilities ? "probabilities" : "logits", y.size(0), y.size(1));
        return 0;
    }

    /** The outputs on the engine and precision asked for, {@code --batch} examples at a time. */
    private INDArray onEngine(AlexNet net, ComputationGraph graph, INDArray in) throws java.io.IOException {
        long n = in.size(0);
        INDArray y = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, n,
                net.numClasses());
        try (org.alexnet4j.infer.InferenceEngine e = engine.open(net, graph, source, threads.count())) {
            for (long from = 0; from < n; from += batch) {
                long to = Math.min(n, from + batch);
                INDArray part = in.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to));
                if (net.dataFormat() == org.deeplearning4j.nn.conf.CNN2DFormat.NHWC) { // --engine dl4j only
                    part = part.permute(0, 2, 3, 1).dup('c');
                }
                INDArray out = probabilities ? e.output(part) : org.nd4j.linalg.factory.Nd4j.create(e.logits(part),
                        new long[]{to - from, net.numClasses()}, 'c');
                y.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(from, to)).assign(out);
            }
        }
        return y;
    }
}
