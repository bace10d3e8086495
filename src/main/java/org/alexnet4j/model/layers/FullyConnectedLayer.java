package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link FullyConnected}'s implementation: DL4J's dense layer with ReLU, computed through libnd4j's {@code matmul}
 * op on operands laid out so that its oneDNN implementation accepts them, and without DL4J's recomputation of the
 * forward pass in the backward pass.
 *
 * <p>The weights are DL4J's {@code [nIn, nOut]} 'f'-order parameter view, i.e. {@code W^T} in 'c' order: forward
 * {@code z = x (W^T)^T} (matmul with transposed B), input gradient {@code delta W^T}, weight gradient written as
 * {@code delta^T x} straight into the 'c'-order transpose of the gradient view. DL4J's own path (BLAS sgemm on the
 * 'f'-order weights) ran fc6 at batch 128 at ~225 GFLOP/s; oneDNN's matmul takes the same product in about half the
 * time (docs/benchmarks.md). ReLU's derivative is read off the kept output. Inference on one example is a
 * matrix-vector product (BLAS gemv). Anything else (another activation, layer norm, dropout or weight noise on the
 * layer, non-float data) is DL4J's code.
 */
public class FullyConnectedLayer extends DenseLayer {
    private static final ActivationReLU PLAIN_RELU = new ActivationReLU();
    private INDArray lastOutput;

    public FullyConnectedLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private boolean fast() {
        org.deeplearning4j.nn.conf.layers.DenseLayer c = layerConf();
        return PLAIN_RELU.equals(c.getActivationFn()) && !hasLayerNorm() && c.getIDropout() == null
                && c.getWeightNoise() == null && input != null && input.rank() == 2 && maskArray == null
                && input.dataType() == DataType.FLOAT && dataType == DataType.FLOAT && input.size(1) == c.getNIn();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!fast()) {
            lastOutput = null;
            return super.activate(training, workspaceMgr);
        }
        long n = input.size(0), nIn = layerConf().getNIn(), nOut = layerConf().getNOut();
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray x = MatmulOps.dense(input);
        INDArray out;
        if (n == 1 && !training) {
            INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[]{nOut, 1},
                    'f');
            Nd4j.gemm(w, x.reshape(nIn, 1), z, true, false, 1.0, 0.0);
            out = z.reshape('c', 1, nOut);
        } else {
            out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[]{n, nOut}, 'c');
            MatmulOps.forward(x, w, out);
        }
        if (hasBias()) {
            out.addiRowVector(getParamWithNoise(DefaultParamInitializer.BIAS_KEY, training, workspaceMgr));
        }
        Transforms.relu(out, false);
        lastOutput = training ? out : null;
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (lastOutput == null || !fast()) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray gradW = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        INDArray x = MatmulOps.dense(input);
        INDArray eps = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.BP_WORKING_MEM)) {
            INDArray delta = PLAIN_RELU.backprop(lastOutput, epsilon.castTo(DataType.FLOAT)).getFirst();
            INDArray d = MatmulOps.dense(delta);
            MatmulOps.weightGradient(d, x, gradW);
            if (hasBias()) {
                INDArray gradB = gradientViews.get(DefaultParamInitializer.BIAS_KEY);
                gradB.assign(d.sum(0).reshape(gradB.shape()));
            }
            MatmulOps.inputGradient(d, w, eps);
        }
        Gradient ret = new DefaultGradient();
        ret.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, gradW);
        if (hasBias()) {
            ret.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY,
                    gradientViews.get(DefaultParamInitializer.BIAS_KEY));
        }
        lastOutput = null;
        return new Pair<>(ret, eps);
    }
}
