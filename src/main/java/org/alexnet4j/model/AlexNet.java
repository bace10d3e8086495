package org.alexnet4j.model;

import org.alexnet4j.model.layers.ChannelLrn;
import org.alexnet4j.model.layers.ChannelSlice;
import org.alexnet4j.model.layers.EdgePadding;
import org.alexnet4j.model.layers.FullyConnected;
import org.alexnet4j.model.layers.FullyConnectedOutput;
import org.alexnet4j.model.layers.InputConvolution;
import org.alexnet4j.model.layers.ReluConvolution;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration.GraphBuilder;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.distribution.NormalDistribution;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * AlexNet as a DL4J {@link ComputationGraph}: the two-tower network of Krizhevsky, Sutskever and Hinton (NIPS 2012,
 * section 3 and figure 2), torchvision's single-tower variant, and the paper's own ablations.
 *
 * <p>This class only declares the network: layers, connectivity and the paper's initialisation (section 5: weights
 * N(0, 0.01^2), biases 1 in conv2, conv4, conv5, fc6, fc7 and 0 elsewhere). The optimiser, regularisation and schedule
 * belong to the training recipe, which passes them in through {@link #configuration(NeuralNetConfiguration.Builder)}.
 *
 * <h2>How the paper net is laid out</h2>
 * DL4J 1.0.0-M2.1 has no grouped convolution, so the two "GPU" towers are separate layers, exactly as in
 * cuda-convnet2's own two-GPU layer file: {@code conv1a}/{@code conv1b} (48 kernels each) both read the image;
 * {@code lrn1a}, {@code pool1a}, {@code conv2a} (128 kernels over tower a's 48 maps only), {@code lrn2a},
 * {@code pool2a} stay on their tower; {@code merge2} joins the towers; {@code conv3a}/{@code conv3b} (192 each) both
 * read all 256 maps; {@code conv4a}, {@code conv5a}, {@code pool5a} read tower a only; {@code merge5} joins them
 * (tower a's 128 maps first) and feeds {@code fc6}. The same parameters in PyTorch form ({@code groups=2} for
 * conv2, conv4, conv5) are described by {@link #paramLayers()}.
 *
 * <h2>Deliberate choices where the paper is silent or others differ</h2>
 * <ul>
 *   <li>LRN uses the paper's formula, {@code b = a / (k + alpha * sum a^2)^beta}, alpha NOT divided by n (Caffe and
 *       PyTorch divide). It runs within a tower, as each GPU normalised its own maps (cuda-convnet2's
 *       {@code rnorm1a}/{@code rnorm1b}); order is conv, ReLU, LRN, pool (section 3.3).</li>
 *   <li>Input 227 with no padding gives 55x55 conv1 maps. The 224 option pads right and bottom by 3 (layer
 *       {@code pad0}), which is what cuda-convnet's rounded-up output size amounts to.</li>
 *   <li>Dropout (section 4.2) is applied to the outputs of fc6 and fc7 ({@code drop6}, {@code drop7}); DL4J's
 *       dropout is inverted (scaled at training time), which is equivalent to the paper's test-time halving.</li>
 * </ul>
 *
 * <p>Instances are immutable; build them with {@link #builder()}.
 */
public final class AlexNet {

    /** Name of the graph input. */
    public static final String INPUT = "input";
    /** Name of the output layer (the 1000-way softmax). */
    public static final String OUTPUT = "fc8";

    /** LRN constants of section 3.3, in the paper's formula (alpha applies to the plain sum of squares). */
    public static final double LRN_K = 2.0;
    public static final double LRN_N = 5;
    public static final double LRN_ALPHA = 1e-4;
    public static final double LRN_BETA = 0.75;
    /** Caffe's LRN (bvlc_alexnet): k = 1 and alpha 1e-4 as Caffe writes it, divided by n inside the layer. */
    public static final double CAFFE_LRN_K = 1.0;
    public static final double CAFFE_LRN_ALPHA = 1e-4;
    /** Caffe's initialisation where it differs from the paper's: biases 0.1 ("1 gave a flat loss"), fc6/fc7 std. */
    static final double CAFFE_BIAS = 0.1;
    static final double CAFFE_FC_STD = 0.005;
    /** Standard deviation of the zero-mean Gaussian weight initialisation (section 5). */
    public static final double INIT_STD = 0.01;
    /** Dropout rate on fc6 and fc7 outputs (section 4.2). */
    public static final double PAPER_DROPOUT = 0.5;

    /** Widths of the paper net: conv1..conv5 kernels and the FC width. */
    private static final int[] PAPER_CONV = {96, 256, 384, 384, 256};
    private static final int[] TORCHVISION_CONV = {64, 192, 384, 256, 256};
    private static final int FC_WIDTH = 4096;

    private final Variant variant;
    private final int inputSize;
    private final int numClasses;
    private final boolean lrn;
    private final LrnImplementation lrnImplementation;
    private final ConvImplementation convImplementation;
    private final boolean inputGradient;
    private final boolean overlappingPooling;
    private final Pooling pooling;
    private final boolean grouped;
    private final Padding padding;
    private final double dropout;
    private final double width;
    private final CNN2DFormat format;
    private final DataType dataType;
    private final long seed;
    private final List<ConvDef> convs;
    private final int fcWidth;
    private final List<ParamLayer> paramLayers;

    private AlexNet(Builder b) {
        this.variant = b.variant;
        this.inputSize = b.inputSize;
        this.numClasses = b.numClasses;
        this.lrn = b.lrn;
        this.lrnImplementation = b.lrnImplementation;
        this.convImplementation = b.convImplementation;
        this.inputGradient = b.inputGradient;
        this.overlappingPooling = b.overlappingPooling;
        this.pooling = b.pooling;
        this.grouped = b.grouped;
        this.padding = b.padding;
        this.dropout = b.dropout;
        this.width = b.width;
        this.format = b.format;
        this.dataType = b.dataType;
        this.seed = b.seed;
        this.convs = b.convs;
        this.fcWidth = b.fcWidth;
        this.paramLayers = Collections.unmodifiableList(describeParams());
    }

    /** A builder preset to the paper's net; see {@link Builder} for every option and its default. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder for {@code variant} with that variant's defaults. */
    public static Builder builder(Variant variant) {
        return new Builder().variant(variant);
    }

    // ------------------------------------------------------------------------------------------------------------
    // The graph
    // ------------------------------------------------------------------------------------------------------------

    /**
     * The graph configuration with a neutral training setup (plain SGD, learning rate 0.01, no regularisation). Use
     * {@link #configuration(NeuralNetConfiguration.Builder)} to train with a real recipe.
     */
    public ComputationGraphConfiguration configuration() {
        return configuration(new NeuralNetConfiguration.Builder().updater(new Sgd(0.01)));
    }

    /**
     * The graph configuration on top of {@code training}, which carries the recipe's global settings (updater,
     * regularisation, workspace and cache modes). This method sets the seed and data type and declares every layer,
     * with the paper's initialisation; it overrides nothing else in {@code training}.
     */
    public ComputationGraphConfiguration configuration(NeuralNetConfiguration.Builder training) {
        if (training == null) {
            throw new IllegalArgumentException("training settings must not be null");
        }
        GraphBuilder g = training.seed(seed).dataType(dataType).graphBuilder();
        g.addInputs(INPUT);
        g.setInputTypes(inputType());

        String in = INPUT;
        int overhang = overhang();
        if (overhang > 0) {
            in = addPadding(g, "pad0", in, new int[]{0, overhang, 0, overhang});
        }

        int towers = grouped ? 2 : 1;
        boolean caffe = variant == Variant.CAFFE;
        List<String> current = List.of(in);
        List<Sides> sides = sides();
        int previousChannels = 3;
        int block = 0;
        for (ConvDef d : convs) {
            block++;
            int parts = d.towerSplit ? towers : 1;
            List<String> partInputs = new ArrayList<>();
            if (d.groupedConnectivity && towers == 2) {
                // each tower reads its own half; a map normalised across both towers (Caffe) is cut in two
                partInputs.addAll(current.size() == 2 ? current
                        : slices(g, "slice" + (block - 1), current.get(0), previousChannels));
            } else {
                String single = current.size() == 1 ? current.get(0) : merge(g, "merge" + (block - 1), current);
                for (int t = 0; t < parts; t++) {
                    partInputs.add(single);
                }
            }
            List<String> outputs = new ArrayList<>();
            for (int t = 0; t < parts; t++) {
                String x = partInputs.get(t);
                String conv = d.name + suffix(t, parts);
                int pad = d.pad;
                if (pad > 0 && padding == Padding.EDGE) {
                    x = addPadding(g, conv + "_pad", x, new int[]{pad, pad, pad, pad});
                    pad = 0;
                }
                ConvolutionLayer.Builder cb = new ConvolutionLayer.Builder(d.kernel, d.kernel)
                        .stride(d.stride, d.stride)
                        .padding(pad, pad)
                        .nOut(d.channels / parts)
                        .activation(Activation.RELU)
                        .weightInit(new NormalDistribution(0, INIT_STD))
                        .biasInit(d.bias)
                        .convolutionMode(ConvolutionMode.Truncate)
                        .dataFormat(format);
                // conv1 (stride 4) as a stride-1 convolution of the space-to-depth input; the image's own gradient
                // only when asked for or when a layer before conv1 (the 224 overhang, edge padding) needs it
                // conv2-conv5 through libnd4j's ops (ReluConvolution) or DL4J's layer
                g.addLayer(conv, d.stride > 1
                        ? new InputConvolution(cb, inputGradient || !x.equals(INPUT))
                        : convImplementation == ConvImplementation.OPS ? new ReluConvolution(cb) : cb.build(), x);
                outputs.add(conv);
            }
            Sides side = sides.get(block - 1);
            boolean norm = d.lrn && lrn;
            if (caffe && norm && outputs.size() > 1) {
                // Caffe normalises across all channels of the layer, over the tower boundary
                outputs = List.of(merge(g, "merge" + block, outputs));
            }
            List<String> blockOutputs = new ArrayList<>();
            for (int t = 0; t < outputs.size(); t++) {
                String suffix = suffix(t, outputs.size());
                String x = outputs.get(t);
                if (norm) {
                    String name = "lrn" + block + suffix;
                    g.addLayer(name, lrnLayer(), x);
                    x = name;
                }
                if (d.pool) {
                    String name = "pool" + block + suffix;
                    int extra = side.poolPadding();
                    if (extra > 0) {
                        // Caffe rounds pooled sizes up; its last window reaches past the map. Zeros there are
                        // exact: pooling is max over ReLU outputs (>= 0), the only kind the caffe variant has.
                        g.addLayer(name + "_pad", new ZeroPaddingLayer.Builder(0, extra, 0, extra)
                                .dataFormat(format).build(), x);
                        x = name + "_pad";
                    }
                    int window = poolWindow();
                    g.addLayer(name, new SubsamplingLayer.Builder(
                                    pooling == Pooling.MAX ? PoolingType.MAX : PoolingType.AVG)
                            .kernelSize(window, window)
                            .stride(2, 2)
                            .convolutionMode(ConvolutionMode.Truncate)
                            .dataFormat(format)
                            .build(), x);
                    x = name;
                }
                blockOutputs.add(x);
            }
            previousChannels = d.channels;
            current = blockOutputs;
        }
        String features = current.size() == 1 ? current.get(0) : merge(g, "merge" + block, current);

        boolean dropBeforeFc = variant == Variant.TORCHVISION;
        String x = features;
        for (int i = 0; i < 2; i++) {
            int index = 6 + i;
            String fc = "fc" + index;
            String drop = "drop" + index;
            if (dropBeforeFc) {
                x = addDropout(g, drop, x);
            }
            // DL4J's dense layer, with a matrix-vector product for single-example inference (batch-1 latency)
            g.addLayer(fc, FullyConnected.of(new DenseLayer.Builder()
                    .nOut(fcWidth)
                    .activation(Activation.RELU)
                    .weightInit(new NormalDistribution(0, variant == Variant.CAFFE ? CAFFE_FC_STD : INIT_STD))
                    .biasInit(hiddenBias())
                    .build()), x);
            x = fc;
            if (!dropBeforeFc) {
                x = addDropout(g, drop, x);
            }
        }
        // DL4J's output layer, its products through the matmul op (as fc6/fc7)
        g.addLayer(OUTPUT, FullyConnectedOutput.of(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(numClasses)
                .activation(Activation.SOFTMAX)
                .weightInit(new NormalDistribution(0, INIT_STD))
                .biasInit(0.0)
                .build()), x);
        g.setOutputs(OUTPUT);
        g.validateOutputLayerConfig(true);
        return g.build();
    }

    /** A new, initialised graph with the neutral training setup of {@link #configuration()}. */
    public ComputationGraph newGraph() {
        return newGraph(configuration());
    }

    /** A new graph from a configuration made by this builder, initialised with the paper's initialisation. */
    public static ComputationGraph newGraph(ComputationGraphConfiguration conf) {
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }

    private String addPadding(GraphBuilder g, String name, String input, int[] tblr) {
        if (padding == Padding.EDGE) {
            g.addLayer(name, new EdgePadding(tblr, format), input);
        } else {
            g.addLayer(name, new ZeroPaddingLayer.Builder(tblr[0], tblr[1], tblr[2], tblr[3])
                    .dataFormat(format).build(), input);
        }
        return name;
    }

    private String addDropout(GraphBuilder g, String name, String input) {
        if (dropout <= 0) {
            return input;
        }
        // DL4J's DropoutLayer takes the RETAIN probability.
        g.addLayer(name, new DropoutLayer.Builder(1.0 - dropout).build(), input);
        return name;
    }

    private static String merge(GraphBuilder g, String name, List<String> inputs) {
        g.addVertex(name, new MergeVertex(), inputs.toArray(new String[0]));
        return name;
    }

    /** Two layers that pass on the first and the second half of {@code input}'s channels: {@code NAMEa}, {@code NAMEb}. */
    private List<String> slices(GraphBuilder g, String name, String input, int channels) {
        int half = channels / 2;
        g.addLayer(name + "a", new ChannelSlice(0, half, format), input);
        g.addLayer(name + "b", new ChannelSlice(half, channels - half, format), input);
        return List.of(name + "a", name + "b");
    }

    private static String suffix(int part, int parts) {
        return parts == 2 ? (part == 0 ? "a" : "b") : "";
    }

    /** The LRN layer: the paper's constants and form, or Caffe's (k = 1, alpha divided by n). */
    private org.deeplearning4j.nn.conf.layers.Layer lrnLayer() {
        double k = lrnK();
        double alpha = lrnAlpha(); // both layers take the paper's form
        if (lrnImplementation == LrnImplementation.DL4J) {
            return new LocalResponseNormalization.Builder().k(k).n(LRN_N).alpha(alpha).beta(LRN_BETA)
                    .dataFormat(format).build();
        }
        return new ChannelLrn(k, (int) LRN_N, alpha, LRN_BETA, format);
    }

    /** Bias initialisation of conv2, conv4, conv5, fc6 and fc7: 1 (paper), 0.1 (Caffe), 0 (torchvision). */
    private double hiddenBias() {
        return switch (variant) {
            case PAPER -> 1.0;
            case CAFFE -> CAFFE_BIAS;
            case TORCHVISION -> 0.0;
        };
    }

    /**
     * A conv block's map sides: after the convolution, the zero rows Caffe's rounded-up pooling needs, and after the
     * block (pooled or not).
     */
    private record Sides(int conv, int poolPadding, int out) {
    }

    /** Each conv block's sides, worked out in this one place from the input size (the 224 overhang included). */
    private List<Sides> sides() {
        List<Sides> out = new ArrayList<>();
        int spatial = inputSize + overhang();
        for (ConvDef d : convs) {
            int conv = (spatial + 2 * d.pad - d.kernel) / d.stride + 1;
            int poolPadding = d.pool && variant == Variant.CAFFE ? caffeExtraRows(conv) : 0;
            spatial = d.pool ? pooledSize(conv) : conv;
            out.add(new Sides(conv, poolPadding, spatial));
        }
        return out;
    }

    /** Pooled side of a {@code side x side} map: floor rounding (paper, PyTorch), Caffe's ceil for the caffe net. */
    private int pooledSize(int side) {
        int window = poolWindow();
        int floor = (side - window) / 2 + 1;
        return floor + (variant == Variant.CAFFE ? caffeExtraWindows(side) : 0);
    }

    /** 1 if Caffe's rounded-up pooling adds a last window that overhangs a map of this side, else 0. */
    private int caffeExtraWindows(int side) {
        return (side - poolWindow()) % 2 != 0 ? 1 : 0;
    }

    /** Rows (and columns) of zeros that make floor-rounded pooling give Caffe's rounded-up size. */
    private int caffeExtraRows(int side) {
        return caffeExtraWindows(side) == 0 ? 0 : (pooledSize(side) - 1) * 2 + poolWindow() - side;
    }

    /** Right/bottom padding that makes a 224 input give cuda-convnet's 55x55 conv1 maps (0 otherwise). */
    private int overhang() {
        return variant == Variant.PAPER && inputSize == 224 ? 3 : 0;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Description
    // ------------------------------------------------------------------------------------------------------------

    private List<ParamLayer> describeParams() {
        List<ParamLayer> out = new ArrayList<>();
        for (NetSpec.ConvBlock b : describeBlocks()) {
            out.add(b.layer());
        }
        int spatial = sides().get(convs.size() - 1).out();
        int inChannels = convs.get(convs.size() - 1).channels;
        int flat = inChannels * spatial * spatial;
        out.add(new ParamLayer("fc6", false, fcWidth, flat, 0, 1, List.of("fc6"),
                new int[]{inChannels, spatial, spatial}));
        out.add(new ParamLayer("fc7", false, fcWidth, fcWidth, 0, 1, List.of("fc7"), null));
        out.add(new ParamLayer(OUTPUT, false, numClasses, fcWidth, 0, 1, List.of(OUTPUT), null));
        return out;
    }

    private List<NetSpec.ConvBlock> describeBlocks() {
        List<NetSpec.ConvBlock> out = new ArrayList<>();
        int towers = grouped ? 2 : 1;
        int inChannels = 3;
        List<Sides> sides = sides();
        for (int i = 0; i < convs.size(); i++) {
            ConvDef d = convs.get(i);
            int groups = d.groupedConnectivity && towers == 2 ? 2 : 1;
            int n = d.towerSplit ? towers : 1;
            List<String> parts = new ArrayList<>();
            for (int t = 0; t < n; t++) {
                parts.add(d.name + suffix(t, n));
            }
            ParamLayer layer = new ParamLayer(d.name, true, d.channels, inChannels / groups, d.kernel, groups, parts,
                    null);
            boolean norm = d.lrn && lrn;
            int lrnGroups = norm ? (variant == Variant.CAFFE ? 1 : n) : 0;
            out.add(new NetSpec.ConvBlock(layer, d.stride, d.pad, lrnGroups, d.pool, sides.get(i).poolPadding()));
            inChannels = d.channels;
        }
        return out;
    }

    /** The five convolution blocks, in order. */
    public List<NetSpec.ConvBlock> convBlocks() {
        return describeBlocks();
    }

    /**
     * The network as it computes, without DL4J types: what the exporters and the engines (oneDNN, CUDA) read. Each
     * parameter layer's initialisation is the one the graph's layers declare.
     */
    public NetSpec spec() {
        List<ParamLayer> params = paramLayers();
        Map<String, NetSpec.Init> init = new LinkedHashMap<>();
        for (int i = 0; i < convs.size(); i++) {
            init.put(params.get(i).name(), new NetSpec.Init(INIT_STD, convs.get(i).bias));
        }
        double fcStd = variant == Variant.CAFFE ? CAFFE_FC_STD : INIT_STD;
        init.put("fc6", new NetSpec.Init(fcStd, hiddenBias()));
        init.put("fc7", new NetSpec.Init(fcStd, hiddenBias()));
        init.put(OUTPUT, new NetSpec.Init(INIT_STD, 0.0));
        return new NetSpec(variant.id(), inputSize, overhang(), padding == Padding.EDGE, describeBlocks(),
                params.subList(convs.size(), params.size()), poolWindow(), pooling == Pooling.MAX, lrnK(),
                (int) LRN_N, lrnAlpha(), LRN_BETA, dropout, variant == Variant.TORCHVISION, init);
    }

    /** LRN's k (2 for the paper, 1 for Caffe). */
    public double lrnK() {
        return variant == Variant.CAFFE ? CAFFE_LRN_K : LRN_K;
    }

    /** LRN's alpha as applied to the plain sum of squares (the paper's form: Caffe's alpha / n for Caffe). */
    public double lrnAlpha() {
        return variant == Variant.CAFFE ? CAFFE_LRN_ALPHA / LRN_N : LRN_ALPHA;
    }

    /** Pooling window (3, or 2 without overlapping pooling); the stride is always 2. */
    public int poolWindow() {
        return overlappingPooling ? 3 : 2;
    }

    /** Right and bottom padding of the input (3 for the paper net at 224, cuda-convnet's overhang; else 0). */
    public int inputOverhang() {
        return overhang();
    }

    /**
     * The weighted layers in PyTorch's terms, in order ({@code conv1} ... {@code fc8}): what the .npz interchange,
     * summaries and parameter counts are made of.
     */
    public List<ParamLayer> paramLayers() {
        return paramLayers;
    }

    /** Number of parameters (weights and biases), counted from {@link #paramLayers()} without building anything. */
    public long parameterCount() {
        return paramLayers.stream().mapToLong(ParamLayer::parameters).sum();
    }

    /** The graph's input type: 3 x size x size in the chosen data format. */
    public InputType inputType() {
        return InputType.convolutional(inputSize, inputSize, 3, format);
    }

    /** Shape of one example as the graph expects it: {@code [3, S, S]} (NCHW) or {@code [S, S, 3]} (NHWC). */
    public long[] exampleShape() {
        return format == CNN2DFormat.NCHW ? new long[]{3, inputSize, inputSize} : new long[]{inputSize, inputSize, 3};
    }

    /** The resolved settings, for logs, summaries and run directories. */
    public Map<String, Object> settings() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("variant", variant.id());
        m.put("inputSize", inputSize);
        m.put("numClasses", numClasses);
        m.put("towers", grouped ? 2 : 1);
        m.put("lrn", lrn);
        m.put("lrnImplementation", lrnImplementation.id());
        m.put("convImplementation", convImplementation.id());
        m.put("inputGradient", inputGradient);
        m.put("pooling", pooling.name().toLowerCase(Locale.ROOT) + (overlappingPooling ? " 3/2" : " 2/2"));
        m.put("padding", padding.name().toLowerCase(Locale.ROOT));
        m.put("dropout", dropout);
        m.put("width", width);
        m.put("dataFormat", format.name());
        m.put("dataType", dataType.name());
        m.put("seed", seed);
        return m;
    }

    /**
     * Rebuilds a net from {@link #settings()} (as stored with checkpoints and weight files). Unknown keys are an
     * error, so a file from a newer version is not silently misread.
     */
    public static AlexNet fromSettings(Map<String, ?> settings) {
        Builder b = builder();
        for (Map.Entry<String, ?> e : settings.entrySet()) {
            String v = String.valueOf(e.getValue());
            switch (e.getKey()) {
                case "variant" -> b.variant(Variant.fromId(v));
                case "inputSize" -> b.inputSize(Integer.parseInt(v));
                case "numClasses" -> b.numClasses(Integer.parseInt(v));
                case "towers" -> b.grouped(Integer.parseInt(v) == 2);
                case "lrn" -> b.lrn(Boolean.parseBoolean(v));
                case "lrnImplementation" -> b.lrnImplementation(LrnImplementation.fromId(v));
                case "convImplementation" -> b.convImplementation(ConvImplementation.fromId(v));
                case "inputGradient" -> b.inputGradient(Boolean.parseBoolean(v));
                case "pooling" -> {
                    String[] p = v.split(" ");
                    b.pooling(Pooling.valueOf(p[0].toUpperCase(Locale.ROOT)));
                    b.overlappingPooling(p.length < 2 || p[1].equals("3/2"));
                }
                case "padding" -> b.padding(Padding.valueOf(v.toUpperCase(Locale.ROOT)));
                case "dropout" -> b.dropout(Double.parseDouble(v));
                case "width" -> b.width(Double.parseDouble(v));
                case "dataFormat" -> b.dataFormat(CNN2DFormat.valueOf(v));
                case "dataType" -> b.dataType(DataType.valueOf(v));
                case "seed" -> b.seed(Long.parseLong(v));
                default -> throw new IllegalArgumentException("unknown model setting '" + e.getKey() + "'");
            }
        }
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AlexNet a && settings().equals(a.settings());
    }

    @Override
    public int hashCode() {
        return settings().hashCode();
    }

    @Override
    public String toString() {
        return "AlexNet" + settings();
    }

    public Variant variant() {
        return variant;
    }

    public int inputSize() {
        return inputSize;
    }

    public int numClasses() {
        return numClasses;
    }

    public boolean lrn() {
        return lrn;
    }

    public LrnImplementation lrnImplementation() {
        return lrnImplementation;
    }

    public ConvImplementation convImplementation() {
        return convImplementation;
    }

    public boolean overlappingPooling() {
        return overlappingPooling;
    }

    public Pooling pooling() {
        return pooling;
    }

    /** True for the paper's two towers (grouped conv2/conv4/conv5). */
    public boolean grouped() {
        return grouped;
    }

    public Padding padding() {
        return padding;
    }

    /** Dropout rate (probability of dropping a unit), 0 for none. */
    public double dropout() {
        return dropout;
    }

    public double width() {
        return width;
    }

    public CNN2DFormat dataFormat() {
        return format;
    }

    public DataType dataType() {
        return dataType;
    }

    public long seed() {
        return seed;
    }

    // ------------------------------------------------------------------------------------------------------------

    /** One convolution block as declared by the paper (widths already scaled). */
    private record ConvDef(String name, int channels, int kernel, int stride, int pad, boolean groupedConnectivity,
                           boolean lrn, boolean pool, double bias, boolean towerSplit) {
        ConvDef(String name, int channels, int kernel, int stride, int pad, boolean groupedConnectivity, boolean lrn,
                boolean pool, double bias) {
            this(name, channels, kernel, stride, pad, groupedConnectivity, lrn, pool, bias, true);
        }
    }

    /**
     * Builds an {@link AlexNet}. Every option has a visible default: the paper's net at 227x227, 1000 classes, NCHW,
     * float32, seed 42. Options that change the paper's topology (LRN, pooling, towers, padding kind) are the paper's
     * ablations and are rejected for the torchvision variant, whose topology is fixed.
     */
    public static final class Builder {
        private Variant variant = Variant.PAPER;
        private Integer inputSize;
        private int numClasses = 1000;
        private Boolean lrn;
        private LrnImplementation lrnImplementation = LrnImplementation.ALEXNET4J;
        private ConvImplementation convImplementation = ConvImplementation.OPS;
        private boolean inputGradient;
        private Boolean overlappingPooling;
        private Pooling pooling;
        private Boolean grouped;
        private Padding padding;
        private Double dropout;
        private double width = 1.0;
        private CNN2DFormat format = CNN2DFormat.NCHW;
        private DataType dataType = DataType.FLOAT;
        private long seed = 42;
        private boolean anyInputSize;
        // resolved in build()
        private List<ConvDef> convs;
        private int fcWidth;

        private Builder() {
        }

        /** Which net: {@link Variant#PAPER} (default) or {@link Variant#TORCHVISION}. */
        public Builder variant(Variant variant) {
            if (variant == null) {
                throw new IllegalArgumentException("variant must not be null");
            }
            this.variant = variant;
            return this;
        }

        /** Input crop size: 227 (default for the paper net) or 224 (cuda-convnet's overhang; torchvision's only size). */
        public Builder inputSize(int inputSize) {
            this.inputSize = inputSize;
            return this;
        }

        /**
         * For tests only: any input size from {@value #MIN_INPUT} up (the smallest that leaves a 1x1 pool5), so that
         * gradient checks of the full topology run in seconds. Not the paper's net: fc6's input shrinks.
         */
        Builder testInputSize(int inputSize) {
            this.inputSize = inputSize;
            this.anyInputSize = true;
            return this;
        }

        /** Smallest input {@link #testInputSize} accepts: conv1 15 -> pool1 7 -> pool2 3 -> pool5 1. */
        static final int MIN_INPUT = 67;

        /** Number of classes of fc8 (default 1000, at least 2). */
        public Builder numClasses(int numClasses) {
            this.numClasses = numClasses;
            return this;
        }

        /** Ablation: local response normalisation after conv1 and conv2 (paper: on). */
        public Builder lrn(boolean lrn) {
            this.lrn = lrn;
            return this;
        }

        /** Which code computes LRN: this project's kernel (default) or DL4J's layer; the same function. */
        public Builder lrnImplementation(LrnImplementation implementation) {
            if (implementation == null) {
                throw new IllegalArgumentException("LRN implementation must not be null");
            }
            this.lrnImplementation = implementation;
            return this;
        }

        /** Which code computes the convolutions: libnd4j's ops (default) or DL4J's layers; the same function. */
        public Builder convImplementation(ConvImplementation implementation) {
            if (implementation == null) {
                throw new IllegalArgumentException("convolution implementation must not be null");
            }
            this.convImplementation = implementation;
            return this;
        }

        /**
         * Whether backpropagation computes the gradient with respect to the input image (default false: training does
         * not need it). Set it for saliency maps or adversarial inputs through
         * {@code ComputationGraph.backpropGradient}.
         */
        public Builder inputGradient(boolean inputGradient) {
            this.inputGradient = inputGradient;
            return this;
        }

        /** Ablation: overlapping pooling, window 3 stride 2 (paper: on); off means window 2 stride 2. */
        public Builder overlappingPooling(boolean overlapping) {
            this.overlappingPooling = overlapping;
            return this;
        }

        /** Ablation: max (paper) or average pooling. */
        public Builder pooling(Pooling pooling) {
            if (pooling == null) {
                throw new IllegalArgumentException("pooling must not be null");
            }
            this.pooling = pooling;
            return this;
        }

        /** Ablation: two towers with grouped conv2/conv4/conv5 (paper: true) or one tower of the same total widths. */
        public Builder grouped(boolean grouped) {
            this.grouped = grouped;
            return this;
        }

        /** Ablation: zeros (paper) or edge-replication padding of the convolutions. */
        public Builder padding(Padding padding) {
            if (padding == null) {
                throw new IllegalArgumentException("padding must not be null");
            }
            this.padding = padding;
            return this;
        }

        /** Dropout rate on the two hidden FC layers, in [0, 1) (paper: 0.5; 0 removes the dropout layers). */
        public Builder dropout(double rate) {
            this.dropout = rate;
            return this;
        }

        /**
         * Width multiplier in (0, 4]: every conv and FC width is scaled (tower widths rounded, at least 1 channel),
         * the topology is unchanged. For quick runs and tests; 1 is the paper.
         */
        public Builder width(double width) {
            this.width = width;
            return this;
        }

        /** Activation layout of the graph: NCHW (default) or NHWC. Parameters and the .npz layout do not change. */
        public Builder dataFormat(CNN2DFormat format) {
            if (format == null) {
                throw new IllegalArgumentException("data format must not be null");
            }
            this.format = format;
            return this;
        }

        /** Parameter and activation type: FLOAT (default), or DOUBLE for gradient checks. */
        public Builder dataType(DataType dataType) {
            if (dataType == null || !dataType.isFPType()) {
                throw new IllegalArgumentException("data type must be a floating point type, got " + dataType);
            }
            this.dataType = dataType;
            return this;
        }

        /** Seed of the weight initialisation (default 42). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Validates every option and returns the network description; fails with a message naming the option. */
        public AlexNet build() {
            return copy().resolve();
        }

        private Builder copy() {
            Builder b = new Builder();
            b.variant = variant;
            b.inputSize = inputSize;
            b.numClasses = numClasses;
            b.lrn = lrn;
            b.lrnImplementation = lrnImplementation;
            b.convImplementation = convImplementation;
            b.inputGradient = inputGradient;
            b.overlappingPooling = overlappingPooling;
            b.pooling = pooling;
            b.grouped = grouped;
            b.padding = padding;
            b.dropout = dropout;
            b.width = width;
            b.format = format;
            b.dataType = dataType;
            b.seed = seed;
            b.anyInputSize = anyInputSize;
            return b;
        }

        /** Fills in defaults and validates; runs on a copy so that this builder can be reused. */
        private AlexNet resolve() {
            boolean paper = variant == Variant.PAPER;
            boolean caffe = variant == Variant.CAFFE;
            boolean twoTower = paper || caffe;
            if (!paper) {
                // Caffe's net keeps the LRN and towers ablations; its pooling is Caffe's (rounded up, max)
                if (!caffe) {
                    rejectAblation("lrn", lrn, false);
                    rejectAblation("grouped", grouped, false);
                }
                rejectAblation("overlappingPooling", overlappingPooling, true);
                rejectAblation("pooling", pooling, Pooling.MAX);
                rejectAblation("padding", padding, Padding.ZEROS);
            }
            if (inputSize == null) {
                inputSize = variant.defaultInputSize();
            }
            if (anyInputSize) {
                if (inputSize < MIN_INPUT) {
                    throw new IllegalArgumentException("test input size must be at least " + MIN_INPUT + ", got "
                            + inputSize);
                }
            } else if (twoTower && inputSize != 227 && inputSize != 224) {
                throw new IllegalArgumentException("inputSize must be 227 or 224 for the " + variant.id()
                        + " net, got " + inputSize);
            } else if (!twoTower && inputSize != 224) {
                throw new IllegalArgumentException("inputSize must be 224 for the torchvision net, got " + inputSize);
            }
            if (numClasses < 2) {
                throw new IllegalArgumentException("numClasses must be at least 2, got " + numClasses);
            }
            if (dropout == null) {
                dropout = PAPER_DROPOUT;
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("dropout rate must be in [0, 1), got " + dropout);
            }
            if (!(width > 0 && width <= 4)) {
                throw new IllegalArgumentException("width multiplier must be in (0, 4], got " + width);
            }
            lrn = lrn == null ? twoTower : lrn;
            overlappingPooling = overlappingPooling == null || overlappingPooling;
            pooling = pooling == null ? Pooling.MAX : pooling;
            grouped = grouped == null ? twoTower : grouped;
            padding = padding == null ? Padding.ZEROS : padding;

            int[] base = twoTower ? PAPER_CONV : TORCHVISION_CONV;
            int[] c = new int[5];
            for (int i = 0; i < 5; i++) {
                c[i] = grouped ? 2 * scale(base[i] / 2) : scale(base[i]);
            }
            fcWidth = scale(FC_WIDTH);
            if (lrn) {
                int perTower = grouped && paper ? Math.min(c[0], c[1]) / 2 : Math.min(c[0], c[1]);
                if (perTower <= LRN_N / 2) {
                    throw new IllegalArgumentException(String.format(Locale.ROOT,
                            "width %.4g leaves %d channels per tower in conv1/conv2; LRN over n=%d needs at least %d"
                                    + " (use a larger width or lrn(false))", width, perTower, (int) LRN_N,
                            (int) (LRN_N / 2) + 1));
                }
            }
            if (paper) {
                convs = List.of(
                        new ConvDef("conv1", c[0], 11, 4, 0, false, true, true, 0.0),
                        new ConvDef("conv2", c[1], 5, 1, 2, true, true, true, 1.0),
                        new ConvDef("conv3", c[2], 3, 1, 1, false, false, false, 0.0),
                        new ConvDef("conv4", c[3], 3, 1, 1, true, false, false, 1.0),
                        new ConvDef("conv5", c[4], 3, 1, 1, true, false, true, 1.0));
            } else if (caffe) {
                // bvlc_alexnet: conv1 is one layer (its LRN spans both towers), group 2 in conv2, conv4, conv5
                convs = List.of(
                        new ConvDef("conv1", c[0], 11, 4, 0, false, true, true, 0.0, false),
                        new ConvDef("conv2", c[1], 5, 1, 2, true, true, true, CAFFE_BIAS),
                        new ConvDef("conv3", c[2], 3, 1, 1, false, false, false, 0.0),
                        new ConvDef("conv4", c[3], 3, 1, 1, true, false, false, CAFFE_BIAS),
                        new ConvDef("conv5", c[4], 3, 1, 1, true, false, true, CAFFE_BIAS));
            } else {
                convs = List.of(
                        new ConvDef("conv1", c[0], 11, 4, 2, false, false, true, 0.0),
                        new ConvDef("conv2", c[1], 5, 1, 2, false, false, true, 0.0),
                        new ConvDef("conv3", c[2], 3, 1, 1, false, false, false, 0.0),
                        new ConvDef("conv4", c[3], 3, 1, 1, false, false, false, 0.0),
                        new ConvDef("conv5", c[4], 3, 1, 1, false, false, true, 0.0));
            }
            return new AlexNet(this);
        }

        private int scale(int channels) {
            return Math.max(1, (int) Math.round(channels * width));
        }

        private void rejectAblation(String option, Object value, Object fixed) {
            if (value != null && !value.equals(fixed)) {
                throw new IllegalArgumentException(option + "=" + value + " is an ablation of the paper net; the "
                        + variant.id() + " variant has a fixed topology (" + option + "=" + fixed + ")");
            }
        }
    }
}
