package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

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
}
