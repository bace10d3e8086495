package org.alexnet4j.model.layers;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.nd4j.linalg.api.buffer.DataType;

import java.util.Objects;

/**
 * Configuration of local response normalisation across channels in the paper's form (section 3.3):
 * {@code b_c = a_c / (k + alpha * sum_{c'=c-n/2}^{c+n/2} a_c'^2)^beta}, alpha applied to the plain sum (not divided
 * by n as in Caffe and PyTorch), the window clipped at the first and last channel.
 *
 * <p>Same function as DL4J's {@code LocalResponseNormalization}, a faster implementation ({@link ChannelLrnLayer}):
 * on the CPU, DL4J 1.0.0-M2.1 runs LRN through libnd4j's {@code lrn}/{@code lrn_bp} ops, which took half of a
 * batch-128 training step of the paper net (docs/benchmarks.md).
 */
public class ChannelLrn extends ParameterFreeLayer {

    private double k = 2;
    private int n = 5;
    private double alpha = 1e-4;
    private double beta = 0.75;
    private CNN2DFormat dataFormat = CNN2DFormat.NCHW;

    /** For JSON deserialisation only. */
    public ChannelLrn() {
    }

    /**
     * @param k          additive constant, {@code > 0}
     * @param n          window size in channels, odd and {@code >= 1}
     * @param alpha      scale of the sum of squares, {@code >= 0}
     * @param beta       exponent, {@code >= 0}
     * @param dataFormat NCHW or NHWC
     */
    public ChannelLrn(double k, int n, double alpha, double beta, CNN2DFormat dataFormat) {
        if (!(k > 0)) {
            throw new IllegalArgumentException("LRN k must be > 0, got " + k);
        }
        if (n < 1 || n % 2 == 0) {
            throw new IllegalArgumentException("LRN window n must be odd and >= 1, got " + n);
        }
        if (!(alpha >= 0) || !(beta >= 0)) {
            throw new IllegalArgumentException("LRN alpha and beta must be >= 0, got alpha " + alpha + ", beta " + beta);
        }
        this.k = k;
        this.n = n;
        this.alpha = alpha;
        this.beta = beta;
        if (dataFormat == null) {
            throw new IllegalArgumentException("LRN data format must not be null");
        }
        this.dataFormat = dataFormat;
    }

    @Override
    protected org.deeplearning4j.nn.api.Layer newLayer(NeuralNetConfiguration conf, DataType dataType) {
        return new ChannelLrnLayer(conf, dataType);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        if (!(inputType instanceof InputType.InputTypeConvolutional)) {
            throw new IllegalArgumentException("LRN layer '" + getLayerName() + "' needs convolutional input, got "
                    + inputType);
        }
        return inputType;
    }

    public double getK() {
        return k;
    }

    public void setK(double k) {
        this.k = k;
    }

    public int getN() {
        return n;
    }

    public void setN(int n) {
        this.n = n;
    }

    public double getAlpha() {
        return alpha;
    }

    public void setAlpha(double alpha) {
        this.alpha = alpha;
    }

    public double getBeta() {
        return beta;
    }

    public void setBeta(double beta) {
        this.beta = beta;
    }

    public CNN2DFormat getDataFormat() {
        return dataFormat;
    }

    public void setDataFormat(CNN2DFormat dataFormat) {
        this.dataFormat = dataFormat;
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof ChannelLrn) || !super.equals(o)) {
            return false;
        }
        ChannelLrn l = (ChannelLrn) o;
        return k == l.k && n == l.n && alpha == l.alpha && beta == l.beta && dataFormat == l.dataFormat;
    }

    @Override
    public int hashCode() {
        return Objects.hash(super.hashCode(), k, n, alpha, beta, dataFormat);
    }
}
