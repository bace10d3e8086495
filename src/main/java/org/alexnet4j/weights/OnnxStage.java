package org.alexnet4j.weights;

import java.util.LinkedHashMap;
import java.util.Map;

/** One step of the network as ONNX nodes compute it, with the attributes that define its function. */
final class OnnxStage {
    final String kind;
    final String node;
    final Map<String, String> attrs = new LinkedHashMap<>();
    long[] weightShape; // expected side: the shape the weights must have (PyTorch layout)
    NpyArray weight;    // found side, in PyTorch layout
    NpyArray bias;
    String weightName;
    String biasName;
    boolean transposed;

    OnnxStage(String kind, String node) {
        this.kind = kind;
        this.node = node;
    }

    boolean weighted() {
        return kind.equals("conv") || kind.equals("fc");
    }
}
