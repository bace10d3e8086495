package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link ChannelSlice}'s computation: the forward pass copies the channel block out; the backward pass is its
 * transpose, the gradient placed into that block of a zero array of the input's shape (DL4J adds up the gradients
 * of all consumers of the input).
 */
public class ChannelSliceLayer extends ParameterFreeLayer.Impl<ChannelSlice> {

    public ChannelSliceLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        INDArray view = input.get(block());
        return workspaceMgr.dup(ArrayType.ACTIVATIONS, view, 'c');
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        INDArray eps = workspaceMgr.create(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), input.shape(), 'c');
        eps.assign(0);
        eps.get(block()).assign(epsilon);
        return new Pair<>(new DefaultGradient(), eps);
    }

    private INDArrayIndex[] block() {
        ChannelSlice c = layerConf();
        INDArrayIndex[] idx = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()};
        idx[c.getDataFormat() == CNN2DFormat.NCHW ? 1 : 3] = NDArrayIndex.interval(c.getFrom(),
                c.getFrom() + c.getCount());
        return idx;
    }
}
