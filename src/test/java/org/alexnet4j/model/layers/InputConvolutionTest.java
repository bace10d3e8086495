package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.alexnet4j.model.layers.LayerTests.instantiate;
import static org.alexnet4j.model.layers.LayerTests.relErr;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link InputConvolutionLayer} (space-to-depth + stride-1 convolution) against DL4J's own convolution layer on the
 * same parameters and input: activations, weight and bias gradients, and the input gradient.
 */
class InputConvolutionTest {

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    private static ConvolutionLayer.Builder conv(int kernel, int stride, int pad, int nOut) {
        return new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride).padding(pad, pad).nIn(3).nOut(nOut)
                .activation(Activation.RELU).convolutionMode(ConvolutionMode.Truncate);
    }

    @ParameterizedTest
    @CsvSource({
            "11, 4, 0, 8, 3, 67",   // conv1's geometry (227 in the paper), small
            "11, 4, 0, 8, 2, 70",   // rows and columns past the last window: cropped, gradient 0 there
            "11, 4, 2, 8, 2, 64",   // torchvision's conv1: padding 2
            "5, 2, 1, 4, 2, 21",    // another stride and kernel, k not a multiple of s
    })
    void sameActivationsAndGradientsAsDl4jsConvolution(int kernel, int stride, int pad, int nOut, int n, int size) {
        Nd4j.getRandom().setSeed(11);
        long nParams = (long) nOut * 3 * kernel * kernel + nOut;
        INDArray params = Nd4j.randn(DataType.FLOAT, 1, nParams).muli(0.05);
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 3, size, size).muli(10);
        Layer dl4j = instantiate(conv(kernel, stride, pad, nOut).build(), params);
        Layer ours = instantiate(new InputConvolution(conv(kernel, stride, pad, nOut), true), params);
        Layer noGrad = instantiate(new InputConvolution(conv(kernel, stride, pad, nOut), false), params);
        assertThat(ours).isInstanceOf(InputConvolutionLayer.class);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        LayerTests.Compared c = LayerTests.assertSameTrainingPass(dl4j, ours, x, 1e-5, 1e-5);
        INDArray yExpected = c.output(), eps = c.epsilon();
        Pair<Gradient, INDArray> expected = c.gradients();

        noGrad.setInput(x, none);
        noGrad.activate(true, none);
        Pair<Gradient, INDArray> withoutInput = noGrad.backpropGradient(eps, none);
        assertThat(withoutInput.getSecond()).isNull();
        assertThat(relErr(withoutInput.getFirst().getGradientFor("W"), expected.getFirst().getGradientFor("W")))
                .isLessThan(1e-5);
        // inference (no kept output) and a backward pass without a training forward pass fall back to DL4J's code
        assertThat(relErr(ours.activate(false, none), yExpected)).isLessThan(1e-5);
    }

    @ParameterizedTest
    @CsvSource({"4, 0, 3, 227, 57", "4, 2, 3, 64, 17", "4, 0, 3, 70, 18", "2, 1, 2, 21, 12"})
    void spaceToDepthsDeviceSafeTwinEqualsTheJavaKernel(int s, int pad, int n, int size, int r) {
        Nd4j.getRandom().setSeed(5);
        // a strided view as input, as a merged tower's slice would be
        INDArray x = Nd4j.randn(DataType.FLOAT, n, 5, size, size).get(NDArrayIndex.all(),
                NDArrayIndex.interval(1, 4), NDArrayIndex.all(), NDArrayIndex.all());
        INDArray kernel = Nd4j.createUninitialized(DataType.FLOAT, n, (long) s * s * 3, r, r);
        INDArray ops = Nd4j.createUninitialized(DataType.FLOAT, n, (long) s * s * 3, r, r);
        SpaceToDepth.apply(x, s, pad, kernel);
        SpaceToDepth.withOps(x, s, pad, ops);
        assertThat(ops).isEqualTo(kernel);
        // and the switch routes apply() to the twin
        INDArray viaSwitch = Nd4j.createUninitialized(DataType.FLOAT, n, (long) s * s * 3, r, r);
        System.setProperty(org.alexnet4j.runtime.HostMemory.DEVICE_SAFE, "true");
        try {
            SpaceToDepth.apply(x, s, pad, viaSwitch);
        } finally {
            System.clearProperty(org.alexnet4j.runtime.HostMemory.DEVICE_SAFE);
        }
        assertThat(viaSwitch).isEqualTo(kernel);
    }

    @ParameterizedTest
    @CsvSource({
            "5, 1, 2, NCHW, op", "5, 1, 2, NCHW, dl4j", // conv2's geometry, small
            "3, 1, 1, NCHW, op", "3, 1, 1, NCHW, dl4j", // conv3-5 (NHWC stays on DL4J's layer)
            "3, 2, 0, NCHW, op", // a strided one
    })
    void reluConvolutionMatchesDl4jsLayerWithBothForwards(int kernel, int stride, int pad, String format,
                                                          String forward) {
        System.setProperty(ReluConvolutionLayer.FORWARD, forward);
        try {
            Nd4j.getRandom().setSeed(13);
            int nIn = 6, nOut = 8, n = 3, size = 13;
            CNN2DFormat f = CNN2DFormat.valueOf(format);
            java.util.function.Supplier<ConvolutionLayer.Builder> b = () -> new ConvolutionLayer.Builder(kernel, kernel)
                    .stride(stride, stride).padding(pad, pad).nIn(nIn).nOut(nOut).activation(Activation.RELU)
                    .convolutionMode(ConvolutionMode.Truncate).dataFormat(f);
            INDArray params = Nd4j.randn(DataType.FLOAT, 1, (long) nOut * nIn * kernel * kernel + nOut).muli(0.1);
            INDArray x = f == CNN2DFormat.NCHW ? Nd4j.randn(DataType.FLOAT, n, nIn, size, size)
                    : Nd4j.randn(DataType.FLOAT, n, size, size, nIn);
            Layer dl4j = instantiate(b.get().build(), params);
            Layer ours = instantiate(new ReluConvolution(b.get()), params);
            assertThat(ours).isInstanceOf(ReluConvolutionLayer.class);
            LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
            INDArray yExpected = LayerTests.assertSameTrainingPass(dl4j, ours, x, 1e-5, 1e-5).output();
            assertThat(relErr(ours.activate(false, none), yExpected)).as("inference").isLessThan(1e-5);
        } finally {
            System.clearProperty(ReluConvolutionLayer.FORWARD);
        }
    }
}
