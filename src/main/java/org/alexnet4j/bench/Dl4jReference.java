package org.alexnet4j.bench;

import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.cuda.SeededInit;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.train.ClassicalMomentum;
import org.alexnet4j.weights.EngineWeights;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What DL4J's graph computes for a seeded net and batch ({@link SeededInit}): the logits, every parameter's gradient
 * and the parameters after each of a few steps of the paper's update. The independent side of the engine's tests and
 * the source of the GPU bundle's fixtures: the CUDA engine must reproduce these numbers from the same seed.
 */
public final class Dl4jReference {

    /** Per layer ({@code conv1} ... {@code fc8}): {@code {weights, biases}} in PyTorch's layout. */
    public record Result(float[] logits, Map<String, float[][]> gradients, List<Map<String, float[][]>> stepParams,
                         double loss) {
    }

    private Dl4jReference() {
    }

    /**
     * Runs DL4J on {@code net} (dropout must be 0: DL4J's masks are its own) with He-scaled seeded weights, a seeded
     * batch of {@code batch} images and labels, and {@code steps} steps of {@code update} (uniform learning rate).
     */
    public static Result compute(AlexNet net, long seed, int batch, int steps, AlexNetEngine.Update update) {
        if (net.dropout() != 0) {
            throw new IllegalArgumentException("the DL4J reference needs dropout 0 (its masks are not the engine's)");
        }
        Backend.init();
        NetSpec spec = net.spec();
        ComputationGraph graph = AlexNet.newGraph(net.configuration(new NeuralNetConfiguration.Builder()
                .updater(new ClassicalMomentum(update.learningRate(), update.momentum()))
                .l2(update.weightDecay())));
        TorchLayout.load(graph, net, seededArrays(net, seed));
        int s = net.inputSize();
        INDArray x = Nd4j.create(SeededInit.images(spec, batch, seed), new long[]{batch, 3, s, s}, 'c')
                .castTo(DataType.FLOAT);
        int classes = net.numClasses();
        int[] labels = SeededInit.labels(classes, batch, seed);
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, labels[i], 1f);
        }
        float[] logits = new org.alexnet4j.eval.FeatureExtractor(graph, net, AlexNet.OUTPUT).activations(x).data()
                .asFloat();
        graph.setInputs(x);
        graph.setLabels(y);
        graph.computeGradientAndScore();
        double loss = org.alexnet4j.cuda.ReferenceOps.meanCrossEntropy(logits, y.data().asFloat(), batch, classes);
        // DL4J's backward pass gives the gradient of the summed loss; its updater divides by the batch size
        // (miniBatch), so the gradient of the mean loss, the engine's, is that over the batch size
        Map<String, float[][]> gradients = byLayer(net, EngineWeights.asTorch(graph, net,
                graph.getFlattenedGradients().div(batch)));
        List<Map<String, float[][]>> stepParams = new ArrayList<>();
        DataSet ds = new DataSet(x, y);
        for (int i = 0; i < steps; i++) {
            graph.fit(ds);
            stepParams.add(byLayer(net, TorchLayout.export(graph, net)));
        }
        return new Result(logits, gradients, stepParams, loss);
    }

    /** The seeded He-scaled parameters as PyTorch-layout arrays. */
    public static Map<String, NpyArray> seededArrays(AlexNet net, long seed) {
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        for (ParamLayer l : net.paramLayers()) {
            float[][] wb = SeededInit.layer(net.spec(), l, seed, true);
            String k = TorchLayout.key(net, l);
            arrays.put(k + ".weight", NpyArray.float32(l.weightShape(), wb[0]));
            arrays.put(k + ".bias", NpyArray.float32(new long[]{l.outChannels()}, wb[1]));
        }
        return arrays;
    }

    private static Map<String, float[][]> byLayer(AlexNet net, Map<String, NpyArray> arrays) {
        Map<String, float[][]> out = new LinkedHashMap<>();
        for (ParamLayer l : net.paramLayers()) {
            String k = TorchLayout.key(net, l);
            out.put(l.name(), new float[][]{arrays.get(k + ".weight").data(), arrays.get(k + ".bias").data()});
        }
        return out;
    }
}
