package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** `bench` end to end on a small net: the JSON a user records, the per-layer breakdown, the Markdown table. */
class BenchCliTest {
    @Test
    void benchReportsStepForwardInferenceMemoryAndEveryLayer() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "4", "--warmup", "0", "--iters", "2", "--per-layer", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("environment").get("backend").asText()).isEqualTo("CPU");
        JsonNode res = j.get("results").get(0);
        assertThat(res.get("batch").asInt()).isEqualTo(4);
        assertThat(res.get("trainStepMs").get("n").asInt()).isEqualTo(2);
        assertThat(res.get("trainStepMs").get("median").asDouble()).isPositive();
        assertThat(res.get("inferImagesPerSecond").asDouble()).isPositive();
        assertThat(res.get("peakResidentMiB").asLong()).isPositive();
        JsonNode layers = j.get("perLayer").get("alexnet4j paper");
        assertThat(layers).hasSize(27); // conv1a ... fc8, towers, LRN, pools, merges, dropouts
        assertThat(layers.get(0).get("layer").asText()).isEqualTo("conv1a");
        assertThat(layers.get(layers.size() - 1).get("layer").asText()).isEqualTo("fc8");
        for (JsonNode l : layers) {
            assertThat(l.get("forwardMs").asDouble()).isGreaterThanOrEqualTo(0);
        }

        CliRunner.Result md = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "2", "--warmup", "0", "--iters", "1", "--mode", "infer", "--markdown");
        assertThat(md.exit()).as(md.err()).isZero();
        assertThat(md.out()).contains("| model | parameters |").contains("| alexnet4j paper |").doesNotContain("NaN");
        assertThat(CliRunner.run("bench", "--bench-model", "vgg").err()).contains("paper, torchvision, caffe or zoo");
        assertThat(CliRunner.run("bench", "--cache-mode", "host").err()).contains("device or none");
    }

    @Test
    void towerCostComparesEachGroupedBlockWithOneLayerOfTheSameWork() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "2", "--warmup", "0", "--iters", "1", "--mode", "infer", "--lrn-impl", "dl4j",
                "--cache-mode", "device", "--tower-cost", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("cacheMode").asText()).isEqualTo("device");
        assertThat(j.get("results").get(0).get("model").asText()).isEqualTo("alexnet4j paper (DL4J LRN, cache device)");
        JsonNode towers = j.get("towerCost");
        assertThat(towers).hasSize(3);
        assertThat(towers.get(0).get("block").asText()).isEqualTo("conv2");
        for (JsonNode t : towers) {
            assertThat(t.get("towersMs").asDouble()).isPositive();
            assertThat(t.get("singleLayerMs").asDouble()).isPositive();
        }
    }

    @Test
    void devicesReportImagesPerSecondAndScalingEfficiencyPerReplicaCount() throws Exception {
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "4", "--mode", "train", "--warmup", "1", "--iters", "2", "--devices", "2", "--json");
        assertThat(r.exit()).as(r.err()).isEqualTo(0);
        com.fasterxml.jackson.databind.JsonNode s = new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(r.out()).get("scaling");
        assertThat(s).hasSize(2);
        assertThat(s.get(0).get("devices").asInt()).isEqualTo(1);
        assertThat(s.get(0).get("efficiency").asDouble()).isEqualTo(1.0);
        assertThat(s.get(1).get("devices").asInt()).isEqualTo(2);
        assertThat(s.get(1).get("imagesPerSecond").asDouble()).isPositive();
        assertThat(s.get(1).get("efficiency").asDouble()).isBetween(0.05, 2.0);
        CliRunner.Result md = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "4", "--mode", "train", "--warmup", "0", "--iters", "1", "--devices", "2", "--markdown");
        assertThat(md.out()).contains("| devices | step | img/s | scaling efficiency |").contains("| 2 |");
    }
}
