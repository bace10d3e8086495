package org.alexnet4j.weights;

import org.alexnet4j.TestNets;
import org.alexnet4j.eval.Inference;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The .npz interchange: names and shapes, bit-exact round trips, validation that loads nothing on error. */
class WeightsInterchangeTest {

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    @Test
    void paperNamesAndShapesAreThoseOfTheIssue() {
        Map<String, long[]> s = TorchLayout.expectedShapes(AlexNet.builder().build());
        assertThat(s.keySet()).containsExactly("conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                "conv3.weight", "conv3.bias", "conv4.weight", "conv4.bias", "conv5.weight", "conv5.bias",
                "fc6.weight", "fc6.bias", "fc7.weight", "fc7.bias", "fc8.weight", "fc8.bias");
        assertThat(s.get("conv1.weight")).containsExactly(96, 3, 11, 11);
        assertThat(s.get("conv2.weight")).containsExactly(256, 48, 5, 5);
        assertThat(s.get("conv3.weight")).containsExactly(384, 256, 3, 3);
        assertThat(s.get("conv4.weight")).containsExactly(384, 192, 3, 3);
        assertThat(s.get("conv5.weight")).containsExactly(256, 192, 3, 3);
        assertThat(s.get("fc6.weight")).containsExactly(4096, 9216);
        assertThat(s.get("fc7.weight")).containsExactly(4096, 4096);
        assertThat(s.get("fc8.weight")).containsExactly(1000, 4096);
        assertThat(s.get("fc8.bias")).containsExactly(1000);
    }

    @Test
    void torchvisionNamesAreTheStateDictKeys() {
        Map<String, long[]> s = TorchLayout.expectedShapes(AlexNet.builder(Variant.TORCHVISION).build());
        assertThat(s.keySet()).containsExactly("features.0.weight", "features.0.bias", "features.3.weight",
                "features.3.bias", "features.6.weight", "features.6.bias", "features.8.weight", "features.8.bias",
                "features.10.weight", "features.10.bias", "classifier.1.weight", "classifier.1.bias",
                "classifier.4.weight", "classifier.4.bias", "classifier.6.weight", "classifier.6.bias");
        assertThat(s.get("features.0.weight")).containsExactly(64, 3, 11, 11);
        assertThat(s.get("features.3.weight")).containsExactly(192, 64, 5, 5);
        assertThat(s.get("classifier.1.weight")).containsExactly(4096, 9216);
    }

    @Test
    void exportImportRoundTripIsBitExactAndForwardIsDeterministic(@TempDir Path dir) throws IOException {
        AlexNet net = AlexNet.builder().build();
        ComputationGraph source = net.newGraph();
        Path file = dir.resolve("paper.npz");
        Npz.write(file, TorchLayout.export(source, net));

        ComputationGraph target = AlexNet.builder().seed(99).build().newGraph();
        assertThat(target.params()).isNotEqualTo(source.params());
        TorchLayout.load(target, net, Npz.read(file));
        assertThat(target.params()).isEqualTo(source.params());
        assertThat(TorchLayout.export(target, net)).isEqualTo(Npz.read(file));

        INDArray x = TestNets.input(2, 227, 50, 3);
        Inference inference = new Inference(target, net, 2);
        INDArray first = inference.logits(x);
        assertThat(inference.logits(x)).isEqualTo(first);
        assertThat(new Inference(target, net, 1).logits(x)).isEqualTo(first);
        source.close();
        target.close();
    }

    @Test
    void conv2ExportUsesPyTorchsGroupedLayout() {
        AlexNet net = AlexNet.builder().width(0.25).numClasses(10).build();
        ComputationGraph g = net.newGraph();
        NpyArray conv2 = TorchLayout.export(g, net).get("conv2.weight");
        INDArray a = g.getLayer("conv2a").getParam("W");
        INDArray b = g.getLayer("conv2b").getParam("W");
        assertThat(conv2.shape()).containsExactly(64, 12, 5, 5);
        int per = (int) a.length();
        float[] expected = new float[2 * per];
        System.arraycopy(a.dup('c').data().asFloat(), 0, expected, 0, per);
        System.arraycopy(b.dup('c').data().asFloat(), 0, expected, per, per);
        assertThat(conv2.data()).containsExactly(expected); // tower a = first half of the output channels
    }

    @Test
    void badArraysAreAllNamedAndNothingIsLoaded() {
        AlexNet net = AlexNet.builder().width(0.25).numClasses(10).build();
        ComputationGraph g = net.newGraph();
        INDArray before = g.params().dup();
        Map<String, NpyArray> w = new LinkedHashMap<>(TestNets.heWeights(net, 1));
        w.remove("fc7.bias");
        w.put("conv3.weight", NpyArray.float32(new long[]{1}, new float[]{1}));
        w.put("conv5.bias", new NpyArray("<f8", new long[]{64}, null));
        w.put("extra.weight", NpyArray.float32(new long[]{1}, new float[]{1}));
        assertThatThrownBy(() -> TorchLayout.load(g, net, w))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nothing was loaded")
                .hasMessageContaining("missing array 'fc7.bias'")
                .hasMessageContaining("array 'conv3.weight' has shape [1], expected [96, 64, 3, 3]")
                .hasMessageContaining("array 'conv5.bias' has dtype <f8, expected float32")
                .hasMessageContaining("unexpected array 'extra.weight'");
        assertThat(g.params()).isEqualTo(before);
    }

    @Test
    void weightsOfAnotherWidthAreRefused() {
        AlexNet small = AlexNet.builder().width(0.25).numClasses(10).build();
        AlexNet other = AlexNet.builder().width(0.5).numClasses(10).build();
        ComputationGraph g = small.newGraph();
        INDArray before = g.params().dup();
        assertThatThrownBy(() -> TorchLayout.load(g, small, TestNets.heWeights(other, 1)))
                .hasMessageContaining("conv1.weight' has shape [48, 3, 11, 11], expected [24, 3, 11, 11]");
        assertThat(g.params()).isEqualTo(before);
        assertThat(List.of(small, other)).hasSize(2);
    }
}
