package org.alexnet4j.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.train.TrainConfig;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Searches run end to end on small synthetic data with the real trainer. */
class TunerTest {
    @TempDir
    static Path tmp;
    static Path cache;

    @BeforeAll
    static void data() throws Exception {
        cache = Fixtures.rawCache(tmp, 4, 60, 10, 5);
    }

    static Tuner.Settings settings(String space) throws Exception {
        Tuner.Settings s = new Tuner.Settings();
        s.data = cache.toString();
        TrainConfig base = new TrainConfig();
        base.optimizer = org.alexnet4j.train.Optimizer.fromId("adam");
        base.init = org.alexnet4j.train.Init.fromId("he");
        base.normalize = org.alexnet4j.data.transforms.Normalization.Kind.fromId("channel");
        base.threads = 2;
        base.seed = 3;
        base.data = null;
        s.base = base.toMap();
        s.space = new ObjectMapper().readTree(space);
        s.threads = 2;
        return s;
    }

    static CandidateRecord withLr(List<CandidateRecord> records, double lr) {
        return records.stream().filter(r -> Math.abs(((Number) r.values.get("lr")).doubleValue() / lr - 1) < 1e-9)
                .findFirst().orElseThrow();
    }

    @Test
    void aGridSearchFindsAClearlyBetterLearningRateThanADeliberatelyBadOne() throws Exception {
        // 1e-7 barely moves the weights in 4 epochs; 1e4 blows Adam's steps up until the loss is not finite
        Tuner.Settings s = settings("{\"base\": {\"width\": 0.25, \"batch\": 8}, "
                + "\"parameters\": {\"lr\": [1e-7, 1e-3, 1e4]}}");
        s.search = "grid";
        // 4 epochs: after 3 the good candidate's validation error on 40 images still swings (0.70, 0.43, 0.53 after
        // conv1's oneDNN weight gradient and fc8's matmul changed the rounding; 0.18 after the 4th)
        s.budget = "4e";
        Path dir = tmp.resolve("lr-search");
        Tuner.Outcome o = Tuner.start(s, dir, () -> false);

        assertThat(o.records()).hasSize(3);
        assertThat(o.stopReason()).isEqualTo("completed 3 candidates");
        CandidateRecord good = withLr(o.records(), 1e-3);
        CandidateRecord bad = withLr(o.records(), 1e-7);
        CandidateRecord diverging = withLr(o.records(), 1e4);
        assertThat(o.best()).isSameAs(good);
        assertThat(good.status).isEqualTo(CandidateRecord.COMPLETE);
        assertThat(good.top1Error).isLessThan(0.5); // 4 classes: chance 0.75
        assertThat(bad.status).isEqualTo(CandidateRecord.COMPLETE);
        assertThat(bad.top1Error).isGreaterThan(good.top1Error + 0.2);
        assertThat(good.curve).hasSize(4);
        assertThat(good.epochs).isEqualTo(4);
        assertThat(diverging.status).isEqualTo(CandidateRecord.DIVERGED);
        assertThat(diverging.top1Error).isNull();
        assertThat(diverging.reason).contains("the loss became");

        // the reports: every candidate in the table, the best recipe usable by train --config, a plot per parameter
        List<String> csv = Files.readAllLines(dir.resolve(SearchReport.CSV));
        assertThat(csv).hasSize(4);
        assertThat(csv.get(0)).startsWith("candidate,status,top1_err").contains(",lr,");
        String md = Files.readString(dir.resolve(SearchReport.MARKDOWN));
        assertThat(md).contains("| 1 | " + (good.index + 1) + " | ").contains("diverged");
        TrainConfig best = TrainConfig.read(dir.resolve(SearchReport.BEST_CONFIG));
        assertThat(best.lr).isCloseTo(1e-3, within(1e-12));
        assertThat(best.width).isEqualTo(0.25);
        assertThat(best.epochs).isEqualTo(90); // the full run's recipe, not the search's budget
        assertThat(best.data).isEqualTo(cache.toString());
        assertThat(dir.resolve("plots/score-vs-lr.png")).isNotEmptyFile();
        assertThat(dir.resolve("plots/search-progress.png")).isNotEmptyFile();
        assertThat(dir.resolve("candidates/c001/checkpoints/best.zip")).exists();
    }

    @Test
    void anInterruptedSearchResumesWithoutRepeatingFinishedCandidates() throws Exception {
        Tuner.Settings s = settings("{\"base\": {\"width\": 0.125, \"batch\": 8}, "
                + "\"parameters\": {\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\"}}}");
        s.candidates = 3;
        s.budget = "5it"; // epochs of 3 batches: the budget ends inside the second epoch
        s.limitBatches = 3;
        s.seed = 11;
        Path dir = tmp.resolve("resumed");
        // Ctrl-C once the second candidate has its first checkpoint (after epoch 1): it stops after iteration 4
        Path second = dir.resolve("candidates/c001");
        Tuner.Outcome first = Tuner.start(s, dir, () -> Files.exists(second.resolve("state.json")));
        assertThat(first.stopReason()).startsWith("interrupted");
        assertThat(first.records()).hasSize(2);
        assertThat(first.records().get(0).status).isEqualTo(CandidateRecord.COMPLETE);
        assertThat(first.records().get(1).status).isEqualTo(CandidateRecord.RUNNING);
        assertThat(first.records().get(1).iterations).isEqualTo(4);
        Map<Path, FileTime> firstFiles = files(dir.resolve("candidates/c000"));

        Tuner.Outcome o = Tuner.resume(dir, null, null, () -> false);
        assertThat(o.stopReason()).isEqualTo("completed 3 candidates");
        assertThat(o.fromEarlier()).isEqualTo(1);
        assertThat(o.trainedNow()).isEqualTo(2);
        assertThat(files(dir.resolve("candidates/c000"))).isEqualTo(firstFiles); // not touched, let alone retrained
        assertThat(Files.readString(second.resolve("train.log"))).contains("resuming " + second);
        for (CandidateRecord r : o.records()) {
            assertThat(r.status).isEqualTo(CandidateRecord.COMPLETE);
            assertThat(r.iterations).isEqualTo(5);
            assertThat(r.epochs).isEqualTo(1);
            assertThat(r.curve).hasSize(1); // epoch 1; the score is the validation where the budget ended
            assertThat(r.top1Error).isNotNull();
        }
        // the same candidates an uninterrupted search generates
        RandomSearchGenerator g = new RandomSearchGenerator(SearchSpace.parse(s.space, "space"), null);
        g.setRngSeed(11);
        for (CandidateRecord r : o.records()) {
            assertThat(Tuner.sameValues(r.values, SearchSpaceTest.all(g, 1).get(0))).isTrue();
        }
        assertThat(Files.readAllLines(dir.resolve(SearchReport.CSV))).hasSize(4);

        // a search whose generator changed cannot silently mix candidates
        ObjectNode settings = (ObjectNode) new ObjectMapper().readTree(dir.resolve(Tuner.SETTINGS).toFile());
        settings.put("seed", 12);
        new ObjectMapper().writeValue(dir.resolve(Tuner.SETTINGS).toFile(), settings);
        assertThatThrownBy(() -> Tuner.resume(dir, 4, null, () -> false))
                .hasMessageContaining("space, mode or seed changed");
    }

    static Map<Path, FileTime> files(Path dir) throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).collect(java.util.stream.Collectors.toMap(p -> p, p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
    }
}
