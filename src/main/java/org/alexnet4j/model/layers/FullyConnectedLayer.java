package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link FullyConnected}'s implementation: DL4J's dense layer, except that inference on one example computes
 * {@code W^T x} as a matrix-vector product (BLAS gemv on the layer's {@code [nIn, nOut]} weights) into the
 * activation workspace, then adds the bias and applies the activation. Training, batches of two or more, layer norm
 * and non-float data are DL4J's code.
 */
public class FullyConnectedLayer extends DenseLayer {
    public FullyConnectedLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private boolean singleExample(boolean training) {
        return !training && input != null && input.rank() == 2 && input.size(0) == 1 && !hasLayerNorm()
                && input.dataType() == DataType.FLOAT && dataType == DataType.FLOAT
                && input.size(1) == layerConf().getNIn();
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!singleExample(training)) {
            return super.activate(training, workspaceMgr);
        }
        long nIn = layerConf().getNIn(), nOut = layerConf().getNOut();
        INDArray w = getParamWithNoise(DefaultParamInitializer.WEIGHT_KEY, false, workspaceMgr);
        INDArray x = input.isView() || input.ordering() != 'c' ? input.dup('c') : input;
        INDArray z = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, new long[]{nOut, 1}, 'f');
        Nd4j.gemm(w, x.reshape(nIn, 1), z, true, false, 1.0, 0.0);
        INDArray row = z.reshape('c', 1, nOut);
        if (hasBias()) {
            row.addi(getParamWithNoise(DefaultParamInitializer.BIAS_KEY, false, workspaceMgr));
        }
        return layerConf().getActivationFn().getActivation(row, false);
    }
}
