package org.alexnet4j.model;

import org.alexnet4j.TestNets;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.gradientcheck.GradientCheckUtil;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.NoOp;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Backpropagation checked against central finite differences in double precision, on scaled-down variants that keep
 * the towers, merges, LRN, overlapping pooling and, for the padding ablation, our own {@code EdgePadding} layer.
 *
 * <p>DL4J 1.0.0-M2.1's {@code GradientCheckUtil.checkGradients(GraphConfig)} ignores {@code subset}/{@code
 * maxPerParam} (only the MultiLayerNetwork version honours them) and checks every parameter, ~40 minutes for even a
 * tiny AlexNet. So DL4J's check runs over every bias (whose gradients pass back through every layer), and
 * {@link #sampledCheck} applies the same criterion to a random sample of every weight and bias array.
 */
class GradientCheckTest {
    private static final double EPS = 1e-6;
    private static final double MAX_REL_ERROR = 1e-3;
    private static final double MIN_ABS_ERROR = 1e-8;
    private static DataType previous;

    @BeforeAll
    static void doublePrecision() {
        Backend.init();
        previous = Nd4j.dataType();
        Nd4j.setDefaultDataTypes(DataType.DOUBLE, DataType.DOUBLE);
    }

    @AfterAll
    static void restore() {
        Nd4j.setDefaultDataTypes(previous, previous);
    }

    /** Width 0.07 keeps 3 channels per tower in conv1 (LRN's minimum); 99x99 keeps every stage (pool5 2x2). */
    private static AlexNet.Builder small() {
        return AlexNet.builder().width(0.07).numClasses(4).dropout(0).dataType(DataType.DOUBLE).testInputSize(99);
    }

    static Stream<AlexNet> variants() {
        return Stream.of(
                small().build(),
                small().padding(Padding.EDGE).dataFormat(CNN2DFormat.NHWC).build(),
                small().grouped(false).pooling(Pooling.AVG).build(),
                AlexNet.builder(Variant.TORCHVISION).width(0.05).numClasses(4).dropout(0)
                        .dataType(DataType.DOUBLE).testInputSize(99).build(),
                // Caffe's cross-tower LRN, the tower slices after pool1 and (98: conv1 22x22) the rounded-up pooling
                AlexNet.builder(Variant.CAFFE).width(0.07).numClasses(4).dropout(0).dataType(DataType.DOUBLE)
                        .dataFormat(CNN2DFormat.NHWC).testInputSize(98).build());
    }

    private static ComputationGraph graph(AlexNet net) {
        ComputationGraph graph = AlexNet.newGraph(net.configuration(new NeuralNetConfiguration.Builder()
                .updater(new NoOp())));
        // He-scaled weights keep activations away from the ReLU/pooling kinks and make LRN non-trivial
        TorchLayout.load(graph, net, TestNets.heWeights(net, 1));
        return graph;
    }

    private static DataSet batch(AlexNet net) {
        // Caffe's LRN (k = 1) divides less than the paper's (k = 2): a smaller input keeps its softmax unsaturated
        // (DL4J's score clips probabilities at 1e-10, which would flatten the numerical gradient)
        double scale = net.variant() == Variant.CAFFE ? 1 : 3;
        INDArray x = TestNets.input(2, net.inputSize(), scale, 2).castTo(DataType.DOUBLE);
        if (net.dataFormat() == CNN2DFormat.NHWC) {
            x = x.permute(0, 2, 3, 1).dup('c');
        }
        INDArray labels = Nd4j.zeros(DataType.DOUBLE, 2, 4);
        labels.putScalar(0, 1, 1.0);
        labels.putScalar(1, 3, 1.0);
        return new DataSet(x, labels);
    }

    @Test
    void dl4jGradientCheckPassesOnEveryBias() {
        AlexNet net = small().padding(Padding.EDGE).build();
        ComputationGraph graph = graph(net);
        DataSet b = batch(net);
        Set<String> weights = graph.paramTable().keySet().stream().filter(k -> k.endsWith("_W"))
                .collect(Collectors.toSet());
        assertThat(weights).hasSize(13);
        boolean ok = GradientCheckUtil.checkGradients(new GradientCheckUtil.GraphConfig()
                .net(graph)
                .inputs(new INDArray[]{b.getFeatures()})
                .labels(new INDArray[]{b.getLabels()})
                .excludeParams(weights)
                .epsilon(EPS)
                .maxRelError(MAX_REL_ERROR)
                .minAbsoluteError(MIN_ABS_ERROR)
                .print(GradientCheckUtil.PrintMode.FAILURES_ONLY));
        assertThat(ok).isTrue();
    }

    @ParameterizedTest
    @MethodSource("variants")
    void sampledGradientsMatchFiniteDifferences(AlexNet net) {
        List<String> failures = sampledCheck(graph(net), batch(net), 6, 7);
        assertThat(failures).as(net.toString()).isEmpty();
    }

    @Test
    void theSampledCheckCatchesAWrongGradient() {
        AlexNet net = small().build();
        ComputationGraph graph = graph(net);
        DataSet b = batch(net);
        // same net, but the loss is evaluated with different weights than the gradient: must fail
        List<String> failures = sampledCheck(graph, b, 3, 7, () -> graph.getLayer("conv4b").getParam("W").muli(1.5));
        assertThat(failures).isNotEmpty();
    }

    /** Checks {@code perArray} random entries of every parameter array; returns the failures. */
    static List<String> sampledCheck(ComputationGraph graph, DataSet batch, int perArray, long seed) {
        return sampledCheck(graph, batch, perArray, seed, () -> {
        });
    }

    private static List<String> sampledCheck(ComputationGraph graph, DataSet batch, int perArray, long seed,
                                             Runnable afterGradient) {
        graph.setInput(0, batch.getFeatures());
        graph.setLabel(0, batch.getLabels());
        graph.computeGradientAndScore();
        // DL4J's raw gradient is summed over the minibatch; its updater divides by the minibatch size
        Map<String, INDArray> analytic = new java.util.LinkedHashMap<>();
        graph.gradient().gradientForVariable().forEach((k, v) -> analytic.put(k, v.div(batch.numExamples())));
        afterGradient.run();
        Random r = new Random(seed);
        List<String> failures = new ArrayList<>();
        for (Map.Entry<String, INDArray> e : graph.paramTable().entrySet()) {
            // index the arrays themselves: DL4J's dense weights are 'f'-ordered, where reshape(-1) would copy
            INDArray flat = e.getValue();
            INDArray g = analytic.get(e.getKey());
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < flat.length(); i++) {
                idx.add(i);
            }
            Collections.shuffle(idx, r);
            for (int i : idx.subList(0, (int) Math.min(perArray, flat.length()))) {
                double orig = flat.getDouble(i);
                flat.putScalar(i, orig + EPS);
                double plus = graph.score(batch, true);
                flat.putScalar(i, orig - EPS);
                double minus = graph.score(batch, true);
                flat.putScalar(i, orig);
                double numeric = (plus - minus) / (2 * EPS);
                double a = g.getDouble(i);
                double rel = Math.abs(a - numeric) / (Math.abs(a) + Math.abs(numeric));
                if (rel > MAX_REL_ERROR && Math.abs(a - numeric) > MIN_ABS_ERROR) {
                    failures.add(String.format("%s[%d]: analytic %.6g, numeric %.6g, rel error %.3g", e.getKey(), i,
                            a, numeric, rel));
                }
            }
        }
        return failures;
    }
}
