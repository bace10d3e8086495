package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.bench.ModelBench;
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
import org.alexnet4j.runtime.Gpus;
import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "gpu-check", mixinStandardHelpOptions = true,
        description = {"Check that this machine's NVIDIA GPU can train the paper net with this build: the devices, "
                + "compute capability, driver and CUDA versions, whether the released ND4J CUDA backend has machine "
                + "code for the GPU, and (CUDA build, --reference) a forward pass and a training step compared with "
                + "the CPU build's results on the same weights and input, and images/s. scripts/gpu-check.sh runs "
                + "the whole sequence.",
                "Exit codes: 0 passed; 1 no NVIDIA GPU or driver; 2 GPU fine but this is the CPU build; 3 GPU the "
                        + "backend cannot run on; 4 results differ from the reference."})
class GpuCheckCommand implements Callable<Integer> {
    @Option(names = "--engine", paramLabel = "cuda|nd4j", description = "What to check: cuda "
            + "(the project's CUDA 13 / cuDNN 9 engine, Turing..Blackwell: every op against the CPU reference, the "
            + "paper and caffe nets' logits, gradients and one step against DL4J computed here on the CPU, 50 "
            + "training steps, images/s and latency, and PyTorch on the same GPU when present) or nd4j (ND4J's CUDA "
            + "11.6 backend, Kepler..Ada; scripts/gpu-check.sh --engine nd4j runs its sequence) (default: cuda; "
            + "nd4j with --write-reference, --reference or --allow-cpu).")
    String engine;

    @Option(names = "--out", defaultValue = "runs/gpu-check", paramLabel = "DIR", description = "With --engine cuda: "
            + "where gpu-report.json and gpu-report.txt go (default: ${DEFAULT-VALUE}).")
    Path outDir;

    @Option(names = "--torch-script", paramLabel = "FILE", description = "With --engine cuda: the PyTorch peer "
            + "(scripts/gpu/torch_alexnet.py; scripts/gpu-check.sh passes it) run when python3 has a CUDA torch.")
    Path torchScript;

    @Option(names = "--quick", description = "With --engine cuda: small nets only (a minute less of CPU for the "
            + "fixtures; no full-width comparison).")
    boolean quick;

    @Option(names = "--write-reference", paramLabel = "DIR", description = "Compute the reference (weights, input, "
            + "probabilities, parameters after one SGD step) on this build's backend and write it to DIR; run it "
            + "with the CPU build.")
    Path writeReference;

    @Option(names = "--reference", paramLabel = "DIR", description = "Compare this backend's forward pass and "
            + "training step with a reference written by --write-reference.")
    Path reference;

