package org.alexnet4j.model;

import java.util.List;

/**
 * One weighted layer as PyTorch would declare it ({@code nn.Conv2d} or {@code nn.Linear}), and the graph layers that
 * hold it.
 *
 * <p>DL4J has no grouped convolution, so a tower-split layer is several graph layers ({@code parts}), each holding a
 * consecutive block of the output channels, in order. For a {@code groups=2} layer, part {@code i} reads input
 * channel block {@code i} (PyTorch's grouped layout); for {@code groups=1}, every part reads all input channels
 * (the paper's conv1 and conv3, whose towers see everything).
 *
 * @param name        the stable logical name: {@code conv1} ... {@code conv5}, {@code fc6} ... {@code fc8}
 * @param convolution true for a convolution, false for a fully connected layer
 * @param outChannels output channels (or units) in total, over all parts
 * @param inPerGroup  input channels each output channel reads ({@code in / groups}); for FC layers, all inputs
 * @param kernel      square kernel size (0 for FC layers)
 * @param groups      PyTorch's {@code groups}: 2 for the paper's grouped conv2/conv4/conv5, else 1
 * @param parts       graph layer names holding consecutive output blocks, e.g. {@code [conv2a, conv2b]}
 * @param inputMap    for the first FC layer only: the (channels, height, width) of the map it flattens, else null
 */
public record ParamLayer(String name, boolean convolution, int outChannels, int inPerGroup, int kernel, int groups,
                         List<String> parts, int[] inputMap) {

    public ParamLayer {
        parts = List.copyOf(parts);
    }

    /** PyTorch's weight shape: {@code [out, in/groups, k, k]} or {@code [out, in]}. */
    public long[] weightShape() {
        return convolution ? new long[]{outChannels, inPerGroup, kernel, kernel} : new long[]{outChannels, inPerGroup};
    }

    /** Number of weights (the product of {@link #weightShape()}). */
    public long weightCount() {
        long w = 1;
        for (long d : weightShape()) {
            w *= d;
        }
        return w;
    }

    /** Number of weights plus biases. */
    public long parameters() {
        return weightCount() + outChannels;
    }
}
