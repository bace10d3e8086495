package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.OutputLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@link FullyConnectedOutput}'s implementation: DL4J's output layer whose logits ({@code preOutput}), weight
 * gradient and input gradient are libnd4j matmul ops on the 'c'-order transpose of DL4J's 'f'-order weights (oneDNN's
 * matmul, as {@link FullyConnectedLayer}), the loss and its gradient DL4J's own. Anything else (a mask, weight noise,
 * input dropout, non-float data) is DL4J's code.
 */
public class FullyConnectedOutputLayer extends OutputLayer {

    public FullyConnectedOutputLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private boolean fast() {
        org.deeplearning4j.nn.conf.layers.OutputLayer c = layerConf();
        return c.getIDropout() == null && c.getWeightNoise() == null && input != null && input.rank() == 2
                && maskArray == null && input.dataType() == DataType.FLOAT && dataType == DataType.FLOAT
                && input.size(1) == c.getNIn() && hasBias();
    }

    @Override
    protected INDArray preOutput(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!fast()) {
            return super.preOutput(training, workspaceMgr);
        }
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                new long[]{input.size(0), layerConf().getNOut()}, 'c');
        MatmulOps.forward(MatmulOps.dense(input), w, z);
        z.addiRowVector(getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr));
        return z;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (!fast()) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        assertInputSet(true);
        INDArray preOut = preOutput2d(true, workspaceMgr);
        INDArray labels2d = getLabels2d(workspaceMgr, ArrayType.BP_WORKING_MEM);
        INDArray delta = layerConf().getLossFn().computeGradient(labels2d, preOut, layerConf().getActivationFn(),
                maskArray);
        INDArray d = MatmulOps.dense(delta);
        INDArray gradW = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        INDArray gradB = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
        MatmulOps.weightGradient(d, MatmulOps.dense(input), gradW);
        d.sum(gradB, 0);
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray eps = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        MatmulOps.inputGradient(d, w, eps);
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, gradW);
        g.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, gradB);
        return new Pair<>(g, eps);
    }
}
