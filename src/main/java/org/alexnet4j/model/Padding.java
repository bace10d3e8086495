package org.alexnet4j.model;

/** How convolution borders are padded (an ablation; the paper pads with zeros). */
public enum Padding {
    /** Zeros, as cuda-convnet and the paper. */
    ZEROS,
    /** Replicate the edge pixel of each map outwards ("edge" / "replicate" padding). */
    EDGE
}
