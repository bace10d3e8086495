package org.alexnet4j.cli;

import org.alexnet4j.bench.ModelBench;
import org.alexnet4j.bench.BenchReport;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ModelSummary;
import org.alexnet4j.runtime.Backend;
import org.deeplearning4j.nn.conf.CacheMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time AlexNet training and inference on synthetic input, like convnet-benchmarks (batch 128): "
                + "median/min/max ms per batch of the forward pass, the training step (forward + backward + update) "
                + "and backward+update, images/s, peak JVM heap and resident memory. --bench-model zoo is DL4J's own zoo "
                + "AlexNet, the in-run baseline; --per-layer adds a forward/backward breakdown by layer."})
class BenchCommand implements Callable<Integer> {
    @Option(names = "--bench-model", defaultValue = "paper", paramLabel = "paper|torchvision|caffe|zoo|onnxruntime",
            split = ",",
            description = "Model(s) to time, comma-separated (default: ${DEFAULT-VALUE}). onnxruntime: ONNX Runtime "
                    + "(CPU, all cores, inference only) on this project's ONNX export of the same paper net and "
                    + "weights. Other model options (--width, --format, ...) apply to paper/torchvision/caffe and "
                    + "the onnxruntime peer.")
    List<String> models;

    @Option(names = "--batch", defaultValue = "128", paramLabel = "N[,N...]", split = ",", description = "Batch, or "
            + "a sweep of batches (e.g. 1,8,32,128,256: every model at each; per-layer, tower and scaling figures at "
            + "the last one) (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write the results as CSV, a row per model and "
            + "batch, with timm's benchmark columns (infer_samples_per_sec, infer_step_time, train_samples_per_sec, "
            + "train_step_time, param_count, gmacs) and latency percentiles.")
    java.nio.file.Path csv;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Also draw images/s against the batch "
            + "(inference and training, every model) as a PNG.")
    java.nio.file.Path plot;

    /** The batch the single-batch figures (per layer, towers, scaling, the tables' header) use: the last given. */
    int batch;

    @Option(names = "--mode", defaultValue = "both", paramLabel = "train|infer|both",
            description = "What to time (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--warmup", defaultValue = "2", paramLabel = "N", description = "Untimed repetitions "
            + "(default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--iters", defaultValue = "5", paramLabel = "N", description = "Timed repetitions "
            + "(default: ${DEFAULT-VALUE}).")
    int iters;

    @Option(names = "--per-layer", description = "Also time each layer's forward and backward pass.")
    boolean perLayer;

    @Option(names = "--tower-cost", description = "Also time the two-tower conv2/conv4/conv5 of the first benchmarked "
            + "net with towers (with its width) against one ungrouped layer of the same arithmetic.")
    boolean towerCost;

    @Option(names = "--cache-mode", defaultValue = "none", paramLabel = "none|device", description = "DL4J cache "
            + "mode of alexnet4j's nets, as train --cache-mode (default: ${DEFAULT-VALUE}).")
    String cacheMode;

    @Option(names = "--devices", paramLabel = "N[,N...]", split = ",", description = "Also measure data-parallel "
            + "training of the first alexnet4j model on each replica count (ParallelWrapper, averaging every step; "
            + "GPUs with the CUDA build, worker threads on the CPU): images/s and scaling efficiency against 1.")
    List<Integer> devices;

    @Mixin
    EngineOption engine;

    @Option(names = "--train-engine", defaultValue = "dl4j", paramLabel = "dl4j|onednn[,...]", split = ",",
            description = "What computes the timed training steps of paper/torchvision/caffe, a series each: DL4J's "
                    + "graph, or the oneDNN training engine (train --engine onednn; what train's auto picks for the "
                    + "full-width paper and caffe nets) in each of --precision's fp32 and bf16 "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> trainEngines;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Option(names = "--markdown", description = "Print the results as a Markdown table (for docs/benchmarks.md).")
    boolean markdown;

    @Mixin
    ModelOptions model;

    @Spec
    CommandSpec spec;

    /** A number, or "-" for a quantity the chosen --mode did not measure. */
    private static String num(double v, String format) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, format, v);
    }

    /** "tuned" when the launcher's glibc malloc settings are in effect, else "glibc defaults". */
    private static String mallocNote() {
        return Backend.mallocSettings().values().stream().allMatch(String::isEmpty) ? "glibc defaults" : "tuned "
                + Backend.mallocSettings();
    }

    @Override
    public Integer call() throws Exception {
        if (!List.of("train", "infer", "both").contains(mode)) {
            throw new IllegalArgumentException("--mode must be train, infer or both, got " + mode);
        }
        if (batches.isEmpty() || batches.stream().anyMatch(b -> b < 1) || iters < 1 || warmup < 0) {
            throw new IllegalArgumentException("--batch values and --iters must be >= 1, --warmup >= 0");
        }
        batch = batches.get(batches.size() - 1);
        Map<String, Object> env = Backend.init();
        CacheMode cache = Backend.cacheMode(cacheMode);
        boolean train = !mode.equals("infer");
        boolean infer = !mode.equals("train");
        List<Map<String, Object>> results = new ArrayList<>();
        List<ModelBench.Result> raw = new ArrayList<>();
        Map<String, List<ModelBench.LayerTime>> layers = new LinkedHashMap<>();
        AlexNet towerNet = null; // the first net with towers: --tower-cost measures its grouped layers
        AlexNet scalingNet = null; // the first alexnet4j net: --devices measures it
        List<ModelBench.Subject> subjects = new ArrayList<>();
        Map<String, Long> macs = new LinkedHashMap<>();
        for (String m : models) {
            ModelBench.Subject s;
            AlexNet net = null;
            if (m.equals("onnxruntime")) {
                model.model = "paper";
                AlexNet peer = model.build();
                if (engine.perPrecision().stream().anyMatch(e -> e.precision.equals("int8"))) {
                    // the int8 engine's peer: ONNX Runtime on the QDQ export
                    ModelBench.Subject q = ModelBench.onnxRuntime(peer, Runtime.getRuntime().availableProcessors(),
                            true);
                    subjects.add(q);
                    macs.put(q.name(), ModelSummary.of(peer).totalMacs());
                }
                s = ModelBench.onnxRuntime(peer, Runtime.getRuntime().availableProcessors());
                macs.put(s.name(), ModelSummary.of(peer).totalMacs());
            } else if (m.equals("zoo")) {
                s = ModelBench.zoo(model.classes != null ? model.classes : 1000);
            } else if (m.equals("paper") || m.equals("torchvision") || m.equals("caffe")) {
                model.model = m;
                net = model.build();
                if (towerNet == null && net.paramLayers().stream().anyMatch(l -> l.groups() == 2)) {
                    towerNet = net;
                }
                for (String te : trainEngines) {
                    if (!List.of("dl4j", "onednn").contains(te)) {
                        throw new IllegalArgumentException("--train-engine must be dl4j or onednn, got " + te);
                    }
                }
                if (trainEngines.contains("onednn")) {
                    for (EngineOption e : engine.perPrecision()) {
                        if (List.of("fp32", "bf16").contains(e.precision)) {
                            ModelBench.Subject t = ModelBench.oneDnnTraining(net, e.precision);
                            subjects.add(t);
                            macs.put(t.name(), ModelSummary.of(net).totalMacs());
                        }
                    }
                    if (!trainEngines.contains("dl4j") && !infer) {
                        continue; // no DL4J series asked for
                    }
                }
                List<EngineOption> each = engine.perPrecision();
                if (!infer) { // training only: DL4J's graph trains in fp32
                    each = List.of(each.stream().filter(e -> e.cpuPrecision() == org.alexnet4j.infer.CpuPrecision.FP32)
                            .findFirst().orElse(each.get(0)));
                }
                for (EngineOption e : each.subList(0, each.size() - 1)) { // all but the last, added below as s
                    ModelBench.Subject reduced = ModelBench.alexnet4j(net, cache, e.kind(), e.gpu(),
                            e.cpuPrecision());
                    subjects.add(reduced);
                    macs.put(reduced.name(), ModelSummary.of(net).totalMacs());
                }
                EngineOption last = each.get(each.size() - 1);
                s = ModelBench.alexnet4j(net, cache, last.kind(), last.gpu(), last.cpuPrecision());
                if (scalingNet == null) {
                    scalingNet = net;
                }
            } else {
                throw new IllegalArgumentException("--bench-model must be paper, torchvision, caffe, zoo or "
                        + "onnxruntime, got " + m);
            }
            if (net != null) {
                macs.put(s.name(), ModelSummary.of(net).totalMacs());
            }
            subjects.add(s);
            if (perLayer && net != null) {
                layers.put(s.name(), ModelBench.perLayer(net, cache, batch, iters));
            }
        }
        for (int b : batches) {
            for (ModelBench.Subject s : subjects) {
                ModelBench.Result r = ModelBench.run(s, b, train, infer, warmup, iters);
                raw.add(r);
                Map<String, Object> map = r.toMap();
                if (macs.containsKey(s.name())) {
                    map.put("gmacsPerImage", ModelBench.round(macs.get(s.name()) / 1e8) / 10.0);
                }
                results.add(map);
            }
        }
        if (csv != null) {
            BenchReport.writeCsv(csv, raw, macs);
        }
        if (plot != null) {
            BenchReport.plotThroughput(plot, raw);
        }
        List<ModelBench.TowerCost> towers = towerCost && towerNet != null
                ? ModelBench.towerCost(towerNet, cache, batch, iters) : List.of();
        List<ModelBench.Scaling> scaling = new ArrayList<>();
        if (devices != null && !devices.isEmpty()) {
            if (scalingNet == null) {
                throw new IllegalArgumentException("--devices measures an alexnet4j model: add --bench-model paper");
            }
            java.util.TreeSet<Integer> counts = new java.util.TreeSet<>(devices);
            counts.add(1); // the baseline of the efficiency
            if (counts.first() < 1) {
                throw new IllegalArgumentException("--devices counts must be >= 1, got " + devices);
            }
            for (int d : counts) {
                scaling.add(ModelBench.scaling(scalingNet, cache, batch, d, Math.max(1, warmup), iters));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("environment", env);
            m.put("versions", Map.of("deeplearning4j", "1.0.0-M2.1", "java", System.getProperty("java.version")));
            m.put("dataType", "FLOAT");
            m.put("results", results);
            m.put("cacheMode", cacheMode);
            if (!towers.isEmpty()) {
                m.put("towerCost", towers.stream().map(t -> Map.of("block", t.block(), "towersMs", t.towersMs(),
                        "singleLayerMs", t.singleMs(), "ratio", ModelBench.round(t.ratio()))).toList());
            }
            if (!scaling.isEmpty()) {
                m.put("scaling", scaling.stream().map(d -> Map.of("devices", d.devices(), "batchPerDevice",
                        d.batch(), "stepMs", ModelBench.round(ModelBench.median(d.stepMs())), "imagesPerSecond",
                        ModelBench.round(d.imagesPerSecond()), "efficiency",
                        Math.round(d.efficiency(scaling.get(0)) * 1000) / 1000.0)).toList());
            }
            if (!layers.isEmpty()) {
                Map<String, Object> l = new LinkedHashMap<>();
                layers.forEach((k, v) -> l.put(k, v.stream().map(t -> Map.of("layer", t.layer(), "forwardMs",
                        t.forwardMs(), "backwardMs", t.backwardMs())).toList()));
                m.put("perLayer", l);
            }
            out.println(Json.pretty(m));
        } else if (markdown) {
            out.printf(Locale.ROOT, "%s, %s ND4J threads, oneDNN %s, float32, batch %d, %d warm-up + %d timed "
                    + "(median, ms per batch), cache mode %s, malloc %s%n%n", env.get("cpu"), env.get("ompThreads"),
                    env.get("oneDNN"), batch, warmup, iters, cacheMode, mallocNote());
            out.println("| model | batch | parameters | train step | train img/s | forward (train) | backward+update | "
                    + "inference | infer p90 | infer p99 | infer img/s | peak RSS |");
            out.println("|---|---|---|---|---|---|---|---|---|---|---|---|");
            for (ModelBench.Result r : raw) {
                double step = ModelBench.median(r.stepMs());
                double fwd = ModelBench.median(r.forwardMs());
                double inf = ModelBench.median(r.inferMs());
                out.printf(Locale.ROOT, "| %s | %d | %,d | %s | %s | %s | %s | %s | %s | %s | %s | %d MiB |%n",
                        r.model(), r.batch(), r.parameters(), num(step, "%.0f"), num(r.trainImagesPerSecond(), "%.1f"),
                        num(fwd, "%.0f"), num(step - fwd, "%.0f"), num(inf, inf < 10 ? "%.2f" : "%.0f"),
                        num(ModelBench.percentile(r.inferMs(), 90), "%.2f"),
                        num(ModelBench.percentile(r.inferMs(), 99), "%.2f"), num(r.inferImagesPerSecond(), "%.1f"),
                        r.peakResidentBytes() >> 20);
            }
            layers.forEach((name, list) -> {
                out.printf("%nPer layer, %s (ms, median of %d):%n%n| layer | forward | backward |%n|---|---|---|%n",
                        name, iters);
                for (ModelBench.LayerTime t : list) {
                    out.printf(Locale.ROOT, "| %s | %.1f | %.1f |%n", t.layer(), t.forwardMs(), t.backwardMs());
                }
            });
            if (!scaling.isEmpty()) {
                out.printf("%nData-parallel training, batch %d per replica (median ms per step of %d):%n%n"
                        + "| devices | step | img/s | scaling efficiency |%n|---|---|---|---|%n", batch, iters);
                for (ModelBench.Scaling d : scaling) {
                    out.printf(Locale.ROOT, "| %d | %.0f | %.1f | %.2f |%n", d.devices(),
                            ModelBench.median(d.stepMs()), d.imagesPerSecond(), d.efficiency(scaling.get(0)));
                }
            }
            if (!towers.isEmpty()) {
                out.printf("%nTwo towers vs one layer of the same arithmetic (forward+backward ms, median of %d):%n%n"
                        + "| block | two towers | one layer | ratio |%n|---|---|---|---|%n", iters);
                for (ModelBench.TowerCost t : towers) {
                    out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.2f |%n", t.block(), t.towersMs(), t.singleMs(),
                            t.ratio());
                }
            }
        } else {
            out.printf(Locale.ROOT, "%s, %s threads, oneDNN %s, batch %d, %d warm-up + %d timed, cache mode %s, "
                    + "malloc %s%n", env.get("cpu"), env.get("ompThreads"), env.get("oneDNN"), batch, warmup, iters,
                    cacheMode, mallocNote());
            out.printf(Locale.ROOT, "%-42s %6s %10s %8s %10s %10s %10s %9s %9s %11s %10s%n", "model", "batch",
                    "step ms", "img/s", "forward ms", "bwd+upd ms", "infer ms", "p90 ms", "p99 ms", "infer img/s",
                    "peak RSS");
            for (ModelBench.Result r : raw) {
                double step = ModelBench.median(r.stepMs());
                double fwd = ModelBench.median(r.forwardMs());
                double inf = ModelBench.median(r.inferMs());
                out.printf(Locale.ROOT, "%-42s %6d %10s %8s %10s %10s %10s %9s %9s %11s %6d MiB%n", r.model(),
                        r.batch(), num(step, "%.1f"), num(r.trainImagesPerSecond(), "%.1f"), num(fwd, "%.1f"),
                        num(step - fwd, "%.1f"), num(inf, "%.2f"), num(ModelBench.percentile(r.inferMs(), 90), "%.2f"),
                        num(ModelBench.percentile(r.inferMs(), 99), "%.2f"), num(r.inferImagesPerSecond(), "%.1f"),
                        r.peakResidentBytes() >> 20);
            }
            layers.forEach((name, list) -> {
                out.printf("%nper layer, %s (ms, median of %d):%n%-10s %10s %10s%n", name, iters, "layer", "forward",
                        "backward");
                for (ModelBench.LayerTime t : list) {
                    out.printf(Locale.ROOT, "%-10s %10.1f %10.1f%n", t.layer(), t.forwardMs(), t.backwardMs());
                }
            });
            if (!scaling.isEmpty()) {
                out.printf("%ndata-parallel training, batch %d per replica (median of %d steps):%n%-8s %10s %10s "
                        + "%12s%n", batch, iters, "devices", "step ms", "img/s", "efficiency");
                for (ModelBench.Scaling d : scaling) {
                    out.printf(Locale.ROOT, "%-8d %10.1f %10.1f %12.2f%n", d.devices(), ModelBench.median(d.stepMs()),
                            d.imagesPerSecond(), d.efficiency(scaling.get(0)));
                }
            }
            if (!towers.isEmpty()) {
                out.printf("%ntwo towers vs one layer of the same arithmetic (forward+backward ms, median of %d):%n"
                        + "%-8s %12s %12s %8s%n", iters, "block", "two towers", "one layer", "ratio");
                for (ModelBench.TowerCost t : towers) {
                    out.printf(Locale.ROOT, "%-8s %12.1f %12.1f %8.2f%n", t.block(), t.towersMs(), t.singleMs(),
                            t.ratio());
                }
            }
        }
        out.flush();
        return 0;
    }
}
