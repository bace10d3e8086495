package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.OpContext;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2DDerivative;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Locale;

/**
 * {@link ReluConvolution}'s implementation: a convolution + ReLU through libnd4j's {@code conv2d} and
 * {@code conv2d_bp} ops. The training forward pass keeps its output; the backward pass reads ReLU's derivative off
 * it (relu'(z) = relu'(relu(z)) for plain ReLU) and runs {@code conv2d_bp} on the kept input, so the forward
 * convolution is never recomputed (DL4J's layer recomputes it with cache mode none, ~1/3 of a convolution's cost).
 *
 * <p>The forward pass is the op ({@code -Dalexnet4j.convForward=op}, the default) or DL4J's own ({@code dl4j}, which
 * on the CPU runs the same oneDNN kernel through its helper). Anything the ops here do not cover (another
 * activation, NHWC, Same mode, dilation, dropout on the input, weight noise, non-float data) is DL4J's code as before
 * (DL4J's NHWC layer permutes its arrays to NCHW internally, and its backward pass does not match the kept arrays).
 */
public class ReluConvolutionLayer extends ConvolutionLayer {
    /** System property: the forward pass, "op" or "dl4j" (default: {@link #defaultForward()}). */
    public static final String FORWARD = "alexnet4j.convForward";
    /** Plain ReLU: its derivative at z and at relu(z) agree, and its backprop leaves both arguments unchanged. */
    static final ActivationReLU PLAIN_RELU = new ActivationReLU();
    /** The kept output of the last training forward pass (relu(z)); null when there is none. */
    protected INDArray lastOutput;
    private OpContext fwdContext;
    private OpContext bwdContext;

    public ReluConvolutionLayer(NeuralNetConfiguration conf, DataType dataType) {
        super(conf, dataType);
    }

    /**
     * The forward implementation when {@link #FORWARD} is not set: the op on every backend. On CUDA DL4J's layer
     * never reaches cuDNN; on the CPU both run oneDNN's kernel and measured the same (b128 training step of the paper
     * net: 2045-2053 ms with the op against 2064-2076 ms, docs/benchmarks.md), so the CPU runs, and the tests
     * exercise, the code a GPU runs.
     */
    static final String DEFAULT_FORWARD = "op";

    /** The forward implementation in effect: "op" or "dl4j" ({@link #FORWARD}, else {@link #DEFAULT_FORWARD}). */
    public static String forward() {
        String f = System.getProperty(FORWARD, DEFAULT_FORWARD).toLowerCase(Locale.ROOT);
        if (!f.equals("op") && !f.equals("dl4j")) {
            throw new IllegalArgumentException("-D" + FORWARD + " must be op or dl4j, not '" + f + "'");
        }
        return f;
    }

    /** True when the ops cover this layer's configuration and input. */
    protected boolean opsApply() {
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        int[] d = c.getDilation();
        return PLAIN_RELU.equals(c.getActivationFn()) && c.getConvolutionMode() != ConvolutionMode.Same
                && c.getCnn2dDataFormat() == CNN2DFormat.NCHW
                && d[0] == 1 && d[1] == 1 && c.getIDropout() == null && c.getWeightNoise() == null
                && input != null && input.rank() == 4 && input.dataType() == DataType.FLOAT
                && dataType == DataType.FLOAT && channelsMatch();
    }

    private boolean channelsMatch() {
        return input.size(1) == layerConf().getNIn();
    }

    /** conv2d's integer arguments for kernel {@code k}, stride {@code s}, padding {@code p}. */
    static long[] iArgs(int[] k, int[] s, int[] p, CNN2DFormat format) {
        return new long[]{k[0], k[1], s[0], s[1], p[0], p[1], 1, 1, 0, format == CNN2DFormat.NCHW ? 0 : 1,
                1 /* weights [oC, iC, kH, kW], DL4J's layout */};
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
        if (!opsApply()) {
            lastOutput = null;
            return super.activate(training, workspaceMgr);
        }
        INDArray out = forward().equals("op") ? forwardOp(training, workspaceMgr) : super.activate(training, workspaceMgr);
        lastOutput = training ? out : null;
        return out;
    }

