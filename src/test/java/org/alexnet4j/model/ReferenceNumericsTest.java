package org.alexnet4j.model;

import org.alexnet4j.TestNets;
import org.alexnet4j.eval.Inference;
import org.alexnet4j.reference.ReferenceAlexNet;
import org.alexnet4j.reference.ReferenceAlexNet.Map3;
import org.alexnet4j.reference.ReferenceAlexNet.Options;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * DL4J's forward pass checked against {@link ReferenceAlexNet}, an independent double-precision implementation from
 * the paper's formulas and PyTorch's weight layout. Operators are checked one at a time on DL4J's own input to each
 * (tight tolerances), then whole networks end to end (float32 vs double, relative tolerance).
 */
class ReferenceNumericsTest {

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    private record Fixture(AlexNet net, ComputationGraph graph, Map<String, NpyArray> weights, INDArray x) {
        Map<String, INDArray> acts() {
            return graph.feedForward(new INDArray[]{x}, false, false);
        }
    }

    private static Fixture fixture(AlexNet net, int n) {
        ComputationGraph graph = net.newGraph();
        Map<String, NpyArray> w = TestNets.heWeights(net, 7);
        TorchLayout.load(graph, net, w);
        return new Fixture(net, graph, w, TestNets.input(n, net.inputSize(), 60, 11));
    }

    private static Map3 map(INDArray act, int example) {
        return TestNets.example(act, example);
    }

    private static Map3 concat(Map3 a, Map3 b) {
        double[] v = new double[a.v().length + b.v().length];
        System.arraycopy(a.v(), 0, v, 0, a.v().length);
        System.arraycopy(b.v(), 0, v, a.v().length, b.v().length);
        return new Map3(a.c() + b.c(), a.h(), a.w(), v);
    }

