package org.alexnet4j.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.SyntheticImageNet;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code gpu-check --engine nd4j}'s check of an ND4J backend against another (the CUDA build against the CPU build):
 * a reference written by one build ({@link #writeReference}) and reproduced by the other ({@link #compare}): the
 * forward pass, one SGD step, and a few steps through the data iterator (stale batch memory trains on other images).
 */
public final class BackendCheck {
    private BackendCheck() {
    }

    /** The check's net: the chosen model without dropout, so that every backend computes the same function. */
    private static AlexNet checkNet(AlexNet net) {
        return AlexNet.fromSettings(withDropoutZero(net.settings()));
    }

    private static Map<String, Object> withDropoutZero(Map<String, Object> settings) {
        Map<String, Object> s = new LinkedHashMap<>(settings);
        s.put("dropout", 0.0);
        return s;
    }

    private static ComputationGraph graph(AlexNet net) {
        ComputationGraph g = new ComputationGraph(net.configuration(new NeuralNetConfiguration.Builder()
                .updater(new Sgd(0.01))));
        g.init();
        return g;
    }

    private static DataSet batchFor(AlexNet net, INDArray x) {
        return new DataSet(x, ModelBench.oneHot(x.size(0), net.numClasses()));
    }

    /**
     * Computes the reference on this build's backend (weights, input, probabilities, parameters after one SGD step,
     * and a short run through the data iterator over images written there) and writes it to {@code dir}.
     */
    public static void writeReference(AlexNet model, int batch, Path dir) throws Exception {
        AlexNet net = checkNet(model);
        Files.createDirectories(dir);
        ComputationGraph g = graph(net);
        Map<String, NpyArray> weights = TorchLayout.export(g, net);
        Nd4j.getRandom().setSeed(net.seed());
        long[] e = net.exampleShape();
        INDArray x = Nd4j.randn(DataType.FLOAT, batch, e[0], e[1], e[2]).muli(50);
        INDArray probs = g.outputSingle(false, x);
        g.fit(batchFor(net, x));
        Npz.write(dir.resolve("weights.npz"), weights);
        Npy.write(dir.resolve("input.npy"), NpyArray.of(x));
        Npy.write(dir.resolve("probabilities.npy"), NpyArray.of(probs));
        Npz.write(dir.resolve("after-step.npz"), TorchLayout.export(g, net));
        // a short run through the real iterator over files written here, so that both backends read the same images
        SyntheticImageNet.generate(dir.resolve(RUN_DATA), new SyntheticImageNet.Options(RUN_CLASSES, 8, 1, 5, false,
                true, 2));
        AlexNet runNet = runNet(net);
        ComputationGraph rg = graph(runNet);
        Npz.write(dir.resolve("run-initial.npz"), TorchLayout.export(rg, runNet));
        shortRun(rg, dir.resolve(RUN_DATA), runNet);
        Npz.write(dir.resolve("run-final.npz"), TorchLayout.export(rg, runNet));
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("model", net.settings());
        meta.put("backend", Backend.init().get("backend"));
        meta.put("batch", batch);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("reference.json").toFile(), meta);
    }

    public static final String RUN_DATA = "run-data";
    public static final int RUN_CLASSES = 3;
    public static final int RUN_STEPS = 4;

    /** The check net with the short run's classes. */
    private static AlexNet runNet(AlexNet net) {
        Map<String, Object> s = new LinkedHashMap<>(net.settings());
        s.put("numClasses", RUN_CLASSES);
        return AlexNet.fromSettings(s);
    }

    /**
     * {@link #RUN_STEPS} SGD steps on batches of 8 from {@link ImageNetIterator} (random crops, flips, PCA lighting,
     * seeded): a backend that hands the device stale batch memory trains on other images than the reference did.
     */
    private static void shortRun(ComputationGraph g, Path data, AlexNet net) throws Exception {
        ImageSource train = Datasets.open(data, "train", 2);
        DatasetStats stats = DatasetStats.published(train.imageSize());
        Preset preset = Preset.train((int) net.exampleShape()[1], PcaLighting.of(stats, 0.1),
                Normalization.of(Normalization.Kind.CHANNEL, stats));
        try (ImageNetIterator it = new ImageNetIterator(train, preset, ImageNetIterator.Options.training(8, 7, 2))) {
            for (int step = 0; step < RUN_STEPS; step++) {
                if (!it.hasNext()) {
                    it.reset();
                }
                g.fit(it.next());
            }
        }
    }

    /**
     * The largest error over tensors of {@code actual} against {@code expected} (minus {@code initial}, if given: the
     * parameter changes), each relative to its own norm, or to 1e-3 of the largest tensor's norm when it is smaller
     * than that: a bias whose gradient is nearly zero (5e-9 in the check net) would otherwise compare float rounding
     * with itself.
     */
    static Map.Entry<String, Double> worstError(Map<String, NpyArray> initial, Map<String, NpyArray> expected,
                                                Map<String, NpyArray> actual) {
        Map<String, INDArray[]> pairs = new LinkedHashMap<>();
        double largest = 0;
        for (Map.Entry<String, NpyArray> en : expected.entrySet()) {
            INDArray e = en.getValue().toINDArray().castTo(DataType.DOUBLE);
            INDArray a = actual.get(en.getKey()).toINDArray().castTo(DataType.DOUBLE);
            if (initial != null) {
                INDArray start = initial.get(en.getKey()).toINDArray().castTo(DataType.DOUBLE);
                e = e.sub(start);
                a = a.sub(start);
            }
            pairs.put(en.getKey(), new INDArray[]{a, e});
            largest = Math.max(largest, e.norm2Number().doubleValue());
        }
        double worst = 0;
        String name = "";
        for (Map.Entry<String, INDArray[]> p : pairs.entrySet()) {
            INDArray a = p.getValue()[0], e = p.getValue()[1];
            double err = a.sub(e).norm2Number().doubleValue()
                    / Math.max(Math.max(e.norm2Number().doubleValue(), 1e-3 * largest), 1e-30);
            if (err > worst) {
                worst = err;
                name = p.getKey();
            }
        }
        return Map.entry(name, worst);
    }

    /** What a backend computed against the reference, and whether it is within the tolerance. */
    public record Comparison(String referenceBackend, double forwardError, double stepError, String stepWorst,
                             Double runError, String runWorst, String engines, boolean passed, AlexNet net) {
    }

    /**
     * Runs the reference's forward pass, one SGD step and (when the reference has it) the short iterator run on this
     * backend, and compares: relative errors within {@code tolerance} (the run's within {@link #RUN_TOLERANCE_FACTOR}
     * times it) pass.
     */
    @SuppressWarnings("unchecked")
    public static Comparison compare(Path reference, double tolerance) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(reference.resolve("reference.json").toFile(),
                Map.class);
        AlexNet net = AlexNet.fromSettings((Map<String, Object>) meta.get("model"));
        ComputationGraph g = graph(net);
        TorchLayout.load(g, net, Npz.read(reference.resolve("weights.npz")));
        INDArray x = Npy.read(reference.resolve("input.npy")).toINDArray();
        double probErr = relErr(g.outputSingle(false, x), Npy.read(reference.resolve("probabilities.npy"))
                .toINDArray());
        g.fit(batchFor(net, x));
        Map.Entry<String, Double> step = worstError(null, Npz.read(reference.resolve("after-step.npz")),
                TorchLayout.export(g, net));
        Map.Entry<String, Double> run = null;
        if (Files.exists(reference.resolve("run-final.npz"))) {
            AlexNet runNet = runNet(net);
            ComputationGraph rg = graph(runNet);
            Map<String, NpyArray> initial = Npz.read(reference.resolve("run-initial.npz"));
            TorchLayout.load(rg, runNet, initial);
            shortRun(rg, reference.resolve(RUN_DATA), runNet);
            run = worstError(initial, Npz.read(reference.resolve("run-final.npz")), TorchLayout.export(rg, runNet));
        }
        boolean ok = probErr <= tolerance && step.getValue() <= tolerance
                && (run == null || run.getValue() <= RUN_TOLERANCE_FACTOR * tolerance);
        return new Comparison(String.valueOf(meta.get("backend")), probErr, step.getValue(), step.getKey(),
                run == null ? null : run.getValue(), run == null ? null : run.getKey(), engines(g), ok, net);
    }

    /** Changes after several steps accumulate float reordering: a looser bound than for one step (stale data is O(1)). */
    public static final double RUN_TOLERANCE_FACTOR = 10;

    /** What computes the layers on this backend, as far as this build can tell. */
    public static String engines(ComputationGraph g) {
        Map<String, Object> info = Backend.init();
        if (Backend.isCudaBuild()) {
            boolean cudnnBuild = System.getProperty("java.class.path", "").contains("cudnn")
                    || classpathHas("nd4j-cuda-11.6-1.0.0-M2.1-linux-x86_64-cudnn");
            return "CUDA backend, " + (cudnnBuild ? "the -cudnn libnd4j build: conv2d/conv2d_bp and pooling ops "
                    + "(ReluConvolution, InputConvolution's backward, SubsamplingLayer) have cuDNN implementations"
                    : "libnd4j without cuDNN (plain linux-x86_64 classifier): CUDA kernels and cuBLAS only")
                    + "; forward convolutions " + org.alexnet4j.model.layers.ReluConvolutionLayer.forward()
                    + ", host memory "
                    + (org.alexnet4j.runtime.HostMemory.direct() ? "direct" : "device-safe");
        }
        int[] coverage = Backend.helperCoverage(g);
        return String.format(java.util.Locale.ROOT, "CPU backend, oneDNN helpers %s (%d of %d layers with a "
                        + "helper have it), host memory %s", Boolean.TRUE.equals(info.get("oneDNN")) ? "on" : "off",
                coverage[0], coverage[1], org.alexnet4j.runtime.HostMemory.direct() ? "direct"
                        : "device-safe (" + org.alexnet4j.runtime.HostMemory.DEVICE_SAFE + ")");
    }

    private static boolean classpathHas(String name) {
        try {
            String jar = BackendCheck.class.getProtectionDomain().getCodeSource().getLocation().getPath();
            Path lib = Path.of(jar).getParent().resolve("lib");
            try (var files = Files.list(lib)) {
                return files.anyMatch(f -> f.getFileName().toString().startsWith(name));
            }
        } catch (Exception e) {
            return false;
        }
    }

    /** ||a - b|| / ||b|| in double. */
    public static double relErr(INDArray a, INDArray b) {
        INDArray bd = b.castTo(DataType.DOUBLE);
        return a.castTo(DataType.DOUBLE).sub(bd).norm2Number().doubleValue()
                / Math.max(1e-30, bd.norm2Number().doubleValue());
    }
}
