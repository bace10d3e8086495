package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link InputConvolution}'s implementation. With stride {@code s > 1}, kernel {@code k} and {@code q = ceil(k/s)}:
 * the input, zero-padded to {@code s (out + q - 1)} rows and columns, is rearranged space-to-depth into
 * {@code [N, s*s*C, out+q-1, out+q-1]} (channel index {@code (by*s + bx)*C + c} holds pixel {@code (s*y+by, s*x+bx)}
 * of channel {@code c}), and the weights, zero-padded to {@code s*q} and rearranged the same way, into
 * {@code [oC, s*s*C, q, q]}. A stride-1 convolution of the two is exactly the strided convolution:
 * {@code sum over c, ky = s*qy+by, kx = s*qx+bx of W[o,c,ky,kx] x[c, s*oy+ky, s*ox+kx]}. The forward pass is DL4J's;
 * the backward pass runs libnd4j's {@code conv2d_bp} (oneDNN on the CPU) on the rearranged arrays, and the weight
 * gradient is folded back and cropped to {@code k x k}. The forward pass and anything else (stride 1, NHWC) are
 * {@link ReluConvolutionLayer}'s, which leaves what the ops do not cover (Same mode, dilation, non-float, another
 * activation) to DL4J's code.
 */
public class InputConvolutionLayer extends ReluConvolutionLayer {
    private OpContext bwdContext;
    /** oneDNN's backward-weights primitive for the last input shape (made on first use). */
    private OneDnnWeightGradient weightGradient;
    private boolean weightsOnlyFailed;

    public InputConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    private InputConvolution conf2() {
        return (InputConvolution) layerConf();
    }

    /** True when the space-to-depth form applies to this layer and input. */
    private boolean rearranged() {
        InputConvolution c = conf2();
        int[] s = c.getStride(), d = c.getDilation(), k = c.getKernelSize(), p = c.getPadding();
        return s[0] > 1 && s[0] == s[1] && k[0] == k[1] && p[0] == p[1] && d[0] == 1 && d[1] == 1
                && c.getCnn2dDataFormat() == CNN2DFormat.NCHW && c.getConvolutionMode() != ConvolutionMode.Same
                && PLAIN_RELU.equals(c.getActivationFn())
                && input != null && input.rank() == 4 && input.dataType() == DataType.FLOAT
                && dataType == DataType.FLOAT;
    }

    /** Geometry: stride s, kernel k, q = ceil(k/s), output size, rearranged size. */
    private record Geo(int s, int k, int q, long outH, long outW, long inH, long inW, int pad) {
        long rH() {
            return outH + q - 1;
        }

        long rW() {
            return outW + q - 1;
        }
    }

    private Geo geo() {
        InputConvolution c = conf2();
        int s = c.getStride()[0], k = c.getKernelSize()[0], p = c.getPadding()[0];
        long h = input.size(2), w = input.size(3);
        long oh = (h + 2L * p - k) / s + 1, ow = (w + 2L * p - k) / s + 1;
        return new Geo(s, k, (k + s - 1) / s, oh, ow, h, w, p);
    }

