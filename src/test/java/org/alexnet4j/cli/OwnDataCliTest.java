package org.alexnet4j.cli;

import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.weights.ModelFiles;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A user's own class folders through the whole CLI: prepare, train, eval, predict and features show the user's
 * class names; features equal the layer's activations in a forward pass.
 */
class OwnDataCliTest {
    @TempDir
    Path tmp;

    private static CliRunner.Result ok(String... a) {
        CliRunner.Result r = CliRunner.run(a);
        assertThat(r.exit()).as(String.join(" ", a) + "\n" + r.err()).isZero();
        return r;
    }

    @Test
    void classFoldersWithAnyNamesGoThroughPrepareTrainEvalPredictAndFeatures() throws Exception {
        Path synth = tmp.resolve("synth");
        ok("synth", "--out", synth.toString(), "--classes", "2", "--train-per-class", "6", "--val-per-class", "3",
                "--val-layout", "folders");
        List<String> wnids;
        try (var s = Files.list(synth.resolve("train"))) {
            wnids = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        String[] names = {"Golden Retriever", "tabby cat"};
        for (String split : List.of("train", "val")) {
            for (int i = 0; i < 2; i++) {
                Files.move(synth.resolve(split).resolve(wnids.get(i)), synth.resolve(split).resolve(names[i]));
            }
        }
        Files.delete(synth.resolve("SYNTH.json"));
        Path cache = tmp.resolve("cache"), run = tmp.resolve("run"), feats = tmp.resolve("f.npz");
        ok("prepare", "--data", synth.toString(), "--out", cache.toString(), "--format", "raw");
        assertThat(Files.readString(cache.resolve("classes.tsv"))).contains("0\tGolden Retriever\tGolden Retriever")
                .contains("1\ttabby cat\ttabby cat");
        ok("train", "--data", cache.toString(), "--out", run.toString(), "--width", "0.125", "--batch", "4",
                "--epochs", "1", "--init", "he", "--normalize", "channel", "--optimizer", "adam", "--lr", "0.001");
        assertThat(Files.readString(run.resolve("classes.tsv"))).contains("tabby cat");
        ok("eval", "--data", cache.toString(), "--run", run.toString(), "--crops", "center");
        assertThat(Files.readString(run.resolve("eval/per_class.csv"))).contains("Golden Retriever")
                .contains("tabby cat");
        Path photo;
        try (var s = Files.list(synth.resolve("val").resolve("tabby cat"))) {
            photo = s.findFirst().orElseThrow();
        }
        CliRunner.Result p = ok("predict", "--run", run.toString(), photo.toString(), "--top", "2");
        assertThat(p.out()).contains("Golden Retriever").contains("tabby cat");

        // the oneDNN engine (the default) and DL4J's output agree: eval's scores, predict's classes and probabilities
        ok("eval", "--data", cache.toString(), "--run", run.toString(), "--crops", "both", "--engine", "dl4j",
                "--out", tmp.resolve("eval-dl4j").toString());
        ok("eval", "--data", cache.toString(), "--run", run.toString(), "--crops", "both", "--out",
                tmp.resolve("eval-onednn").toString());
        com.fasterxml.jackson.databind.ObjectMapper om = new com.fasterxml.jackson.databind.ObjectMapper();
        var byDl4j = om.readTree(tmp.resolve("eval-dl4j/eval.json").toFile());
        var byOnednn = om.readTree(tmp.resolve("eval-onednn/eval.json").toFile());
        assertThat(byDl4j.get("engine").asText()).isEqualTo("DL4J");
        assertThat(byOnednn.get("engine").asText()).isEqualTo("oneDNN");
        for (String crops : java.util.List.of("center", "tenCrop")) {
            assertThat(byOnednn.get(crops).get("top1Error").asDouble()).as(crops)
                    .isEqualTo(byDl4j.get(crops).get("top1Error").asDouble());
            assertThat(byOnednn.get(crops).get("loss").asDouble()).as(crops)
                    .isCloseTo(byDl4j.get(crops).get("loss").asDouble(), org.assertj.core.api.Assertions.within(1e-4));
        }
        var pd = om.readTree(ok("predict", "--run", run.toString(), photo.toString(), "--top", "2", "--json",
                "--engine", "dl4j").out());
        var po = om.readTree(ok("predict", "--run", run.toString(), photo.toString(), "--top", "2", "--json").out());
        assertThat(po.toString()).isNotEqualTo("null");
        for (int i = 0; i < 2; i++) {
            var a = po.get("top").get(i);
            var b = pd.get("top").get(i);
            assertThat(a.get("index").asInt()).isEqualTo(b.get("index").asInt());
            assertThat(a.get("probability").asDouble()).isCloseTo(b.get("probability").asDouble(),
                    org.assertj.core.api.Assertions.within(1e-5));
        }

        // export-weights --run: the run's best checkpoint
        Path fromRun = tmp.resolve("run.npz"), fromBest = tmp.resolve("best.npz");
        ok("export-weights", "--run", run.toString(), "--out", fromRun.toString());
        ok("export-weights", "--checkpoint", run.resolve("checkpoints/best.zip").toString(), "--out",
                fromBest.toString());
        var a = org.alexnet4j.weights.Npz.read(fromRun);
        var b = org.alexnet4j.weights.Npz.read(fromBest);
        assertThat(a.keySet()).isEqualTo(b.keySet()).contains("fc8.weight");
        a.forEach((k, v) -> assertThat(v.data()).as(k).containsExactly(b.get(k).data()));

        // the run keeps its training statistics: with the cache moved away, predict normalises as before
        assertThat(run.resolve("preprocessing/stats.json")).exists();
        Path moved = tmp.resolve("cache-moved");
        Files.move(cache, moved);
        var after = om.readTree(ok("predict", "--run", run.toString(), photo.toString(), "--top", "2", "--json").out());
        for (int i = 0; i < 2; i++) {
            assertThat(after.get("top").get(i).get("probability").asDouble()).as("cache moved")
                    .isCloseTo(po.get("top").get(i).get("probability").asDouble(),
                            org.assertj.core.api.Assertions.within(1e-6));
        }
        Files.move(moved, cache);

        ok("features", "--run", run.toString(), "--data", cache.toString(), "--layer", "fc7", "--out",
                feats.toString(), "--batch", "4");
        Map<String, byte[]> entries = entries(feats);
        assertThat(entries.keySet()).contains("train_features.npy", "train_labels.npy", "train_files.npy",
                "val_features.npy", "val_labels.npy", "val_files.npy", "classes.npy");
        float[] val = floats(entries.get("val_features.npy"));
        long[] labels = longs(entries.get("val_labels.npy"));
        assertThat(labels).containsExactly(0, 0, 0, 1, 1, 1);
        String files = new String(entries.get("val_files.npy"), java.nio.charset.Charset.forName("UTF-32LE"));
        assertThat(files).contains("val/tabby cat/");
        assertThat(new String(entries.get("classes.npy"), java.nio.charset.Charset.forName("UTF-32LE")))
                .contains("Golden Retriever");

        // the same images through the iterator and a plain forward pass give the same fc7 activations
        ModelFiles.Loaded m = ModelFiles.load(run.resolve("checkpoints/best.zip"), false);
        ComputationGraph g = m.graph();
        var src = PreparedCache.open(cache).split("val");
        Normalization n = Preprocessing.input(m.net(), Normalization.Kind.CHANNEL, null, src.stats(), false, 256)
                .normalization();
        try (ImageNetIterator it = new ImageNetIterator(src, Preset.center(m.net().inputSize(), n),
                ImageNetIterator.Options.evaluation(6, 1))) {
            DataSet ds = it.next();
            INDArray fc7 = g.feedForward(new INDArray[]{ds.getFeatures()}, false, false).get("fc7");
            assertThat(val).hasSize((int) fc7.length());
            float[] expected = fc7.dup('c').data().asFloat();
            for (int i = 0; i < expected.length; i++) {
                assertThat(val[i]).isCloseTo(expected[i], org.assertj.core.api.Assertions.within(1e-5f
                        + 1e-5f * Math.abs(expected[i])));
            }
        }
    }

    static Map<String, byte[]> entries(Path npz) throws Exception {
        Map<String, byte[]> out = new HashMap<>();
        try (InputStream in = Files.newInputStream(npz); ZipInputStream z = new ZipInputStream(in)) {
            for (ZipEntry e; (e = z.getNextEntry()) != null; ) {
                byte[] all = z.readAllBytes();
                int headerLen = (all[8] & 0xFF) | (all[9] & 0xFF) << 8;
                byte[] data = new byte[all.length - 10 - headerLen];
                System.arraycopy(all, 10 + headerLen, data, 0, data.length);
                out.put(e.getName(), data);
            }
        }
        return out;
    }

    static float[] floats(byte[] b) {
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    static long[] longs(byte[] b) {
        long[] l = new long[b.length / 8];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(l);
        return l;
    }
}
