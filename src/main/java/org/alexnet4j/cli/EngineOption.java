package org.alexnet4j.cli;

import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.graph.ComputationGraph;
import picocli.CommandLine.Option;

/** The {@code --engine} option of the inference commands (predict, eval; bench for its alexnet4j models). */
class EngineOption {
    @Option(names = "--engine", defaultValue = "auto", paramLabel = "auto|onednn|dl4j", description = "What computes "
            + "the probabilities: onednn (the net compiled into oneDNN primitives once: fastest, above all for few "
            + "images), dl4j (DL4J's own output), auto (onednn where it covers the net: NCHW, float, zero padding, "
            + "max pooling, CPU backend; else dl4j) (default: ${DEFAULT-VALUE}).")
    String engine;

    InferenceEngine.Kind kind() {
        return InferenceEngine.Kind.fromId(engine);
    }

    InferenceEngine open(AlexNet net, ComputationGraph graph) {
        return InferenceEngine.open(kind(), net, graph);
    }
}
