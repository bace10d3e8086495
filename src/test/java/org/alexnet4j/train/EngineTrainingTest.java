package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;

import static org.alexnet4j.train.DeviceSafeTest.params;
import static org.alexnet4j.train.DeviceSafeTest.relDiff;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Training through the CUDA engine's orchestration on its CPU reference seam ({@code --engine reference}) against
 * DL4J's graph, with the run's real data, recipe and checkpoints: the same parameters after a short run, and a run
 * that changes engine on resume (either way) ends where one that stayed on an engine ends. Dropout is off: the
 * engines draw their masks from different generators.
 */
class EngineTrainingTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 16, 4, 9);
    }

    private static TrainConfig config(long maxIters, String engine) {
        TrainConfig c = new TrainConfig();
        c.data = cache.toString();
        c.epochs = 2;
        c.batch = 8;
        c.limitBatches = 3;
        c.maxIters = maxIters;
        c.normalize = org.alexnet4j.data.transforms.Normalization.Kind.fromId("channel");
        c.init = Init.fromId("he");
        c.threads = 2;
        c.seed = 3;
        c.logEvery = 100;
        c.engine = TrainingEngine.fromId(engine);
        return c;
    }

    private static AlexNet net() {
        return AlexNet.builder().width(0.125).seed(7).dropout(0).build();
    }

    private static INDArray momentum(Path run) throws Exception {
        String ckpt = new ObjectMapper().readTree(run.resolve(RunDirectory.STATE).toFile()).get("checkpoint").asText();
        return ModelFiles.load(run.resolve(ckpt), true).graph().getUpdater().getStateViewArray()
                .castTo(DataType.DOUBLE);
    }

    @Test
    void aShortRunOnTheReferenceEngineEndsWhereDl4jEnds() throws Exception {
        Trainer.Result d = Trainer.start(config(0, "dl4j"), net(), tmp.resolve("dl4j"), () -> false);
        Trainer.Result r = Trainer.start(config(0, "reference"), net(), tmp.resolve("reference"), () -> false);
        assertThat(r.iterations()).isEqualTo(d.iterations()).isEqualTo(6);
        INDArray pd = params(tmp.resolve("dl4j")), pr = params(tmp.resolve("reference"));
        Trainer.start(config(1, "dl4j"), net(), tmp.resolve("one-step"), () -> false);
        double moved = relDiff(pd, params(tmp.resolve("one-step")));
        assertThat(moved).as("five steps change the parameters").isGreaterThan(1e-4);
        assertThat(relDiff(pr, pd)).as("reference engine against DL4J after 6 steps").isLessThan(1e-3 * moved + 1e-6);
        assertThat(relDiff(momentum(tmp.resolve("reference")), momentum(tmp.resolve("dl4j")))).as("momentum")
                .isLessThan(1e-3);
    }

    @Test
    void aShortRunOnTheOneDnnEngineEndsWhereDl4jEnds() throws Exception {
        Trainer.Result d = Trainer.start(config(0, "dl4j"), net(), tmp.resolve("dl4j-2"), () -> false);
        Trainer.Result o = Trainer.start(config(0, "onednn"), net(), tmp.resolve("onednn"), () -> false);
        assertThat(o.iterations()).isEqualTo(d.iterations()).isEqualTo(6);
        INDArray pd = params(tmp.resolve("dl4j-2"));
        Trainer.start(config(1, "dl4j"), net(), tmp.resolve("one-step-2"), () -> false);
        double moved = relDiff(pd, params(tmp.resolve("one-step-2")));
        // oneDNN sums in another order than DL4J's kernels: fp32 rounding, grown over 6 steps to under 1 % of the move
        assertThat(relDiff(params(tmp.resolve("onednn")), pd)).as("oneDNN engine against DL4J after 6 steps")
                .isLessThan(1e-2 * moved + 1e-6);
        // momentum sums the gradients, where max pooling's ties differ: the generated images have flat regions, so a
        // window often holds equal maxima; DL4J (and the reference seam) route the gradient to the first, oneDNN's
        // kernel to another; both are the gradient. On images without ties (OneDnnOpsTest) they agree within 1e-4.
        assertThat(relDiff(momentum(tmp.resolve("onednn")), momentum(tmp.resolve("dl4j-2")))).as("momentum")
                .isLessThan(5e-2);
    }

    /**
     * On the oneDNN engine, in fp32 and in bf16, with dropout on: a run interrupted after 2 steps and resumed ends
     * where an uninterrupted one ends, bit for bit (parameters and momentum): the dropout masks restart from each
     * step's seed, and bf16's master weights are the checkpoint's fp32.
     */
    @Test
    void theOneDnnEngineResumesExactlyInEachPrecisionWithDropout() throws Exception {
        AlexNet dropping = AlexNet.builder().width(0.125).seed(7).build();
        for (String precision : new String[]{"fp32", "bf16"}) {
            TrainConfig all = config(4, "onednn");
            all.precision = TrainPrecision.fromId(precision);
            Path whole = tmp.resolve("whole-" + precision);
            Trainer.start(all, dropping, whole, () -> false);
            TrainConfig half = config(2, "onednn");
            half.precision = TrainPrecision.fromId(precision);
            Path resumed = tmp.resolve("resumed-" + precision);
            Trainer.start(half, dropping, resumed, () -> false);
            TrainConfig rest = TrainConfig.read(resumed.resolve(RunDirectory.CONFIG));
            rest.maxIters = 4;
            assertThat(Trainer.resume(resumed, rest, () -> false).iterations()).isEqualTo(4);
            assertThat(relDiff(params(resumed), params(whole))).as(precision + " parameters").isEqualTo(0);
            assertThat(relDiff(momentum(resumed), momentum(whole))).as(precision + " momentum").isEqualTo(0);
        }
    }

    @Test
    void bf16IsRefusedWhereItCannotRun() {
        TrainConfig c = config(0, "dl4j");
        c.precision = TrainPrecision.fromId("bf16");
        org.assertj.core.api.Assertions.assertThatThrownBy(c::validate)
                .hasMessage("--precision bf16 trains on the oneDNN engine (--engine onednn or auto), not --engine dl4j");
        c.engine = TrainingEngine.fromId("auto");
        assertThat(c.validate().resolvedEngine(false, null, false, m -> { }).id()).isEqualTo("onednn");
        c.optimizer = Optimizer.fromId("adam");
        org.assertj.core.api.Assertions.assertThatThrownBy(c::validate).hasMessageContaining("--optimizer sgd");
        TrainConfig t = config(0, "onednn");
        t.precision = TrainPrecision.fromId("tf32");
        org.assertj.core.api.Assertions.assertThatThrownBy(t::validate)
                .hasMessage("--precision tf32 is the CUDA engine's (--engine cuda), not --engine onednn's");
    }

    @Test
    void aRunResumedOnTheOtherEngineEndsWhereOneThatStayedEnds() throws Exception {
        Trainer.start(config(4, "reference"), net(), tmp.resolve("stay"), () -> false);
        INDArray stayed = params(tmp.resolve("stay"));
        for (String[] engines : new String[][]{{"reference", "dl4j"}, {"dl4j", "reference"}}) {
            Path run = tmp.resolve(engines[0] + "-then-" + engines[1]);
            Trainer.start(config(2, engines[0]), net(), run, () -> false);
            TrainConfig resume = TrainConfig.read(run.resolve(RunDirectory.CONFIG));
            resume.engine = TrainingEngine.fromId(engines[1]);
            resume.maxIters = 4;
            Trainer.Result r = Trainer.resume(run, resume, () -> false);
            assertThat(r.iterations()).isEqualTo(4);
            assertThat(relDiff(params(run), stayed)).as(engines[0] + " then " + engines[1]).isLessThan(1e-4);
            assertThat(relDiff(momentum(run), momentum(tmp.resolve("stay")))).as("momentum, " + engines[0] + " then "
                    + engines[1]).isLessThan(1e-3);
        }
    }

    @Test
    void autoTakesTheCudaEngineWhereAGpuIsUsableAndTheRecipeRunsThere() {
        java.util.List<String> why = new java.util.ArrayList<>();
        TrainConfig c = config(0, "auto");
        assertThat(c.resolvedEngine(false, "no NVIDIA driver on this machine", false, why::add).id()).isEqualTo("dl4j");
        // without a GPU, the oneDNN engine where it covers the net (full width, LRN, AVX-512) and the recipe runs there
        assertThat(c.resolvedEngine(false, "no NVIDIA driver on this machine", true, why::add).id())
                .isEqualTo("onednn");
        assertThat(c.resolvedEngine(true, "no NVIDIA driver on this machine", true, why::add).id()).isEqualTo("dl4j");
        assertThat(why).isEmpty();
        assertThat(c.resolvedEngine(false, null, false, why::add).id()).isEqualTo("cuda");
        assertThat(c.resolvedEngine(true, null, false, why::add).id()).isEqualTo("dl4j");
        c.optimizer = Optimizer.fromId("adam");
        assertThat(c.resolvedEngine(false, null, false, why::add).id()).isEqualTo("dl4j");
        assertThat(why).containsExactly("a usable GPU was found, but edge padding trains on DL4J's engine",
                "a usable GPU was found, but --optimizer adam trains on DL4J's engine");
        c.engine = TrainingEngine.fromId("reference");
        assertThat(c.resolvedEngine(false, "whatever", false, why::add).id()).isEqualTo("reference");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> {
                    c.engine = TrainingEngine.fromId("tensorrt");
                    c.validate();
                })
                .hasMessageContaining("--engine must be auto, dl4j, cuda, reference or onednn");
    }
}
