package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.TestNets;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The CLI in-process: what a user types, what they read, and the files they get. */
class CliTest {
    private static CliRunner.Result run(String... args) {
        return CliRunner.run(args);
    }

    private static final String[] SMALL = {"--width", "0.25", "--classes", "10"};


    private static String[] concat(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(b, 0, r, 0, b.length);
        System.arraycopy(a, 0, r, b.length, a.length);
        return r;
    }

    /**
     * Every {@code --option} a help text names is an option of some alexnet4j command, and every {@code scripts/...}
     * path it names exists: help texts once named a {@code --model zoo} and a {@code scripts/search-space.json}.
     */
    @Test
    void helpTextsNameOnlyOptionsAndScriptsThatExist() {
        java.util.List<CommandLine> all = new java.util.ArrayList<>();
        java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Main.commandLine()));
        while (!todo.isEmpty()) {
            CommandLine c = todo.pop();
            all.add(c);
            todo.addAll(c.getSubcommands().values());
        }
        java.util.Set<String> options = new java.util.HashSet<>();
        for (CommandLine c : all) {
            c.getCommandSpec().options().forEach(o -> options.addAll(java.util.List.of(o.names())));
        }
        java.util.regex.Pattern option = java.util.regex.Pattern.compile("(?<![\\w-])--[a-z][a-z0-9-]*");
        java.util.regex.Pattern script = java.util.regex.Pattern.compile("scripts/[A-Za-z0-9_./-]*[A-Za-z0-9_/-]");
        java.util.List<String> wrong = new java.util.ArrayList<>();
        for (CommandLine c : all) {
            c.setUsageHelpWidth(2000); // one line a paragraph: no file name cut at a '.'
            String help = c.getUsageMessage(CommandLine.Help.Ansi.OFF);
            java.util.regex.Matcher m = option.matcher(help);
            while (m.find()) {
                if (!options.contains(m.group())) {
                    wrong.add(c.getCommandName() + ": " + m.group());
                }
            }
            m = script.matcher(help);
            while (m.find()) {
                if (!java.nio.file.Files.exists(Path.of(m.group()))) {
                    wrong.add(c.getCommandName() + ": " + m.group());
                }
            }
        }
        assertThat(wrong).as("options or scripts named in help texts that do not exist").isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"summary", "export-weights", "import-weights", "export-onnx", "predict", "features", "bench-scale", "forward", "sample-input", "env", "synth",
            "manifest", "prepare", "bench-data", "train", "compare-runs", "eval", "calibrate", "bench", "serve",
            "bench-serve"})
    void everySubcommandHasHelp(String command) {
        CliRunner.Result r = run(command, "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Usage: alexnet4j " + command);
    }

    @Test
    void summaryJsonHasTheDocumentedShape() throws IOException {
        CliRunner.Result r = run("summary", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("model").asText()).isEqualTo("paper");
        assertThat(j.get("parameters").asLong()).isEqualTo(60_965_224L);
        JsonNode conv1a = j.get("layers").get(1);
        assertThat(conv1a.get("name").asText()).isEqualTo("conv1a");
        assertThat(conv1a.get("type").asText()).isEqualTo("Conv2d+ReLU");
        assertThat(conv1a.get("outputShape").toString()).isEqualTo("[48,55,55]");
        assertThat(conv1a.get("parameters").asLong()).isEqualTo(17_472L);

        CliRunner.Result tv = run("summary", "--model", "torchvision", "--json");
        assertThat(new ObjectMapper().readTree(tv.out()).get("parameters").asLong()).isEqualTo(61_100_840L);
        CliRunner.Result table = run("summary", "--towers", "1");
        assertThat(table.out()).contains("conv2 ").contains("62,378,344");
    }

    @Test
    void badModelOptionsGetAClearMessage() {
        CliRunner.Result r = run("summary", "--model", "vgg16");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("Unknown model variant 'vgg16'; expected one of paper, torchvision, caffe");
        assertThat(run("summary", "--input-size", "200").err()).contains("inputSize must be 227 or 224");
        assertThat(run("summary", "--model", "torchvision", "--no-lrn").exit()).isZero();
        assertThat(run("summary", "--model", "torchvision", "--towers", "2").err()).contains("grouped=true is an ablation");
        assertThat(run("summary", "--pooling", "median").exit()).isEqualTo(2); // picocli usage error
    }

    @Test
    void exportImportForwardRoundTrip(@TempDir Path dir) throws IOException {
        Path w = dir.resolve("w.npz");
        CliRunner.Result exp = run(concat(SMALL, "export-weights", "--out", w.toString(), "--seed", "3"));
        assertThat(exp.exit()).as(exp.err()).isZero();
        AlexNet net = AlexNet.builder().width(0.25).numClasses(10).seed(3).build();
        assertThat(Npz.read(w)).isEqualTo(TorchLayout.export(net.newGraph(), net));

        Path model = dir.resolve("model.zip");
        assertThat(run(concat(SMALL, "import-weights", "--weights", w.toString(), "--out", model.toString())).exit())
                .isZero();
        assertThat(ModelFiles.readSettings(model)).isEqualTo(AlexNet.builder().width(0.25).numClasses(10).build());

        INDArray x = TestNets.input(3, 227, 50, 1);
        Path xin = dir.resolve("x.npy");
        Npy.write(xin, NpyArray.of(x));
        Path y1 = dir.resolve("y1.npy");
        Path y2 = dir.resolve("y2.npy");
        Path p = dir.resolve("p.npy");
        CliRunner.Result f1 = run(concat(SMALL, "forward", "--weights", w.toString(), "--input", xin.toString(), "--output",
                y1.toString(), "--batch", "2"));
        assertThat(f1.exit()).as(f1.err()).isZero();
        assertThat(f1.out()).contains("logits [3, 10]");
        // the same batching as f1 (a single-example batch takes fc6/fc7's matrix-vector path, equal to the batched
        // products within float rounding, not bit for bit): .npz weights and the imported model give the same bits
        CliRunner.Result f2 = run("forward", "--checkpoint", model.toString(), "--input", xin.toString(), "--output",
                y2.toString(), "--batch", "2");
        assertThat(f2.exit()).as(f2.err()).isZero();
        NpyArray logits = Npy.read(y1);
        assertThat(logits.shape()).containsExactly(3, 10);
        assertThat(Npy.read(y2)).isEqualTo(logits);
        Path y3 = dir.resolve("y3.npy");
        assertThat(run("forward", "--checkpoint", model.toString(), "--input", xin.toString(), "--output",
                y3.toString()).exit()).isZero();
        INDArray whole = Npy.read(y3).toINDArray(), batched = logits.toINDArray();
        assertThat(whole.sub(batched).norm2Number().doubleValue() / batched.norm2Number().doubleValue())
                .isLessThan(1e-5);

        assertThat(run(concat(SMALL, "forward", "--weights", w.toString(), "--input", xin.toString(), "--output",
                p.toString(), "--probabilities")).exit()).isZero();
        float[] probs = Npy.read(p).data();
        for (int i = 0; i < 3; i++) {
            double sum = 0, max = Double.NEGATIVE_INFINITY, z = 0;
            for (int c = 0; c < 10; c++) {
                sum += probs[i * 10 + c];
                max = Math.max(max, logits.data()[i * 10 + c]);
            }
            assertThat(sum).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
            for (int c = 0; c < 10; c++) {
                z += Math.exp(logits.data()[i * 10 + c] - max);
            }
            double expected = Math.exp(logits.data()[i * 10] - max) / z; // softmax of the logits
            assertThat((double) probs[i * 10]).isCloseTo(expected, org.assertj.core.api.Assertions.within(1e-5));
        }
        // a checkpoint carries its own settings: model options next to it are refused
        assertThat(run("forward", "--checkpoint", model.toString(), "--width", "0.5", "--input", xin.toString(),
                "--output", y2.toString()).err()).contains("carries its own model settings");
    }

    @Test
    void forwardNamesWhatIsWrong(@TempDir Path dir) throws IOException {
        AlexNet net = AlexNet.builder().width(0.25).numClasses(10).build();
        Path w = dir.resolve("w.npz");
        Npz.write(w, TestNets.heWeights(net, 1));
        Path out = dir.resolve("y.npy");

        Path wrongShape = dir.resolve("wrong.npy");
        Npy.write(wrongShape, NpyArray.float32(new long[]{1, 3, 224, 224}, new float[3 * 224 * 224]));
        CliRunner.Result r = run(concat(SMALL, "forward", "--weights", w.toString(), "--input", wrongShape.toString(),
                "--output", out.toString()));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("[1, 3, 224, 224], expected NCHW [N, 3, 227, 227]");

        Path okInput = dir.resolve("x.npy");
        Npy.write(okInput, NpyArray.float32(new long[]{1, 3, 227, 227}, new float[3 * 227 * 227]));
        Map<String, NpyArray> bad = new LinkedHashMap<>(TestNets.heWeights(net, 1));
        bad.put("fc6.weight", NpyArray.float32(new long[]{2}, new float[2]));
        Path badW = dir.resolve("bad.npz");
        Npz.write(badW, bad);
        CliRunner.Result r2 = run(concat(SMALL, "forward", "--weights", badW.toString(), "--input", okInput.toString(),
                "--output", out.toString()));
        assertThat(r2.exit()).isEqualTo(1);
        assertThat(r2.err()).contains("array 'fc6.weight' has shape [2], expected [1024, 2304]")
                .contains("nothing was loaded");
        assertThat(out).doesNotExist();

        CliRunner.Result r3 = run(concat(SMALL, "forward", "--weights", dir.resolve("missing.npz").toString(), "--input",
                okInput.toString(), "--output", out.toString()));
        assertThat(r3.err()).contains("missing.npz: no such file");
        CliRunner.Result r4 = run(concat(SMALL, "forward", "--input", okInput.toString(), "--output", out.toString()));
        assertThat(r4.exit()).isEqualTo(2);
        assertThat(r4.err()).contains("--weights").contains("--checkpoint");
    }

    @Test
    void logFileReceivesTheCommandsLogLines(@TempDir Path dir) throws IOException {
        Path log = dir.resolve("run.log");
        CliRunner.Result r = run(concat(SMALL, "export-weights", "--out", dir.resolve("w.npz").toString(),
                "--log-file", log.toString()));
        assertThat(r.exit()).as(r.err()).isZero();
        // (DL4J's and ND4J's own lines: RunLogTest; DL4J logs its graph start-up line once per JVM)
        assertThat(java.nio.file.Files.readString(log)).contains("org.alexnet4j.cli.ExportWeightsCommand")
                .contains("exported 16 arrays");
    }

    @Test
    void sampleInputIsSeededGaussianNchw(@TempDir Path dir) throws IOException {
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        Path c = dir.resolve("c.npy");
        assertThat(run("sample-input", "--count", "2", "--size", "64", "--sigma", "10", "--out", a.toString()).exit())
                .isZero();
        run("sample-input", "--count", "2", "--size", "64", "--sigma", "10", "--out", b.toString());
        run("sample-input", "--count", "2", "--size", "64", "--sigma", "10", "--seed", "2", "--out", c.toString());
        NpyArray x = Npy.read(a);
        assertThat(x.shape()).containsExactly(2, 3, 64, 64);
        assertThat(Npy.read(b)).isEqualTo(x);
        assertThat(Npy.read(c)).isNotEqualTo(x);
        double sum = 0, sq = 0;
        for (float v : x.data()) {
            sum += v;
            sq += v * v;
        }
        double n = x.data().length;
        assertThat(sum / n).isCloseTo(0, org.assertj.core.api.Assertions.within(0.5));
        assertThat(Math.sqrt(sq / n)).isCloseTo(10, org.assertj.core.api.Assertions.within(0.3));
        assertThat(run("sample-input", "--sigma", "-1", "--out", a.toString()).err()).contains("--sigma");
    }

    @Test
    void envReportsOneDnnHelpersActive() throws IOException {
        CliRunner.Result r = run("env", "--json");
        assertThat(r.exit()).as(r.err()).isZero();
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertThat(j.get("backend").asText()).isEqualTo("CPU");
        // the shim in org.nd4j.nativeblas makes DL4J's oneDNN helpers run every conv and pooling layer
        assertThat(j.get("oneDNN").asBoolean()).isTrue();
        assertThat(j.get("helperLayers").asText()).matches("(\\d+)/\\1");
    }
}
