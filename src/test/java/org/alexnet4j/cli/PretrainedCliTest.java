package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Published-weights workflows through the CLI: ONNX out and in, predict on image files, eval with ONNX weights. */
class PretrainedCliTest {
    @TempDir
    Path tmp;

    private static final String[] CAFFE_SMALL = {"--model", "caffe", "--width", "0.25"};

    private static String[] args(String[] base, String... more) {
        String[] r = new String[more.length + base.length];
        System.arraycopy(more, 0, r, 0, more.length);
        System.arraycopy(base, 0, r, more.length, base.length);
        return r;
    }

    private static CliRunner.Result ok(String... a) {
        CliRunner.Result r = CliRunner.run(a);
        assertThat(r.exit()).as(String.join(" ", a) + "\n" + r.err()).isZero();
        return r;
    }

    @Test
    void onnxRoundTripThroughTheCliGivesTheSameOutputs() throws Exception {
        Path npz = tmp.resolve("w.npz"), onnx = tmp.resolve("m.onnx"), zip = tmp.resolve("m.zip");
        Path x = tmp.resolve("x.npy"), y1 = tmp.resolve("y1.npy"), y2 = tmp.resolve("y2.npy");
        ok(args(CAFFE_SMALL, "export-weights", "--seed", "3", "--out", npz.toString()));
        CliRunner.Result e = ok(args(CAFFE_SMALL, "export-onnx", "--weights", npz.toString(), "--out",
                onnx.toString()));
        assertThat(e.out()).contains("wrote " + onnx + ": caffe net, fp32, opset 13");
        ok(args(CAFFE_SMALL, "import-weights", "--weights", onnx.toString(), "--out", zip.toString()));
        ok("sample-input", "--count", "2", "--out", x.toString());
        ok(args(CAFFE_SMALL, "forward", "--weights", npz.toString(), "--input", x.toString(), "--output",
                y1.toString()));
        ok("forward", "--checkpoint", zip.toString(), "--input", x.toString(), "--output", y2.toString());
        NpyArray a = Npy.read(y1), b = Npy.read(y2);
        assertThat(b.data()).containsExactly(a.data());
        // the ONNX file does not fit the paper net: refused with the mismatches, nothing written
        CliRunner.Result bad = CliRunner.run("import-weights", "--width", "0.25", "--weights", onnx.toString(),
                "--out", tmp.resolve("no.zip").toString());
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("does not fit the paper net").contains("bias (k) 1.00000, expected 2.00000");
        assertThat(tmp.resolve("no.zip")).doesNotExist();
        assertThat(CliRunner.run(args(CAFFE_SMALL, "export-onnx", "--opset", "5", "--out", "o.onnx")).err())
                .contains("--opset must be in 9..21");
    }

