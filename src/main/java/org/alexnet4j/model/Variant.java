package org.alexnet4j.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The AlexNet variants this project builds, with the facts a user checks them against.
 *
 * <p>{@link #PAPER} is the two-tower network of Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep
 * Convolutional Neural Networks", NIPS 2012 (section 3, figure 2). {@link #TORCHVISION} is the single-tower net that
 * {@code torchvision.models.alexnet} ships (from Krizhevsky's "One weird trick", 2014), kept so that torchvision's
 * published weights can be loaded and compared. {@link #CAFFE} is BVLC's Caffe reproduction, the only published weights
 * with the paper's two-tower topology.
 */
public enum Variant {
    /** The 2012 paper's two-tower net: 96/256/384/384/256 kernels, LRN, overlapping pooling, grouped conv2/4/5. */
    PAPER("paper", 60_965_224L, 227, 40.7, 18.2,
            "Krizhevsky et al., NIPS 2012, sections 3-5; ILSVRC-2012 val, 1 CNN (paper's table 2)"),
    /** torchvision's {@code alexnet}: 64/192/384/256/256 kernels, no LRN, no groups, 224 input, conv1 pad 2. */
    TORCHVISION("torchvision", 61_100_840L, 224, 43.48, 20.93,
            "torchvision.models.alexnet (IMAGENET1K_V1), centre crop 224 on ILSVRC-2012 val"),
    /**
     * BVLC's {@code bvlc_alexnet} (Caffe model zoo, also the ONNX model zoo's {@code bvlcalexnet}): the paper's
     * two-tower widths with Caffe's LRN (k = 1, alpha / n) across all channels of conv1 and conv2, Caffe's rounded-up
     * pooling, Caffe's initialisation, BGR 0..255 input.
     */
    CAFFE("caffe", 60_965_224L, 227, 42.9, 19.8,
            "BVLC bvlc_alexnet (Caffe model zoo, iteration 360,000), centre crop 227 on ILSVRC-2012 val");

    private final String id;
    private final long parameters;
    private final int defaultInputSize;
    private final double referenceTop1Error;
    private final double referenceTop5Error;
    private final String referenceSource;

    Variant(String id, long parameters, int defaultInputSize, double top1, double top5, String source) {
        this.id = id;
        this.parameters = parameters;
        this.defaultInputSize = defaultInputSize;
        this.referenceTop1Error = top1;
        this.referenceTop5Error = top5;
        this.referenceSource = source;
    }

    /** The name used on the command line and in files: {@code paper}, {@code torchvision}, {@code caffe}. */
    public String id() {
        return id;
    }

    /** Parameter count (weights + biases) of the full-size, 1000-class net. */
    public long parameters() {
        return parameters;
    }

    public int defaultInputSize() {
        return defaultInputSize;
    }

    /** Published top-1 error (%) of this net on ILSVRC-2012 validation. */
    public double referenceTop1Error() {
        return referenceTop1Error;
    }

    /** Published top-5 error (%) of this net on ILSVRC-2012 validation. */
    public double referenceTop5Error() {
        return referenceTop5Error;
    }

    public String referenceSource() {
        return referenceSource;
    }

    /** Looks a variant up by its {@link #id()} (case-insensitive); fails with the list of valid names. */
    public static Variant fromId(String id) {
        if (id != null) {
            for (Variant v : values()) {
                if (v.id.equals(id.trim().toLowerCase(Locale.ROOT))) {
                    return v;
                }
            }
        }
        throw new IllegalArgumentException("Unknown model variant '" + id + "'; expected one of "
                + Arrays.stream(values()).map(Variant::id).collect(Collectors.joining(", ")));
    }

    @Override
    public String toString() {
        return id;
    }
}
