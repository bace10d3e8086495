package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.ImageNetMeta;
import org.alexnet4j.eval.Predictor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.util.ProgressBar;
import org.alexnet4j.weights.ModelFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify image files (JPEG, PNG, BMP; grayscale, CMYK and misnamed files as the pipeline "
                + "handles them) with a trained net: the top-k classes with ImageNet wnid, name and probability, "
                + "using the variant's own preprocessing (paper: shorter side 256, centre 227, mean image or the "
                + "published mean; torchvision: shorter side 256, centre 224, mean/std; caffe: warp to 256x256, "
                + "centre 227, BGR minus Caffe's mean). Unreadable files are named and skipped."})
class PredictCommand implements java.util.concurrent.Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(PredictCommand.class);
    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp");

    @ArgGroup(exclusive = true, multiplicity = "1")
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Parameters(arity = "1..*", paramLabel = "IMAGE|DIR", description = "Image files, or folders (searched "
            + "recursively for .jpg .jpeg .png .bmp in any case).")
    List<Path> inputs;

    @Option(names = "--top", defaultValue = "5", paramLabel = "K", description = "Classes per image "
            + "(default: ${DEFAULT-VALUE}).")
    int top;

    @Mixin
    ViewOptions views;

    @Option(names = "--batch", defaultValue = "16", paramLabel = "N", description = "Images per forward pass "
            + "(default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--json", description = "One JSON record per image (JSON Lines) instead of text.")
    boolean json;

    @Mixin
    ThreadsOption threads;

    @Mixin
    EngineOption engine;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        boolean tenCrop = views.tenCrop();
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        List<Path> files = Predictor.imageFiles(inputs);
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        Preprocessing.Input input = views.input(source, net, null, Predictor.SOURCE_SIZE);
        List<String> classes = source.classNames(net);
        log.info("predict: {} images with the {} net ({})", files.size(), net.variant().id(), input.describe());
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper();
        long start = System.nanoTime();
        int skipped;
        try (org.alexnet4j.infer.InferenceEngine inference = engine.open(net, loaded.graph(), source, threads.count());
             ProgressBar bar = files.size() > 1 ? new ProgressBar("predict", files.size(), "img") : null) {
            log.info("predict: inference on {}", inference.name());
            Predictor predictor = new Predictor(inference, net, input.normalization(), tenCrop, top);
            skipped = predictor.predictFiles(files, batch, threads.count(), r -> {
                if (r.ranked() != null) {
                    print(out, om, r.file(), r.ranked(), classes);
                } else {
                    log.warn("skipping {}: {}", r.file(), r.error());
                    if (json) {
                        Map<String, Object> rec = new LinkedHashMap<>();
                        rec.put("file", r.file().toString());
                        rec.put("error", r.error());
                        out.println(Json.write(om, rec));
                    }
                }
                out.flush();
                if (bar != null) {
                    bar.step(1);
                }
            });
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        int done = files.size() - skipped;
        log.info(String.format(Locale.ROOT, "predict: %d images classified in %.2f s (%.1f images/s), %d skipped",
                done, seconds, done / Math.max(seconds, 1e-9), skipped));
        if (skipped > 0 && !json) {
            spec.commandLine().getErr().printf("skipped %d unreadable file(s) (named above)%n", skipped);
        }
        return done == 0 ? 1 : 0;
    }

    private void print(PrintWriter out, ObjectMapper om, Path file, List<Predictor.Ranked> ranked,
                       List<String> classes) {
        if (json) {
            Map<String, Object> rec = new LinkedHashMap<>();
            rec.put("file", file.toString());
            List<Map<String, Object>> top = new ArrayList<>();
            for (int k = 0; k < ranked.size(); k++) {
                Predictor.Ranked r = ranked.get(k);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rank", k + 1);
                m.put("index", r.index());
                String id = classes.get(r.index());
                if (ImageNetMeta.get().isSynset(id)) {
                    m.put("wnid", id);
                    m.put("name", ImageNetMeta.get().name(id));
                } else {
                    m.put("name", id);
                }
                m.put("probability", r.probability());
                top.add(m);
            }
            rec.put("top", top);
            out.println(Json.write(om, rec));
            return;
        }
        out.println(file);
        for (int k = 0; k < ranked.size(); k++) {
            Predictor.Ranked r = ranked.get(k);
            String id = classes.get(r.index());
            String label = ImageNetMeta.get().label(id);
            out.printf(Locale.ROOT, "  %d. %.4f  %s%n", k + 1, r.probability(), label);
        }
    }
}
