package org.alexnet4j.cuda;

import org.alexnet4j.bench.Dl4jReference;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's orchestration through the CPU reference seam equals DL4J's graph: logits, every parameter's gradient
 * and the parameters after one step within 1e-4 relative (||a - b|| / ||b||), after five steps within 1e-3, for the
 * paper (227 and 224 with its overhang), caffe (rounded-up pooling, LRN across the towers) and torchvision nets at
 * small widths, dropout off (DL4J's masks are its own).
 */
public class AlexNetEngineTest {

    static Stream<Arguments> nets() {
        return Stream.of(
                Arguments.of("paper 227", AlexNet.builder(Variant.PAPER).width(0.125).numClasses(7).dropout(0)
                        .build()),
                Arguments.of("paper 224", AlexNet.builder(Variant.PAPER).width(0.125).inputSize(224).numClasses(5)
                        .dropout(0).build()),
                Arguments.of("caffe", AlexNet.builder(Variant.CAFFE).width(0.125).numClasses(6).dropout(0).build()),
                Arguments.of("torchvision", AlexNet.builder(Variant.TORCHVISION).width(0.125).numClasses(4)
                        .dropout(0).build()),
                Arguments.of("paper, one tower, average pooling", AlexNet.builder(Variant.PAPER).width(0.125)
                        .grouped(false).pooling(org.alexnet4j.model.Pooling.AVG).overlappingPooling(false)
                        .numClasses(3).dropout(0).build()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("nets")
    void referenceEngineEqualsTheDl4jGraph(String name, AlexNet net) {
        long seed = 11;
        int batch = 3;
        AlexNetEngine.Update update = AlexNetEngine.Update.of(0.005, 0.9, 5e-4);
        Dl4jReference.Result expected = Dl4jReference.compute(net, seed, batch, 5, update);

        try (AlexNetEngine engine = new AlexNetEngine(net.spec(), new ReferenceOps(), batch, seed)) {
            engine.initialise(seed, true);
            float[] images = SeededInit.images(net.spec(), batch, seed);
            int[] labels = SeededInit.labels(net.numClasses(), batch, seed);
            assertThat(relErr(engine.logits(images, batch), expected.logits())).as("logits").isLessThan(1e-4);
            double loss = engine.gradients(images, labels, batch);
            assertThat(loss).as("loss").isCloseTo(expected.loss(), org.assertj.core.data.Offset.offset(1e-4));
            for (Map.Entry<String, float[][]> e : expected.gradients().entrySet()) {
                float[][] g = engine.gradients(e.getKey());
                assertThat(relErr(g[0], e.getValue()[0])).as(e.getKey() + " weight gradient").isLessThan(1e-4);
                assertThat(relErr(g[1], e.getValue()[1])).as(e.getKey() + " bias gradient").isLessThan(1e-4);
            }
            engine.applyUpdate(update);
            assertParams(engine, expected.stepParams().get(0), 1e-4, "after one step");
            for (int i = 1; i < 5; i++) {
                engine.step(images, labels, batch, update, false);
            }
            assertParams(engine, expected.stepParams().get(4), 1e-3, "after five steps");
        }
    }

    private static void assertParams(AlexNetEngine engine, Map<String, float[][]> expected, double tol, String when) {
        for (Map.Entry<String, float[][]> e : expected.entrySet()) {
            float[][] p = engine.parameters(e.getKey());
            assertThat(relErr(p[0], e.getValue()[0])).as(e.getKey() + " weights " + when).isLessThan(tol);
            assertThat(relErr(p[1], e.getValue()[1])).as(e.getKey() + " biases " + when).isLessThan(tol);
        }
    }

    /** ||actual - expected|| / ||expected||, in double. */
    public static double relErr(float[] actual, float[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = (double) actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return Math.sqrt(diff) / Math.max(Math.sqrt(norm), 1e-30);
    }
}
