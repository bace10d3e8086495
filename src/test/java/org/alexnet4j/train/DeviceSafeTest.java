package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Evaluator;
import org.alexnet4j.eval.TopK;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.HostMemory;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The device-safe twins ({@code -Dalexnet4j.deviceSafe=true}: what runs on a GPU, where Java must not touch ND4J's
 * memory) against the CPU's direct Java kernels: the iterator's batches, one SGD step, a short training run and
 * evaluation, run both ways in one JVM on the CPU backend.
 */
class DeviceSafeTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 16, 4, 9);
    }

    static <T> T deviceSafe(Callable<T> body) throws Exception {
        System.setProperty(HostMemory.DEVICE_SAFE, "true");
        try {
            assertThat(HostMemory.direct()).isFalse();
            return body.call();
        } finally {
            System.clearProperty(HostMemory.DEVICE_SAFE);
        }
    }

    private static List<DataSet> epoch(ImageSource source, Preset preset, int batch) {
        try (ImageNetIterator it = new ImageNetIterator(source, preset, ImageNetIterator.Options.training(batch, 3, 2))) {
            return Fixtures.batches(it);
        }
    }

    @Test
    void theIteratorsBatchesAreTheSameBothWays() throws Exception {
        assertThat(HostMemory.direct()).isTrue();
        PreparedCache c = PreparedCache.open(cache);
        Preset preset = Preset.train(227, PcaLighting.of(c.stats(), 0.1), Normalization.meanImage(c.stats()));
        ImageSource train = c.split("train");
        List<DataSet> direct = epoch(train, preset, 10); // 48 images: 4 batches of 10 and a short one of 8
        List<DataSet> safe = deviceSafe(() -> epoch(train, preset, 10));
        assertThat(direct).hasSize(5);
        assertThat(safe).hasSize(direct.size());
        for (int b = 0; b < direct.size(); b++) {
            assertThat(safe.get(b).getFeatures()).as("batch %d features", b).isEqualTo(direct.get(b).getFeatures());
            assertThat(safe.get(b).getLabels()).as("batch %d labels", b).isEqualTo(direct.get(b).getLabels());
        }
        assertThat(direct.get(4).getFeatures().size(0)).isEqualTo(8);
    }

    private static TrainConfig config(long maxIters) {
        TrainConfig c = new TrainConfig();
        c.data = cache.toString();
        c.epochs = 2;
        c.batch = 8;
        c.limitBatches = 3;
        c.maxIters = maxIters;
        c.normalize = org.alexnet4j.data.transforms.Normalization.Kind.fromId("channel");
        c.threads = 2;
        c.seed = 3;
        c.logEvery = 100;
        return c;
    }

    /** The paper net, small: conv1 through InputConvolution (space-to-depth), LRN through ChannelLrn's kernel. */
    private static AlexNet net() {
        return AlexNet.builder().width(0.125).seed(7).build();
    }

    static INDArray params(Path run) throws Exception {
        String ckpt = new ObjectMapper().readTree(run.resolve(RunDirectory.STATE).toFile()).get("checkpoint").asText();
        return ModelFiles.load(run.resolve(ckpt), true).graph().params().castTo(DataType.DOUBLE);
    }

    static double relDiff(INDArray a, INDArray b) {
        return a.sub(b).norm2Number().doubleValue() / b.norm2Number().doubleValue();
    }

    @Test
    void oneSgdStepAndAShortRunEndWithTheSameParametersBothWays() throws Exception {
        Trainer.start(config(1), net(), tmp.resolve("step-direct"), () -> false);
        deviceSafe(() -> Trainer.start(config(1), net(), tmp.resolve("step-safe"), () -> false));
        Trainer.start(config(2), net(), tmp.resolve("step2-direct"), () -> false);
        INDArray direct = params(tmp.resolve("step-direct")), safe = params(tmp.resolve("step-safe"));
        // the size of one SGD step: the second one
        double step = relDiff(params(tmp.resolve("step2-direct")), direct);
        assertThat(step).as("a step changes the parameters").isGreaterThan(1e-5);
        // float rounding of two summation orders (LRN sums, layout copies) against the size of the step
        assertThat(relDiff(safe, direct)).isLessThan(1e-3 * step);

        Trainer.Result a = Trainer.start(config(0), net(), tmp.resolve("run-direct"), () -> false);
        Trainer.Result b = deviceSafe(() -> Trainer.start(config(0), net(), tmp.resolve("run-safe"), () -> false));
        assertThat(b.iterations()).isEqualTo(a.iterations()).isEqualTo(6);
        INDArray pa = params(tmp.resolve("run-direct")), pb = params(tmp.resolve("run-safe"));
        assertThat(relDiff(pb, pa)).isLessThan(1e-4);
        assertThat(b.lastTop1Error()).isEqualTo(a.lastTop1Error());
    }

    @Test
    void evaluationGivesTheSameResultsBothWays() throws Exception {
        PreparedCache c = PreparedCache.open(cache);
        ComputationGraph graph = AlexNet.builder().width(0.125).numClasses(3).seed(7).build().newGraph();
        Normalization norm = Normalization.meanImage(c.stats());
        for (Preset preset : List.of(Preset.center(227, norm), Preset.tenCrop(227, norm))) {
            TopK direct = Evaluator.evaluate(graph, c.split("val"), preset, 5, 2, 0, false);
            TopK safe = deviceSafe(() -> Evaluator.evaluate(graph, c.split("val"), preset, 5, 2, 0, false));
            assertThat(safe.examples()).isEqualTo(direct.examples()).isEqualTo(12);
            assertThat(safe.top1Error()).isEqualTo(direct.top1Error());
            assertThat(safe.top5Error()).isEqualTo(direct.top5Error());
            assertThat(safe.loss()).isCloseTo(direct.loss(), org.assertj.core.api.Assertions.within(1e-5));
        }
    }
}
