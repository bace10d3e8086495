package org.alexnet4j.model;

import java.util.Locale;

/**
 * Which code computes conv2-conv5 (conv1 is always an {@link org.alexnet4j.model.layers.InputConvolution}). Both
 * compute the same function; the choice is about speed and devices, and exists so the benchmark can compare them in
 * one run.
 */
public enum ConvImplementation {
    /**
     * {@link org.alexnet4j.model.layers.ReluConvolution}: libnd4j's {@code conv2d_bp} on the kept input in the
     * backward pass (no recomputed forward convolution; oneDNN on the CPU, cuDNN on CUDA's {@code -cudnn} build).
     */
    OPS,
    /** DL4J's {@code ConvolutionLayer} (recomputes the forward pass in backward; im2col + cuBLAS on CUDA). */
    DL4J;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static ConvImplementation fromId(String id) {
        for (ConvImplementation c : values()) {
            if (c.id().equalsIgnoreCase(id)) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown convolution implementation '" + id + "' (ops or dl4j)");
    }
}