    @Option(names = "--allow-cpu", description = "Run --reference on the CPU backend too (tests the comparison).")
    boolean allowCpu;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Batch of the check and the "
            + "timing (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--timing-batch", defaultValue = "128", paramLabel = "N", description = "Batch of the images/s "
            + "timings, training and inference (default: ${DEFAULT-VALUE}).")
    int timingBatch;

    @Option(names = "--iters", defaultValue = "5", paramLabel = "N", description = "Timed training steps (default: "
            + "${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--tolerance", defaultValue = "1e-3", paramLabel = "X", description = "Largest relative error "
            + "accepted against the reference (default: ${DEFAULT-VALUE}; cuDNN's algorithms reorder float sums).")
    double tolerance;

    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    /** The CUDA engine's check: the GPU bundle's program with fixtures computed here. */
    private int cudaEngine(PrintWriter out) throws Exception {
        String why = org.alexnet4j.cuda.CudaRuntime.whyNot();
        if (why != null) {
            out.println("No NVIDIA GPU usable by the CUDA engine: " + why + ". It needs an NVIDIA GPU of compute "
                    + "capability 7.5 or newer, driver 580+, CUDA 13 and cuDNN 9 (docs/gpu.md); pre-Turing cards: "
                    + "--engine nd4j.");
            out.flush();
            return 1;
        }
        out.println("computing the fixtures on the CPU with DL4J" + (quick ? " (small nets)" : " (the full paper and "
                + "caffe nets: about a minute)") + " ...");
        out.flush();
        Path fixtures = Files.createTempFile("alexnet4j-fixtures", ".txt");
        try {
            org.alexnet4j.cuda.Fixtures.write(fixtures, org.alexnet4j.bench.GpuFixtures.compute(!quick));
            int rc = org.alexnet4j.cuda.GpuVerify.verify(fixtures, outDir, torchScript, true, quick);
            out.println("report: " + outDir.resolve("gpu-report.json") + ", " + outDir.resolve("gpu-report.txt"));
            out.flush();
            return rc == 0 ? 0 : 4;
        } finally {
            Files.deleteIfExists(fixtures);
        }
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (batch < 1 || timingBatch < 1 || iters < 0) {
            throw new IllegalArgumentException("--batch and --timing-batch must be >= 1 and --iters >= 0");
        }
        if (engine == null) {
            engine = writeReference != null || reference != null || allowCpu ? "nd4j" : "cuda";
        }
        if (engine.equals("cuda")) {
            return cudaEngine(out);
        }
        if (!engine.equals("nd4j")) {
            throw new IllegalArgumentException("--engine must be cuda or nd4j, got '" + engine + "'");
        }
        if (writeReference != null) {
            Backend.init();
            writeReference(writeReference);
            out.println("reference written to " + writeReference + " (backend " + Backend.init().get("backend") + ")");
            out.flush();
            return 0;
        }
        boolean cudaBuild = Backend.isCudaBuild();
        Gpus.Machine machine = Gpus.query();
        out.println("NVIDIA driver: " + (machine.driver() ? "yes" : "no")
                + (machine.cudaVersion().isEmpty() ? "" : ", supports CUDA " + machine.cudaVersion()));
        boolean anySupported = false;
        for (Gpus.Device d : machine.devices()) {
            String problem = Gpus.unsupported(d.computeCapability());
            anySupported |= problem == null;
            out.printf("GPU %d: %s, compute capability %s, driver %s, %s MiB: %s%n", d.index(), d.name(),
                    d.computeCapability(), d.driverVersion(), d.memoryMiB(),
                    problem == null ? "the released nd4j-cuda-11.6 has machine code for it" : problem);
        }
        if (machine.devices().isEmpty() && !(allowCpu && reference != null)) {
            out.println("No NVIDIA GPU: " + machine.problem() + ". This check needs an NVIDIA GPU of compute "
                    + "capability 3.7-8.9 with a driver for CUDA 11.6; training runs on the CPU build meanwhile.");
            out.flush();
            return 1;
        }
        if (!anySupported && !(allowCpu && reference != null)) {
            out.flush();
            return 3;
        }
        if (!cudaBuild && !allowCpu) {
            out.println("This is the CPU build. Build the CUDA one (mvn -Pcuda package) and run it with --reference "
                    + "DIR from `alexnet4j gpu-check --write-reference DIR`; scripts/gpu-check.sh does all of it.");
            out.flush();
            return 2;
        }
        Map<String, Object> info = Backend.init();
        out.println("ND4J backend: " + info.get("backend"));
        if (reference == null) {
            out.println("no --reference: timing only");
            printTimings(out, model.build());
            out.flush();
            return 0;
        }
        return compare(out);
    }

    /** The check's net: the chosen model without dropout, so that every backend computes the same function. */
    private AlexNet checkNet(AlexNet net) {
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

    private void writeReference(Path dir) throws Exception {
        AlexNet net = checkNet(model.build());
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

    static final String RUN_DATA = "run-data";
    static final int RUN_CLASSES = 3;
    static final int RUN_STEPS = 4;

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

    @SuppressWarnings("unchecked")
    private int compare(PrintWriter out) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(reference.resolve("reference.json").toFile(),
                Map.class);
        AlexNet net = AlexNet.fromSettings((Map<String, Object>) meta.get("model"));
        ComputationGraph g = graph(net);
        TorchLayout.load(g, net, Npz.read(reference.resolve("weights.npz")));
        INDArray x = Npy.read(reference.resolve("input.npy")).toINDArray();
        double probErr = relErr(g.outputSingle(false, x), Npy.read(reference.resolve("probabilities.npy"))
                .toINDArray());
        g.fit(batchFor(net, x));
        Map<String, NpyArray> expected = Npz.read(reference.resolve("after-step.npz"));
        Map<String, NpyArray> actual = TorchLayout.export(g, net);
        Map.Entry<String, Double> stepWorst = worstError(null, expected, actual);
        double stepErr = stepWorst.getValue();
        String worst = stepWorst.getKey();
        double runErr = 0;
        if (Files.exists(reference.resolve("run-final.npz"))) {
            AlexNet runNet = runNet(net);
            ComputationGraph rg = graph(runNet);
            Map<String, NpyArray> initial = Npz.read(reference.resolve("run-initial.npz"));
            TorchLayout.load(rg, runNet, initial);
            shortRun(rg, reference.resolve(RUN_DATA), runNet);
            Map.Entry<String, Double> w = worstError(initial, Npz.read(reference.resolve("run-final.npz")),
                    TorchLayout.export(rg, runNet));
            runErr = w.getValue();
            out.printf("%d training steps through the data iterator: parameter changes' largest relative error "
                    + "%.2e (%s)%n", RUN_STEPS, runErr, w.getKey());
        } else {
            out.println("(reference without the iterator run: written by an older build)");
        }
        boolean ok = probErr <= tolerance && stepErr <= tolerance && runErr <= RUN_TOLERANCE_FACTOR * tolerance;
        out.printf("forward pass vs the %s reference: relative error %.2e%n", meta.get("backend"), probErr);
        out.printf("parameters after one SGD step: largest relative error %.2e (%s)%n", stepErr, worst);
        out.println("engines: " + engines(g));
        if (iters > 0) {
            printTimings(out, net);
        }
        out.println(ok ? "PASSED: this backend reproduces the reference within " + tolerance
                : "FAILED: results differ from the reference by more than " + tolerance);
        out.flush();
        return ok ? 0 : 4;
    }

    /** Changes after several steps accumulate float reordering: a looser bound than for one step (stale data is O(1)). */
    static final double RUN_TOLERANCE_FACTOR = 10;

    /** What computes the layers on this backend, as far as this build can tell. */
    static String engines(ComputationGraph g) {
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
            String jar = GpuCheckCommand.class.getProtectionDomain().getCodeSource().getLocation().getPath();
            Path lib = Path.of(jar).getParent().resolve("lib");
            try (var files = Files.list(lib)) {
                return files.anyMatch(f -> f.getFileName().toString().startsWith(name));
            }
        } catch (Exception e) {
            return false;
        }
    }

    /** Training and inference images/s of the net at --timing-batch, timed as `bench` times them. */
    private void printTimings(PrintWriter out, AlexNet net) {
        ModelBench.Result r = ModelBench.run(ModelBench.alexnet4j(net, CacheMode.NONE), timingBatch, true, true, 1,
                iters);
        out.printf("training step, batch %d: %.1f images/s%n", timingBatch, r.trainImagesPerSecond());
        out.printf("inference, batch %d: %.1f images/s%n", timingBatch, r.inferImagesPerSecond());
    }

    /** ||a - b|| / ||b|| in double. */
    static double relErr(INDArray a, INDArray b) {
        INDArray bd = b.castTo(DataType.DOUBLE);
        return a.castTo(DataType.DOUBLE).sub(bd).norm2Number().doubleValue()
                / Math.max(1e-30, bd.norm2Number().doubleValue());
    }
}