    /** Largest absolute difference divided by the largest reference magnitude. */
    private static double relErr(double[] actual, double[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double diff = 0, scale = 1e-12;
        for (int i = 0; i < expected.length; i++) {
            diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
            scale = Math.max(scale, Math.abs(expected[i]));
        }
        return diff / scale;
    }

    @Test
    void lrnIsThePapersFormulaWithinEachTower() {
        Fixture f = fixture(AlexNet.builder().width(0.25).numClasses(10).build(), 1);
        Map<String, INDArray> a = f.acts();
        Map3 conv1 = concat(map(a.get("conv1a"), 0), map(a.get("conv1b"), 0));
        Map3 expected = ReferenceAlexNet.lrn(conv1, 2);
        Map3 actual = concat(map(a.get("lrn1a"), 0), map(a.get("lrn1b"), 0));
        assertThat(relErr(actual.v(), expected.v())).isLessThan(1e-6);

        // The check can tell the conventions apart: normalising across the tower boundary, or Caffe/PyTorch's
        // alpha/n, or no LRN at all, would each miss by far more than the tolerance.
        assertThat(relErr(actual.v(), ReferenceAlexNet.lrn(conv1, 1).v())).isGreaterThan(1e-4);
        assertThat(relErr(actual.v(), conv1.v())).isGreaterThan(0.1);
        Map3 caffe = lrnAlphaOverN(conv1);
        assertThat(relErr(actual.v(), caffe.v())).isGreaterThan(1e-2);
    }

    private static Map3 lrnAlphaOverN(Map3 x) {
        Map3 y = new Map3(x.c(), x.h(), x.w());
        int per = x.c() / 2;
        for (int t = 0; t < 2; t++) {
            for (int i = 0; i < per; i++) {
                for (int p = 0; p < x.h() * x.w(); p++) {
                    double s = 0;
                    for (int j = Math.max(0, i - 2); j <= Math.min(per - 1, i + 2); j++) {
                        double v = x.v()[(t * per + j) * x.h() * x.w() + p];
                        s += v * v;
                    }
                    int idx = (t * per + i) * x.h() * x.w() + p;
                    y.v()[idx] = x.v()[idx] / Math.pow(2 + 1e-4 / 5 * s, 0.75);
                }
            }
        }
        return y;
    }

    @Test
    void overlappingMaxPoolingMatchesExactly() {
        Fixture f = fixture(AlexNet.builder().width(0.25).numClasses(10).build(), 1);
        Map<String, INDArray> a = f.acts();
        for (String t : new String[]{"a", "b"}) {
            Map3 expected = ReferenceAlexNet.pool(map(a.get("lrn1" + t), 0), 3, 2, true);
            assertThat(map(a.get("pool1" + t), 0).v()).containsExactly(expected.v());
            Map3 expected5 = ReferenceAlexNet.pool(map(a.get("conv5" + t), 0), 3, 2, true);
            assertThat(map(a.get("pool5" + t), 0).v()).containsExactly(expected5.v());
        }
    }

    @Test
    void groupedConvolutionsMatchPyTorchsGroupsTwo() {
        Fixture f = fixture(AlexNet.builder().width(0.25).numClasses(10).build(), 1);
        Map<String, INDArray> a = f.acts();
        Map3 pool1 = concat(map(a.get("pool1a"), 0), map(a.get("pool1b"), 0));
        Map3 conv2 = ReferenceAlexNet.relu(ReferenceAlexNet.conv(pool1, f.weights.get("conv2.weight"),
                f.weights.get("conv2.bias"), 1, 2, 2, false));
        Map3 actual2 = concat(map(a.get("conv2a"), 0), map(a.get("conv2b"), 0));
        assertThat(relErr(actual2.v(), conv2.v())).isLessThan(1e-5);

        Map3 conv3 = concat(map(a.get("conv3a"), 0), map(a.get("conv3b"), 0));
        Map3 conv4 = ReferenceAlexNet.relu(ReferenceAlexNet.conv(conv3, f.weights.get("conv4.weight"),
                f.weights.get("conv4.bias"), 1, 1, 2, false));
        assertThat(relErr(concat(map(a.get("conv4a"), 0), map(a.get("conv4b"), 0)).v(), conv4.v()))
                .isLessThan(1e-5);
        // ... and conv3 is full: both towers read both towers' maps
        Map3 merged = map(a.get("merge2"), 0);
        Map3 full3 = ReferenceAlexNet.relu(ReferenceAlexNet.conv(merged, f.weights.get("conv3.weight"),
                f.weights.get("conv3.bias"), 1, 1, 1, false));
        assertThat(relErr(conv3.v(), full3.v())).isLessThan(1e-5);
    }

    @Test
    void towersAreReallySeparate() {
        Fixture f = fixture(AlexNet.builder().width(0.25).numClasses(10).build(), 1);
        Map<String, INDArray> before = f.acts();
        // change what tower b's conv2 reads: conv1b's kernels
        INDArray w = f.graph.getLayer("conv1b").getParam("W");
        w.addi(Nd4j.randn(w.dataType(), w.shape()).muli(0.5));
        Map<String, INDArray> after = f.acts();
        assertThat(after.get("conv2a")).isEqualTo(before.get("conv2a"));
        assertThat(after.get("conv4a")).isNotEqualTo(before.get("conv4a")); // through conv3's full connectivity
        assertThat(after.get("conv2b")).isNotEqualTo(before.get("conv2b"));
        assertThat(after.get("conv3a")).isNotEqualTo(before.get("conv3a"));
    }

    private static void assertLogitsMatchReference(AlexNet net, Options options) {
        Fixture f = fixture(net, 2);
        INDArray logits = new Inference(f.graph, net, 2).logits(f.x);
        for (int i = 0; i < 2; i++) {
            double[] expected = ReferenceAlexNet.logits(f.weights, options, TestNets.example(f.x, i));
            double[] actual = logits.getRow(i).castTo(DataType.DOUBLE).toDoubleVector();
            assertThat(relErr(actual, expected)).as(net.toString()).isLessThan(2e-4);
        }
    }

    @Test
    void paperNetMatchesTheReferenceEndToEnd() {
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).build(), Options.paperDefaults());
    }

    @Test
    void ablationsMatchTheReference() {
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).lrn(false).build(),
                new Options(true, true, false, true, 3, false, 227));
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).overlappingPooling(false).build(),
                new Options(true, true, true, true, 2, false, 227));
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).pooling(Pooling.AVG).build(),
                new Options(true, true, true, false, 3, false, 227));
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).padding(Padding.EDGE).build(),
                new Options(true, true, true, true, 3, true, 227));
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).inputSize(224).build(),
                new Options(true, true, true, true, 3, false, 224));
        assertLogitsMatchReference(AlexNet.builder().width(0.25).numClasses(10).grouped(false).build(),
                new Options(true, false, true, true, 3, false, 227));
    }

    @Test
    void torchvisionNetMatchesTheReference() {
        assertLogitsMatchReference(AlexNet.builder(Variant.TORCHVISION).width(0.25).numClasses(10).build(),
                Options.torchvision());
    }

    @Test
    void caffeNetMatchesTheReference() {
        // Caffe's LRN across all channels (over the tower boundary), k = 1, alpha / n; at 224 Caffe's rounded-up
        // pool1 (54 -> 27), which the net builds as zero padding before floor-rounded pooling
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10).build(),
                Options.caffe(227, true, true));
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10).inputSize(224).build(),
                Options.caffe(224, true, true));
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10).grouped(false).build(),
                Options.caffe(227, false, true));
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10).lrn(false).build(),
                Options.caffe(227, true, false));
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10)
                .lrnImplementation(LrnImplementation.DL4J).build(), Options.caffe(227, true, true));
        assertLogitsMatchReference(AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10)
                .dataFormat(CNN2DFormat.NHWC).inputSize(224).build(), Options.caffe(224, true, true));
    }

    @Test
    void caffeLrnIsNotThePapers() {
        // the check tells the two LRN forms apart on these activations
        AlexNet caffe = AlexNet.builder(Variant.CAFFE).width(0.25).numClasses(10).build();
        Fixture f = fixture(caffe, 1);
        double[] dl4j = new Inference(f.graph, caffe, 1).logits(f.x).getRow(0).castTo(DataType.DOUBLE)
                .toDoubleVector();
        double[] paperLrn = ReferenceAlexNet.logits(f.weights, new Options(true, true, true, true, 3, false, 227),
                TestNets.example(f.x, 0));
        assertThat(relErr(dl4j, paperLrn)).isGreaterThan(1e-2);
    }

    @ParameterizedTest
    @EnumSource(Padding.class)
    void nhwcGivesTheSameLogitsFromTheSameWeights(Padding padding) {
        AlexNet nchw = AlexNet.builder().width(0.25).numClasses(10).padding(padding).build();
        AlexNet nhwc = AlexNet.builder().width(0.25).numClasses(10).padding(padding)
                .dataFormat(CNN2DFormat.NHWC).build();
        Map<String, NpyArray> w = TestNets.heWeights(nchw, 3);
        ComputationGraph g1 = nchw.newGraph();
        ComputationGraph g2 = nhwc.newGraph();
        TorchLayout.load(g1, nchw, w);
        TorchLayout.load(g2, nhwc, w);
        INDArray x = TestNets.input(2, 227, 60, 5);
        INDArray a = new Inference(g1, nchw, 2).logits(x);
        INDArray b = new Inference(g2, nhwc, 2).logits(x);
        assertThat(relErr(b.castTo(DataType.DOUBLE).data().asDouble(), a.castTo(DataType.DOUBLE).data().asDouble()))
                .isLessThan(1e-4);
        // and exporting from the NHWC graph gives back the PyTorch layout
        assertThat(TorchLayout.export(g2, nhwc)).isEqualTo(w);
    }
}
