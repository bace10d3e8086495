package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.HostMemory;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The paper's LRN ({@link ChannelLrn}). Float32 on the CPU runs {@link LrnKernel}; other data types (double for
 * gradient checks) and backends run the same formulas as ND4J array operations ({@link #forwardOps},
 * {@link #backwardOps}), which also serve as the kernel's reference in the tests.
 */
public class ChannelLrnLayer extends ParameterFreeLayer.Impl<ChannelLrn> {

    public ChannelLrnLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    @Override
    public Type type() {
        return Type.NORMALIZATION;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(false);
        ChannelLrn c = layerConf();
        CNN2DFormat format = c.getDataFormat();
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, input.dataType(), input.shape(), 'c');
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.FF_WORKING_MEM)) {
            INDArray x = kernelReady(input, format);
            if (x != null) {
                LrnKernel.forward(x, LrnKernel.geometry(x, format), out, LrnKernel.geometry(out, format),
                        LrnKernel.Params.of(c));
            } else {
                out.assign(forwardOps(input, c));
            }
        }
        return out;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        assertInputSet(true);
        ChannelLrn c = layerConf();
        CNN2DFormat format = c.getDataFormat();
        INDArray dx = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, input.dataType(), input.shape(), 'c');
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.BP_WORKING_MEM)) {
            INDArray x = kernelReady(input, format);
            INDArray g = kernelReady(epsilon, format);
            if (x != null && g != null) {
                LrnKernel.backward(x, LrnKernel.geometry(x, format), g, LrnKernel.geometry(g, format), dx,
                        LrnKernel.geometry(dx, format), LrnKernel.Params.of(c));
            } else {
                dx.assign(backwardOps(input, epsilon, c));
            }
        }
        return new Pair<>(new DefaultGradient(), dx);
    }

    /** {@code a} itself, or a dense copy of it, if the kernel can run on this data type and backend; else null. */
    private static INDArray kernelReady(INDArray a, CNN2DFormat format) {
        if (LrnKernel.geometry(a, format) != null) {
            return a;
        }
        if (a.dataType() == DataType.FLOAT && a.rank() == 4 && HostMemory.direct()) {
            INDArray dense = a.dup('c');
            return LrnKernel.geometry(dense, format) != null ? dense : null;
        }
        return null;
    }

    // --------------------------------------------------------------------------------------------------------------
    // The formulas as ND4J operations (any data type, any backend)
    // --------------------------------------------------------------------------------------------------------------

    /** {@code x * (k + alpha * windowSum(x^2))^-beta}. */
    static INDArray forwardOps(INDArray x, ChannelLrn c) {
        int cd = channelDim(c.getDataFormat());
        INDArray scale = windowSum(x.mul(x), cd, c.getN() / 2).muli(c.getAlpha()).addi(c.getK());
        return x.mul(Transforms.pow(scale, -c.getBeta(), false));
    }

    /** {@code g * s^-beta - 2 alpha beta x * windowSum(g x s^(-beta-1))}, s as in the forward pass. */
    static INDArray backwardOps(INDArray x, INDArray g, ChannelLrn c) {
        int cd = channelDim(c.getDataFormat());
        int half = c.getN() / 2;
        INDArray scale = windowSum(x.mul(x), cd, half).muli(c.getAlpha()).addi(c.getK());
        INDArray gp = g.mul(Transforms.pow(scale, -c.getBeta(), true));
        INDArray t = gp.mul(x).divi(scale);
        return gp.subi(windowSum(t, cd, half).muli(x).muli(2 * c.getAlpha() * c.getBeta()));
    }

    /** {@code out[c] = sum of v[c'] for c' in [c - half, c + half]} within the channel range. */
    private static INDArray windowSum(INDArray v, int cd, int half) {
        INDArray acc = v.dup();
        long channels = v.size(cd);
        for (int d = 1; d <= half && d < channels; d++) {
            acc.get(channels(cd, d, channels)).addi(v.get(channels(cd, 0, channels - d)));
            acc.get(channels(cd, 0, channels - d)).addi(v.get(channels(cd, d, channels)));
        }
        return acc;
    }

    private static INDArrayIndex[] channels(int cd, long from, long to) {
        INDArrayIndex[] idx = {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.all()};
        idx[cd] = NDArrayIndex.interval(from, to);
        return idx;
    }

    private static int channelDim(CNN2DFormat format) {
        return format == CNN2DFormat.NCHW ? 1 : 3;
    }
}
