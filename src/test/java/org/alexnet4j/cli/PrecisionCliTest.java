package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.Fixtures;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * --precision and calibrate as a user runs them on a trained run: int8 refused until calibrated, calibrate's file
 * beside the run's weights, eval's comparison with fp32, forward in bf16 and int8 close to fp32, the refusals on
 * engines that compute in fp32, and bench's precision series.
 */
class PrecisionCliTest {
    @TempDir
    static Path tmp;
    static Path cache;
    static Path run;

    @BeforeAll
    static void trainedRun() throws Exception {
        cache = Fixtures.rawCache(tmp, 3, 12, 4, 2);
        run = tmp.resolve("run");
        CliRunner.Result r = CliRunner.run("train", "--data", cache.toString(), "--out", run.toString(), "--width",
                "0.125", "--batch", "8", "--epochs", "2", "--init", "he", "--normalize", "channel", "--threads", "1",
                "--optimizer", "adam", "--lr", "0.0005");
        assertThat(r.exit()).as(r.err()).isZero();
    }

    @Test
    void int8IsRefusedUntilCalibratedThenEvalComparesItWithFp32() throws Exception {
        CliRunner.Result refused = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(),
                "--precision", "int8", "--crops", "center");
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("int8 inference needs the ranges of the activations")
                .contains("alexnet4j calibrate").doesNotContain("Exception");

        CliRunner.Result c = CliRunner.run("calibrate", "--run", run.toString(), "--data", cache.toString(),
                "--images", "8", "--batch", "4", "--threads", "1");
        assertThat(c.exit()).as(c.err()).isZero();
        Path file = run.resolve("checkpoints/best.calibration.json");
        assertThat(c.out()).contains("8 images of").contains("fc7").contains("wrote " + file);
        JsonNode cal = new ObjectMapper().readTree(file.toFile());
        assertThat(cal.get("images").asInt()).isEqualTo(8);
        assertThat(cal.get("inputRanges").size()).isEqualTo(8);

