package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.nd4j.linalg.api.buffer.DataType;


/**
 * A large-stride convolution of few channels, such as conv1 (11x11, stride 4, 3 channels): DL4J's
 * {@link ConvolutionLayer} (same parameters, shapes, forward pass and JSON form) whose backward pass is computed as that
 * of a stride-1 convolution of the space-to-depth rearranged input ({@link InputConvolutionLayer}). oneDNN's backward
 * pass for the strided layer ran at a quarter of the speed of its stride-1 kernels: 0.4 s per conv1 tower of a
 * batch-128 step against 0.23 s (docs/stack.md).
 *
 * <p>{@code inputGradient = false} (for a layer that reads the network input) returns no gradient for the input,
 * which nothing upstream needs; DL4J's graph accepts a missing input gradient only from layers fed by a graph input.
 */
public class InputConvolution extends ReluConvolution {

    private boolean inputGradient = true;

    /** For JSON deserialisation only. */
    public InputConvolution() {
    }

    /** A configuration with every setting of {@code builder} (validated as {@code builder.build()} would). */
    public InputConvolution(ConvolutionLayer.Builder builder, boolean inputGradient) {
        super(builder);
        this.inputGradient = inputGradient;
    }

    public boolean isInputGradient() {
        return inputGradient;
    }

    public void setInputGradient(boolean inputGradient) {
        this.inputGradient = inputGradient;
    }

    @Override
    protected ReluConvolutionLayer newLayer(NeuralNetConfiguration conf, DataType networkDataType) {
        return new InputConvolutionLayer(conf, networkDataType);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof InputConvolution c && super.equals(o) && inputGradient == c.inputGradient;
    }

    @Override
    public int hashCode() {
        return 31 * super.hashCode() + Boolean.hashCode(inputGradient);
    }
}
