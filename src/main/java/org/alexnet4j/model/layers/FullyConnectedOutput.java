package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's {@link OutputLayer} (same parameters, loss, shapes and JSON form) computed by
 * {@link FullyConnectedOutputLayer}: fc8's products through libnd4j's matmul op in the layout oneDNN accepts, as
 * {@link FullyConnected} does for fc6/fc7 (DL4J's path is BLAS sgemm on 'f'-order weights, three times a step: the
 * forward pass, the score and the backward pass each compute the logits).
 */
public class FullyConnectedOutput extends OutputLayer {

    /** For JSON deserialisation only. */
    public FullyConnectedOutput() {
    }

    /** A configuration with every setting of {@code built} (an {@code OutputLayer.Builder().build()}). */
    public static FullyConnectedOutput of(OutputLayer built) {
        // OutputLayer's constructor from its builder is protected and takes the builder only
        return LayerWiring.copySettings(OutputLayer.class, built, new FullyConnectedOutput());
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("FullyConnectedOutput", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new FullyConnectedOutputLayer(conf, networkDataType), conf, listeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FullyConnectedOutput && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 23 * super.hashCode();
    }
}
