package org.alexnet4j.cli;

import org.alexnet4j.eval.Predictor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.serve.InferenceServer;
import org.alexnet4j.serve.ServedModel;
import org.alexnet4j.weights.ModelFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve trained nets over the Open Inference Protocol (KServe v2, as Triton and TorchServe): "
                + "REST on --port (JSON tensors, Triton's binary tensor data extension) and gRPC on --grpc-port, "
                + "with dynamic batching, Prometheus metrics on /metrics and health on /v2/health/live and "
                + "/v2/health/ready. Inputs: 'input' (FP32 [N,3,S,S], preprocessed) or 'image' (BYTES [N]: JPEG, "
                + "PNG or BMP files, preprocessed as predict does); outputs: logits, probabilities, top_k. "
                + "SIGTERM or Ctrl-C stops taking requests, answers those taken, and exits 0. docs/serve.md."})
class ServeCommand implements java.util.concurrent.Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(ServeCommand.class);

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Mixin
    ViewOptions views;

    @Option(names = "--name", defaultValue = "alexnet", paramLabel = "NAME", description = "The model's name in "
            + "URLs, /v2/models/NAME (default: ${DEFAULT-VALUE}).")
    String name;

    @Option(names = "--model-spec", paramLabel = "name=N,weights=W|checkpoint=M|run=R[,model=V,...]",
            description = "Another model in the same server (repeatable): its name and any of the weights and model "
                    + "options, comma-separated key=value, e.g. name=caffe,weights=bvlcalexnet-12.onnx,model=caffe.")
    List<String> specs = new ArrayList<>();

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR", description = "Address to listen on "
            + "(default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "PORT", description = "REST port, 0 for any free "
            + "one (default: ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--grpc-port", defaultValue = "8081", paramLabel = "PORT", description = "gRPC port, 0 for any "
            + "free one, -1 for none (default: ${DEFAULT-VALUE}).")
    int grpcPort;

    @Option(names = "--max-batch", defaultValue = "32", paramLabel = "N", description = "Most images in one forward "
            + "pass, and in one request (default: ${DEFAULT-VALUE}).")
    int maxBatch;

    @Option(names = "--max-delay-ms", defaultValue = "5", paramLabel = "MS", description = "How long the oldest "
            + "queued request waits for others to join its batch; 0 runs what is queued at once "
            + "(default: ${DEFAULT-VALUE}).")
    double maxDelayMs;

    @Option(names = "--batch-sizes", split = ",", paramLabel = "N,...", description = "Batch sizes the engines are "
            + "compiled for; a batch runs on the smallest that holds it, padded (default: 1, 2, 4, ... up to "
            + "--max-batch).")
    List<Integer> batchSizes;

    @Option(names = "--queue", defaultValue = "256", paramLabel = "N", description = "Requests a model's queue "
            + "holds; more are refused at once with 503 / RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-mb", defaultValue = "64", paramLabel = "MB", description = "Largest request body "
            + "or gRPC message (default: ${DEFAULT-VALUE}).")
    int maxBodyMb;

    @Option(names = "--max-image-pixels", defaultValue = "64000000", paramLabel = "N", description = "Larger images "
            + "(width x height, read from the header) are refused before decoding (default: ${DEFAULT-VALUE}).")
    long maxImagePixels;

    @Option(names = "--idle-timeout-s", defaultValue = "30", paramLabel = "S", description = "A REST connection "
            + "silent this long, also mid-body (a slow client), is closed (default: ${DEFAULT-VALUE}).")
    int idleTimeoutS;

    @Option(names = "--drain-s", defaultValue = "60", paramLabel = "S", description = "On SIGTERM, how long to "
            + "wait for requests already taken (default: ${DEFAULT-VALUE}).")
    int drainS;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Classes in the top_k output "
            + "(default: ${DEFAULT-VALUE}).")
    int top;

    @Mixin
    EngineOption engine;

    @Mixin
    ThreadsOption threads;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One --model-spec, parsed with the same options as the command's own model. */
    @Command(name = "model-spec")
    static final class Spec {
        @Option(names = "--name", required = true)
        String name;

        @ArgGroup(exclusive = true, multiplicity = "1")
        WeightsSource source;

        @Mixin
        ModelOptions model;

        @Mixin
        ViewOptions views;
    }

    @Override
    public Integer call() throws Exception {
        if (source == null && specs.isEmpty()) {
            throw new IllegalArgumentException("give a model: --weights, --checkpoint or --run (and/or --model-spec)");
        }
        if (views.tenCrop()) {
            throw new IllegalArgumentException("serve classifies the centre view; drop --crops ten");
        }
        Backend.init();
        List<Integer> sizes = sizes();
        List<ServedModel> models = new ArrayList<>();
        if (source != null) {
            models.add(open(name, source, model, views, sizes));
        }
        for (String s : specs) {
            Spec other = parse(s);
            models.add(open(other.name, other.source, other.model, other.views, sizes));
        }
        InferenceServer.Settings settings = new InferenceServer.Settings(host, port, grpcPort, maxBatch, maxDelayMs,
                queue, (long) maxBodyMb << 20, idleTimeoutS * 1000L, threads.count());
        CountDownLatch stop = new CountDownLatch(1);
        for (String sig : List.of("TERM", "INT")) {
            sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> {
                log.info("SIG{}: no new requests; answering those taken", sig);
                stop.countDown();
            });
        }
        InferenceServer server = InferenceServer.start(models, settings);
        java.io.PrintWriter out = spec.commandLine().getOut();
        out.printf("serving %d model(s) on http://%s:%d%s; Ctrl-C or SIGTERM to stop%n", models.size(), host,
                server.port(), server.grpcPort() >= 0 ? " and gRPC port " + server.grpcPort() : "");
        out.flush();
        stop.await();
        server.shutdown(drainS * 1000L);
        return 0;
    }

    private List<Integer> sizes() {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
        }
        if (batchSizes != null) {
            List<Integer> s = batchSizes.stream().distinct().sorted().toList();
            if (s.get(0) < 1 || s.get(s.size() - 1) < maxBatch) {
                throw new IllegalArgumentException("--batch-sizes must be positive and reach --max-batch ("
                        + maxBatch + "), got " + batchSizes);
            }
            return s;
        }
        List<Integer> s = new ArrayList<>();
        for (int b = 1; b < maxBatch; b *= 2) {
            s.add(b);
        }
        s.add(maxBatch);
        return s;
    }

    private ServedModel open(String name, WeightsSource source, ModelOptions model, ViewOptions views,
                             List<Integer> sizes) throws Exception {
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        Preprocessing.Input input = views.input(source, net, null, Predictor.SOURCE_SIZE);
        log.info("model {}: the {} net ({})", name, net.variant().id(), input.describe());
        Predictor pipeline = new Predictor(InferenceEngine.dl4j(loaded.graph()), net, input.normalization(), false,
                top);
        return new ServedModel(name, net, engine.opener(net, loaded.graph(), source, threads.count()), pipeline,
                source.classNames(net), sizes, top, maxImagePixels);
    }

    /** {@code name=caffe,weights=W,model=caffe} as the options {@code --name caffe --weights W --model caffe}. */
    static Spec parse(String spec) {
        List<String> args = new ArrayList<>();
        for (String part : spec.split(",")) {
            if (part.isBlank()) {
                continue;
            }
            int eq = part.indexOf('=');
            args.add("--" + (eq < 0 ? part.trim() : part.substring(0, eq).trim()));
            if (eq >= 0) {
                args.add(part.substring(eq + 1).trim());
            }
        }
        Spec s = new Spec();
        try {
            new CommandLine(s).parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new IllegalArgumentException("--model-spec '" + spec + "': " + e.getMessage()
                    + " (name=N and one of weights=, checkpoint=, run=; then any model option as key=value)");
        }
        return s;
    }
}
