package org.alexnet4j.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Runs of the real training loop on small synthetic data: exact resume, NaN stop, and learning. */
class TrainerTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 4, 60, 10, 5);
    }

    static TrainConfig small() {
        TrainConfig c = new TrainConfig();
        c.data = cache.toString();
        c.epochs = 2;
        c.batch = 8;
        c.limitBatches = 3;
        c.init = Init.fromId("he");
        c.normalize = org.alexnet4j.data.transforms.Normalization.Kind.fromId("channel");
        c.threads = 2;
        c.seed = 3;
        c.logEvery = 100;
        return c;
    }

    static AlexNet tiny() {
        return AlexNet.builder().width(0.125).seed(7).build();
    }

    static INDArray params(Path run) throws Exception {
        String ckpt = new ObjectMapper().readTree(run.resolve(RunDirectory.STATE).toFile()).get("checkpoint").asText();
        return ModelFiles.load(run.resolve(ckpt), true).graph().params().dup();
    }

    @Test
    void anInterruptedAndResumedRunEndsExactlyLikeAnUninterruptedOne() throws Exception {
        Path a = tmp.resolve("straight");
        Trainer.Result ra = Trainer.start(small(), tiny(), a, () -> false);
        assertThat(ra.iterations()).isEqualTo(6);
        assertThat(ra.epochsCompleted()).isEqualTo(2);

        Path b = tmp.resolve("interrupted");
        AtomicLong calls = new AtomicLong();
        Trainer.Result rb1 = Trainer.start(small(), tiny(), b, () -> calls.incrementAndGet() >= 4); // Ctrl-C at it. 4
        assertThat(rb1.iterations()).isEqualTo(4);
        assertThat(rb1.stopReason()).contains("interrupted");
        // as a run from before runs kept their preprocessing: the resumed run writes it
        try (var files = Files.walk(b.resolve(RunDirectory.PREPROCESSING))) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        Trainer.Result rb2 = Trainer.resume(b, null, () -> false);
        assertThat(b.resolve(RunDirectory.PREPROCESSING).resolve(RunDirectory.PREPROCESSING_FILE)).exists();
        assertThat(rb2.iterations()).isEqualTo(6);
        assertThat(params(b)).isEqualTo(params(a)); // momentum, data position, dropout masks all restored
        assertThat(Files.readAllLines(b.resolve(RunDirectory.METRICS))).hasSize(3); // header + 2 epochs
        // validation numbers of both runs agree (timings differ)
        List<String> la = Files.readAllLines(a.resolve(RunDirectory.METRICS));
        List<String> lb = Files.readAllLines(b.resolve(RunDirectory.METRICS));
        for (int i = 1; i < la.size(); i++) {
            String[] pa = la.get(i).split(",");
            String[] pb = lb.get(i).split(",");
            for (int c = 0; c <= 6; c++) {
                if (c != 2) { // train loss of the interrupted epoch is averaged over the resumed part only
                    assertThat(pb[c]).as("metrics row %d column %d", i, c).isEqualTo(pa[c]);
                }
            }
        }
        assertThat(a.resolve("plots/error.png")).exists();
        assertThat(a.resolve("plots/loss.png")).exists();
        assertThat(a.resolve("plots/lr.png")).exists();
        assertThat(a.resolve("checkpoints/best.zip")).exists();
        assertThatThrownBy(() -> Trainer.start(small(), tiny(), a, () -> false)).hasMessageContaining("--resume");
    }

    @Test
    void aDivergingRunStopsWithAClearMessageAndKeepsTheLastGoodCheckpoint() throws Exception {
        TrainConfig c = small();
        c.lr = 1e6;
        c.checkpointEvery = 1;
        c.epochs = 3;
        Path run = tmp.resolve("nan");
        assertThatThrownBy(() -> Trainer.start(c, tiny(), run, () -> false)).isInstanceOf(Trainer.Diverged.class)
                .hasMessageContaining("the loss became")
                .hasMessageMatching("(?s).*(the last good checkpoint \\(checkpoints/ckpt-\\d+\\.zip\\) is intact"
                        + "|no checkpoint had been written yet).*");
        if (Files.exists(run.resolve(RunDirectory.STATE))) {
            INDArray p = params(run);
            assertThat(p.isNaN().any() || p.isInfinite().any()).isFalse();
        }
    }

    @Test
    void aMonitorEndsARunAfterAStepOrAfterAnEpochWithItsReason() throws Exception {
        TrainConfig c = small();
        c.epochs = 3;
        List<Long> validatedAt = new java.util.ArrayList<>();
        Trainer.Result byEpoch = Trainer.start(c, tiny(), tmp.resolve("monitor-epoch"), () -> false,
                new Trainer.Monitor() {
                    @Override
                    public String afterEpoch(int epochs, long iteration, org.alexnet4j.eval.TopK v) {
                        validatedAt.add(iteration);
                        return epochs == 1 ? "enough after one epoch" : null;
                    }
                });
        assertThat(byEpoch.stopReason()).isEqualTo("enough after one epoch");
        assertThat(byEpoch.epochsCompleted()).isEqualTo(1);
        assertThat(validatedAt).containsExactly(3L);
        assertThat(byEpoch.lastTop1Error()).isBetween(0.0, 1.0);

        Path run = tmp.resolve("monitor-step");
        Trainer.Result byStep = Trainer.start(c, tiny(), run, () -> false, new Trainer.Monitor() {
            @Override
            public String afterStep(long iteration) {
                return iteration == 5 ? "out of time" : null;
            }
        });
        assertThat(byStep.stopReason()).isEqualTo("out of time");
        assertThat(byStep.iterations()).isEqualTo(5);
        assertThat(byStep.epochsCompleted()).isEqualTo(1);
        // the partial epoch was not validated; validateLatest scores the checkpoint where the run ended
        org.alexnet4j.eval.TopK v = Trainer.validateLatest(run);
        assertThat(v.examples()).isEqualTo(24); // --limit-batches 3 of 8, as the epochs were validated
        assertThat(Trainer.resume(run, null, () -> false).iterations()).isEqualTo(9); // and it resumes from there
    }

    @Test
    void aWidthReducedPaperNetLearnsFarBelowChance() throws Exception {
        TrainConfig c = small();
        c.epochs = 5;
        c.batch = 16;
        c.limitBatches = 0;
        c.optimizer = Optimizer.fromId("adam"); // the paper's SGD needs far more iterations than a test has (see README)
        c.lr = 5e-4;
        Trainer.Result r = Trainer.start(c, learner(), tmp.resolve("learn"), () -> false);
        // 4 classes: chance top-1 error 0.75
        assertThat(r.bestTop1Error()).isLessThan(0.45);
        Metrics m = Metrics.read(tmp.resolve("learn").resolve(RunDirectory.METRICS));
        assertThat(m.trainLoss()[m.trainLoss().length - 1]).isLessThan(m.trainLoss()[0]);
    }

    /** A short learning run of {@code epochs} full epochs (Adam 1e-3, batch 8) for the scale-out engines. */
    static TrainConfig learning(int epochs) {
        TrainConfig c = small();
        c.epochs = epochs;
        c.limitBatches = 0;
        c.optimizer = Optimizer.fromId("adam");
        c.lr = 1e-3;
        return c;
    }

    static AlexNet learner() {
        return AlexNet.builder().width(0.25).seed(1).build();
    }

    @Test
    void aTwoReplicaRunLearnsFarBelowChanceAndResumesAfterAnInterruption() throws Exception {
        TrainConfig c = learning(6); // two replicas of 8: the effective batch of the single-device run above
        c.devices = 2;
        Path run = tmp.resolve("parallel");
        AtomicLong calls = new AtomicLong();
        // a signal during step 20 (of 15 per epoch)
        Trainer.Result first = Trainer.start(c, learner(), run, () -> calls.incrementAndGet() >= 20);
        assertThat(first.stopReason()).contains("interrupted");
        assertThat(first.iterations()).isEqualTo(20);
        assertThat(first.epochsCompleted()).isEqualTo(1);
        Trainer.Result r = Trainer.resume(run, null, () -> false);
        // 240 images = 30 batches of 8 = 15 steps of 2 replicas per epoch
        assertThat(r.iterations()).isEqualTo(90);
        assertThat(r.epochsCompleted()).isEqualTo(6);
        assertThat(r.bestTop1Error()).isLessThan(0.45); // chance 0.75
        assertThat(Files.readAllLines(run.resolve(RunDirectory.METRICS))).hasSize(7);
        Metrics m = Metrics.read(run.resolve(RunDirectory.METRICS));
        assertThat(m.trainLoss()[m.trainLoss().length - 1]).isLessThan(m.trainLoss()[0]);
    }

    @Test
    void twoReplicasSharingGradientsLearn() throws Exception {
        TrainConfig c = learning(5);
        c.devices = 2;
        c.parallelMode = DataParallel.Mode.fromId("shared-gradients");
        Path run = tmp.resolve("shared");
        Trainer.Result r = Trainer.start(c, learner(), run, () -> false);
        assertThat(r.iterations()).isEqualTo(75);
        // threshold-encoded, asynchronous sharing learns more slowly and noisily than averaging (best top-1 error
        // 0.42-0.55 over runs, against 0.30-0.375): below chance (0.75), with the training loss falling
        assertThat(r.bestTop1Error()).isLessThan(0.65);
        Metrics m = Metrics.read(run.resolve(RunDirectory.METRICS));
        assertThat(m.trainLoss()[m.trainLoss().length - 1]).isLessThan(0.9 * m.trainLoss()[0]);
        // the best epoch's validation loss below chance cross-entropy (1.386); the last epoch's is too noisy for a test
        // (1.56 in one CI run whose epochs went 1.70, 1.54, 1.30, 1.35, 1.56)
        assertThat(java.util.Arrays.stream(m.valLoss()).min().orElseThrow()).isLessThan(Math.log(4));
    }

    @Test
    void trainingOnSparkInLocalModeLearnsAndResumes() throws Exception {
        TrainConfig c = learning(5);
        c.spark = "local[2]";
        c.averagingFrequency = 3; // 2 workers x 3 batches per round: 5 steps per epoch
        Path run = tmp.resolve("spark");
        AtomicLong calls = new AtomicLong();
        // a signal during step 7 (of 5 per epoch)
        Trainer.Result first = Trainer.start(c, learner(), run, () -> calls.incrementAndGet() >= 7);
        assertThat(first.stopReason()).contains("interrupted");
        assertThat(first.iterations()).isEqualTo(7);
        Trainer.Result r = Trainer.resume(run, null, () -> false);
        // 30 batches of 8 per epoch, rounds of 2 workers x 3 batches: 5 steps per epoch
        assertThat(r.iterations()).isEqualTo(25);
        // below chance (0.75 top-1 error, cross-entropy ln 4 = 1.386) with margin: over seven runs the best top-1
        // error on 40 images was 0.25-0.50 (one 0.50 failed the former "< 0.5") and the best validation loss
        // 0.79-1.18 (25 averaged steps learn noisily: one run's last epoch was back at 1.43)
        assertThat(r.bestTop1Error()).isLessThan(0.6);
        Metrics m = Metrics.read(run.resolve(RunDirectory.METRICS));
        assertThat(java.util.Arrays.stream(m.valLoss()).min().orElseThrow()).isLessThan(1.3);
        assertThat(m.trainLoss()[m.trainLoss().length - 1]).isLessThan(0.8 * m.trainLoss()[0]);
    }
}
