package org.alexnet4j.train;

import org.alexnet4j.data.ClassList;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.SyntheticImageNet;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fine-tuning on real runs: a net trained on one set of synthetic classes is fine-tuned to other classes (named like
 * a user's folders) with frozen convolutions; the frozen parameters stay bit-identical, the new head learns, and the
 * fine-tuned run beats training from scratch for the same number of steps.
 */
class FineTuningTest {
    @TempDir
    static Path tmp;
    static Path base;
    static Path own;
    static Path baseRun;

    @BeforeAll
    static void data() throws Exception {
        base = Fixtures.rawCache(tmp.resolve("base"), 6, 40, 10, 11);
        // the user's classes: other synthetic classes, in folders named like a user's
        Path src = tmp.resolve("own-src");
        SyntheticImageNet.Result r = SyntheticImageNet.generate(src, new SyntheticImageNet.Options(3, 12, 10, 23,
                false, false, 2));
        String[] names = {"cats", "dogs", "owls"};
        for (String split : List.of("train", "val")) {
            for (int i = 0; i < 3; i++) {
                Files.move(src.resolve(split).resolve(r.wnids().get(i)), src.resolve(split).resolve(names[i]));
            }
        }
        own = tmp.resolve("own-cache");
        PreparedCache.prepare(src, Manifest.build(src, null, 2), own,
                new PreparedCache.Options(256, PreparedCache.Format.RAW, 90, 0, 2, false));
        TrainConfig c = recipe(base, 4);
        baseRun = tmp.resolve("base-run");
        Trainer.start(c, AlexNet.builder().width(0.25).seed(1).build(), baseRun, () -> false);
    }

    static TrainConfig recipe(Path data, int epochs) {
        TrainConfig c = new TrainConfig();
        c.data = data.toString();
        c.epochs = epochs;
        c.batch = 8;
        c.init = Init.fromId("he");
        c.normalize = org.alexnet4j.data.transforms.Normalization.Kind.fromId("channel");
        c.optimizer = Optimizer.fromId("adam");
        c.lr = 1e-3;
        c.threads = 2;
        c.seed = 3;
        c.logEvery = 100;
        return c;
    }

    private static ComputationGraph best(Path run) throws Exception {
        return ModelFiles.load(run.resolve("checkpoints").resolve("best.zip"), false).graph();
    }

    @Test
    void frozenConvolutionsStayBitIdenticalTheNewHeadLearnsAndBeatsScratch() throws Exception {
        TrainConfig ft = recipe(own, 2);
        ft.initFrom = baseRun.toString();
        ft.freeze = "conv1-conv5";
        Path run = tmp.resolve("finetuned");
        Trainer.Result fine = Trainer.start(ft, AlexNet.builder().width(0.25).seed(1).build(), run, () -> false);
        Path scratchRun = tmp.resolve("scratch");
        Trainer.Result scratch = Trainer.start(recipe(own, 2), AlexNet.builder().width(0.25).seed(1).build(),
                scratchRun, () -> false);

        ComputationGraph before = best(baseRun);
        ComputationGraph after = ModelFiles.load(run.resolve(new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(run.resolve(RunDirectory.STATE).toFile()).get("checkpoint").asText()), false).graph();
        for (String layer : List.of("conv1a", "conv1b", "conv2a", "conv2b", "conv3a", "conv3b", "conv4a", "conv4b",
                "conv5a", "conv5b")) {
            for (String p : List.of("W", "b")) {
                INDArray a = before.getLayer(layer).getParam(p), b = after.getLayer(layer).getParam(p);
                assertThat(b.data().asFloat()).as(layer + "_" + p).containsExactly(a.data().asFloat());
            }
        }
        assertThat(after.getLayer("fc7").getParam("W").equals(before.getLayer("fc7").getParam("W"))).isFalse();
        assertThat(after.getLayer("fc8").getParam("W").shape()).containsExactly(1024, 3);
        assertThat(ClassList.read(run.resolve(ClassList.FILE))).containsExactly("cats", "dogs", "owls");

        System.out.printf("fine-tuning: fine-tuned best top-1 error %.4f, from scratch %.4f (chance 0.667, %d steps "
                + "each)%n", fine.bestTop1Error(), scratch.bestTop1Error(), fine.iterations());
        assertThat(fine.iterations()).isEqualTo(scratch.iterations());
        // 30 validation images: top-1 moves in steps of 0.033 and two runs of 10 steps can tie on it, so the margin
        // is asked of the validation loss, and top-1 must be below chance and no worse than from scratch
        double fineLoss = java.util.Arrays.stream(Metrics.read(run.resolve(RunDirectory.METRICS)).valLoss()).min()
                .orElseThrow();
        double scratchLoss = java.util.Arrays.stream(Metrics.read(scratchRun.resolve(RunDirectory.METRICS)).valLoss())
                .min().orElseThrow();
        System.out.printf("fine-tuning: best validation loss %.4f, from scratch %.4f%n", fineLoss, scratchLoss);
        assertThat(fine.bestTop1Error()).isLessThan(2.0 / 3 - 0.03);
        assertThat(fine.bestTop1Error()).isLessThanOrEqualTo(scratch.bestTop1Error());
        assertThat(fineLoss).isLessThan(scratchLoss - 0.1);
    }

    @Test
    void learningRateMultipliersAreCaffesLrMultAndSurviveAScheduleChange() throws Exception {
        TrainConfig c = recipe(own, 1);
        c.optimizer = Optimizer.fromId("sgd");
        c.lr = 0.001;
        c.freeze = "conv1";
        c.lrMult = "fc8=10/20,conv3-conv4=2";
        AlexNet net = AlexNet.builder().width(0.25).numClasses(3).dropout(0).build();
        var conf = net.configuration(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .updater(Recipe.updater(c, c.lr)).l2(5e-4));
        FineTuning.apply(conf, net, c);
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        assertThat(lr(g, "fc8", false)).isEqualTo(0.01, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "fc8", true)).isEqualTo(0.02, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "conv3b", false)).isEqualTo(0.002, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "fc6", false)).isEqualTo(0.001, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "conv1a", false)).isZero();
        assertThat(((BaseLayer) g.getLayer("conv1a").conf().getLayer()).getRegularization()).isEmpty();
        assertThat(((BaseLayer) g.getLayer("conv2a").conf().getLayer()).getRegularization()).isNotEmpty();
        // the plateau schedule divides the rate: multipliers kept, frozen layers stay at 0
        FineTuning.setLearningRate(g, net, c, 0.0001);
        assertThat(lr(g, "fc8", false)).isEqualTo(0.001, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "fc8", true)).isEqualTo(0.002, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "conv4a", false)).isEqualTo(0.0002, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(lr(g, "conv1b", false)).isZero();
        // and the running updater uses the new rates: one SGD step moves fc8's bias by -lr * 20 * its gradient
        // (the first momentum step; no weight decay on biases) and leaves the frozen conv1 as it was
        INDArray x = org.alexnet4j.TestNets.input(2, 227, 60, 3);
        INDArray y = org.nd4j.linalg.factory.Nd4j.zeros(2, 3);
        y.putScalar(0, 1, 1.0);
        y.putScalar(1, 2, 1.0);
        g.setInputs(x);
        g.setLabels(y);
        g.computeGradientAndScore();
        INDArray grad = g.gradient().getGradientFor("fc8_b").dup().divi(2);
        INDArray b0 = g.getLayer("fc8").getParam("b").dup();
        INDArray w0 = g.getLayer("conv1a").getParam("W").dup();
        g.fit(new org.nd4j.linalg.dataset.DataSet(x, y));
        INDArray step = g.getLayer("fc8").getParam("b").sub(b0);
        assertThat(step.sub(grad.mul(-0.002)).amaxNumber().doubleValue())
                .isLessThan(1e-4 * grad.mul(0.002).amaxNumber().doubleValue() + 1e-12);
        assertThat(g.getLayer("conv1a").getParam("W").equals(w0)).isTrue();
        // the configuration (and so a checkpoint) keeps them
        ComputationGraph copy = new ComputationGraph(
                org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(g.getConfiguration().toJson()));
        copy.init();
        assertThat(lr(copy, "fc8", true)).isEqualTo(0.002, org.assertj.core.api.Assertions.within(1e-12));
        g.close();
        copy.close();
    }

    private static double lr(ComputationGraph g, String layer, boolean bias) {
        BaseLayer l = (BaseLayer) g.getLayer(layer).conf().getLayer();
        var u = bias && l.getBiasUpdater() != null ? l.getBiasUpdater() : l.getIUpdater();
        return u.getLearningRate(0, 0);
    }

    @Test
    void initFromLoadsEveryLayerThatFitsFromNpzAndOnnxOfAnotherClassCount() throws Exception {
        AlexNet ten = AlexNet.builder().width(0.25).numClasses(10).build();
        var w = org.alexnet4j.TestNets.heWeights(ten, 4);
        Path onnx = tmp.resolve("ten.onnx"), npz = tmp.resolve("ten.npz");
        org.alexnet4j.weights.OnnxExport.write(onnx, ten, w, 13);
        org.alexnet4j.weights.Npz.write(npz, w);
        AlexNet three = AlexNet.builder().width(0.25).numClasses(3).build();
        for (Path src : List.of(onnx, npz)) {
            ComputationGraph g = three.newGraph();
            INDArray fc8Before = g.getLayer("fc8").getParam("W").dup();
            FineTuning.Report r = FineTuning.initFrom(g, three, src);
            assertThat(r.loaded()).containsExactly("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7");
            assertThat(r.reinitialised()).containsOnlyKeys("fc8");
            assertThat(r.reinitialised().get("fc8")).contains("[10, 1024]").contains("[3, 1024]");
            var loaded = org.alexnet4j.weights.TorchLayout.export(g, three);
            assertThat(loaded.get("conv2.weight")).isEqualTo(w.get("conv2.weight"));
            assertThat(loaded.get("fc7.bias")).isEqualTo(w.get("fc7.bias"));
            assertThat(g.getLayer("fc8").getParam("W")).isEqualTo(fc8Before);
            g.close();
        }
    }

    @Test
    void badFineTuningSettingsAreRefusedWithTheirReason() {
        assertThat(FineTuning.layers("conv1-conv3,fc7")).containsExactly("conv1", "conv2", "conv3", "fc7");
        assertThat(FineTuning.multipliers("fc8=10/20").get("fc8")).isEqualTo(new FineTuning.Mult(10, 20));
        assertThatThrownBy(() -> FineTuning.layers("conv6")).hasMessageContaining("--freeze: 'conv6' is not a layer");
        assertThatThrownBy(() -> FineTuning.layers("conv5-conv1")).hasMessageContaining("runs backwards");
        assertThatThrownBy(() -> FineTuning.multipliers("fc8:10")).hasMessageContaining("not LAYER=X");
        assertThatThrownBy(() -> FineTuning.multipliers("fc8=-1")).hasMessageContaining("not LAYER=X");
        TrainConfig c = recipe(own, 1);
        c.freeze = "fc8";
        c.lrMult = "fc8=10";
        assertThatThrownBy(c::validate).hasMessageContaining("fc8 is both frozen");
        TrainConfig wrong = recipe(own, 1);
        wrong.initFrom = tmp.resolve("nothing.npz").toString();
        assertThatThrownBy(() -> Trainer.start(wrong, AlexNet.builder().width(0.25).build(), tmp.resolve("w"),
                () -> false)).hasMessageContaining("--init-from").hasMessageContaining("no such file");
        TrainConfig other = recipe(own, 1);
        other.initFrom = baseRun.toString();
        assertThatThrownBy(() -> Trainer.start(other, AlexNet.builder(org.alexnet4j.model.Variant.TORCHVISION)
                .width(0.25).build(), tmp.resolve("tv"), () -> false)).hasMessageContaining("no layer fits");
    }
}