    private INDArray forwardOp(boolean training, LayerWorkspaceMgr workspaceMgr) {
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        CNN2DFormat format = c.getCnn2dDataFormat();
        INDArray w = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, workspaceMgr);
        INDArray b = c.hasBias() ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr)
                : null;
        int[] k = c.getKernelSize(), s = c.getStride(), p = c.getPadding();
        int[] outSize = ConvolutionUtils.getOutputSize(input, k, s, p, c.getConvolutionMode(), c.getDilation(),
                format);
        long n = input.size(0), oc = c.getNOut();
        long[] shape = format == CNN2DFormat.NCHW ? new long[]{n, oc, outSize[0], outSize[1]}
                : new long[]{n, outSize[0], outSize[1], oc};
        INDArray out = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, shape, 'c');
        if (fwdContext == null) {
            fwdContext = Nd4j.getExecutioner().buildContext();
        }
        fwdContext.purge();
        fwdContext.setIArguments(iArgs(k, s, p, format));
        fwdContext.setInputArray(0, input);
        fwdContext.setInputArray(1, w);
        if (b != null) {
            fwdContext.setInputArray(2, b.reshape(b.length()));
        }
        fwdContext.setOutputArray(0, out);
        Nd4j.exec(new Conv2D(), fwdContext);
        fwdContext.purge();
        return Transforms.relu(out, false);
    }

    /**
     * libnd4j's {@code conv2d_bp}: input {@code x}, weights {@code w}, bias {@code b} (null: none) and the gradient
     * at the pre-activation {@code delta} in; the gradients of input, weights and bias out into {@code gx},
     * {@code gw}, {@code gb}.
     */
    static void conv2dBackward(OpContext ctx, long[] iArgs, INDArray x, INDArray w, INDArray b, INDArray delta,
                               INDArray gx, INDArray gw, INDArray gb) {
        ctx.purge();
        ctx.setIArguments(iArgs);
        ctx.setInputArray(0, x);
        ctx.setInputArray(1, w);
        if (b != null) {
            ctx.setInputArray(2, b.reshape(b.length()));
        }
        ctx.setInputArray(b != null ? 3 : 2, delta);
        ctx.setOutputArray(0, gx);
        ctx.setOutputArray(1, gw);
        if (b != null) {
            ctx.setOutputArray(2, gb);
        }
        Nd4j.exec(new Conv2DDerivative(), ctx);
        ctx.purge();
    }

    /** The backward pass does not use DL4J's cached pre-activation, so this layer never keeps one. */
    @Override
    public void setCacheMode(CacheMode mode) {
        super.setCacheMode(CacheMode.NONE);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
        if (lastOutput == null || !opsApply()) {
            return super.backpropGradient(epsilon, workspaceMgr);
        }
        org.deeplearning4j.nn.conf.layers.ConvolutionLayer c = layerConf();
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
        INDArray bias = getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr);
        INDArray gradW = gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY);
        INDArray gradB = gradientViews.get(ConvolutionParamInitializer.BIAS_KEY);
        boolean hasBias = c.hasBias();
        INDArray eps = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        try (MemoryWorkspace ignored = workspaceMgr.notifyScopeBorrowed(ArrayType.BP_WORKING_MEM)) {
            INDArray delta = PLAIN_RELU.backprop(lastOutput, epsilon.castTo(DataType.FLOAT)).getFirst();
            INDArray gw = Nd4j.createUninitialized(DataType.FLOAT, weights.shape());
            INDArray gb = hasBias ? Nd4j.createUninitialized(DataType.FLOAT, c.getNOut()) : null;
            if (bwdContext == null) {
                bwdContext = Nd4j.getExecutioner().buildContext();
            }
            conv2dBackward(bwdContext, iArgs(c.getKernelSize(), c.getStride(), c.getPadding(), c.getCnn2dDataFormat()),
                    input, weights, hasBias ? bias : null, delta, eps, gw, gb);
            gradW.assign(gw);
            if (hasBias) {
                gradB.assign(gb.reshape(gradB.shape()));
            }
        }
        Gradient ret = new DefaultGradient();
        if (hasBias) {
            ret.setGradientFor(ConvolutionParamInitializer.BIAS_KEY, gradB);
        }
        ret.setGradientFor(ConvolutionParamInitializer.WEIGHT_KEY, gradW, 'c');
        weightNoiseParams.clear();
        lastOutput = null;
        return new Pair<>(ret, eps);
    }
}
