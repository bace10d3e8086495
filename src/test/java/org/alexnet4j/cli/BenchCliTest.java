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
        JsonNode layers = j.get("perLayer").get("alexnet4j paper (oneDNN inference)");
        assertThat(layers).hasSize(27); // conv1a ... fc8, towers, LRN, pools, merges, dropouts
        assertThat(layers.get(0).get("layer").asText()).isEqualTo("conv1a");
        assertThat(layers.get(layers.size() - 1).get("layer").asText()).isEqualTo("fc8");
        for (JsonNode l : layers) {
            assertThat(l.get("forwardMs").asDouble()).isGreaterThanOrEqualTo(0);
        }

        CliRunner.Result md = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "2", "--warmup", "0", "--iters", "1", "--mode", "infer", "--markdown");
        assertThat(md.exit()).as(md.err()).isZero();
        assertThat(md.out()).contains("| model | batch | parameters |").contains("| alexnet4j paper (oneDNN inference) |")
                .doesNotContain("NaN");
        CliRunner.Result dl4j = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "10",
                "--batch", "2", "--warmup", "0", "--iters", "1", "--mode", "infer", "--engine", "dl4j", "--markdown");
        assertThat(dl4j.exit()).as(dl4j.err()).isZero();
        assertThat(dl4j.out()).contains("| alexnet4j paper |");
        assertThat(CliRunner.run("bench", "--format", "nhwc", "--engine", "onednn").err())
                .contains("--engine onednn cannot run this net: its data format is NHWC");
        assertThat(CliRunner.run("bench", "--bench-model", "vgg").err()).contains("paper, torchvision, caffe, zoo or onnxruntime");
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
        assertThat(j.get("results").get(0).get("model").asText()).isEqualTo("alexnet4j paper (DL4J LRN, cache device, oneDNN inference)");
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

    @Test
    void aBatchSweepWithTheOnnxRuntimePeerWritesTimmColumnsPercentilesAndAPlot(@org.junit.jupiter.api.io.TempDir
                                                                               java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path csv = tmp.resolve("bench.csv"), png = tmp.resolve("plots/throughput.png");
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper,onnxruntime", "--width", "0.125",
                "--classes", "10", "--batch", "1,4", "--iters", "3", "--warmup", "1", "--json", "--csv", csv.toString(),
                "--plot", png.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        var results = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.out()).get("results");
        assertThat(results).hasSize(4);
        assertThat(results.get(0).get("model").asText()).isEqualTo("alexnet4j paper (oneDNN inference)");
        assertThat(results.get(1).get("model").asText()).isEqualTo("onnxruntime paper");
        assertThat(results.get(1).get("batch").asInt()).isEqualTo(1);
        assertThat(results.get(3).get("batch").asInt()).isEqualTo(4);
        assertThat(results.get(1).has("trainStepMs")).as("ONNX Runtime: inference only").isFalse();
        assertThat(results.get(1).get("inferImagesPerSecond").asDouble()).isPositive();
        var inf = results.get(0).get("inferMs");
        assertThat(inf.get("p50").asDouble()).isLessThanOrEqualTo(inf.get("p90").asDouble());
        assertThat(inf.get("p90").asDouble()).isLessThanOrEqualTo(inf.get("p99").asDouble());
        assertThat(results.get(0).get("gmacsPerImage").asDouble()).isPositive();

        java.util.List<String> lines = java.nio.file.Files.readAllLines(csv);
        assertThat(lines.get(0)).startsWith("model,precision,batch_size,infer_samples_per_sec,infer_step_time")
                .contains("train_samples_per_sec,train_step_time,param_count,gmacs");
        assertThat(lines).hasSize(5);
        assertThat(lines.get(2)).startsWith("onnxruntime paper,fp32,1,");
        byte[] head = java.util.Arrays.copyOf(java.nio.file.Files.readAllBytes(png), 4);
        assertThat(head).containsExactly(0x89, 'P', 'N', 'G');
        try (var left = java.nio.file.Files.list(png.getParent())) {
            assertThat(left.map(f -> f.getFileName().toString())).containsExactly("throughput.png");
        }
    }
}
