package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;

/** What the layer tests share: a layer alone on given parameters, and the relative error they compare with. */
final class LayerTests {
    private LayerTests() {
    }

    /** {@code layerConf} instantiated alone (float) on a copy of {@code params}, with a gradient view. */
    static Layer instantiate(org.deeplearning4j.nn.conf.layers.Layer layerConf, INDArray params) {
        NeuralNetConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).layer(layerConf)
                .build();
        Layer l = c.getLayer().instantiate(c, null, 0, params.dup(), false, DataType.FLOAT);
        l.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, params.length()));
        return l;
    }

    /** ||actual - expected|| / ||expected|| in double. */
    static double relErr(INDArray actual, INDArray expected) {
        return actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)).norm2Number().doubleValue()
                / expected.castTo(DataType.DOUBLE).norm2Number().doubleValue();
    }

    /** What {@link #assertSameTrainingPass} compared: DL4J's output, the upstream gradient used, DL4J's gradients. */
    record Compared(INDArray output, INDArray epsilon, Pair<Gradient, INDArray> gradients) {
    }

    /**
     * One training forward pass of both layers on {@code x} and a backward pass of a random upstream gradient:
     * activations (within {@code activationTolerance}), the W and b gradients and the input gradient (within
     * {@code gradientTolerance}) of {@code ours} equal {@code dl4j}'s, as relative errors.
     */
    static Compared assertSameTrainingPass(Layer dl4j, Layer ours, INDArray x, double activationTolerance,
                                           double gradientTolerance) {
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        dl4j.setInput(x, none);
        INDArray expectedY = dl4j.activate(true, none).dup();
        ours.setInput(x, none);
        INDArray y = ours.activate(true, none).dup();
        assertThat(y.shape()).isEqualTo(expectedY.shape());
        assertThat(relErr(y, expectedY)).as("activations").isLessThan(activationTolerance);
        INDArray eps = Nd4j.randn(DataType.FLOAT, y.shape());
        Pair<Gradient, INDArray> expected = dl4j.backpropGradient(eps, none);
        Pair<Gradient, INDArray> actual = ours.backpropGradient(eps, none);
        for (String key : new String[]{"W", "b"}) {
            INDArray e = expected.getFirst().getGradientFor(key);
            INDArray a = actual.getFirst().getGradientFor(key);
            assertThat(a.shape()).as(key).isEqualTo(e.shape());
            assertThat(relErr(a, e)).as(key).isLessThan(gradientTolerance);
        }
        assertThat(relErr(actual.getSecond(), expected.getSecond())).as("input gradient")
                .isLessThan(gradientTolerance);
        return new Compared(expectedY, eps, expected);
    }
}
