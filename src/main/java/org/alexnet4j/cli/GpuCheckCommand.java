package org.alexnet4j.cli;

import org.alexnet4j.bench.BackendCheck;
import org.alexnet4j.bench.ModelBench;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.runtime.Gpus;
import org.deeplearning4j.nn.conf.CacheMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
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
            BackendCheck.writeReference(model.build(), batch, writeReference);
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
        BackendCheck.Comparison c = BackendCheck.compare(reference, tolerance);
        if (c.runError() != null) {
            out.printf("%d training steps through the data iterator: parameter changes' largest relative error "
                    + "%.2e (%s)%n", BackendCheck.RUN_STEPS, c.runError(), c.runWorst());
        } else {
            out.println("(reference without the iterator run: written by an older build)");
        }
        out.printf("forward pass vs the %s reference: relative error %.2e%n", c.referenceBackend(), c.forwardError());
        out.printf("parameters after one SGD step: largest relative error %.2e (%s)%n", c.stepError(), c.stepWorst());
        out.println("engines: " + c.engines());
        if (iters > 0) {
            printTimings(out, c.net());
        }
        out.println(c.passed() ? "PASSED: this backend reproduces the reference within " + tolerance
                : "FAILED: results differ from the reference by more than " + tolerance);
        out.flush();
        return c.passed() ? 0 : 4;
    }

    /** Training and inference images/s of the net at --timing-batch, timed as `bench` times them. */
    private void printTimings(PrintWriter out, AlexNet net) {
        ModelBench.Result r = ModelBench.run(ModelBench.alexnet4j(net, CacheMode.NONE), timingBatch, true, true, 1,
                iters);
        out.printf("training step, batch %d: %.1f images/s%n", timingBatch, r.trainImagesPerSecond());
        out.printf("inference, batch %d: %.1f images/s%n", timingBatch, r.inferImagesPerSecond());
    }
}
