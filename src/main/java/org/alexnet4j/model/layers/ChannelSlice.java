package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * Configuration of a layer that passes on a consecutive block of channels, {@code [from, from + count)}: how a tower
 * takes its half of a map that was normalised across both towers (Caffe's bvlc_alexnet runs LRN over all 96 conv1
 * maps, then conv2's {@code group: 2} reads each half). DL4J M2.1's {@code SubsetVertex} computes a negative channel
 * count for convolutional input and slices dimension 1 in every layout, so this project has its own, for NCHW and
 * NHWC.
 */
public class ChannelSlice extends ParameterFreeLayer {

    private int from;
    private int count = 1;
    private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

    /** For JSON deserialisation only. */
    public ChannelSlice() {
    }

    /**
     * @param from       first channel kept, {@code >= 0}
     * @param count      number of channels kept, {@code >= 1}
     * @param dataFormat NCHW or NHWC
     */
    public ChannelSlice(int from, int count, CNN2DFormat dataFormat) {
        if (from < 0 || count < 1) {
            throw new IllegalArgumentException("channel slice needs from >= 0 and count >= 1, got from " + from
                    + ", count " + count);
        }
        if (dataFormat == null) {
            throw new IllegalArgumentException("data format must not be null");
        }
        this.from = from;
        this.count = count;
        this.dataFormat = dataFormat;
    }

    @Override
    protected org.deeplearning4j.nn.api.Layer newLayer(NeuralNetConfiguration conf, DataType dataType) {
        return new ChannelSliceLayer(conf, dataType);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional c)) {
            throw new IllegalArgumentException("channel slice '" + getLayerName() + "' needs convolutional input, got "
                    + inputType);
        }
        if (from + count > c.getChannels()) {
            throw new IllegalArgumentException("channel slice '" + getLayerName() + "' takes channels " + from + ".."
                    + (from + count - 1) + " of a map with " + c.getChannels());
        }
        return InputType.convolutional(c.getHeight(), c.getWidth(), count, dataFormat);
    }

    public int getFrom() {
        return from;
    }

    public void setFrom(int from) {
        this.from = from;
    }

    public int getCount() {
        return count;
    }

    public void setCount(int count) {
        this.count = count;
    }

    public CNN2DFormat getDataFormat() {
        return dataFormat;
    }

    public void setDataFormat(CNN2DFormat dataFormat) {
        this.dataFormat = dataFormat;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ChannelSlice s) || !super.equals(o)) {
            return false;
        }
        return from == s.from && count == s.count && dataFormat == s.dataFormat;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * super.hashCode() + from) + count) + dataFormat.hashCode();
    }
}
