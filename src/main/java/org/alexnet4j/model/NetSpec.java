package org.alexnet4j.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The network as it computes, in plain Java with no DL4J type: the one description that every engine and exporter
 * reads ({@link AlexNet#spec()}), so that the ONNX exporter, the oneDNN inference engine and the CUDA engine
 * ({@code org.alexnet4j.cuda}, which must run where only a JRE and JavaCPP exist) never drift from the model builder.
 *
 * <p>Activations are NCHW. Parameters are in PyTorch's layout ({@link ParamLayer#weightShape()}): convolution weights
 * {@code [out, in/groups, k, k]}, fully connected weights {@code [out, in]}, fc6's input flattened as (C, H, W).
 *
 * @param variant         the variant's id ({@code paper}, {@code caffe}, {@code torchvision})
 * @param inputSize       side of the square input image
 * @param inputOverhang   rows/columns added at the right and bottom of the image before conv1 (3 for the paper net
 *                        at 224, cuda-convnet's overhang; else 0)
 * @param edgePadding     true when padding repeats the edge pixels (the padding ablation), false for zeros
 * @param blocks          the five convolution blocks in order (convolution + ReLU, optional LRN and pooling)
 * @param fullyConnected  fc6, fc7 and fc8 (fc8 is followed by the softmax)
 * @param poolWindow      pooling window (3 overlapping, 2 not); the stride is always 2
 * @param maxPooling      true for max pooling, false for average pooling (an ablation)
 * @param lrnK            LRN's k
 * @param lrnSize         LRN's window n (channels)
 * @param lrnAlpha        LRN's alpha in the paper's form (applied to the plain sum of squares; Caffe's divides by n)
 * @param lrnBeta         LRN's beta
 * @param dropout         dropout rate (probability of dropping), 0 for none
 * @param dropoutBeforeFc true when dropout is applied to the inputs of fc6 and fc7 (torchvision), false when to the
 *                        outputs of fc6 and fc7 (the paper)
 * @param init            the initialisation of each parameter layer by name: weight standard deviation and bias
 */
public record NetSpec(String variant, int inputSize, int inputOverhang, boolean edgePadding, List<ConvBlock> blocks,
                      List<ParamLayer> fullyConnected, int poolWindow, boolean maxPooling, double lrnK, int lrnSize,
                      double lrnAlpha, double lrnBeta, double dropout, boolean dropoutBeforeFc,
                      Map<String, Init> init) {

    /** The pooling stride of every variant. */
    public static final int POOL_STRIDE = 2;

    public NetSpec {
        blocks = List.copyOf(blocks);
        fullyConnected = List.copyOf(fullyConnected);
        init = Map.copyOf(new LinkedHashMap<>(init));
        if (blocks.isEmpty() || fullyConnected.isEmpty()) {
            throw new IllegalArgumentException("a net needs convolution blocks and fully connected layers");
        }
    }

    /**
     * One convolution block as the network computes it: the convolution (ReLU follows), then optionally LRN and
     * pooling.
     *
     * @param layer       the convolution in PyTorch's terms
     * @param stride      its stride
     * @param pad         its zero (or, with edge padding, edge) padding on every side
     * @param lrnGroups   0 for no LRN; else the number of channel blocks LRN runs in separately (2: the paper's
     *                    per-tower LRN; 1: across all channels)
     * @param pool        whether pooling ({@link #poolWindow()}, stride 2) follows
     * @param poolPadding bottom/right padding before the pooling that gives Caffe's rounded-up size (0 elsewhere)
     */
    public record ConvBlock(ParamLayer layer, int stride, int pad, int lrnGroups, boolean pool, int poolPadding) {
    }

    /** A layer's initialisation: weights N(0, weightStd^2), biases the constant {@code bias}. */
    public record Init(double weightStd, double bias) {
    }

    /** Every parameter layer in order: the convolutions, then the fully connected layers. */
    public List<ParamLayer> paramLayers() {
        List<ParamLayer> out = new ArrayList<>();
        blocks.forEach(b -> out.add(b.layer()));
        out.addAll(fullyConnected);
        return out;
    }

    /** Number of output classes (fc8's width). */
    public int numClasses() {
        return fullyConnected.get(fullyConnected.size() - 1).outChannels();
    }

    /** Side of a convolution's output for an input of side {@code in}. */
    public static int convolved(int in, int kernel, int stride, int pad) {
        return (in + 2 * pad - kernel) / stride + 1;
    }

    /** Side of a pooled map (floor rounding) of a map of side {@code in}, after {@code extra} rows of padding. */
    public int pooled(int in, int extra) {
        return (in + extra - poolWindow) / POOL_STRIDE + 1;
    }
}
