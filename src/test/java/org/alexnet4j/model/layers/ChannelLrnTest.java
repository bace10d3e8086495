package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The float32 CPU kernel of {@link ChannelLrnLayer} against (a) the same formulas as ND4J operations in double
 * precision, (b) a scalar loop written from the paper's formula and its derivative, and (c) DL4J's own
 * {@code LocalResponseNormalization} layer, an independent implementation of the same function.
 */
class ChannelLrnTest {

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    private static final ChannelLrn PAPER = new ChannelLrn(2, 5, 1e-4, 0.75, CNN2DFormat.NCHW);

    private static Layer layer(org.deeplearning4j.nn.conf.layers.Layer conf, DataType type) {
        NeuralNetConfiguration c = new NeuralNetConfiguration.Builder().dataType(type).layer(conf).build();
        return c.getLayer().instantiate(c, null, 0, null, true, type);
    }

    private static Pair<INDArray, INDArray> run(Layer l, INDArray x, INDArray g) {
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        l.setInput(x, none);
        INDArray y = l.activate(true, none).dup();
        Pair<Gradient, INDArray> back = l.backpropGradient(g, none);
        return new Pair<>(y, back.getSecond().dup());
    }

    /** Activations of the size conv1's have after ReLU (0..~100), some exactly zero. */
    private static INDArray activations(long... shape) {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.randn(DataType.FLOAT, shape).muli(40);
        return Transforms.relu(x, false);
    }

    private static double maxRelErr(INDArray actual, INDArray expected) {
        INDArray e = expected.castTo(DataType.DOUBLE);
        INDArray diff = actual.castTo(DataType.DOUBLE).sub(e);
        return diff.norm2Number().doubleValue() / Math.max(1e-30, e.norm2Number().doubleValue());
    }

    private static void assertKernelMatchesOps(ChannelLrn conf, INDArray x, INDArray g) {
        Pair<INDArray, INDArray> fast = run(layer(conf, DataType.FLOAT), x, g);
        INDArray xd = x.castTo(DataType.DOUBLE), gd = g.castTo(DataType.DOUBLE);
        Pair<INDArray, INDArray> ref = run(layer(conf, DataType.DOUBLE), xd, gd);
        assertThat(fast.getFirst().dataType()).isEqualTo(DataType.FLOAT);
        assertThat(maxRelErr(fast.getFirst(), ref.getFirst())).isLessThan(1e-6);
        assertThat(maxRelErr(fast.getSecond(), ref.getSecond())).isLessThan(1e-5);
    }

    @ParameterizedTest
    @EnumSource(CNN2DFormat.class)
    void kernelMatchesDoubleOpsInBothLayouts(CNN2DFormat format) {
        ChannelLrn conf = new ChannelLrn(2, 5, 1e-4, 0.75, format);
        long[] shape = format == CNN2DFormat.NCHW ? new long[]{3, 12, 9, 7} : new long[]{3, 9, 7, 12};
        assertKernelMatchesOps(conf, activations(shape), Nd4j.randn(DataType.FLOAT, shape));
    }

    @Test
    void generalExponentWindowAndFewChannels() {
        // beta != 3/4 takes the pow() path; n=3; 2 channels < n clips the window at both ends
        assertKernelMatchesOps(new ChannelLrn(1.5, 3, 3e-3, 0.6, CNN2DFormat.NCHW), activations(2, 7, 5, 5),
                Nd4j.randn(DataType.FLOAT, 2, 7, 5, 5));
        assertKernelMatchesOps(new ChannelLrn(2, 5, 1e-3, 0.75, CNN2DFormat.NCHW), activations(2, 2, 4, 4),
                Nd4j.randn(DataType.FLOAT, 2, 2, 4, 4));
        // more pixels than one block holds: blocks split an example's pixels
        assertKernelMatchesOps(PAPER, activations(2, 48, 30, 30), Nd4j.randn(DataType.FLOAT, 2, 48, 30, 30));
    }

