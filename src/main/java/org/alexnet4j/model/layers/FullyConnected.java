package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.LayerValidation;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * DL4J's {@link DenseLayer} (same parameters, shapes and JSON form) computed by {@link FullyConnectedLayer}: its
 * products through libnd4j's matmul op in the layout oneDNN accepts (DL4J's path is BLAS sgemm on 'f'-order weights),
 * no recomputed forward pass in the backward pass, and single-example inference as a matrix-vector product (BLAS
 * gemv: fc6 at batch 1 in 4.4-9 ms against 15-18 ms for DL4J's 1-row matrix product), which is what batch-1 latency
 * ({@code predict}, a service) is made of.
 */
public class FullyConnected extends DenseLayer {

    /** For JSON deserialisation only. */
    public FullyConnected() {
    }

    /** A configuration with every setting of {@code built} (a {@code DenseLayer.Builder().build()}). */
    public static FullyConnected of(DenseLayer built) {
        // DenseLayer's constructor from its builder is private
        return LayerWiring.copySettings(DenseLayer.class, built, new FullyConnected());
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        LayerValidation.assertNInNOutSet("FullyConnected", getLayerName(), layerIndex, getNIn(), getNOut());
        return LayerWiring.wire(new FullyConnectedLayer(conf, networkDataType), conf, listeners, layerIndex,
                layerParamsView, initializeParams, initializer());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FullyConnected && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 19 * super.hashCode();
    }
}
