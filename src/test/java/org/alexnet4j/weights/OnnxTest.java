package org.alexnet4j.weights;

import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import org.alexnet4j.TestNets;
import org.alexnet4j.eval.Inference;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.Pooling;
import org.alexnet4j.model.Variant;
import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * ONNX export and import against ONNX Runtime, an engine that shares no code with DL4J or this project: every
 * variant and ablation exported with random weights computes the same logits there; graphs written the way the ONNX
 * model zoo and torch.onnx.export write AlexNet import and compute what ONNX Runtime computes on them; files that do
 * not fit are refused with their mismatches named.
 */
class OnnxTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    private static AlexNet.Builder small(Variant v) {
        return AlexNet.builder(v).width(0.25).numClasses(10);
    }

    static Stream<Arguments> exports() {
        return Stream.of(
                Arguments.of(small(Variant.PAPER).build(), OnnxExport.DEFAULT_OPSET),
                Arguments.of(small(Variant.PAPER).build(), 9),
                Arguments.of(small(Variant.PAPER).build(), 21),
                Arguments.of(small(Variant.PAPER).inputSize(224).build(), 13),
                Arguments.of(small(Variant.PAPER).lrn(false).build(), 13),
                Arguments.of(small(Variant.PAPER).overlappingPooling(false).build(), 13),
                Arguments.of(small(Variant.PAPER).pooling(Pooling.AVG).build(), 13),
                Arguments.of(small(Variant.PAPER).padding(Padding.EDGE).inputSize(224).build(), 13),
                Arguments.of(small(Variant.PAPER).padding(Padding.EDGE).build(), 10),
                Arguments.of(small(Variant.PAPER).grouped(false).build(), 13),
                Arguments.of(small(Variant.PAPER).dataFormat(CNN2DFormat.NHWC).build(), 13),
                Arguments.of(small(Variant.TORCHVISION).build(), 13),
                Arguments.of(small(Variant.CAFFE).build(), 13),
                Arguments.of(small(Variant.CAFFE).inputSize(224).build(), 12),
                Arguments.of(small(Variant.CAFFE).grouped(false).lrn(false).build(), 17));
    }

    @ParameterizedTest
    @MethodSource("exports")
    void exportedNetsComputeTheSameLogitsInOnnxRuntime(AlexNet net, int opset) throws Exception {
        Map<String, NpyArray> w = TestNets.heWeights(net, 5);
        ComputationGraph graph = net.newGraph();
        TorchLayout.load(graph, net, w);
        INDArray x = TestNets.input(2, net.inputSize(), 60, 3);
        INDArray dl4j = new Inference(graph, net, 2).logits(x);
        ModelProto m = OnnxExport.model(net, w, opset);
        INDArray ort = OnnxRuntimeRunner.run(m.toByteArray(), x, OnnxExport.LOGITS);
        assertThat(OnnxRuntimeRunner.relErr(ort, dl4j)).as(net + " opset " + opset).isLessThan(1e-4);
        INDArray probs = OnnxRuntimeRunner.run(m.toByteArray(), x, OnnxExport.PROBABILITIES);
        assertThat(OnnxRuntimeRunner.relErr(probs, new Inference(graph, net, 2).probabilities(x))).isLessThan(1e-4);
        // and the file reads back into exactly the same arrays
        Path f = tmp.resolve("m.onnx");
        OnnxExport.write(f, net, w, opset);
        assertThat(OnnxImport.read(f, net)).isEqualTo(w);
        graph.close();
    }

    @Test
    void towersBecomeGroupedConvolutionsAndPaperLrnIsPerTower() {
        ModelProto m = OnnxExport.model(small(Variant.PAPER).build(), null, 13);
        Map<String, Long> groups = new LinkedHashMap<>();
        long lrns = 0;
        for (NodeProto n : m.getGraph().getNodeList()) {
            if (n.getOpType().equals("Conv")) {
                groups.put(n.getName(), n.getAttributeList().stream().filter(a -> a.getName().equals("group"))
                        .findFirst().orElseThrow().getI());
            }
            if (n.getOpType().equals("LRN")) {
                lrns++;
                assertThat(n.getAttributeList()).anySatisfy(a -> {
                    assertThat(a.getName()).isEqualTo("alpha");
                    assertThat(a.getF()).isEqualTo(5e-4f); // the paper's 1e-4 on the plain sum, in ONNX's alpha/size
                });
            }
        }
        assertThat(groups).containsExactly(Map.entry("conv1", 1L), Map.entry("conv2", 2L), Map.entry("conv3", 1L),
                Map.entry("conv4", 2L), Map.entry("conv5", 2L));
        assertThat(lrns).isEqualTo(4); // two towers x two layers
        assertThat(m.getGraph().getInput(0).getType().getTensorType().getShape().getDim(0).getDimParam())
                .isEqualTo("N");
    }

    static Stream<Arguments> zooGraphs() {
        return Stream.of(Arguments.of(9, 224, false), Arguments.of(12, 224, true), Arguments.of(9, 227, false));
    }

    @ParameterizedTest
    @MethodSource("zooGraphs")
    void bvlcStyleGraphsImportAndMatchOnnxRuntime(int opset, int convertedAt, boolean flatten) throws Exception {
        AlexNet net = small(Variant.CAFFE).inputSize(224).build();
        Map<String, NpyArray> w = TestNets.heWeights(net, 9);
        ModelProto zoo = ForeignGraphs.bvlc(w, opset, convertedAt, 224, flatten);
        Path f = tmp.resolve("bvlcalexnet-" + opset + ".onnx");
        Files.write(f, zoo.toByteArray());
        Map<String, NpyArray> read = OnnxImport.read(f, net);
        assertThat(read).isEqualTo(w);
        ComputationGraph graph = net.newGraph();
        TorchLayout.load(graph, net, read);
        INDArray x = TestNets.input(1, 224, 60, 4);
        INDArray ort = OnnxRuntimeRunner.run(zoo.toByteArray(), x, "prob_1");
        INDArray dl4j = new Inference(graph, net, 1).probabilities(x);
        assertThat(OnnxRuntimeRunner.relErr(dl4j, ort)).isLessThan(1e-4);
        // the same weights fit the net at Caffe's own 227 crop
        assertThat(OnnxImport.read(f, small(Variant.CAFFE).build())).isEqualTo(w);
        graph.close();
    }

    @Test
    void opset6ZooGraphImports() throws Exception {
        AlexNet net = small(Variant.CAFFE).build();
        Map<String, NpyArray> w = TestNets.heWeights(net, 2);
        Path f = tmp.resolve("opset6.onnx");
        Files.write(f, ForeignGraphs.bvlc(w, 6, 224, 224, false).toByteArray());
        assertThat(OnnxImport.read(f, net)).isEqualTo(w);
    }

    @Test
    void torchOnnxExportOfTorchvisionImportsAndMatchesOnnxRuntime() throws Exception {
        AlexNet net = small(Variant.TORCHVISION).build();
        Map<String, NpyArray> w = TestNets.heWeights(net, 4);
        ModelProto m = ForeignGraphs.torchvision(w, 14);
        Path f = tmp.resolve("alexnet.onnx");
        Files.write(f, m.toByteArray());
        ComputationGraph graph = net.newGraph();
        TorchLayout.load(graph, net, OnnxImport.read(f, net));
        INDArray x = TestNets.input(2, 224, 2, 6);
        assertThat(OnnxRuntimeRunner.relErr(new Inference(graph, net, 2).logits(x),
                OnnxRuntimeRunner.run(m.toByteArray(), x, "output"))).isLessThan(1e-4);
        graph.close();
    }

    @Test
    void aFileForAnotherVariantIsRefusedWithEveryMismatchNamed() throws Exception {
        AlexNet paper = small(Variant.PAPER).build();
        Path f = tmp.resolve("paper.onnx");
        OnnxExport.write(f, paper, TestNets.heWeights(paper, 1), 13);
        assertThatThrownBy(() -> OnnxImport.read(f, small(Variant.CAFFE).build()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("does not fit the caffe net")
                .hasMessageContaining("nothing was loaded")
                .hasMessageContaining("bias (k) 2.00000, expected 1.00000")
                .hasMessageContaining("channel groups 2, expected 1")
                .hasMessageContaining("alpha/size 0.000100000, expected 2.00000e-05")
                .hasMessageContaining("exported by alexnet4j from");
        assertThatThrownBy(() -> OnnxImport.read(f, small(Variant.TORCHVISION).build()))
                .hasMessageContaining("the layers differ");
        assertThatThrownBy(() -> OnnxImport.read(f, AlexNet.builder().width(0.5).numClasses(10).build()))
                .hasMessageContaining("weights 'conv1.weight' have shape [24, 3, 11, 11], expected [48, 3, 11, 11]")
                .hasMessageContaining("weights 'fc8.weight' have shape [10, 1024], expected [10, 2048]");
    }

    @Test
    void wrongAttributesMissingAndExtraInitializersAreNamed() throws Exception {
        AlexNet net = small(Variant.CAFFE).build();
        Map<String, NpyArray> w = TestNets.heWeights(net, 1);
        ModelProto zoo = ForeignGraphs.bvlc(w, 9, 227, 227, false);
        var g = zoo.getGraph().toBuilder();
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto n = g.getNode(i);
            if (n.getName().equals("conv4_1")) { // group 1 instead of 2 (and its weights then read 384 channels)
                var b = n.toBuilder().clearAttribute();
                n.getAttributeList().stream().filter(a -> !a.getName().equals("group")).forEach(b::addAttribute);
                g.setNode(i, b.addAttribute(OnnxExport.integer("group", 1)));
            }
        }
        g.addInitializer(onnx.Onnx.TensorProto.newBuilder().setName("stray").setDataType(1).addDims(3)
                .addFloatData(1).addFloatData(2).addFloatData(3));
        for (int i = 0; i < g.getInitializerCount(); i++) {
            if (g.getInitializer(i).getName().equals("fc7_w_0")) {
                g.removeInitializer(i);
                break;
            }
        }
        Path f = tmp.resolve("bad.onnx");
        Files.write(f, zoo.toBuilder().setGraph(g).build().toByteArray());
        assertThatThrownBy(() -> OnnxImport.read(f, net))
                .hasMessageContaining("conv node 'conv4_1' (conv4): group 1, expected 2")
                .hasMessageContaining("unused initializer 'stray' [3]")
                .hasMessageContaining("'fc7_1' reads its weights from 'fc7_w_0', which is not an initializer (missing)");
    }

    @Test
    void truncatedAndForeignFilesGetOneSentence() throws Exception {
        AlexNet net = small(Variant.CAFFE).build();
        Path good = tmp.resolve("good.onnx");
        OnnxExport.write(good, net, TestNets.heWeights(net, 1), 13);
        byte[] bytes = Files.readAllBytes(good);
        Path cut = tmp.resolve("cut.onnx");
        Files.write(cut, Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> OnnxImport.read(cut, net)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(cut + " is not a readable ONNX model (truncated, or another format)");
        Path text = tmp.resolve("notes.onnx");
        Files.writeString(text, "this is not a model\n");
        assertThatThrownBy(() -> OnnxImport.read(text, net)).hasMessageStartingWith(text + " is not");
        Path empty = tmp.resolve("empty.onnx");
        Files.write(empty, new byte[0]);
        assertThatThrownBy(() -> OnnxImport.read(empty, net))
                .hasMessageContaining("is not an ONNX model: it has no graph");
    }

    @Test
    void aFullSizeModelImportsInSeconds() throws Exception {
        AlexNet net = AlexNet.builder(Variant.CAFFE).build();
        Map<String, NpyArray> w = TestNets.heWeights(net, 1);
        Path f = tmp.resolve("full.onnx");
        OnnxExport.write(f, net, w, 13);
        assertThat(Files.size(f)).isGreaterThan(240_000_000L);
        long t = System.nanoTime();
        Map<String, NpyArray> read = OnnxImport.read(f, net);
        double seconds = (System.nanoTime() - t) / 1e9;
        assertThat(read).isEqualTo(w);
        assertThat(seconds).as("seconds to import a 244 MB model").isLessThan(30);
    }
}