    @Test
    void stridedViewsAsAMergeVertexHandsThemOver() {
        // a channel slice of a [N, 2C, H, W] array: each example dense, examples strided
        INDArray both = activations(4, 16, 6, 5);
        INDArray x = both.get(NDArrayIndex.all(), NDArrayIndex.interval(8, 16), NDArrayIndex.all(), NDArrayIndex.all());
        INDArray gBoth = Nd4j.randn(DataType.FLOAT, 4, 16, 6, 5);
        INDArray g = gBoth.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 8), NDArrayIndex.all(), NDArrayIndex.all());
        assertThat(LrnKernel.geometry(x, CNN2DFormat.NCHW)).isNotNull();
        assertThat(x.offset()).isPositive();
        Pair<INDArray, INDArray> onViews = run(layer(PAPER, DataType.FLOAT), x, g);
        Pair<INDArray, INDArray> onCopies = run(layer(PAPER, DataType.FLOAT), x.dup(), g.dup());
        assertThat(onViews.getFirst()).isEqualTo(onCopies.getFirst());
        assertThat(onViews.getSecond()).isEqualTo(onCopies.getSecond());
        // a layout the kernel cannot read directly (f order) is copied first, with the same result
        Pair<INDArray, INDArray> fOrder = run(layer(PAPER, DataType.FLOAT), x.dup('f'), g.dup('f'));
        assertThat(fOrder.getFirst()).isEqualTo(onCopies.getFirst());
        assertThat(fOrder.getSecond()).isEqualTo(onCopies.getSecond());
    }

    @Test
    void matchesTheFormulaAndItsDerivativeWrittenOut() {
        int n = 2, c = 9, h = 3, w = 4;
        INDArray x = activations(n, c, h, w);
        INDArray g = Nd4j.randn(DataType.FLOAT, n, c, h, w);
        Pair<INDArray, INDArray> fast = run(layer(PAPER, DataType.FLOAT), x, g);
        double k = 2, alpha = 1e-4, beta = 0.75;
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    double[] a = new double[c], s = new double[c];
                    for (int ch = 0; ch < c; ch++) {
                        a[ch] = x.getDouble(e, ch, i, j);
                    }
                    for (int ch = 0; ch < c; ch++) {
                        double sum = 0;
                        for (int d = Math.max(0, ch - 2); d <= Math.min(c - 1, ch + 2); d++) {
                            sum += a[d] * a[d];
                        }
                        s[ch] = k + alpha * sum;
                        assertThat(fast.getFirst().getDouble(e, ch, i, j))
                                .isCloseTo(a[ch] / Math.pow(s[ch], beta), withinRel(1e-6));
                    }
                    for (int ch = 0; ch < c; ch++) {
                        // d b_m / d a_ch = [m == ch] s_m^-beta - 2 alpha beta a_m a_ch s_m^(-beta-1), m in W(ch)
                        double grad = 0;
                        for (int m = Math.max(0, ch - 2); m <= Math.min(c - 1, ch + 2); m++) {
                            double d = (m == ch ? Math.pow(s[m], -beta) : 0)
                                    - 2 * alpha * beta * a[m] * a[ch] * Math.pow(s[m], -beta - 1);
                            grad += g.getDouble(e, m, i, j) * d;
                        }
                        assertThat(fast.getSecond().getDouble(e, ch, i, j)).isCloseTo(grad, withinAbs(1e-5));
                    }
                }
            }
        }
    }

    @Test
    void forwardAgreesWithDl4jAndBackwardWithFiniteDifferencesWhereDl4jsDoesNot() {
        INDArray x = activations(4, 48, 13, 13);
        INDArray g = Nd4j.randn(DataType.FLOAT, 4, 48, 13, 13);
        org.deeplearning4j.nn.conf.layers.Layer dl4jConf = new LocalResponseNormalization.Builder()
                .k(2).n(5).alpha(1e-4).beta(0.75).build();
        Pair<INDArray, INDArray> ours = run(layer(PAPER, DataType.FLOAT), x, g);
        Pair<INDArray, INDArray> dl4j = run(layer(dl4jConf, DataType.FLOAT), x, g);
        assertThat(maxRelErr(ours.getFirst(), dl4j.getFirst())).isLessThan(1e-5);

        // the gradient of sum(g * lrn(x)) by central differences in double, at sampled entries
        INDArray xd = x.castTo(DataType.DOUBLE), gd = g.castTo(DataType.DOUBLE);
        Layer ref = layer(PAPER, DataType.DOUBLE);
        double worstOurs = 0, worstDl4j = 0;
        java.util.Random r = new java.util.Random(5);
        for (int s = 0; s < 40; s++) {
            long[] at = {r.nextInt(4), r.nextInt(48), r.nextInt(13), r.nextInt(13)};
            double v = xd.getDouble(at), h = 1e-3;
            if (v == 0) {
                continue; // at a ReLU zero the function is smooth too, but keep to typical entries
            }
            xd.putScalar(at, v + h);
            double fp = run(ref, xd, gd).getFirst().mul(gd).sumNumber().doubleValue();
            xd.putScalar(at, v - h);
            double fm = run(ref, xd, gd).getFirst().mul(gd).sumNumber().doubleValue();
            xd.putScalar(at, v);
            double numeric = (fp - fm) / (2 * h);
            worstOurs = Math.max(worstOurs, Math.abs(ours.getSecond().getDouble(at) - numeric));
            worstDl4j = Math.max(worstDl4j, Math.abs(dl4j.getSecond().getDouble(at) - numeric));
        }
        assertThat(worstOurs).isLessThan(1e-5);
        // DL4J 1.0.0-M2.1's lrn_bp (float and double alike) misses by up to ~7% of a typical gradient entry:
        // recorded in docs/stack.md; if this starts failing, DL4J's LRN backward has been fixed.
        assertThat(worstDl4j).isGreaterThan(1e-3);
    }

    @Test
    void validatesItsConstants() {
        assertThatThrownBy(() -> new ChannelLrn(2, 4, 1e-4, 0.75, CNN2DFormat.NCHW)).hasMessageContaining("odd");
        assertThatThrownBy(() -> new ChannelLrn(0, 5, 1e-4, 0.75, CNN2DFormat.NCHW)).hasMessageContaining("k");
        assertThatThrownBy(() -> new ChannelLrn(2, 5, -1, 0.75, CNN2DFormat.NCHW)).hasMessageContaining("alpha");
        assertThatThrownBy(() -> new ChannelLrn(2, 5, 1e-4, 0.75, null)).hasMessageContaining("format");
    }

    private static org.assertj.core.data.Percentage withinRel(double rel) {
        return org.assertj.core.data.Percentage.withPercentage(rel * 100);
    }

    private static org.assertj.core.data.Offset<Double> withinAbs(double abs) {
        return org.assertj.core.data.Offset.offset(abs);
    }
}
