package org.alexnet4j.model;

import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Exact layer shapes and parameter counts (section 3 of the paper, figure 2), for every variant and ablation. */
class ArchitectureTest {

    @BeforeAll
    static void backend() {
        Backend.init();
    }

    private static Map<String, long[]> shapes(AlexNet net) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (ModelSummary.Row r : ModelSummary.of(net).rows()) {
            m.put(r.name(), r.outputShape());
        }
        return m;
    }

    private static Map<String, Long> params(AlexNet net) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (ModelSummary.Row r : ModelSummary.of(net).rows()) {
            m.put(r.name(), r.parameters());
        }
        return m;
    }

    @Test
    void lrnIsThisProjectsLayerUnlessDl4jsIsAskedFor() {
        ComputationGraphConfiguration ours = AlexNet.builder().build().configuration();
        assertThat(ours.getVertices().get("lrn1a")).extracting(v -> ((org.deeplearning4j.nn.conf.graph.LayerVertex) v)
                .getLayerConf().getLayer()).isInstanceOf(org.alexnet4j.model.layers.ChannelLrn.class);
        AlexNet dl4jLrn = AlexNet.builder().lrnImplementation(LrnImplementation.DL4J).build();
        assertThat(dl4jLrn.configuration().getVertices().get("lrn2b"))
                .extracting(v -> ((org.deeplearning4j.nn.conf.graph.LayerVertex) v).getLayerConf().getLayer())
                .isInstanceOf(org.deeplearning4j.nn.conf.layers.LocalResponseNormalization.class);
        // same parameters and shapes either way; the choice survives a settings round trip
        assertThat(params(dl4jLrn)).isEqualTo(params(AlexNet.builder().build()));
        assertThat(AlexNet.fromSettings(dl4jLrn.settings())).isEqualTo(dl4jLrn);
        assertThat(AlexNet.fromSettings(dl4jLrn.settings()).lrnImplementation()).isEqualTo(LrnImplementation.DL4J);
        // a configuration with the project's layer survives DL4J's JSON form
        assertThat(ComputationGraphConfiguration.fromJson(ours.toJson())).isEqualTo(ours);
        assertThatThrownBy(() -> LrnImplementation.fromId("cudnn")).hasMessageContaining("alexnet4j or dl4j");
    }

    @Test
    void paperNetHasTheFiguresShapesPerTower() {
        Map<String, long[]> s = shapes(AlexNet.builder().build());
        // topological order, towers side by side stage by stage
        assertThat(s.keySet()).containsExactly("input",
                "conv1a", "conv1b", "lrn1a", "lrn1b", "pool1a", "pool1b",
                "conv2a", "conv2b", "lrn2a", "lrn2b", "pool2a", "pool2b", "merge2",
                "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b", "pool5a", "pool5b", "merge5",
                "fc6", "drop6", "fc7", "drop7", "fc8");
        assertThat(s.get("input")).containsExactly(3, 227, 227);
        for (String t : List.of("a", "b")) {
            assertThat(s.get("conv1" + t)).containsExactly(48, 55, 55);
            assertThat(s.get("lrn1" + t)).containsExactly(48, 55, 55);
            assertThat(s.get("pool1" + t)).containsExactly(48, 27, 27);
            assertThat(s.get("conv2" + t)).containsExactly(128, 27, 27);
            assertThat(s.get("pool2" + t)).containsExactly(128, 13, 13);
            assertThat(s.get("conv3" + t)).containsExactly(192, 13, 13);
            assertThat(s.get("conv4" + t)).containsExactly(192, 13, 13);
            assertThat(s.get("conv5" + t)).containsExactly(128, 13, 13);
            assertThat(s.get("pool5" + t)).containsExactly(128, 6, 6);
        }
        assertThat(s.get("merge2")).containsExactly(256, 13, 13);
        assertThat(s.get("merge5")).containsExactly(256, 6, 6);
        assertThat(s.get("fc6")).containsExactly(4096);
        assertThat(s.get("fc7")).containsExactly(4096);
        assertThat(s.get("fc8")).containsExactly(1000);
    }

    @Test
    void paperNetHasExactlyThePublishedParameterCount() {
        AlexNet net = AlexNet.builder().build();
        Map<String, Long> p = params(net);
        // hand-computed: weights + biases per tower
        assertThat(p.get("conv1a")).isEqualTo(48L * 3 * 11 * 11 + 48);
        assertThat(p.get("conv2a")).isEqualTo(128L * 48 * 5 * 5 + 128);
        assertThat(p.get("conv3a")).isEqualTo(192L * 256 * 3 * 3 + 192);
        assertThat(p.get("conv4a")).isEqualTo(192L * 192 * 3 * 3 + 192);
        assertThat(p.get("conv5a")).isEqualTo(128L * 192 * 3 * 3 + 128);
        assertThat(p.get("fc6")).isEqualTo(9216L * 4096 + 4096);
        assertThat(p.get("fc7")).isEqualTo(4096L * 4096 + 4096);
        assertThat(p.get("fc8")).isEqualTo(4096L * 1000 + 1000);
        assertThat(ModelSummary.of(net).totalParameters()).isEqualTo(60_965_224L).isEqualTo(Variant.PAPER.parameters());
        assertThat(net.parameterCount()).isEqualTo(60_965_224L);
        // the spec's ~724.4 M multiply-adds per 227x227 image
        assertThat(ModelSummary.of(net).totalMacs()).isEqualTo(724_406_816L);
    }

    @Test
    void torchvisionNetMatchesTorchvisionsAlexnet() {
        AlexNet net = AlexNet.builder(Variant.TORCHVISION).build();
        Map<String, long[]> s = shapes(net);
        assertThat(s.keySet()).containsExactly("input", "conv1", "pool1", "conv2", "pool2", "conv3", "conv4",
                "conv5", "pool5", "drop6", "fc6", "drop7", "fc7", "fc8");
        assertThat(s.get("input")).containsExactly(3, 224, 224);
        assertThat(s.get("conv1")).containsExactly(64, 55, 55);
        assertThat(s.get("pool1")).containsExactly(64, 27, 27);
        assertThat(s.get("conv2")).containsExactly(192, 27, 27);
        assertThat(s.get("pool2")).containsExactly(192, 13, 13);
        assertThat(s.get("conv3")).containsExactly(384, 13, 13);
        assertThat(s.get("conv4")).containsExactly(256, 13, 13);
        assertThat(s.get("conv5")).containsExactly(256, 13, 13);
        assertThat(s.get("pool5")).containsExactly(256, 6, 6);
        assertThat(ModelSummary.of(net).totalParameters()).isEqualTo(61_100_840L);
        assertThat(net.parameterCount()).isEqualTo(61_100_840L);
    }

    @Test
    void caffeNetIsBvlcAlexnet() {
        AlexNet net = AlexNet.builder(Variant.CAFFE).build();
        Map<String, long[]> s = shapes(net);
        assertThat(s.keySet()).containsExactly("input", "conv1", "lrn1", "pool1", "slice1a", "slice1b", "conv2a",
                "conv2b", "merge2", "lrn2", "pool2", "conv3a", "conv3b", "conv4a", "conv4b", "conv5a", "conv5b",
                "pool5a", "pool5b", "merge5", "fc6", "drop6", "fc7", "drop7", "fc8");
        assertThat(s.get("conv1")).containsExactly(96, 55, 55);
        assertThat(s.get("lrn1")).containsExactly(96, 55, 55); // across all 96 maps, as Caffe's norm1
        assertThat(s.get("slice1b")).containsExactly(48, 27, 27);
        assertThat(s.get("lrn2")).containsExactly(256, 27, 27);
        assertThat(s.get("merge5")).containsExactly(256, 6, 6);
        assertThat(net.parameterCount()).isEqualTo(60_965_224L).isEqualTo(Variant.CAFFE.parameters());
        assertThat(ModelSummary.of(net).totalParameters()).isEqualTo(60_965_224L);
        assertThat(net.paramLayers().get(0).parts()).containsExactly("conv1");
        assertThat(net.paramLayers().get(1).groups()).isEqualTo(2);
        // at 224 (the ONNX model zoo's declared input) conv1 gives 54x54 and Caffe's rounded-up pool1 27x27
        Map<String, long[]> s224 = shapes(AlexNet.builder(Variant.CAFFE).inputSize(224).build());
        assertThat(s224.get("conv1")).containsExactly(96, 54, 54);
        assertThat(s224.get("pool1_pad")).containsExactly(96, 55, 55);
        assertThat(s224.get("pool1")).containsExactly(96, 27, 27);
        assertThat(s224.get("merge5")).containsExactly(256, 6, 6);
        assertThat(AlexNet.builder(Variant.CAFFE).grouped(false).build().parameterCount()).isEqualTo(62_378_344L);
        assertThatThrownBy(() -> AlexNet.builder(Variant.CAFFE).pooling(Pooling.AVG).build())
                .hasMessageContaining("pooling=AVG");
        assertThatThrownBy(() -> AlexNet.builder(Variant.CAFFE).padding(Padding.EDGE).build())
                .hasMessageContaining("padding=EDGE");
        assertThatThrownBy(() -> AlexNet.builder(Variant.CAFFE).inputSize(225).build())
                .hasMessageContaining("227 or 224 for the caffe net");
    }

    @Test
    void input224ReproducesCudaConvnetMapSizes() {
        Map<String, long[]> s = shapes(AlexNet.builder().inputSize(224).build());
        assertThat(s.get("input")).containsExactly(3, 224, 224);
        assertThat(s.get("pad0")).containsExactly(3, 227, 227);
        assertThat(s.get("conv1a")).containsExactly(48, 55, 55);
        assertThat(s.get("pool2a")).containsExactly(128, 13, 13);
        assertThat(s.get("merge5")).containsExactly(256, 6, 6);
        assertThat(ModelSummary.of(AlexNet.builder().inputSize(224).build()).totalParameters()).isEqualTo(60_965_224L);
    }

    @Test
    void oneTowerHasTheSpecsUngroupedCount() {
        AlexNet net = AlexNet.builder().grouped(false).build();
        Map<String, long[]> s = shapes(net);
        assertThat(s).containsKeys("conv1", "lrn1", "pool1", "conv2", "lrn2", "pool2", "conv3", "conv4", "conv5",
                "pool5").doesNotContainKeys("conv1a", "merge2", "merge5");
        assertThat(s.get("conv2")).containsExactly(256, 27, 27);
        assertThat(ModelSummary.of(net).totalParameters()).isEqualTo(62_378_344L);
        assertThat(net.parameterCount()).isEqualTo(62_378_344L);
    }

    @Test
    void ablationsKeepTheMapSizes() {
        for (AlexNet net : List.of(
                AlexNet.builder().lrn(false).build(),
                AlexNet.builder().overlappingPooling(false).build(),
                AlexNet.builder().pooling(Pooling.AVG).build(),
                AlexNet.builder().padding(Padding.EDGE).build(),
                AlexNet.builder().padding(Padding.EDGE).inputSize(224).build())) {
            Map<String, long[]> s = shapes(net);
            assertThat(s.get("pool1a")).as(net.toString()).containsExactly(48, 27, 27);
            assertThat(s.get("pool2a")).as(net.toString()).containsExactly(128, 13, 13);
            assertThat(s.get("conv4b")).as(net.toString()).containsExactly(192, 13, 13);
            assertThat(s.get("merge5")).as(net.toString()).containsExactly(256, 6, 6);
            assertThat(ModelSummary.of(net).totalParameters()).as(net.toString()).isEqualTo(60_965_224L);
        }
        assertThat(shapes(AlexNet.builder().lrn(false).build())).doesNotContainKeys("lrn1a", "lrn2b");
        assertThat(shapes(AlexNet.builder().padding(Padding.EDGE).build()))
                .containsKeys("conv2a_pad", "conv3b_pad", "conv5a_pad").doesNotContainKey("conv1a_pad");
        ModelSummary avg = ModelSummary.of(AlexNet.builder().pooling(Pooling.AVG).overlappingPooling(false).build());
        assertThat(avg.rows()).filteredOn(r -> r.name().startsWith("pool"))
                .allSatisfy(r -> assertThat(r.type() + " " + r.detail()).isEqualTo("AvgPool 2x2/2"));
    }

    @Test
    void classesDropoutAndWidth() {
        AlexNet ten = AlexNet.builder().numClasses(10).build();
        assertThat(shapes(ten).get("fc8")).containsExactly(10);
        assertThat(ten.parameterCount()).isEqualTo(60_965_224L - 990L * 4097);

        AlexNet noDrop = AlexNet.builder().dropout(0).build();
        assertThat(shapes(noDrop)).doesNotContainKeys("drop6", "drop7");
        assertThat(ModelSummary.of(AlexNet.builder().dropout(0.3).build()).rows())
                .filteredOn(r -> r.name().equals("drop6")).singleElement()
                .extracting(ModelSummary.Row::detail).isEqualTo("rate 0.30");

        AlexNet quarter = AlexNet.builder().width(0.25).numClasses(10).build();
        Map<String, long[]> s = shapes(quarter);
        assertThat(s.get("conv1a")).containsExactly(12, 55, 55);
        assertThat(s.get("conv2b")).containsExactly(32, 27, 27);
        assertThat(s.get("conv3a")).containsExactly(48, 13, 13);
        assertThat(s.get("merge5")).containsExactly(64, 6, 6);
        assertThat(s.get("fc6")).containsExactly(1024);
        long expected = (24L * 3 * 121 + 24) + (64L * 12 * 25 + 64) + (96L * 64 * 9 + 96) + (96L * 48 * 9 + 96)
                + (64L * 48 * 9 + 64) + (2304L * 1024 + 1024) + (1024L * 1024 + 1024) + (1024L * 10 + 10);
        assertThat(ModelSummary.of(quarter).totalParameters()).isEqualTo(expected).isEqualTo(quarter.parameterCount());
    }

    @Test
    void nhwcHasTheSameParametersAndTransposedShapes() {
        AlexNet net = AlexNet.builder().dataFormat(CNN2DFormat.NHWC).build();
        Map<String, long[]> s = shapes(net);
        assertThat(s.get("conv1a")).containsExactly(55, 55, 48);
        assertThat(s.get("merge2")).containsExactly(13, 13, 256);
        assertThat(s.get("merge5")).containsExactly(6, 6, 256);
        assertThat(ModelSummary.of(net).totalParameters()).isEqualTo(60_965_224L);
    }

    @Test
    void builtGraphHasThePublishedCountAndRoundTripsThroughJson() {
        ComputationGraphConfiguration conf = AlexNet.builder().padding(Padding.EDGE).build().configuration();
        assertThat(ComputationGraphConfiguration.fromJson(conf.toJson())).isEqualTo(conf);
        ComputationGraph graph = AlexNet.newGraph(AlexNet.builder().build().configuration());
        assertThat(graph.numParams()).isEqualTo(60_965_224L);
        graph.close();
    }

    @Test
    void builderValidatesItsArguments() {
        assertThatThrownBy(() -> AlexNet.builder().inputSize(225).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("227 or 224");
        assertThatThrownBy(() -> AlexNet.builder(Variant.TORCHVISION).inputSize(227).build())
                .hasMessageContaining("must be 224 for the torchvision net");
        assertThatThrownBy(() -> AlexNet.builder().numClasses(1).build()).hasMessageContaining("numClasses");
        assertThatThrownBy(() -> AlexNet.builder().dropout(1.0).build()).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> AlexNet.builder().dropout(-0.1).build()).hasMessageContaining("[0, 1)");
        assertThatThrownBy(() -> AlexNet.builder().width(0).build()).hasMessageContaining("(0, 4]");
        assertThatThrownBy(() -> AlexNet.builder().width(Double.NaN).build()).hasMessageContaining("(0, 4]");
        assertThatThrownBy(() -> AlexNet.builder().width(0.04).build()).hasMessageContaining("LRN over n=5");
        assertThat(AlexNet.builder().width(0.04).lrn(false).build().paramLayers()).hasSize(8);
        assertThatThrownBy(() -> AlexNet.builder(Variant.TORCHVISION).lrn(true).build())
                .hasMessageContaining("lrn=true is an ablation of the paper net");
        assertThatThrownBy(() -> AlexNet.builder(Variant.TORCHVISION).grouped(true).build())
                .hasMessageContaining("grouped=true");
        assertThatThrownBy(() -> Variant.fromId("vgg")).hasMessageContaining("paper, torchvision, caffe");
        assertThatThrownBy(() -> AlexNet.builder().variant(null)).hasMessageContaining("variant");
    }

    @Test
    void builderCanBeReused() {
        AlexNet.Builder b = AlexNet.builder();
        assertThat(b.build().inputSize()).isEqualTo(227);
        assertThat(b.variant(Variant.TORCHVISION).build().inputSize()).isEqualTo(224);
    }

    @ParameterizedTest
    @EnumSource(Variant.class)
    void paramLayersDescribeTheSameCountAsTheGraph(Variant v) {
        AlexNet net = AlexNet.builder(v).build();
        assertThat(net.paramLayers()).extracting(ParamLayer::name)
                .containsExactly("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8");
        assertThat(net.parameterCount()).isEqualTo(v.parameters());
    }
}
