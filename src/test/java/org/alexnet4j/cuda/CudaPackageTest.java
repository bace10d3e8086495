package org.alexnet4j.cuda;

import org.alexnet4j.bench.GpuFixtures;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.Variant;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What the CUDA engine's package promises apart from its numbers: it runs where only a JRE, JavaCPP and the CUDA
 * presets exist (no ND4J, DL4J or DataVec reference in it or in the net description it reads), the GPU bundle's
 * fixtures survive their text form, the bundle's program passes through the CPU reference and fails on a wrong
 * fixture, and a machine without a GPU gets a sentence.
 */
class CudaPackageTest {

    private static final Pattern FORBIDDEN = Pattern.compile("\\b(org\\.nd4j|org\\.deeplearning4j|org\\.datavec|"
            + "org\\.alexnet4j\\.(?!cuda\\b|model\\.NetSpec\\b|model\\.ParamLayer\\b)[a-z]+)");

    @Test
    void theEngineAndTheNetDescriptionItReadsUseNoNd4jOrDl4j() throws IOException {
        List<Path> sources = new ArrayList<>();
        try (Stream<Path> s = Files.list(Path.of("src/main/java/org/alexnet4j/cuda"))) {
            s.filter(p -> p.toString().endsWith(".java")).forEach(sources::add);
        }
        sources.add(Path.of("src/main/java/org/alexnet4j/model/NetSpec.java"));
        sources.add(Path.of("src/main/java/org/alexnet4j/model/ParamLayer.java"));
        assertThat(sources).hasSizeGreaterThan(10);
        List<String> found = new ArrayList<>();
        for (Path p : sources) {
            String text = Files.readString(p).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "")
                    .replaceAll("(?m)^package [a-z0-9.]+;", "");
            Matcher m = FORBIDDEN.matcher(text);
            while (m.find()) {
                found.add(p.getFileName() + ": " + m.group());
            }
        }
        assertThat(found).as("references outside the engine's allowed dependencies").isEmpty();
    }

    @Test
    void fixturesSurviveTheirTextFormAndTheBundleProgramPassesOnTheReference(@TempDir Path tmp) throws IOException {
        List<Fixtures.Net> nets = GpuFixtures.compute(false);
        Path file = tmp.resolve("fixtures.txt");
        Fixtures.write(file, nets);
        List<Fixtures.Net> back = Fixtures.read(file);
        assertThat(back).hasSize(1);
        Fixtures.Net a = nets.get(0), b = back.get(0);
        assertThat(Fixtures.specText(b.spec())).isEqualTo(Fixtures.specText(a.spec()));
        assertThat(b.logits()).containsExactly(a.logits());
        assertThat(b.gradients().keySet()).containsExactlyElementsOf(a.gradients().keySet());
        assertThat(b.gradients().get("conv2.weight").sample()).containsExactly(a.gradients().get("conv2.weight")
                .sample());
        assertThat(b.afterStep().get("fc8.bias").norm()).isEqualTo(a.afterStep().get("fc8.bias").norm());

        assertThat(GpuVerify.verify(file, tmp.resolve("ok"), null, false, true)).isZero();
        String json = Files.readString(tmp.resolve("ok/gpu-report.json"));
        assertThat(json).contains("\"opChecks\"").contains("\"fixtureChecks\"").contains("\"training\"")
                .contains("\"failures\": 0");
        assertThat(Files.readString(tmp.resolve("ok/gpu-report.txt"))).contains("PASSED");

        // a fixture that DL4J did not compute: the largest logit of the first image off by 5 %
        float[] wrong = a.logits().clone();
        wrong[6] *= 1.05f;
        Fixtures.write(file, List.of(new Fixtures.Net(a.name(), a.spec(), a.seed(), a.batch(), a.lr(), a.momentum(),
                a.decay(), wrong, a.loss(), a.gradients(), a.afterStep())));
        assertThat(GpuVerify.verify(file, tmp.resolve("bad"), null, false, true)).isEqualTo(1);
        assertThat(Files.readString(tmp.resolve("bad/gpu-report.txt"))).contains("FAIL logits").contains("FAILED");
    }

    @Test
    void aNetDescriptionSurvivesItsTextForm() {
        for (Variant v : Variant.values()) {
            NetSpec s = AlexNet.builder(v).width(0.5).numClasses(17).build().spec();
            // the text keeps what the engine reads (not the DL4J graph's part names)
            NetSpec back = Fixtures.parseSpec(Fixtures.specText(s));
            assertThat(Fixtures.specText(back)).isEqualTo(Fixtures.specText(s));
            assertThat(back.blocks()).hasSize(5);
            assertThat(back.paramLayers()).extracting(org.alexnet4j.model.ParamLayer::weightShape)
                    .containsExactlyElementsOf(s.paramLayers().stream()
                            .map(org.alexnet4j.model.ParamLayer::weightShape).toList());
            assertThat(back.init()).isEqualTo(s.init());
        }
    }

    @Test
    void withoutADriverTheEngineSaysSo() {
        Assumptions.assumeFalse(Files.exists(Path.of("/proc/driver/nvidia/version")), "this machine has a GPU");
        assertThat(CudaRuntime.whyNot()).contains("no NVIDIA driver");
        assertThat(CudaRuntime.usable()).isFalse();
        assertThatThrownBy(() -> CudaRuntime.open(0, Precision.FP32, m -> { }))
                .isInstanceOf(CudaException.class).hasMessageContaining("No NVIDIA GPU driver")
                .hasMessageContaining("--engine onednn or dl4j");
        assertThatThrownBy(() -> Precision.fromId("fp16")).hasMessageContaining("fp32, fp32-fast, tf32");
    }

    @Test
    void theEngineRefusesWhatItCannotRun() {
        NetSpec edge = AlexNet.builder().padding(org.alexnet4j.model.Padding.EDGE).width(0.125).build().spec();
        assertThatThrownBy(() -> new AlexNetEngine(edge, new ReferenceOps(), 2, 1))
                .hasMessageContaining("edge-padding ablation");
        NetSpec paper = AlexNet.builder().width(0.125).numClasses(5).build().spec();
        try (AlexNetEngine e = new AlexNetEngine(paper, new ReferenceOps(), 2, 1)) {
            assertThatThrownBy(() -> e.logits(new float[10], 1)).hasMessageContaining("images hold 10 floats");
            assertThatThrownBy(() -> e.logits(new float[3 * 227 * 227 * 3], 3)).hasMessageContaining("1..2");
            assertThatThrownBy(() -> e.setParameters("conv9", new float[1], new float[1]))
                    .hasMessageContaining("no layer 'conv9'");
            assertThatThrownBy(() -> e.gradients(new float[3 * 227 * 227], new int[]{7}, 1))
                    .hasMessageContaining("label 7");
        }
    }

    @Test
    void aPlanThatDoesNotFitSaysWhereItStopped() {
        ReferenceOps real = new ReferenceOps();
        long[] used = {0};
        Ops small = (Ops) java.lang.reflect.Proxy.newProxyInstance(Ops.class.getClassLoader(), new Class<?>[]{Ops.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("alloc")) {
                        long count = (Long) args[0];
                        if ((used[0] + count) * 4 > 40L << 20) {
                            throw new CudaException("out of GPU memory allocating " + args[1] + ": reduce the batch");
                        }
                        used[0] += count;
                    }
                    return method.invoke(real, args);
                });
        NetSpec paper = AlexNet.builder().width(0.5).build().spec();
        assertThatThrownBy(() -> new AlexNetEngine(paper, small, 64, 1)).isInstanceOf(CudaException.class)
                .hasMessageContaining("the engine for batches of 64 does not fit")
                .hasMessageContaining("MiB were allocated before")
                .hasMessageContaining("out of GPU memory allocating");
        try (AlexNetEngine e = new AlexNetEngine(AlexNet.builder().width(0.125).numClasses(5).build().spec(),
                new ReferenceOps(), 2, 1)) {
            assertThat(e.plannedBytes()).isPositive();
        }
    }
}
