package org.alexnet4j.weights;

import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ParamLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Moves parameters between a DL4J graph and an {@link AlexNetEngine} (the CUDA engine, or its CPU reference) through
 * PyTorch's layout ({@link TorchLayout}), so that a checkpoint, a weight file or a published net runs on the engine,
 * and what the engine learned goes back into the project's own checkpoint format.
 */
public final class EngineWeights {

    private EngineWeights() {
    }

    /** Copies every parameter of {@code graph} into {@code engine}. */
    public static void toEngine(ComputationGraph graph, AlexNet net, AlexNetEngine engine) {
        Map<String, NpyArray> arrays = TorchLayout.export(graph, net);
        for (ParamLayer l : net.paramLayers()) {
            String k = TorchLayout.key(net, l);
            engine.setParameters(l.name(), arrays.get(k + ".weight").data(), arrays.get(k + ".bias").data());
        }
    }

    /** Copies every parameter of {@code engine} into {@code graph}. */
    public static void toGraph(AlexNetEngine engine, AlexNet net, ComputationGraph graph) {
        TorchLayout.load(graph, net, arrays(engine, net, false));
    }

    /** The engine's parameters (or, with {@code velocity}, its momentum state) as PyTorch-layout arrays. */
    public static Map<String, NpyArray> arrays(AlexNetEngine engine, AlexNet net, boolean velocity) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (ParamLayer l : net.paramLayers()) {
            float[][] wb = velocity ? engine.velocity(l.name()) : engine.parameters(l.name());
            String k = TorchLayout.key(net, l);
            out.put(k + ".weight", NpyArray.float32(l.weightShape(), wb[0]));
            out.put(k + ".bias", NpyArray.float32(new long[]{l.outChannels()}, wb[1]));
        }
        return out;
    }

    /**
     * A flat vector laid out as the graph's parameters (gradients or updater state share that layout) in PyTorch
     * layout, by logical layer: reads {@code flat} through a copy of {@code graph}'s parameter views.
     */
    public static Map<String, NpyArray> asTorch(ComputationGraph graph, AlexNet net, INDArray flat) {
        ComputationGraph copy = graph.clone();
        copy.setParams(flat.dup().reshape(1, flat.length()));
        return TorchLayout.export(copy, net);
    }

    /**
     * Copies the graph's momentum velocities (its updater state) into the engine: each updater block of the paper's
     * classical momentum holds one velocity per parameter of the block, in the block's parameter order; blocks
     * without state (frozen layers' zero-rate SGD) leave zeros.
     */
    public static void velocityToEngine(ComputationGraph graph, AlexNet net, AlexNetEngine engine) {
        INDArray flat = Nd4j.zeros(graph.params().dataType(), graph.params().length());
        momentumBlocks(graph, (view, params) -> flat.get(params).assign(view.reshape(view.length())));
        Map<String, NpyArray> arrays = asTorch(graph, net, flat);
        for (ParamLayer l : net.paramLayers()) {
            String k = TorchLayout.key(net, l);
            engine.setVelocity(l.name(), arrays.get(k + ".weight").data(), arrays.get(k + ".bias").data());
        }
    }

    /** Copies the engine's velocities into the graph's updater state (the inverse of {@link #velocityToEngine}). */
    public static void velocityToGraph(AlexNetEngine engine, AlexNet net, ComputationGraph graph) {
        ComputationGraph copy = graph.clone();
        TorchLayout.load(copy, net, arrays(engine, net, true));
        INDArray flat = copy.params().reshape(copy.params().length());
        momentumBlocks(graph, (view, params) -> view.assign(flat.get(params).reshape(view.shape())));
    }

    /**
     * Each updater block of the paper's momentum (one velocity per parameter of the block), with the interval of the
     * flat parameters it covers; blocks without that state (frozen layers' zero-rate SGD) are left out.
     */
    private static void momentumBlocks(ComputationGraph graph, BiConsumer<INDArray, INDArrayIndex> f) {
        for (UpdaterBlock b : graph.getUpdater(true).getUpdaterBlocks()) {
            INDArray view = b.getUpdaterView();
            int len = b.getParamOffsetEnd() - b.getParamOffsetStart();
            if (view != null && view.length() == len) {
                f.accept(view, NDArrayIndex.interval(b.getParamOffsetStart(), b.getParamOffsetEnd()));
            }
        }
    }
}
