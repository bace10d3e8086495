package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.Collection;

/**
 * A convolution followed by ReLU, as DL4J's {@link ConvolutionLayer} (same parameters, shapes and JSON form), run
 * through libnd4j's own ops ({@link ReluConvolutionLayer}): {@code conv2d} forward, {@code conv2d_bp} backward on the
 * kept input and ReLU's derivative read off the kept output. DL4J's layer recomputes the whole forward convolution
 * inside its backward pass (cache mode none), and on CUDA it never calls libnd4j's conv2d (im2col + cuBLAS, no
 * cuDNN); the ops run oneDNN on the CPU build and cuDNN on the CUDA {@code -cudnn} build.
 */
public class ReluConvolution extends ConvolutionLayer {

    /** For JSON deserialisation only. */
    public ReluConvolution() {
    }

    /** A configuration with every setting of {@code builder} (validated as {@code builder.build()} would). */
    public ReluConvolution(ConvolutionLayer.Builder builder) {
        super(validated(builder));
    }

    static ConvolutionLayer.Builder validated(ConvolutionLayer.Builder builder) {
        builder.build(); // DL4J's own argument checks
        return builder;
    }

    @Override
    public Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners, int layerIndex,
                             INDArray layerParamsView, boolean initializeParams, DataType networkDataType) {
        return LayerWiring.wire(newLayer(conf, networkDataType), conf, listeners, layerIndex, layerParamsView,
                initializeParams, initializer());
    }

    /** The layer this configuration makes (a subclass's own). */
    protected ReluConvolutionLayer newLayer(NeuralNetConfiguration conf, DataType networkDataType) {
        return new ReluConvolutionLayer(conf, networkDataType);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReluConvolution && super.equals(o);
    }

    @Override
    public int hashCode() {
        return 17 * super.hashCode();
    }
}
