package org.alexnet4j.infer;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.Variant;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The oneDNN engine against the network's own output (DL4J, its tests against the double-precision reference):
 * the paper net, its variants and ablations that change what the engine compiles (towers, per-tower LRN in channel
 * blocks that do not fill oneDNN's blocks, 224 input with conv1's overhang, Caffe's LRN constants and rounded-up
 * pooling, torchvision's layer sizes), the batch wrapper's padding and splitting, and what it refuses.
 */
public class OneDnnInferenceTest {
    /** Inputs in the range the nets see (normalised pixels). */
    private static INDArray input(AlexNet net, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, 3, net.inputSize(), net.inputSize()).subi(0.5).muli(4);
    }

    /**
     * The largest difference of the logits behind two sets of probabilities, relative to the largest logit: the log
     * probabilities centred per row are the logits centred per row. (A random net's probabilities are all near
     * 1/classes, so comparing them directly would hide an error in, say, LRN's constants.)
     */
    static double logitError(INDArray got, INDArray want) {
        INDArray a = centred(got), b = centred(want);
        return a.sub(b).amaxNumber().doubleValue() / b.amaxNumber().doubleValue();
    }

    private static INDArray centred(INDArray p) {
        INDArray l = org.nd4j.linalg.ops.transforms.Transforms.log(p.castTo(DataType.DOUBLE), true);
        return l.subColumnVector(l.mean(1).reshape(l.size(0), 1));
    }

    /**
     * A graph of {@code net} with He-scaled random weights and random biases: with the paper's initialisation
     * (weights of std 0.01, biases of 1) the logits of a fresh net hardly depend on the input or on LRN, and a wrong
     * LRN constant went unnoticed.
     */
    public static ComputationGraph graph(AlexNet net) {
        ComputationGraph g = net.newGraph();
        Nd4j.getRandom().setSeed(17);
        for (java.util.Map.Entry<String, INDArray> e : g.paramTable().entrySet()) {
            INDArray p = e.getValue();
            if (e.getKey().endsWith("_W")) {
                long fanIn = p.rank() == 4 ? p.size(1) * p.size(2) * p.size(3) : p.size(0);
                p.assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(Math.sqrt(2.0 / fanIn)));
            } else {
                p.assign(Nd4j.randn(DataType.FLOAT, p.shape()).muli(0.1));
            }
        }
        return g;
    }

    /** Compares the engine with the graph on a batch of {@code n}: logits within float rounding, same classes. */
    private static void assertMatches(AlexNet net, int n) {
        ComputationGraph g = graph(net);
        INDArray x = input(net, n, 5);
        INDArray want = g.outputSingle(false, x);
        try (OneDnnInference e = OneDnnInference.compile(net, g, n)) {
            INDArray got = e.output(x);
            assertThat(got.shape()).containsExactly(n, net.numClasses());
            assertThat(logitError(got, want)).as("%s: logits' largest difference relative to their largest", net)
                    .isLessThan(2e-5);
            assertThat(got.argMax(1).toLongVector()).isEqualTo(want.argMax(1).toLongVector());
            for (double s : got.sum(1).toDoubleVector()) {
                assertThat(s).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
            }
            // a second input through the same compiled engine
            INDArray x2 = input(net, n, 9);
            assertThat(logitError(e.output(x2), g.outputSingle(false, x2))).isLessThan(2e-5);
        }
    }

    @Test
    void thePaperNetGivesTheGraphsProbabilities() {
        assertMatches(AlexNet.builder(Variant.PAPER).seed(3).build(), 2);
    }

    @Test
    void variantsAndAblationsGiveTheGraphsProbabilities() {
        // per-tower LRN over 12 and 32 channels: not whole 16-channel blocks for conv1, so computed in NCHW
        assertMatches(AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(4).build(), 3);
        // one tower: ungrouped convolutions, LRN over all channels of each layer
        assertMatches(AlexNet.builder(Variant.PAPER).grouped(false).width(0.5).numClasses(10).seed(5).build(), 1);
        // 224 input: conv1 pads 3 more on the bottom and right (cuda-convnet's overhang)
        assertMatches(AlexNet.builder(Variant.PAPER).inputSize(224).width(0.5).numClasses(10).seed(6).build(), 2);
        // Caffe: k = 1, alpha / n, pooling rounded up; torchvision: its layer sizes, no LRN
        assertMatches(AlexNet.builder(Variant.CAFFE).width(0.5).numClasses(10).seed(7).build(), 2);
        assertMatches(AlexNet.builder(Variant.TORCHVISION).width(0.5).numClasses(10).seed(8).build(), 2);
        // no LRN
        assertMatches(AlexNet.builder(Variant.PAPER).lrn(false).width(0.5).numClasses(10).seed(9).build(), 1);
    }

    @Test
    void anEngineCompiledInOneThreadRunsInOthers() throws Exception {
        // as eval or a server may use it: each primitive takes its scratchpad from the engine, not from the thread
        for (AlexNet net : new AlexNet[]{AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(4).build(),
                AlexNet.builder(Variant.PAPER).seed(3).build()}) {
            ComputationGraph g = graph(net);
            java.util.concurrent.ExecutorService maker = java.util.concurrent.Executors.newSingleThreadExecutor();
            OneDnnInference e = maker.submit(() -> OneDnnInference.compile(net, g, 2)).get();
            maker.shutdown();
            try (e) {
                for (int round = 0; round < 2; round++) {
                    INDArray x = input(net, 2, 20 + round);
                    java.util.concurrent.ExecutorService other = java.util.concurrent.Executors
                            .newSingleThreadExecutor();
                    INDArray got = other.submit(() -> e.output(x)).get();
                    other.shutdown();
                    assertThat(logitError(got, g.outputSingle(false, x))).as("%s, round %d", net, round)
                            .isLessThan(2e-5);
                }
            }
        }
    }

    @Test
    void noConvolutionFallsToOneDnnsReferenceKernel() {
        // width 0.25: conv2's towers of 12 channels on conv1's plain output had no fast kernel (7 s a batch of 64),
        // and the paper's LRN on conv1's towers of 12 channels ran on oneDNN's reference LRN (a third of the time)
        for (double width : new double[]{0.25, 0.5, 1.0}) {
            for (Variant v : Variant.values()) {
                AlexNet net = AlexNet.builder(v).width(width).numClasses(10).build();
                try (OneDnnInference e = OneDnnInference.compile(net, net.newGraph(), 4)) {
                    assertThat(e.implementations()).as("%s width %s", v, width).isNotEmpty()
                            .noneMatch(s -> s.startsWith("conv") && s.contains(": ref"))
                            .noneMatch(s -> s.startsWith("lrn") && s.contains("ref"))
                            .noneMatch(s -> s.startsWith("pool") && s.contains("ref"));
                }
            }
        }
    }

    @Test
    void theEnginePadsShortBatchesAndSplitsLongOnes() {
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(3).build();
        ComputationGraph g = graph(net);
        try (InferenceEngine e = InferenceEngine.open(InferenceEngine.Kind.AUTO, net, g)) {
            assertThat(e.name()).isEqualTo("oneDNN");
            for (int n : new int[]{4, 3, 9, 1}) { // compiled for 4: then padded, split (4 + 4 + 1 padded), padded
                INDArray x = input(net, n, n);
                INDArray want = g.outputSingle(false, x);
                INDArray got = e.output(x);
                assertThat(got.shape()).containsExactly(n, 10);
                assertThat(logitError(got, want)).as("n=%d", n).isLessThan(2e-5);
            }
        }
    }

    @Test
    void itsFeaturesAreTheGraphsActivations() {
        for (AlexNet net : new AlexNet[]{AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(3).build(),
                AlexNet.builder(Variant.TORCHVISION).width(0.5).numClasses(10).seed(8).build()}) {
            ComputationGraph g = graph(net);
            try (InferenceEngine e = InferenceEngine.open(InferenceEngine.Kind.ONEDNN, net, g)) {
                for (int n : new int[]{4, 3}) { // compiled for 4, then padded
                    INDArray x = input(net, n, n);
                    for (String layer : OneDnnInference.FEATURE_LAYERS) {
                        INDArray want = new org.alexnet4j.eval.FeatureExtractor(g, net, layer).activations(x);
                        INDArray got = Nd4j.create(e.features(layer, x), want.shape(), 'c');
                        assertThat(got.sub(want).amaxNumber().doubleValue() / want.amaxNumber().doubleValue())
                                .as("%s %s n=%d", net.variant(), layer, n).isLessThan(2e-5);
                    }
                }
                assertThatThrownBy(() -> e.features("conv3", input(net, 4, 1)))
                        .hasMessageContaining("gives the features of [pool5, fc6, fc7, fc8], not 'conv3'");
            }
        }
    }

    @Test
    void netsItDoesNotCoverStayOnDl4jOrAreRefusedWithTheReason() {
        AlexNet nhwc = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).dataFormat(CNN2DFormat.NHWC).build();
        assertThat(OneDnnInference.unsupported(nhwc)).contains("NHWC");
        AlexNet edge = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).padding(Padding.EDGE).build();
        assertThat(OneDnnInference.unsupported(edge)).contains("edge");
        ComputationGraph g = nhwc.newGraph();
        try (InferenceEngine auto = InferenceEngine.open(InferenceEngine.Kind.AUTO, nhwc, g)) {
            assertThat(auto.name()).isEqualTo("DL4J");
        }
        assertThatThrownBy(() -> InferenceEngine.open(InferenceEngine.Kind.ONEDNN, nhwc, g))
                .hasMessageContaining("--engine onednn cannot run this net: its data format is NHWC");
        assertThatThrownBy(() -> InferenceEngine.Kind.fromId("tensorrt"))
                .hasMessageContaining("auto, onednn, dl4j or cuda");
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).build();
        try (OneDnnInference e = OneDnnInference.compile(net, net.newGraph(), 2)) {
            assertThatThrownBy(() -> e.output(input(net, 3, 1))).hasMessageContaining("input must be [2, 3, 227, 227]");
        }
    }
}
