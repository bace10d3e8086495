package org.alexnet4j.weights;

import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.graph.ComputationGraph;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Weight files by their kind: a PyTorch-layout {@code .npz} or an ONNX model ({@code .onnx}). */
public final class WeightFiles {
    private WeightFiles() {
    }

    /**
     * The arrays of {@code file} in PyTorch layout, checked against {@code net} (names, shapes; for ONNX the graph's
     * structure too) before anything is allocated.
     */
    public static Map<String, NpyArray> read(Path file, AlexNet net) throws IOException {
        Map<String, NpyArray> arrays = OnnxImport.isOnnx(file) ? OnnxImport.read(file, net) : Npz.read(file);
        TorchLayout.validate(net, arrays);
        return arrays;
    }

    /** A new graph of {@code net} holding the weights of {@code file}. */
    public static ModelFiles.Loaded load(Path file, AlexNet net) throws IOException {
        Map<String, NpyArray> arrays = read(file, net);
        ComputationGraph graph = net.newGraph();
        TorchLayout.load(graph, net, arrays);
        return new ModelFiles.Loaded(net, graph);
    }
}