    /** The zero-padded input rearranged space-to-depth: {@code [N, s*s*C, rH, rW]} ({@link SpaceToDepth}). */
    private INDArray spaceToDepth(INDArray x, Geo g) {
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.size(0), (long) g.s * g.s * x.size(1), g.rH(), g.rW());
        SpaceToDepth.apply(x, g.s, g.pad, out);
        return out;
    }

    /** The weights zero-padded to {@code s*q} and rearranged: {@code [oC, s*s*C, q, q]}. */
    private INDArray rearrangeWeights(INDArray w, Geo g) {
        long oc = w.size(0), ch = w.size(1);
        int sq = g.s * g.q;
        INDArray padded = Nd4j.create(DataType.FLOAT, oc, ch, sq, sq);
        padded.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, g.k),
                NDArrayIndex.interval(0, g.k)).assign(w);
        return padded.reshape('c', oc, ch, g.q, g.s, g.q, g.s).permute(0, 3, 5, 1, 2, 4).dup('c')
                .reshape('c', oc, (long) g.s * g.s * ch, g.q, g.q);
    }

    /**
     * The inverse rearrangement: {@code [A, s*s*C, h, w]} with channel {@code (by*s + bx)*C + c} back to
     * {@code [A, C, s*h, s*w]} (used for the weight gradient and the input gradient).
     */
    private static INDArray depthToSpace(INDArray a, int s, long channels) {
        long n = a.size(0), h = a.size(2), w = a.size(3);
        return a.reshape('c', n, s, s, channels, h, w).permute(0, 3, 4, 1, 5, 2).dup('c')
                .reshape('c', n, channels, s * h, s * w);
    }

    /** Whether the weight gradient alone can be computed by oneDNN here (no input gradient wanted). */
    private boolean weightsOnly() {
        InputConvolution c = conf2();
        int[] s = c.getStride(), k = c.getKernelSize(), p = c.getPadding();
        return !c.isInputGradient() && !weightsOnlyFailed && c.hasBias() && opsApply()
                && s[0] == s[1] && k[0] == k[1] && p[0] == p[1] && OneDnnWeightGradient.available();
    }

    /** conv1's backward pass when nothing needs its input gradient: oneDNN's backward-weights primitive alone. */
    private Pair<Gradient, INDArray> weightGradientOnly(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        InputConvolution c = conf2();
        INDArray gradW = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray gradB = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.BP_WORKING_MEM)) {
            INDArray delta = MatmulOps.dense(PLAIN_RELU.backprop(lastOutput, epsilon.castTo(DataType.FLOAT)).getFirst());
            INDArray x = MatmulOps.dense(input);
            long[] key = OneDnnWeightGradient.key(x, delta, c.getKernelSize()[0], c.getStride()[0],
                    c.getPadding()[0]);
            if (weightGradient == null || !weightGradient.fits(key)) {
                if (weightGradient != null) {
                    weightGradient.close();
                }
                weightGradient = new OneDnnWeightGradient(key);
            }
            weightGradient.compute(x, delta, gradW, gradB);
        }
        Gradient ret = new DefaultGradient();
        ret.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, gradB);
        ret.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, gradW, 'c');
        weightNoiseParams.clear();
        lastOutput = null;
        return new Pair<>(ret, null);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (lastOutput != null && weightsOnly()) {
            try {
                return weightGradientOnly(epsilon, workspaceMgr);
            } catch (IllegalStateException e) { // oneDNN refused this problem: libnd4j's op from now on
                weightsOnlyFailed = true;
                org.slf4j.LoggerFactory.getLogger(InputConvolutionLayer.class).warn("{}: oneDNN's weight gradient "
                        + "failed ({}); using libnd4j's conv2d_bp", layerConf().getLayerName(), e.getMessage());
            }
        }
        if (lastOutput == null || !rearranged()) {
            Pair<Gradient, INDArray> full = super.backpropGradient(epsilon, workspaceMgr); // conv2d_bp or DL4J's
            return conf2().isInputGradient() ? full : new Pair<>(full.getFirst(), null);
        }
        Geo g = geo();
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
        INDArray gradW = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray gradB = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
        long oc = weights.size(0), ch = weights.size(1);
        INDArray eps = null;
        if (conf2().isInputGradient()) {
            eps = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
        }
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.BP_WORKING_MEM)) {
            // ReLU's derivative at the pre-activation z equals its derivative at the output relu(z)
            INDArray delta = PLAIN_RELU.backprop(lastOutput, epsilon.castTo(DataType.FLOAT)).getFirst();
            INDArray xr = spaceToDepth(input, g);
            INDArray wr = rearrangeWeights(weights, g);
            INDArray gradXr = Nd4j.createUninitialized(DataType.FLOAT, xr.shape());
            INDArray gradWr = Nd4j.createUninitialized(DataType.FLOAT, wr.shape());
            INDArray gradBr = Nd4j.createUninitialized(DataType.FLOAT, oc);
            if (bwdContext == null) {
                bwdContext = Nd4j.getExecutioner().buildContext();
            }
            boolean hasBias = layerConf().hasBias();
            // a stride-1, unpadded q x q convolution of the rearranged arrays
            conv2dBackward(bwdContext, iArgs(new int[]{g.q, g.q}, new int[]{1, 1}, new int[]{0, 0}, CNN2DFormat.NCHW),
                    xr, wr, hasBias ? bias : null, delta, gradXr, gradWr, gradBr);
            // fold back to [oC, C, s*q, s*q] and crop to k x k
            INDArray full = depthToSpace(gradWr, g.s, ch);
            gradW.assign(full.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, g.k),
                    NDArrayIndex.interval(0, g.k)));
            if (hasBias) {
                gradB.assign(gradBr.reshape(gradB.shape()));
            }
            if (eps != null) {
                INDArray padded = depthToSpace(gradXr, g.s, ch);
                long h = Math.min(g.inH, g.s * g.rH() - g.pad), w = Math.min(g.inW, g.s * g.rW() - g.pad);
                eps.assign(0);
                eps.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(0, h),
                        NDArrayIndex.interval(0, w)).assign(padded.get(NDArrayIndex.all(), NDArrayIndex.all(),
                        NDArrayIndex.interval(g.pad, g.pad + h), NDArrayIndex.interval(g.pad, g.pad + w)));
            }
        }
        Gradient ret = new DefaultGradient();
        if (layerConf().hasBias()) {
            ret.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, gradB);
        }
        ret.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, gradW, 'c');
        weightNoiseParams.clear();
        lastOutput = null;
        return new Pair<>(ret, eps);
    }
}
