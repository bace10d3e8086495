package org.alexnet4j.model;

import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The paper's initialisation (section 5) on the full-size net: N(0, 0.01^2) weights, biases 1 or 0. */
class InitializationTest {
    private static ComputationGraph graph;

    @BeforeAll
    static void build() {
        Backend.init();
        graph = AlexNet.builder().build().newGraph();
    }

    @AfterAll
    static void close() {
        graph.close();
    }

    @Test
    void weightsAreZeroMeanGaussiansWithStd001() {
        for (String layer : new String[]{"conv1a", "conv1b", "conv2a", "conv3b", "conv4a", "conv5b", "fc6", "fc7",
                "fc8"}) {
            INDArray w = graph.getLayer(layer).getParam("W");
            double n = w.length();
            // the sample std of n Gaussians is within ~4/sqrt(2n) of the true std (relative) almost surely
            double tol = 0.01 * 4 / Math.sqrt(2 * n);
            assertThat(w.stdNumber().doubleValue()).as(layer + " std").isCloseTo(0.01, within(tol));
            assertThat(w.meanNumber().doubleValue()).as(layer + " mean").isCloseTo(0.0, within(0.01 * 4 / Math.sqrt(n)));
            // Gaussian, not uniform: about 4.55% of values beyond two standard deviations
            double beyond = fractionBeyond(w, 0.02);
            assertThat(beyond).as(layer + " tail").isCloseTo(0.0455, within(0.0455 * 0.5));
        }
    }

    /** Fraction of entries with |w| > t. */
    private static double fractionBeyond(INDArray w, double t) {
        return Transforms.abs(w, true).gt(t).castTo(DataType.DOUBLE).sumNumber().doubleValue() / w.length();
    }

    @Test
    void biasesFollowThePaper() {
        Map<String, Double> expected = Map.ofEntries(
                Map.entry("conv1a", 0.0), Map.entry("conv1b", 0.0),
                Map.entry("conv2a", 1.0), Map.entry("conv2b", 1.0),
                Map.entry("conv3a", 0.0), Map.entry("conv3b", 0.0),
                Map.entry("conv4a", 1.0), Map.entry("conv4b", 1.0),
                Map.entry("conv5a", 1.0), Map.entry("conv5b", 1.0),
                Map.entry("fc6", 1.0), Map.entry("fc7", 1.0), Map.entry("fc8", 0.0));
        expected.forEach((layer, value) -> {
            INDArray b = graph.getLayer(layer).getParam("b");
            assertThat(b.minNumber().doubleValue()).as(layer).isEqualTo(value);
            assertThat(b.maxNumber().doubleValue()).as(layer).isEqualTo(value);
        });
    }

    @Test
    void seedMakesInitialisationReproducible() {
        AlexNet small = AlexNet.builder().width(0.1).numClasses(10).seed(5).build();
        ComputationGraph a = small.newGraph();
        ComputationGraph b = small.newGraph();
        ComputationGraph c = AlexNet.builder().width(0.1).numClasses(10).seed(6).build().newGraph();
        assertThat(a.params()).isEqualTo(b.params());
        assertThat(a.params()).isNotEqualTo(c.params());
    }
}
