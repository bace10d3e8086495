package org.alexnet4j.train;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.OnnxImport;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Fine-tuning a net from other weights, Caffe-style: start from every layer of a source that fits
 * ({@link #initFrom}), keep some layers frozen, and give some layers their own learning-rate multipliers (Caffe's
 * {@code lr_mult}, with an optional separate bias multiplier).
 *
 * <p>Layers are named logically ({@code conv1} ... {@code fc8}, as in {@link AlexNet#paramLayers()}); a tower pair
 * ({@code conv2a}, {@code conv2b}) is one layer. A frozen layer gets a zero-rate SGD updater and no regularisation, so
 * its parameters stay bit-identical (no update, no weight decay, no momentum state); DL4J's {@code NoOp} updater is not
 * used, since it passes the raw gradient through as the update.
 */
public final class FineTuning {
    private static final Logger log = LoggerFactory.getLogger(FineTuning.class);
    private static final List<String> LAYERS = List.of("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7",
            "fc8");

    /** A layer's learning-rate multipliers. */
    public record Mult(double weight, double bias) {
    }

    private FineTuning() {
    }

    /**
     * Parses a layer list: names and ranges, comma-separated, e.g. {@code conv1-conv5}, {@code conv1,conv2,fc6}.
     *
     * @throws IllegalArgumentException naming the bad part
     */
    public static Set<String> layers(String spec) {
        return layers(spec, "--freeze");
    }

    private static Set<String> layers(String spec, String option) {
        Set<String> out = new LinkedHashSet<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String part : spec.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            String[] ends = p.split("-", -1);
            if (ends.length > 2 || !LAYERS.contains(ends[0]) || ends.length == 2 && !LAYERS.contains(ends[1])) {
                throw new IllegalArgumentException(option + ": '" + part.trim() + "' is not a layer or a range of "
                        + "layers (" + String.join(", ", LAYERS) + "; e.g. conv1-conv5)");
            }
            int from = LAYERS.indexOf(ends[0]);
            int to = ends.length == 2 ? LAYERS.indexOf(ends[1]) : from;
            if (to < from) {
                throw new IllegalArgumentException(option + ": range '" + part.trim() + "' runs backwards");
            }
            out.addAll(LAYERS.subList(from, to + 1));
        }
        return out;
    }

    /** Parses {@code LAYER=X[/B],...}: weight multiplier X, bias multiplier B (default X). */
    public static Map<String, Mult> multipliers(String spec) {
        Map<String, Mult> out = new LinkedHashMap<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split("=");
            String bad = "--lr-mult: '" + part.trim() + "' is not LAYER=X or LAYER=X/BIAS_X (e.g. fc8=10/20)";
            if (kv.length != 2) {
                throw new IllegalArgumentException(bad);
            }
            Set<String> names = layers(kv[0], "--lr-mult");
            String[] m = kv[1].split("/");
            try {
                double w = Double.parseDouble(m[0]);
                double b = m.length > 1 ? Double.parseDouble(m[1]) : w;
                if (m.length > 2 || !(w >= 0) || !(b >= 0) || Double.isInfinite(w) || Double.isInfinite(b)) {
                    throw new IllegalArgumentException(bad);
                }
                for (String n : names) {
                    out.put(n, new Mult(w, b));
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(bad);
            }
        }
        return out;
    }

    /** Checks the recipe's fine-tuning settings (syntax, and no layer both frozen and multiplied). */
    static void validate(TrainConfig cfg) {
        Set<String> frozen = layers(cfg.freeze);
        Map<String, Mult> mults = multipliers(cfg.lrMult);
        for (String l : mults.keySet()) {
            if (frozen.contains(l)) {
                throw new IllegalArgumentException(l + " is both frozen (--freeze) and given a learning-rate "
                        + "multiplier (--lr-mult)");
            }
        }
    }

    /**
     * Sets each layer's updater in a configuration made by {@code net}: frozen layers a zero-rate SGD and no
     * regularisation, multiplied layers the recipe's updater at {@code lr * multiplier} (weights and biases apart).
     */
    public static void apply(ComputationGraphConfiguration conf, AlexNet net, TrainConfig cfg) {
        Set<String> frozen = layers(cfg.freeze);
        Map<String, Mult> mults = multipliers(cfg.lrMult);
        for (ParamLayer l : net.paramLayers()) {
            for (String part : l.parts()) {
                BaseLayer layer = (BaseLayer) ((LayerVertex) conf.getVertices().get(part)).getLayerConf().getLayer();
                if (frozen.contains(l.name())) {
                    layer.setIUpdater(new Sgd(0.0));
                    layer.setBiasUpdater(new Sgd(0.0));
                    layer.setRegularization(new ArrayList<>());
                    layer.setRegularizationBias(new ArrayList<>());
                } else if (mults.containsKey(l.name())) {
                    Mult m = mults.get(l.name());
                    layer.setIUpdater(Recipe.updater(cfg, cfg.lr * m.weight()));
                    layer.setBiasUpdater(Recipe.updater(cfg, cfg.lr * m.bias()));
                }
            }
        }
        if (!frozen.isEmpty() || !mults.isEmpty()) {
            log.info("fine-tuning: frozen {}; learning-rate multipliers {}", frozen.isEmpty() ? "none" : frozen,
                    mults.isEmpty() ? "none" : mults);
        }
    }

    /**
     * Sets the learning rate of every trained layer to {@code lr} times its multipliers; frozen layers stay at 0.
     * The updater configurations are changed in place: DL4J's gradient updaters read their configuration's rate at
     * every step, and layers that shared an updater block before share the same multiplier, so the blocks stay
     * valid. (DL4J's own {@code setLearningRate} changes the weights' updater only, would unfreeze frozen layers, and
     * its updater rebuild fails on a graph whose updater blocks were split by per-layer updaters.)
     */
    public static void setLearningRate(ComputationGraph graph, AlexNet net, TrainConfig cfg, double lr) {
        Set<String> frozen = layers(cfg.freeze);
        Map<String, Mult> mults = multipliers(cfg.lrMult);
        for (ParamLayer l : net.paramLayers()) {
            if (frozen.contains(l.name())) {
                continue;
            }
            Mult m = mults.getOrDefault(l.name(), new Mult(1, 1));
            for (String part : l.parts()) {
                BaseLayer layer = (BaseLayer) graph.getLayer(part).conf().getLayer();
                setRate(layer.getIUpdater(), lr * m.weight());
                setRate(layer.getBiasUpdater(), lr * m.bias());
            }
        }
    }

    private static void setRate(IUpdater u, double lr) {
        if (u != null && u.hasLearningRate()) {
            u.setLrAndSchedule(lr, null);
        }
    }

    /** What {@link #initFrom} did: the layers loaded and those left at their initialisation, with why. */
    public record Report(List<String> loaded, Map<String, String> reinitialised) {
    }

    /**
     * Loads every layer of {@code source} that fits {@code net} into {@code graph} (same PyTorch-layout names and
     * shapes); the others keep their fresh initialisation (a new fc8 for other classes).
     *
     * @param source a PyTorch-layout .npz, an ONNX model (of any class count), an alexnet4j model file or a run
     *               directory (its best checkpoint)
     * @throws IllegalArgumentException if nothing of the source fits
     */
    public static Report initFrom(ComputationGraph graph, AlexNet net, Path source) throws IOException {
        Map<String, NpyArray> arrays = sourceArrays(net, source);
        List<String> loaded = new ArrayList<>();
        Map<String, String> reinit = new LinkedHashMap<>();
        Map<String, long[]> expected = TorchLayout.expectedShapes(net);
        for (ParamLayer l : net.paramLayers()) {
            String key = TorchLayout.key(net, l);
            NpyArray w = arrays.get(key + ".weight"), b = arrays.get(key + ".bias");
            long[] ew = expected.get(key + ".weight"), eb = expected.get(key + ".bias");
            if (w == null || b == null) {
                reinit.put(l.name(), "not in " + source);
            } else if (!Arrays.equals(w.shape(), ew) || !Arrays.equals(b.shape(), eb)) {
                reinit.put(l.name(), source.getFileName() + " has " + Arrays.toString(w.shape()) + ", the net "
                        + Arrays.toString(ew));
            } else {
                loaded.add(l.name());
            }
        }
        if (loaded.isEmpty()) {
            throw new IllegalArgumentException("--init-from " + source + ": no layer fits the " + net.variant().id()
                    + " net (" + reinit + "); is it weights of another variant?");
        }
        TorchLayout.loadLayers(graph, net, arrays, Set.copyOf(loaded));
        log.info("--init-from {}: loaded {}; re-initialised {}", source, loaded, reinit.isEmpty() ? "none" : reinit);
        return new Report(List.copyOf(loaded), reinit);
    }

    private static Map<String, NpyArray> sourceArrays(AlexNet net, Path source) throws IOException {
        if (Files.isDirectory(source)) {
            RunDirectory run = RunDirectory.at(source);
            if (!Files.exists(run.best())) {
                throw new IllegalArgumentException("--init-from " + source + ": a run directory without "
                        + RunDirectory.CHECKPOINTS + "/" + RunDirectory.BEST);
            }
            source = run.best();
        }
        if (!Files.isRegularFile(source)) {
            throw new IllegalArgumentException("--init-from " + source + ": no such file or run directory");
        }
        String name = source.getFileName().toString().toLowerCase(Locale.ROOT);
        if (OnnxImport.isOnnx(source)) {
            return OnnxImport.readAnyClasses(source, net);
        }
        if (name.endsWith(".zip")) {
            ModelFiles.Loaded m = ModelFiles.load(source, false);
            try {
                return TorchLayout.export(m.graph(), m.net());
            } finally {
                m.graph().close();
            }
        }
        return Npz.read(source);
    }
}
