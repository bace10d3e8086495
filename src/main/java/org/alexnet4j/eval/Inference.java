package org.alexnet4j.eval;

import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Inference-mode forward passes (no dropout) of an AlexNet graph on NCHW input, in bounded chunks.
 * Logits are fc8's outputs before the softmax; probabilities are DL4J's softmax output.
 */
public final class Inference {
    private final ComputationGraph graph;
    private final AlexNet net;
    private final int chunk;

    /**
     * @param chunk examples per forward pass; bounds memory (a batch of 32 at 227x227 needs ~0.5 GB of activations)
     */
    public Inference(ComputationGraph graph, AlexNet net, int chunk) {
        if (chunk < 1) {
            throw new IllegalArgumentException("chunk must be at least 1, got " + chunk);
        }
        this.graph = graph;
        this.net = net;
        this.chunk = chunk;
    }

    /** fc8 outputs before the softmax, {@code [N, classes]}, for NCHW input {@code [N, 3, S, S]}. */
    public INDArray logits(INDArray nchw) {
        return run(nchw, false);
    }

    /** Softmax class probabilities {@code [N, classes]} for NCHW input {@code [N, 3, S, S]}. */
    public INDArray probabilities(INDArray nchw) {
        return run(nchw, true);
    }

    private INDArray run(INDArray nchw, boolean softmax) {
        checkInput(nchw);
        long n = nchw.size(0);
        INDArray out = Nd4j.create(net.dataType(), n, net.numClasses());
        for (long from = 0; from < n; from += chunk) {
            long to = Math.min(n, from + chunk);
            INDArray x = nchw.get(NDArrayIndex.interval(from, to), NDArrayIndex.all(), NDArrayIndex.all(),
                    NDArrayIndex.all()).castTo(net.dataType());
            if (net.dataFormat() == CNN2DFormat.NHWC) {
                x = x.permute(0, 2, 3, 1).dup('c');
            }
            INDArray y;
            if (softmax) {
                y = graph.outputSingle(false, x);
            } else {
                Map<String, INDArray> acts = graph.feedForward(new INDArray[]{x}, false, true);
                List<String> fc8Inputs = graph.getConfiguration().getVertexInputs().get(AlexNet.OUTPUT);
                INDArray h = acts.get(fc8Inputs.get(0));
                INDArray w = graph.getLayer(AlexNet.OUTPUT).getParam("W");
                INDArray b = graph.getLayer(AlexNet.OUTPUT).getParam("b");
                y = h.mmul(w).addiRowVector(b);
            }
            out.get(NDArrayIndex.interval(from, to), NDArrayIndex.all()).assign(y);
        }
        return out;
    }

    private void checkInput(INDArray x) {
        String problem = inputShapeProblem(net, x.shape());
        if (problem != null) {
            throw new IllegalArgumentException("input " + problem);
        }
    }

    /**
     * What is wrong with an input of {@code shape} for {@code net} ("has shape [...], expected NCHW [N, 3, S, S] for
     * this ... net"), or null if it is a non-empty NCHW batch of the net's input size.
     */
    public static String inputShapeProblem(AlexNet net, long[] shape) {
        long s = net.inputSize();
        if (shape.length == 4 && shape[0] >= 1 && shape[1] == 3 && shape[2] == s && shape[3] == s) {
            return null;
        }
        return "has shape " + Arrays.toString(shape) + ", expected NCHW [N, 3, " + s + ", " + s + "] with N >= 1 "
                + "for this " + net.variant().id() + " net";
    }
}