        CliRunner.Result e = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(),
                "--precision", "int8", "--crops", "center", "--out", tmp.resolve("eval-int8").toString());
        assertThat(e.exit()).as(e.err()).isZero();
        assertThat(e.out()).contains("agreement with fp32: top-1");
        JsonNode j = new ObjectMapper().readTree(tmp.resolve("eval-int8/eval.json").toFile());
        assertThat(j.get("precision").asText()).isEqualTo("int8");
        assertThat(j.get("engine").asText()).isEqualTo("oneDNN int8");
        JsonNode center = j.get("center");
        assertThat(center.get("fp32").get("images").asInt()).isEqualTo(12);
        assertThat(center.get("top1Agreement").asDouble()).isGreaterThanOrEqualTo(0.75);
        assertThat(center.get("top1ErrorChangePoints").asDouble()).isBetween(-25.0, 25.0);

        // calibrating on the fly gives the same kind of result without the file
        Files.delete(file);
        CliRunner.Result fly = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(),
                "--precision", "int8", "--calibrate", cache.toString(), "--calibration-images", "4", "--crops",
                "center", "--out", tmp.resolve("eval-fly").toString());
        assertThat(fly.exit()).as(fly.err()).isZero();
        assertThat(fly.out()).contains("agreement with fp32");
    }

    @Test
    void forwardInBf16AndInt8StaysCloseToFp32AndOtherEnginesRefuse() throws Exception {
        Nd4j.getRandom().setSeed(3);
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, 3, 227, 227).subi(0.5).muli(3);
        Path in = tmp.resolve("x.npy");
        Npy.write(in, NpyArray.of(x));
        Path fp32 = tmp.resolve("fp32.npy");
        assertThat(CliRunner.run("forward", "--run", run.toString(), "--input", in.toString(), "--output",
                fp32.toString()).exit()).isZero();
        float[] want = Npy.read(fp32).data();
        for (String p : List.of("bf16", "int8")) {
            Path y = tmp.resolve(p + ".npy");
            CliRunner.Result r = CliRunner.run("forward", "--run", run.toString(), "--input", in.toString(),
                    "--output", y.toString(), "--precision", p, "--calibrate", cache.toString(),
                    "--calibration-images", "4", "--batch", "2");
            if (p.equals("bf16")) {
                assertThat(r.exit()).isNotZero(); // --calibrate is int8's
                assertThat(r.err()).contains("--calibrate is for --precision int8");
                r = CliRunner.run("forward", "--run", run.toString(), "--input", in.toString(), "--output",
                        y.toString(), "--precision", p, "--batch", "2");
            }
            assertThat(r.exit()).as(r.err()).isZero();
            float[] got = Npy.read(y).data();
            double diff = 0, max = 0;
            for (int i = 0; i < want.length; i++) {
                diff = Math.max(diff, Math.abs(got[i] - want[i]));
                max = Math.max(max, Math.abs(want[i]));
            }
            assertThat(diff / max).as(p).isLessThan(p.equals("bf16") ? 0.02 : 0.1);
        }
        Path npz = tmp.resolve("features-int8.npz");
        CliRunner.Result f = CliRunner.run("features", "--run", run.toString(), "--data", cache.toString(), "--split",
                "val", "--layer", "fc7", "--precision", "int8", "--calibrate", cache.toString(),
                "--calibration-images", "4", "--out", npz.toString());
        assertThat(f.exit()).as(f.err()).isZero();
        assertThat(f.out()).contains("val: 12 images x 512 features");
        assertThat(npz).exists();
        CliRunner.Result dl4j = CliRunner.run("forward", "--run", run.toString(), "--input", in.toString(),
                "--output", tmp.resolve("z.npy").toString(), "--precision", "bf16", "--engine", "dl4j");
        assertThat(dl4j.err()).contains("--precision bf16 runs on the oneDNN engine").contains("dl4j computes in "
                + "fp32");
        CliRunner.Result tf32 = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(),
                "--precision", "tf32", "--engine", "onednn");
        assertThat(tf32.err()).contains("--precision tf32 is the cuda engine's, not --engine onednn's");
        CliRunner.Result bad = CliRunner.run("eval", "--data", cache.toString(), "--run", run.toString(),
                "--precision", "fp8");
        assertThat(bad.err()).contains("--precision must be fp32, bf16 or int8 (the CPU), or fp32-fast or tf32");
    }

    @Test
    void benchTimesEachPrecisionAsItsOwnSeries() throws Exception {
        Path csv = tmp.resolve("bench.csv");
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "3",
                "--mode", "infer", "--batch", "2", "--precision", "fp32,bf16,int8", "--warmup", "1", "--iters", "1",
                "--csv", csv.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> rows = Files.readAllLines(csv);
        assertThat(rows).hasSize(4);
        assertThat(rows.get(1)).contains(",fp32,");
        String bf16 = org.alexnet4j.infer.OneDnnInference.available(org.alexnet4j.infer.CpuPrecision.BF16).id();
        assertThat(rows.get(2)).contains("(oneDNN inference, " + bf16 + ")\"," + bf16 + ","); // fp32 without AVX-512
        assertThat(rows.get(3)).contains("(oneDNN inference, int8)\",int8,");
    }

    @Test
    void trainsInBf16OnTheOneDnnEngineAndRefusesItElsewhere() throws Exception {
        Path bf16 = tmp.resolve("run-bf16");
        CliRunner.Result r = CliRunner.run("train", "--data", cache.toString(), "--out", bf16.toString(), "--width",
                "0.125", "--batch", "8", "--epochs", "1", "--init", "he", "--normalize", "channel", "--threads", "1",
                "--lr", "0.005", "--precision", "bf16");
        assertThat(r.exit()).as(r.err()).isZero();
        boolean avx512 = org.alexnet4j.cpu.OneDnnOps.bf16Available();
        assertThat(Files.readString(bf16.resolve("train.log"))).contains("training steps on the onednn engine ("
                + (avx512 ? "onednn-bf16, bf16 products, fp32 master weights" : "onednn, fp32"));
        JsonNode config = new ObjectMapper().readTree(bf16.resolve("config.json").toFile());
        assertThat(config.get("precision").asText()).isEqualTo("bf16");
        assertThat(config.get("engine").asText()).isEqualTo("auto");
        assertThat(bf16.resolve("checkpoints/best.zip")).exists();

        // its curves beside the fp32 run's, in one chart
        Path chart = tmp.resolve("compare/val-loss.png");
        CliRunner.Result c = CliRunner.run("compare-runs", run.toString(), bf16.toString(), "--out", chart.toString());
        assertThat(c.exit()).as(c.err()).isZero();
        assertThat(c.out()).contains("run (fp32, seed").contains("run-bf16 (bf16, seed").contains("wrote " + chart);
        assertThat(c.out().lines().filter(l -> l.startsWith("1\t")).findFirst().orElseThrow().split("\t"))
                .hasSize(3);
        assertThat(javax.imageio.ImageIO.read(chart.toFile()).getWidth()).isGreaterThan(100);
        CliRunner.Result none = CliRunner.run("compare-runs", tmp.toString(), "--out", chart.toString());
        assertThat(none.exit()).isNotZero();
        assertThat(none.err()).contains("has no metrics.csv").doesNotContain("Exception");

        CliRunner.Result refused = CliRunner.run("train", "--data", cache.toString(), "--out",
                tmp.resolve("refused").toString(), "--width", "0.125", "--engine", "dl4j", "--precision", "bf16");
        assertThat(refused.exit()).isNotZero();
        assertThat(refused.err()).contains("--precision bf16 trains on the oneDNN engine (--engine onednn or auto), "
                + "not --engine dl4j").doesNotContain("Exception");
    }

    @Test
    void benchTimesTheOneDnnTrainingEngineInEachPrecision() throws Exception {
        Path csv = tmp.resolve("bench-train.csv");
        CliRunner.Result r = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--classes", "3",
                "--mode", "train", "--batch", "2", "--train-engine", "dl4j,onednn", "--precision", "fp32,bf16",
                "--warmup", "1", "--iters", "1", "--csv", csv.toString());
        assertThat(r.exit()).as(r.err()).isZero();
        List<String> rows = Files.readAllLines(csv);
        assertThat(rows).hasSize(4);
        assertThat(rows.get(1)).contains("(oneDNN training engine, fp32)\",fp32,");
        String bf16 = org.alexnet4j.cpu.OneDnnOps.bf16Available() ? "bf16" : "fp32"; // fp32 without AVX-512
        assertThat(rows.get(2)).contains("(oneDNN training engine, " + bf16 + ")\"," + bf16 + ",");
        assertThat(rows.get(3)).contains("alexnet4j paper");
        CliRunner.Result bad = CliRunner.run("bench", "--bench-model", "paper", "--width", "0.125", "--mode", "train",
                "--train-engine", "pytorch");
        assertThat(bad.exit()).isNotZero();
        assertThat(bad.err()).contains("--train-engine must be dl4j or onednn, got pytorch");
    }
}
