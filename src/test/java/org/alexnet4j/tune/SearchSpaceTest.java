package org.alexnet4j.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.train.TrainConfig;
import org.deeplearning4j.arbiter.optimize.api.Candidate;
import org.deeplearning4j.arbiter.optimize.generator.GridSearchCandidateGenerator;
import org.deeplearning4j.arbiter.optimize.generator.RandomSearchGenerator;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The space file, driven by Arbiter's own generators: log scales, choices, integers, grids, and clear errors. */
class SearchSpaceTest {
    static SearchSpace space(String json) throws Exception {
        return SearchSpace.parse(new ObjectMapper().readTree(json), "space.json");
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> all(org.deeplearning4j.arbiter.optimize.api.CandidateGenerator g, int n) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (int i = 0; i < n && g.hasMoreCandidates(); i++) {
            Candidate c = g.getCandidate();
            assertThat(c.getException()).isNull();
            out.add((Map<String, Object>) c.getValue());
        }
        return out;
    }

    @Test
    void aGridOverALogRangeIsEvenlySpacedInTheLog() throws Exception {
        SearchSpace s = space("{\"parameters\": {\"lr\": {\"min\": 1e-4, \"max\": 1e-2, \"scale\": \"log\"},"
                + " \"batch\": [64, 128]}}");
        assertThat(s.gridSize(3)).isEqualTo(6);
        List<Map<String, Object>> grid = all(new GridSearchCandidateGenerator(s, 3,
                GridSearchCandidateGenerator.Mode.Sequential, null), 100);
        assertThat(grid).hasSize(6);
        // the first parameter varies fastest
        assertThat((double) grid.get(0).get("lr")).isCloseTo(1e-4, within(1e-12));
        assertThat((double) grid.get(1).get("lr")).isCloseTo(1e-3, within(1e-11));
        assertThat((double) grid.get(2).get("lr")).isCloseTo(1e-2, within(1e-10));
        assertThat(grid.subList(0, 3)).allMatch(m -> m.get("batch").equals(64));
        assertThat(grid.subList(3, 6)).allMatch(m -> m.get("batch").equals(128));
    }

    @Test
    void randomSearchSamplesLogRangesLogUniformlyAndRepeatsWithItsSeed() throws Exception {
        SearchSpace s = space("{\"parameters\": {\"lr\": {\"min\": 1e-5, \"max\": 1e-1, \"scale\": \"log\"},"
                + " \"momentum\": {\"min\": 0.5, \"max\": 0.9}, \"lrPatience\": {\"min\": 1, \"max\": 4, \"type\": "
                + "\"int\"}, \"optimizer\": [\"sgd\", \"adam\"]}}");
        RandomSearchGenerator g = new RandomSearchGenerator(s, null);
        g.setRngSeed(7);
        List<Map<String, Object>> a = all(g, 400);
        int belowE4 = 0;
        Set<Object> patience = new HashSet<>();
        Set<Object> optimizers = new HashSet<>();
        for (Map<String, Object> m : a) {
            double lr = (double) m.get("lr");
            assertThat(lr).isBetween(1e-5, 1e-1);
            belowE4 += lr < 1e-4 ? 1 : 0;
            assertThat((double) m.get("momentum")).isBetween(0.5, 0.9);
            patience.add(m.get("lrPatience"));
            optimizers.add(m.get("optimizer"));
        }
        // a quarter of the decades lie below 1e-4 (a uniform draw would put 0.09% there)
        assertThat(belowE4).isBetween(70, 130);
        assertThat(patience).containsExactlyInAnyOrder(1, 2, 3, 4);
        assertThat(optimizers).containsExactlyInAnyOrder("sgd", "adam");
        RandomSearchGenerator again = new RandomSearchGenerator(s, null);
        again.setRngSeed(7);
        assertThat(all(again, 400)).isEqualTo(a);
    }

    @Test
    void fixedValuesAndTheBaseGoIntoEveryCandidatesRecipe() throws Exception {
        SearchSpace s = space("{\"base\": {\"optimizer\": \"adam\", \"init\": \"he\"}, \"parameters\": {"
                + "\"lr\": [0.001, 0.01], \"dropout\": 0.3, \"width\": {\"values\": [0.5]}}}");
        assertThat(s.dimensions()).extracting(SearchSpace.Dimension::name).containsExactly("lr");
        assertThat(s.fixed()).containsEntry("optimizer", "adam").containsEntry("dropout", 0.3)
                .containsEntry("width", 0.5);
        TrainConfig base = new TrainConfig();
        base.epochs = 7;
        TrainConfig c = s.recipe(base, Map.of("lr", 0.01));
        assertThat(c.lr).isEqualTo(0.01);
        assertThat(c.optimizer.id()).isEqualTo("adam");
        assertThat(c.init.id()).isEqualTo("he");
        assertThat(c.dropout).isEqualTo(0.3);
        assertThat(c.width).isEqualTo(0.5);
        assertThat(c.epochs).isEqualTo(7);
        // the space survives its own JSON form
        JsonNode j = s.toJson();
        assertThat(SearchSpace.parse(j, "again").dimensions()).hasSize(1);
        assertThat(SearchSpace.parse(j, "again").fixed()).isEqualTo(s.fixed());
    }

