package org.alexnet4j.model.layers;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import static org.alexnet4j.model.layers.LayerTests.instantiate;
import static org.alexnet4j.model.layers.LayerTests.relErr;
import static org.assertj.core.api.Assertions.assertThat;

/** The single-example fast path of fc6/fc7 against DL4J's dense layer, and in the whole net. */
class FullyConnectedTest {
    @BeforeAll
    static void backend() {
        Backend.init();
    }

    @Test
    void oneExampleAndBatchesMatchDl4jsDenseLayer() {
        Nd4j.getRandom().setSeed(3);
        int nIn = 300, nOut = 70;
        DenseLayer built = new DenseLayer.Builder().nIn(nIn).nOut(nOut).activation(Activation.RELU).biasInit(0.5)
                .build();
        FullyConnected ours = FullyConnected.of(built);
        assertThat(ours.getNIn()).isEqualTo(nIn);
        assertThat(ours.getNOut()).isEqualTo(nOut);
        assertThat(ours.getActivationFn()).isEqualTo(built.getActivationFn());
        INDArray params = Nd4j.randn(DataType.FLOAT, 1, (long) nIn * nOut + nOut);
        Layer dl4j = instantiate(built, params), fast = instantiate(ours, params);
        assertThat(fast).isInstanceOf(FullyConnectedLayer.class);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        INDArray batch = Nd4j.randn(DataType.FLOAT, 4, nIn);
        for (INDArray x : new INDArray[]{batch.getRow(1, true), batch.getRow(2, true).dup(), batch}) {
            dl4j.setInput(x, none);
            fast.setInput(x, none);
            INDArray expected = dl4j.activate(false, none).dup();
            INDArray actual = fast.activate(false, none).dup();
            assertThat(actual.shape()).isEqualTo(expected.shape());
            assertThat(relErr(actual, expected)).as("batch %d", x.size(0)).isLessThan(1e-6);
        }
    }

    @Test
    void trainingActivationsAndAllGradientsMatchDl4jsDenseLayer() {
        Nd4j.getRandom().setSeed(4);
        int nIn = 300, nOut = 70;
        DenseLayer built = new DenseLayer.Builder().nIn(nIn).nOut(nOut).activation(Activation.RELU).biasInit(0.1)
                .build();
        INDArray params = Nd4j.randn(DataType.FLOAT, 1, (long) nIn * nOut + nOut).muli(0.1);
        Layer dl4j = instantiate(built, params), fast = instantiate(FullyConnected.of(built), params);
        for (int n : new int[]{1, 5}) {
            LayerTests.assertSameTrainingPass(dl4j, fast, Nd4j.randn(DataType.FLOAT, n, nIn), 1e-6, 1e-5);
        }
    }

    @Test
    void theNetGivesOneImageTheScoresItGivesItInABatchAndKeepsTheLayerThroughJson() {
        AlexNet net = AlexNet.builder().width(0.25).numClasses(10).seed(5).build();
        ComputationGraph g = net.newGraph();
        INDArray x = Nd4j.randn(DataType.FLOAT, 3, 3, 227, 227).muli(40);
        INDArray batch = g.outputSingle(false, x);
        INDArray one = g.outputSingle(false, x.get(NDArrayIndex.interval(1, 2)));
        assertThat(relErr(one, batch.get(NDArrayIndex.interval(1, 2)))).isLessThan(1e-5);
        assertThat(g.getLayer("fc6")).isInstanceOf(FullyConnectedLayer.class);
        ComputationGraphConfiguration back = ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson());
        assertThat(back).isEqualTo(g.getConfiguration());
        ComputationGraph g2 = new ComputationGraph(back);
        g2.init(g.params().dup(), false);
        assertThat(g2.getLayer("fc7")).isInstanceOf(FullyConnectedLayer.class);
        assertThat(relErr(g2.outputSingle(false, x.get(NDArrayIndex.interval(1, 2))), one)).isLessThan(1e-6);
    }

    @Test
    void theOutputLayerGivesDl4jsProbabilitiesScoreAndGradients() {
        Nd4j.getRandom().setSeed(6);
        int nIn = 300, nOut = 40, n = 5;
        org.deeplearning4j.nn.conf.layers.OutputLayer built = new org.deeplearning4j.nn.conf.layers.OutputLayer
                .Builder(org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction.MCXENT).nIn(nIn).nOut(nOut)
                .activation(Activation.SOFTMAX).build();
        FullyConnectedOutput conf = FullyConnectedOutput.of(built);
        assertThat(conf.getLossFn()).isEqualTo(built.getLossFn());
        INDArray params = Nd4j.randn(DataType.FLOAT, 1, (long) nIn * nOut + nOut).muli(0.1);
        org.deeplearning4j.nn.layers.BaseOutputLayer<?> dl4j = (org.deeplearning4j.nn.layers.BaseOutputLayer<?>)
                instantiate(built, params);
        org.deeplearning4j.nn.layers.BaseOutputLayer<?> ours = (org.deeplearning4j.nn.layers.BaseOutputLayer<?>)
                instantiate(conf, params);
        assertThat(ours).isInstanceOf(FullyConnectedOutputLayer.class);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        INDArray x = Nd4j.randn(DataType.FLOAT, n, nIn);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, nOut);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i * 7) % nOut, 1f);
        }
        for (org.deeplearning4j.nn.layers.BaseOutputLayer<?> l : java.util.List.of(dl4j, ours)) {
            l.setInput(x, none);
            l.setLabels(y);
        }
        assertThat(relErr(ours.activate(true, none).dup(), dl4j.activate(true, none).dup())).isLessThan(1e-6);
        assertThat(ours.computeScore(0, true, none)).isCloseTo(dl4j.computeScore(0, true, none),
                org.assertj.core.api.Assertions.within(1e-5));
        var expected = dl4j.backpropGradient(null, none);
        var actual = ours.backpropGradient(null, none);
        for (String key : new String[]{"W", "b"}) {
            assertThat(relErr(actual.getFirst().getGradientFor(key), expected.getFirst().getGradientFor(key)))
                    .as(key).isLessThan(1e-5);
        }
        assertThat(relErr(actual.getSecond(), expected.getSecond())).as("input gradient").isLessThan(1e-5);
        // the net's fc8 is this layer, and stays so through JSON
        ComputationGraph g = AlexNet.builder().width(0.25).numClasses(10).seed(5).build().newGraph();
        assertThat(g.getLayer("fc8")).isInstanceOf(FullyConnectedOutputLayer.class);
        ComputationGraph g2 = new ComputationGraph(ComputationGraphConfiguration.fromJson(g.getConfiguration()
                .toJson()));
        g2.init(g.params().dup(), false);
        assertThat(g2.getLayer("fc8")).isInstanceOf(FullyConnectedOutputLayer.class);
    }
}
