package org.alexnet4j.cli;

import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Option;

/** The {@code --engine} option of the inference commands (predict, eval; bench for its alexnet4j models). */
class EngineOption {
    @Option(names = "--engine", defaultValue = "auto", paramLabel = "auto|onednn|dl4j|cuda", description = "What "
            + "computes the probabilities: onednn (the net compiled into oneDNN primitives once: fastest on a CPU, "
            + "above all for few images), dl4j (DL4J's own output), cuda (the CUDA 13 / cuDNN 9 engine on a GPU, "
            + "docs/gpu.md), auto (cuda where a usable GPU is found; else onednn where it covers the net: NCHW, "
            + "float, zero padding, max pooling, CPU backend; else dl4j) (default: ${DEFAULT-VALUE}).")
    String engine;

    @Option(names = "--device", defaultValue = "0", paramLabel = "N", description = "With the cuda engine: the GPU "
            + "(default: ${DEFAULT-VALUE}).")
    int device;

    @Option(names = "--precision", defaultValue = "fp32", paramLabel = "fp32|fp32-fast|tf32",
            description = "With the cuda engine: fp32 (exact: direct sums, deterministic, the CPU's results within "
            + "1e-4), fp32-fast (any fp32 algorithm, Winograd and FFT included, as PyTorch's fp32) or tf32 "
            + "(tensor-core products) (default: ${DEFAULT-VALUE}).")
    String precision;

    InferenceEngine.Kind kind() {
        return InferenceEngine.Kind.fromId(engine);
    }

    InferenceEngine.Gpu gpu() {
        return new InferenceEngine.Gpu(device, org.alexnet4j.cuda.Precision.fromId(precision));
    }

    InferenceEngine open(AlexNet net, ComputationGraph graph) {
        return InferenceEngine.open(kind(), net, graph, gpu());
    }
}