    @Test
    void badSpacesFailWithAMessageNamingTheParameter() {
        assertThatThrownBy(() -> space("{\"parameters\": {\"epochs\": [1, 2]}}"))
                .hasMessageContaining("\"epochs\" is not a hyperparameter");
        assertThatThrownBy(() -> space("{\"parameters\": {\"lr\": {\"min\": 0.1, \"max\": 0.01}}}"))
                .hasMessageContaining("\"lr\"").hasMessageContaining("min must be below max");
        assertThatThrownBy(() -> space("{\"parameters\": {\"lr\": {\"min\": 0, \"max\": 0.1, \"scale\": \"log\"}}}"))
                .hasMessageContaining("log scale needs min > 0");
        assertThatThrownBy(() -> space("{\"parameters\": {\"momentum\": {\"min\": 0.9, \"max\": 1.0}}}"))
                .hasMessageContaining("\"momentum\" = 1.0 is not a valid recipe")
                .hasMessageContaining("--momentum must be in [0, 1)");
        assertThatThrownBy(() -> space("{\"parameters\": {\"batch\": {\"min\": 16, \"max\": 64}}}"))
                .hasMessageContaining("batch is an integer");
        assertThatThrownBy(() -> space("{\"parameters\": {\"optimizer\": [\"sgd\", \"rmsprop\"]}}"))
                .hasMessageContaining("--optimizer must be sgd or adam");
        assertThatThrownBy(() -> space("{\"parameters\": {\"lr\": {\"min\": 0.01, \"max\": 0.1, \"scal\": \"log\"}}}"))
                .hasMessageContaining("unknown key 'scal'");
        assertThatThrownBy(() -> space("{\"parameters\": {\"lr\": 0.01}}"))
                .hasMessageContaining("nothing to search");
        assertThatThrownBy(() -> space("{\"params\": {}}")).hasMessageContaining("unknown key 'params'");
        assertThatThrownBy(() -> space("{\"base\": {\"lrr\": 1}, \"parameters\": {\"lr\": [0.1, 0.01]}}"))
                .hasMessageContaining("unknown setting 'lrr'");
    }

    @Test
    void budgetsReadEpochsIterationsAndTime() {
        assertThat(Budget.parse("3e")).isEqualTo(new Budget(Budget.Kind.EPOCHS, 3));
        assertThat(Budget.parse("5 epochs")).isEqualTo(new Budget(Budget.Kind.EPOCHS, 5));
        assertThat(Budget.parse("200it")).isEqualTo(new Budget(Budget.Kind.ITERATIONS, 200));
        assertThat(Budget.parse("90s")).isEqualTo(new Budget(Budget.Kind.SECONDS, 90));
        assertThat(Budget.parse("10m")).isEqualTo(new Budget(Budget.Kind.SECONDS, 600));
        assertThat(Budget.parse("2h")).isEqualTo(new Budget(Budget.Kind.SECONDS, 7200));
        assertThat(Budget.parse(Budget.parse("200it").toString())).isEqualTo(Budget.parse("200it"));
        assertThatThrownBy(() -> Budget.parse("3 fortnights")).hasMessageContaining("--budget must be");
        assertThatThrownBy(() -> Budget.parse("0e")).hasMessageContaining("at least 1");
    }

    @Test
    void theMedianRuleStopsOnlyCandidatesWorseThanTheMedianOfEnoughPeers() {
        MedianStopping rule = new MedianStopping(1, 3);
        List<List<Double>> peers = List.of(List.of(0.5, 0.4), List.of(0.6, 0.5), List.of(0.7, 0.6));
        // peer means after one validation: 0.5, 0.6, 0.7 -> median 0.6
        assertThat(rule.check(List.of(0.65), peers, 0.75)).startsWith(MedianStopping.PREFIX).contains("0.6000");
        assertThat(rule.check(List.of(0.6), peers, 0.75)).isNull(); // not worse than the median
        // after two: means 0.45, 0.55, 0.65 -> 0.55; the best so far counts
        assertThat(rule.check(List.of(0.75, 0.54), peers, 0.75)).isNull();
        assertThat(rule.check(List.of(0.75, 0.56), peers, 0.75)).isNotNull();
        // too few peers reached three validations: no verdict
        assertThat(rule.check(List.of(0.9, 0.9, 0.9), peers, 0.75)).isNull();
        assertThat(new MedianStopping(2, 3).check(List.of(0.9), peers, 0.75)).isNull(); // within its grace
        // a tie at the median goes on, unless it is a tie at chance: dead candidates stop once the median is dead too
        List<List<Double>> dead = List.of(List.of(0.9), List.of(0.9), List.of(0.6));
        assertThat(rule.check(List.of(0.9), dead, 0.95)).isNull();
        assertThat(rule.check(List.of(0.9), dead, 0.9)).startsWith(MedianStopping.PREFIX).contains("chance");
        assertThat(MedianStopping.median(List.of(3.0, 1.0, 2.0, 10.0))).isEqualTo(2.5);
    }
}
