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
 * Edge-replication padding: the forward pass copies the border rows, then the border columns (full height, so corners
 * take the corner pixel); the backward pass is the exact transpose, folding the gradient of every copied pixel back
 * onto the pixel it came from.
 */
public class EdgePaddingLayer extends ParameterFreeLayer.Impl<EdgePadding> {

    public EdgePaddingLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.CONVOLUTIONAL;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        int[] p = layerConf().getPadding();
        int hd = heightDim(), wd = hd + 1;
        long h = input.size(hd), w = input.size(wd);
        long[] outShape = input.shape().clone();
        outShape[hd] += p[0] + p[1];
        outShape[wd] += p[2] + p[3];
        INDArray out = workspaceMgr.create(ArrayType.ACTIVATIONS, input.dataType(), outShape, 'c');
        out.get(index(range(p[0], h), range(p[2], w))).assign(input);
        INDArrayIndex centreCols = range(p[2], w);
        for (int i = 0; i < p[0]; i++) {
            out.get(index(range(i, 1), centreCols)).assign(input.get(index(range(0, 1), NDArrayIndex.all())));
        }
        for (int i = 0; i < p[1]; i++) {
            out.get(index(range(p[0] + h + i, 1), centreCols))
                    .assign(input.get(index(range(h - 1, 1), NDArrayIndex.all())));
        }
        INDArrayIndex rows = NDArrayIndex.all();
        for (int j = 0; j < p[2]; j++) {
            out.get(index(rows, range(j, 1))).assign(out.get(index(rows, range(p[2], 1))));
        }
        for (int j = 0; j < p[3]; j++) {
            out.get(index(rows, range(p[2] + w + j, 1))).assign(out.get(index(rows, range(p[2] + w - 1, 1))));
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        int[] p = layerConf().getPadding();
        int hd = heightDim();
        long h = input.size(hd), w = input.size(hd + 1);
        INDArray g = workspaceMgr.dup(ArrayType.ACTIVATION_GRAD, epsilon, 'c');
        INDArrayIndex all = NDArrayIndex.all();
        // transpose of the column copies (over the full padded height)
        for (int j = 0; j < p[2]; j++) {
            g.get(index(all, range(p[2], 1))).addi(g.get(index(all, range(j, 1))));
        }
        for (int j = 0; j < p[3]; j++) {
            g.get(index(all, range(p[2] + w - 1, 1))).addi(g.get(index(all, range(p[2] + w + j, 1))));
        }
        // transpose of the row copies
        for (int i = 0; i < p[0]; i++) {
            g.get(index(range(p[0], 1), all)).addi(g.get(index(range(i, 1), all)));
        }
        for (int i = 0; i < p[1]; i++) {
            g.get(index(range(p[0] + h - 1, 1), all)).addi(g.get(index(range(p[0] + h + i, 1), all)));
        }
        INDArray eps = g.get(index(range(p[0], h), range(p[2], w)));
        return new Pair<>(new DefaultGradient(), eps);
    }

    private int heightDim() {
        return layerConf().getDataFormat() == CNN2DFormat.NCHW ? 2 : 1;
    }

    /** A rank-4 index with the given height and width indices and everything else whole. */
    private INDArrayIndex[] index(INDArrayIndex height, INDArrayIndex width) {
        INDArrayIndex[] idx = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()};
        int hd = heightDim();
        idx[hd] = height;
        idx[hd + 1] = width;
        return idx;
    }

    private static INDArrayIndex range(long from, long length) {
        return NDArrayIndex.interval(from, from + length);
    }
}
