package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.bench.ModelBench;
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

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (batch < 1 || iters < 0) {
            throw new IllegalArgumentException("--batch must be >= 1 and --iters >= 0");
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
            out.printf("training step, batch %d: %.1f images/s%n", batch, timeSteps(model.build()));
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
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("model", net.settings());
        meta.put("backend", Backend.init().get("backend"));
        meta.put("batch", batch);
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(dir.resolve("reference.json").toFile(), meta);
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
        double stepErr = 0;
        String worst = "";
        for (Map.Entry<String, NpyArray> en : expected.entrySet()) {
            double err = relErr(actual.get(en.getKey()).toINDArray(), en.getValue().toINDArray());
            if (err > stepErr) {
                stepErr = err;
                worst = en.getKey();
            }
        }
        boolean ok = probErr <= tolerance && stepErr <= tolerance;
        out.printf("forward pass vs the %s reference: relative error %.2e%n", meta.get("backend"), probErr);
        out.printf("parameters after one SGD step: largest relative error %.2e (%s)%n", stepErr, worst);
        if (iters > 0) {
            out.printf("training step, batch %d: %.1f images/s%n", batch, timeSteps(net));
        }
        out.println(ok ? "PASSED: this backend reproduces the reference within " + tolerance
                : "FAILED: results differ from the reference by more than " + tolerance);
        out.flush();
        return ok ? 0 : 4;
    }

    /** Training images/s of the net at --batch, timed as `bench` times it (one warm-up, --iters steps). */
    private double timeSteps(AlexNet net) {
        ModelBench.Result r = ModelBench.run(ModelBench.alexnet4j(net, CacheMode.NONE), batch, true, false, 1, iters);
        return batch * 1000.0 / ModelBench.median(r.stepMs());
    }

    /** ||a - b|| / ||b|| in double. */
    static double relErr(INDArray a, INDArray b) {
        INDArray bd = b.castTo(DataType.DOUBLE);
        return a.castTo(DataType.DOUBLE).sub(bd).norm2Number().doubleValue()
                / Math.max(1e-30, bd.norm2Number().doubleValue());
    }
}