    @Test
    void predictNamesTheClassesOfImageFiles() throws Exception {
        Path data = tmp.resolve("d"), npz = tmp.resolve("w.npz");
        ok("synth", "--out", data.toString(), "--classes", "2", "--train-per-class", "2", "--val-per-class", "1",
                "--odd-files");
        ok(args(CAFFE_SMALL, "export-weights", "--out", npz.toString()));
        Path bmp = data.resolve("train").resolve("photo.BMP");
        Files.write(bmp, org.alexnet4j.data.ImageCodec.encodeBmp(org.alexnet4j.data.RgbImage.blank(300, 200)));
        Path broken = data.resolve("train").resolve("broken.jpg");
        Files.write(broken, new byte[]{(byte) 0xFF, (byte) 0xD8, (byte) 0xFF, 0, 1, 2});
        Path one = Files.list(data.resolve("val")).filter(p -> p.toString().endsWith(".JPEG")).findFirst()
                .orElseThrow();

        CliRunner.Result single = ok(args(CAFFE_SMALL, "predict", "--weights", npz.toString(), one.toString(),
                "--top", "3"));
        List<String> lines = single.out().lines().toList();
        assertThat(lines).hasSize(4);
        assertThat(lines.get(0)).isEqualTo(one.toString());
        assertThat(lines.get(1)).matches("  1\\. 0\\.\\d{4}  n\\d{8} .+");

        CliRunner.Result all = ok(args(CAFFE_SMALL, "predict", "--weights", npz.toString(), data.toString(),
                "--json", "--crops", "ten", "--top", "2"));
        List<JsonNode> records = all.out().lines().map(l -> {
            try {
                return new ObjectMapper().readTree(l);
            } catch (Exception ex) {
                throw new AssertionError(l, ex);
            }
        }).toList();
        long images;
        try (var s = Files.walk(data)) {
            images = s.filter(p -> p.toString().endsWith(".JPEG") || p.toString().endsWith(".jpg")
                    || p.toString().endsWith(".BMP")).count();
        }
        assertThat(records).hasSize((int) images); // CMYK, grayscale and PNG-named-JPEG files are classified too
        assertThat(records).anySatisfy(r -> {
            assertThat(r.get("file").asText()).isEqualTo(broken.toString());
            assertThat(r.get("error").asText()).isNotBlank();
        });
        for (String decodes : List.of("_900001.JPEG", "_900002.JPEG", "_900003.JPEG", "photo.BMP")) {
            // CMYK, PNG named .JPEG, grayscale, BMP
            assertThat(records).anySatisfy(r -> {
                assertThat(r.get("file").asText()).endsWith(decodes);
                assertThat(r.has("top")).isTrue();
            });
        }
        JsonNode good = records.stream().filter(r -> !r.has("error")).findFirst().orElseThrow();
        assertThat(good.get("top")).hasSize(2);
        assertThat(good.get("top").get(0).get("wnid").asText()).matches("n\\d{8}");
        assertThat(good.get("top").get(0).get("probability").asDouble())
                .isGreaterThanOrEqualTo(good.get("top").get(1).get("probability").asDouble());

        CliRunner.Result missing = CliRunner.run(args(CAFFE_SMALL, "predict", "--weights", npz.toString(),
                tmp.resolve("nope.jpg").toString()));
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.jpg does not exist");
    }

    @Test
    void evalTakesOnnxWeightsWithTheVariantsPreprocessing() throws Exception {
        Path data = tmp.resolve("d"), onnx = tmp.resolve("m.onnx"), out = tmp.resolve("eval");
        ok("synth", "--out", data.toString(), "--classes", "3", "--train-per-class", "2", "--val-per-class", "2");
        ok("export-onnx", "--model", "caffe", "--width", "0.25", "--classes", "3", "--out", onnx.toString());
        CliRunner.Result r = ok("eval", "--model", "caffe", "--width", "0.25", "--classes", "3", "--weights",
                onnx.toString(), "--data", data.toString(), "--crops", "center", "--out", out.toString(), "--json");
        JsonNode j = new ObjectMapper().readTree(Files.readString(out.resolve("eval.json")));
        assertThat(j.get("preprocessing").asText()).contains("warp to 256x256").contains("BGR")
                .contains("Caffe's published mean pixel");
        assertThat(j.get("center").get("images").asInt()).isEqualTo(6);
        assertThat(r.out()).contains("\"center\"");

        // torchvision's weights on a cache with its own statistics: torchvision's published mean/std
        Path cache = tmp.resolve("cache"), tv = tmp.resolve("tv.onnx"), tvOut = tmp.resolve("eval-tv");
        ok("prepare", "--data", data.toString(), "--out", cache.toString());
        ok("export-onnx", "--model", "torchvision", "--width", "0.25", "--classes", "3", "--out", tv.toString());
        ok("eval", "--model", "torchvision", "--width", "0.25", "--classes", "3", "--weights", tv.toString(),
                "--data", cache.toString(), "--crops", "center", "--out", tvOut.toString());
        JsonNode t = new ObjectMapper().readTree(Files.readString(tvOut.resolve("eval.json")));
        assertThat(t.get("statistics").asText()).isEqualTo("published");
        assertThat(t.get("normalize").asText()).isEqualTo("channel");
        assertThat(t.get("preprocessing").asText()).contains("shorter side 256").contains("centre 224")
                .contains("RGB");
    }
}
