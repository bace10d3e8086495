package org.alexnet4j.cli;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.FeatureExtractor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.NpzStreamWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import org.alexnet4j.infer.InferenceEngine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "features", mixinStandardHelpOptions = true,
        description = {"Write a layer's activations for every image of a dataset as features for another "
                + "classifier: FEATURES.npz with <split>_features [N, D] float32, <split>_labels [N] int64, "
                + "<split>_files [N] (paths) and classes. Centre view, or the ten views averaged; the variant's "
                + "preprocessing; batch by batch, memory independent of the dataset size."})
class FeaturesCommand implements Callable<Integer> {
    @ArgGroup(exclusive = true, multiplicity = "1")
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Option(names = "--layer", defaultValue = "fc7", paramLabel = "NAME",
            description = "fc6, fc7, fc8 (logits), pool5 (the map fc6 reads), or any layer of the graph "
                    + "(default: ${DEFAULT-VALUE}).")
    String layer;

    @Option(names = "--data", required = true, paramLabel = "DIR|CACHE", description = "Dataset or prepared cache.")
    Path data;

    @Option(names = "--split", defaultValue = "train,val", split = ",", paramLabel = "NAME[,NAME]",
            description = "Splits (default: ${DEFAULT-VALUE}).")
    List<String> splits;

    @Mixin
    ViewOptions views;

    @Option(names = "--batch", defaultValue = "32", paramLabel = "N", description = "Images per forward pass "
            + "(default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--out", required = true, paramLabel = "FEATURES.npz", description = "Output .npz.")
    Path out;

    @Mixin
    ThreadsOption threads;

    @Mixin
    EngineOption engine;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        views.tenCrop(); // validates --crops
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        FeatureExtractor fx = new FeatureExtractor(loaded.graph(), net, layer);
        org.alexnet4j.cuda.AlexNetEngine cuda = null;
        InferenceEngine onednn = null;
        int t = threads.count();
        if (engine.kind() == InferenceEngine.Kind.ONEDNN
                || engine.cpuPrecision() != org.alexnet4j.infer.CpuPrecision.FP32) {
            // the oneDNN engine where asked for, or for bf16 and int8 (auto's fp32 features stay on DL4J's graph)
            onednn = engine.open(net, loaded.graph(), source, t);
            fx.onOneDnn(onednn);
        } else if (org.alexnet4j.infer.InferenceEngine.usesCuda(engine.kind(), net)) {
            InferenceEngine.Gpu gpu = engine.gpu();
            cuda = new org.alexnet4j.cuda.AlexNetEngine(net.spec(), org.alexnet4j.cuda.CudaRuntime.open(gpu.device(),
                    gpu.precision(), m -> { }), batch * (views.tenCrop() ? 10 : 1), net.seed());
            org.alexnet4j.weights.EngineWeights.toEngine(loaded.graph(), net, cuda);
            fx.onEngine(cuda);
        }
        Map<String, ImageSource> sources = Datasets.open(data, t, Preprocessing.resize(net),
                splits.toArray(new String[0]));
        Path tmp = Files.createTempDirectory(out.toAbsolutePath().getParent(), ".features");
        NpzStreamWriter npz = new NpzStreamWriter(out);
        boolean done = false;
        try {
            List<String> classes = null;
            for (String split : splits) {
                ImageSource images = sources.get(split);
                if (images.wnids().size() != net.numClasses()) {
                    throw new IllegalArgumentException("the net has " + net.numClasses() + " classes but " + data
                            + " has " + images.wnids().size());
                }
                classes = images.wnids();
                Preset preset = views.input(source, net, images.stats(), images.imageSize()).views(views.tenCrop());
                Path f = tmp.resolve(split + ".f32"), l = tmp.resolve(split + ".i64"), p = tmp.resolve(split + ".txt");
                FeatureExtractor.Summary s = fx.extract(images, preset, batch, t, f, l, p);
                npz.add(split + "_features", "<f4", new long[]{s.images(), s.dims()}, f);
                npz.add(split + "_labels", "<i8", new long[]{s.images()}, l);
                npz.addStrings(split + "_files", p, s.images(), maxLineLength(p));
                spec.commandLine().getOut().printf(Locale.ROOT, "%s: %d images x %d features from %s%s%n", split,
                        s.images(), s.dims(), fx.vertex(), s.skipped() > 0 ? " (" + s.skipped()
                                + " unreadable images left out)" : "");
            }
            Path c = tmp.resolve("classes.txt");
            Files.write(c, classes, StandardCharsets.UTF_8);
            npz.addStrings("classes", c, classes.size(), maxLineLength(c));
            npz.close();
            done = true;
        } finally {
            if (cuda != null) {
                cuda.close();
            }
            if (onednn != null) {
                onednn.close();
            }
            if (!done) {
                npz.abandon();
            }
            try (var files = Files.list(tmp)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
            }
            Files.deleteIfExists(tmp);
        }
        spec.commandLine().getOut().printf("wrote %s%n", out);
        return 0;
    }

    private static int maxLineLength(Path file) throws java.io.IOException {
        try (var lines = Files.lines(file, StandardCharsets.UTF_8)) {
            return lines.mapToInt(s -> (int) s.codePoints().count()).max().orElse(1);
        }
    }
}
