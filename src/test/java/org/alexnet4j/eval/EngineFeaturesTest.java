package org.alexnet4j.eval;

import org.alexnet4j.bench.Dl4jReference;
import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.cuda.ReferenceOps;
import org.alexnet4j.cuda.SeededInit;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.EngineWeights;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code features --engine cuda}'s path, through the engine's CPU reference: pool5, fc6, fc7 and fc8 features equal
 * DL4J's graph's (the same layers {@code FeatureExtractor} reads there) within 1e-4, in pieces of the engine's batch;
 * other layers are refused with the reason.
 */
class EngineFeaturesTest {

    @Test
    void engineFeaturesEqualTheGraphs() {
        Backend.init();
        for (Variant v : new Variant[]{Variant.PAPER, Variant.TORCHVISION}) {
            AlexNet net = AlexNet.builder(v).width(0.125).numClasses(6).build();
            ComputationGraph graph = net.newGraph();
            TorchLayout.load(graph, net, Dl4jReference.seededArrays(net, 5));
            int n = 5, s = net.inputSize();
            INDArray x = Nd4j.create(SeededInit.images(net.spec(), n, 5), new long[]{n, 3, s, s}, 'c')
                    .castTo(DataType.FLOAT);
            try (AlexNetEngine engine = new AlexNetEngine(net.spec(), new ReferenceOps(), 2, 1)) {
                EngineWeights.toEngine(graph, net, engine);
                for (String layer : AlexNetEngine.FEATURE_LAYERS) {
                    FeatureExtractor dl4j = new FeatureExtractor(graph, net, layer);
                    INDArray expected = dl4j.activations(x);
                    FeatureExtractor onEngine = new FeatureExtractor(graph, net, layer).onEngine(engine);
                    INDArray actual = onEngine.engineFeatures(x);
                    assertThat(actual.shape()).as(v + " " + layer).isEqualTo(expected.shape());
                    double err = actual.sub(expected).norm2Number().doubleValue()
                            / expected.norm2Number().doubleValue();
                    assertThat(err).as(v + " " + layer).isLessThan(1e-4);
                }
                String conv3 = v == Variant.PAPER ? "conv3a" : "conv3";
                assertThatThrownBy(() -> new FeatureExtractor(graph, net, conv3).onEngine(engine))
                        .hasMessageContaining("use --engine dl4j");
            }
        }
    }
}
