package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Arrays;

/**
 * Configuration of a padding layer that replicates each map's edge pixels outwards (PyTorch's
 * {@code padding_mode="replicate"}). DL4J only pads with zeros; this serves the padding-kind ablation.
 * Padding is given as {@code [top, bottom, left, right]}.
 */
public class EdgePadding extends ParameterFreeLayer {

    private int[] padding = new int[4];
    private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

    /** For JSON deserialisation only. */
    public EdgePadding() {
    }

    public EdgePadding(int[] topBottomLeftRight, CNN2DFormat dataFormat) {
        if (topBottomLeftRight == null || topBottomLeftRight.length != 4) {
            throw new IllegalArgumentException("padding must be [top, bottom, left, right], got "
                    + Arrays.toString(topBottomLeftRight));
        }
        for (int p : topBottomLeftRight) {
            if (p < 0) {
                throw new IllegalArgumentException("padding must not be negative: " + Arrays.toString(topBottomLeftRight));
            }
        }
        if (dataFormat == null) {
            throw new IllegalArgumentException("data format must not be null");
        }
        this.padding = topBottomLeftRight.clone();
        this.dataFormat = dataFormat;
    }

    @Override
    protected org.deeplearning4j.nn.api.Layer newLayer(NeuralNetConfiguration conf, DataType dataType) {
        return new EdgePaddingLayer(conf, dataType);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional)) {
            throw new IllegalArgumentException("EdgePadding layer '" + getLayerName()
                    + "' needs convolutional input, got " + inputType);
        }
        InputType.InputTypeConvolutional c = (InputType.InputTypeConvolutional) inputType;
        return InputType.convolutional(c.getHeight() + padding[0] + padding[1],
                c.getWidth() + padding[2] + padding[3], c.getChannels(), dataFormat);
    }

    public int[] getPadding() {
        return padding.clone();
    }

    public void setPadding(int[] padding) {
        this.padding = padding.clone();
    }

    public CNN2DFormat getDataFormat() {
        return dataFormat;
    }

    public void setDataFormat(CNN2DFormat dataFormat) {
        this.dataFormat = dataFormat;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof EdgePadding) || !super.equals(o)) {
            return false;
        }
        EdgePadding e = (EdgePadding) o;
        return Arrays.equals(padding, e.padding) && dataFormat == e.dataFormat;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * super.hashCode() + Arrays.hashCode(padding)) + dataFormat.hashCode();
    }
}
