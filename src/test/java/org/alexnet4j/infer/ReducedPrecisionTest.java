package org.alexnet4j.infer;

import org.alexnet4j.weights.Calibration;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * bf16 and int8 on the oneDNN engine against its fp32 (itself tested against the network's output): logits within
 * stated tolerances on the paper net, its variants and ablations; no reference kernel where fp32 has none; int8
 * refused without a calibration; calibration files that refuse other weights. (Accuracy on a net that has learned is
 * measured by {@code eval --precision}: docs/precision.md.)
 */
public class ReducedPrecisionTest {
    /** fc8's outputs' largest difference from fp32's, relative to fp32's largest: bf16's 8-bit mantissa. */
    static final double BF16_TOLERANCE = 0.02;
    /** The same for int8 (8-bit activations and weights through eight layers). */
    static final double INT8_TOLERANCE = 0.06;

    private static INDArray input(AlexNet net, int n, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.rand(DataType.FLOAT, n, 3, net.inputSize(), net.inputSize()).subi(0.5).muli(4);
    }

    /** A calibration of {@code net} measured on {@code x}. */
    static Calibration calibrate(AlexNet net, ComputationGraph g, INDArray x) {
        return OneDnnInference.calibrationOn(net, g, x, "random inputs");
    }

    private static double logitError(float[] got, float[] want) {
        double diff = 0, max = 0;
        for (int i = 0; i < got.length; i++) {
            diff = Math.max(diff, Math.abs(got[i] - want[i]));
            max = Math.max(max, Math.abs(want[i]));
        }
        return diff / max;
    }

    private static void assertClose(AlexNet net, int n) throws IOException {
        ComputationGraph g = OneDnnInferenceTest.graph(net);
        Calibration cal = calibrate(net, g, input(net, 16, 7)); // other inputs than those compared
        INDArray x = input(net, n, 5);
        float[] want;
        try (OneDnnInference e = OneDnnInference.compile(net, g, n)) {
            want = e.run(x, true);
        }
        for (CpuPrecision p : new CpuPrecision[]{CpuPrecision.BF16, CpuPrecision.INT8}) {
            CpuPrecision used = OneDnnInference.available(p); // bf16: fp32 on a CPU without AVX-512
            try (OneDnnInference e = OneDnnInference.compile(net, g, n, p, cal)) {
                assertThat(e.precision()).isEqualTo(used);
                double tolerance = used == CpuPrecision.INT8 ? INT8_TOLERANCE : BF16_TOLERANCE;
                assertThat(logitError(e.run(x, true), want)).as("%s in %s", net, used).isLessThan(tolerance);
                for (double s : e.output(x).sum(1).toDoubleVector()) {
                    assertThat(s).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-4));
                }
            }
        }
    }

    @Test
    void bf16AndInt8StayCloseToFp32() throws IOException {
        assertClose(AlexNet.builder(Variant.PAPER).seed(3).build(), 2);
        // towers of 12 channels (bf16's LRN in fp32 there), one tower, 224 input with the overhang
        assertClose(AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(4).build(), 3);
        assertClose(AlexNet.builder(Variant.PAPER).grouped(false).width(0.5).numClasses(10).seed(5).build(), 1);
        assertClose(AlexNet.builder(Variant.PAPER).inputSize(224).width(0.5).numClasses(10).seed(6).build(), 2);
        // Caffe's LRN and pooling; torchvision and no LRN (int8 from conv1 to fc8 without a float step)
        assertClose(AlexNet.builder(Variant.CAFFE).width(0.5).numClasses(10).seed(7).build(), 2);
        assertClose(AlexNet.builder(Variant.TORCHVISION).width(0.5).numClasses(10).seed(8).build(), 2);
        assertClose(AlexNet.builder(Variant.PAPER).lrn(false).width(0.5).numClasses(10).seed(9).build(), 1);
    }

    @Test
    void featuresInBf16AndInt8AreFp32sWithinTheirTolerance() throws IOException {
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(4).build();
        ComputationGraph g = OneDnnInferenceTest.graph(net);
        Calibration cal = calibrate(net, g, input(net, 16, 7));
        INDArray x = input(net, 3, 5);
        try (OneDnnInference fp32 = OneDnnInference.compile(net, g, 3)) {
            for (CpuPrecision p : new CpuPrecision[]{CpuPrecision.BF16, CpuPrecision.INT8}) {
                try (OneDnnInference e = OneDnnInference.compile(net, g, 3, p, cal)) {
                    for (String layer : OneDnnInference.FEATURE_LAYERS) {
                        assertThat(e.featureDims(layer)).isEqualTo(fp32.featureDims(layer));
                        double tolerance = e.precision() == CpuPrecision.INT8 ? INT8_TOLERANCE : BF16_TOLERANCE;
                        assertThat(logitError(e.features(layer, x), fp32.features(layer, x)))
                                .as("%s in %s", layer, e.precision()).isLessThan(tolerance);
                    }
                }
            }
        }
    }

    /** A calibration of every layer with the same range (enough to compile). */
    private static Calibration uniform(AlexNet net) {
        return Calibration.uniform(net, 4.0);
    }

    @Test
    void reducedPrecisionsUseNoReferenceKernel() {
        for (CpuPrecision p : new CpuPrecision[]{CpuPrecision.BF16, CpuPrecision.INT8}) {
            CpuPrecision used = OneDnnInference.available(p);
            for (double width : new double[]{0.25, 0.5, 1.0}) {
                for (Variant v : Variant.values()) {
                    AlexNet net = AlexNet.builder(v).width(width).numClasses(10).build();
                    try (OneDnnInference e = OneDnnInference.compile(net, net.newGraph(), 4, used, uniform(net))) {
                        assertThat(e.implementations()).as("%s width %s in %s", v, width, used).isNotEmpty()
                                .noneMatch(s -> !s.startsWith("reorder") && s.contains("ref"));
                    }
                }
            }
        }
    }

    @Test
    void int8InputRangesAreEachLayersInput() throws IOException {
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).seed(4).build();
        ComputationGraph g = OneDnnInferenceTest.graph(net);
        INDArray x = input(net, 4, 1);
        try (OneDnnInference e = OneDnnInference.compile(net, g, 4)) {
            Map<String, Float> r = e.inputRanges(x);
            assertThat(r.keySet()).containsExactly("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8");
            assertThat(r.get("conv1")).isEqualTo(x.amaxNumber().floatValue());
            assertThat(r.values()).allMatch(v -> v > 0);
            // fc8's input is fc7's rectified output: DL4J's activations say the same
            INDArray fc7 = g.feedForward(x, false).get("fc7");
            assertThat((double) r.get("fc8")).isCloseTo(fc7.amaxNumber().doubleValue(),
                    org.assertj.core.api.Assertions.offset(1e-4 * fc7.amaxNumber().doubleValue()));
        }
        try (OneDnnInference e = OneDnnInference.compile(net, g, 4, CpuPrecision.INT8, uniform(net))) {
            assertThatThrownBy(() -> e.inputRanges(x)).hasMessageContaining("measured on the fp32 engine");
        }
    }

    @Test
    void int8WithoutCalibrationIsRefusedWithASentence() {
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).build();
        ComputationGraph g = net.newGraph();
        assertThatThrownBy(() -> OneDnnInference.compile(net, g, 1, CpuPrecision.INT8, null))
                .hasMessageContaining("int8 inference needs the ranges of the activations")
                .hasMessageContaining("alexnet4j calibrate");
        Map<String, Double> partial = new LinkedHashMap<>(uniform(net).inputRanges());
        partial.remove("fc7");
        Calibration other = new Calibration(Calibration.FORMAT, Calibration.MINMAX, 1, "d", "p", "w.npz", "00",
                partial);
        assertThatThrownBy(() -> OneDnnInference.compile(net, g, 1, CpuPrecision.INT8, other))
                .hasMessageContaining("no range for fc7's input");
    }

    @Test
    void aCalibrationFileTravelsWithItsWeightsOnly(@TempDir Path dir) throws IOException {
        Path weights = dir.resolve("best.zip");
        Files.write(weights, new byte[]{1, 2, 3});
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).build();
        Calibration.Ranges r = new Calibration.Ranges();
        Map<String, Float> batch = new LinkedHashMap<>();
        net.paramLayers().forEach(l -> batch.put(l.name(), 2f));
        r.add(batch, 4);
        batch.put("fc7", 8f);
        r.add(batch, 4);
        Calibration c = r.toCalibration("cache", "centre crop", weights);
        assertThat(c.images()).isEqualTo(8);
        assertThat(c.inputRanges().get("fc7")).isEqualTo(8.0);
        assertThat(c.scale("fc7", false)).isEqualTo(255f / 8);
        assertThat(c.scale("conv1", true)).isEqualTo(127f / 2);
        Path file = Calibration.fileFor(weights);
        assertThat(file.getFileName().toString()).isEqualTo("best.calibration.json");
        assertThat(Calibration.beside(weights)).isNull();
        c.write(file);
        assertThat(Calibration.beside(weights)).isEqualTo(c);
        Files.write(weights, new byte[]{1, 2, 4}); // the run trained on: best.zip replaced
        assertThatThrownBy(() -> Calibration.beside(weights)).hasMessageContaining("made for other weights")
                .hasMessageContaining("calibrate");
        Files.writeString(file, "{\"format\": \"something else\"}");
        assertThatThrownBy(() -> Calibration.read(file)).hasMessageContaining("is not an alexnet4j-calibration/1");
    }
}
