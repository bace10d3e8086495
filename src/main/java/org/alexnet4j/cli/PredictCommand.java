package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.ImageNetMeta;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.PreparedCache;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Predictor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.train.TrainConfig;
import org.alexnet4j.train.Trainer;
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

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

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
        List<Path> files = imageFiles(inputs);
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        AlexNet net = loaded.net();
        DatasetStats stats = runStats(source);
        Normalization n = views.normalization(source, net, stats, Predictor.SOURCE_SIZE);
        List<String> classes = classNames(source, net);
        log.info("predict: {} images with the {} net ({})", files.size(), net.variant().id(),
                Preprocessing.describe(net, n, stats != null ? stats.source() : "published"));
        org.alexnet4j.infer.InferenceEngine inference = engine.open(net, loaded.graph());
        log.info("predict: inference on {}", inference.name());
        Predictor predictor = new Predictor(inference, net, n, tenCrop, top);
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper();
        int skipped = 0;
        long start = System.nanoTime();
        ExecutorService decoders = Executors.newFixedThreadPool(Math.max(1, threads.count()),
                org.alexnet4j.util.Parallel.daemonThreads("predict-decode"));
        try (ProgressBar bar = files.size() > 1 ? new ProgressBar("predict", files.size(), "img") : null) {
            for (int from = 0; from < files.size(); from += batch) {
                List<Path> chunk = files.subList(from, Math.min(files.size(), from + batch));
                List<Future<Object>> decoded = new ArrayList<>();
                for (Path f : chunk) {
                    decoded.add(decoders.submit(() -> decode(predictor, f)));
                }
                List<Path> ok = new ArrayList<>();
                List<RgbImage> squares = new ArrayList<>();
                for (int i = 0; i < chunk.size(); i++) {
                    Object r = decoded.get(i).get();
                    if (r instanceof RgbImage img) {
                        ok.add(chunk.get(i));
                        squares.add(img);
                    } else {
                        skipped++;
                        log.warn("skipping {}: {}", chunk.get(i), r);
                        if (json) {
                            Map<String, Object> rec = new LinkedHashMap<>();
                            rec.put("file", chunk.get(i).toString());
                            rec.put("error", r);
                            out.println(om.writeValueAsString(rec));
                        }
                    }
                }
                List<List<Predictor.Ranked>> results = predictor.predict(squares);
                for (int i = 0; i < ok.size(); i++) {
                    print(out, om, ok.get(i), results.get(i), classes);
                }
                out.flush();
                if (bar != null) {
                    bar.step(chunk.size());
                }
            }
        } finally {
            decoders.shutdownNow();
            inference.close();
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

    /** The decoded square, or why the file cannot be read. */
    private static Object decode(Predictor p, Path f) {
        try {
            byte[] data = Files.readAllBytes(f);
            return p.square(data);
        } catch (ImageCodec.DecodeException e) {
            return e.getMessage();
        } catch (IOException e) {
            return "cannot read the file (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
        }
    }

    private void print(PrintWriter out, ObjectMapper om, Path file, List<Predictor.Ranked> ranked,
                       List<String> classes) throws IOException {
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
            out.println(om.writeValueAsString(rec));
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

    /**
     * Class names by index: the run's (its classes.tsv, else its dataset's), else ILSVRC2012's wnids for 1000 classes,
     * else "class N".
     */
    static List<String> classNames(WeightsSource source, AlexNet net) throws IOException {
        List<String> fromRun = runClasses(source);
        if (fromRun != null && fromRun.size() == net.numClasses()) {
            return fromRun;
        }
        if (net.numClasses() == ImageNetMeta.get().wnids().size()) {
            return ImageNetMeta.get().wnids();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < net.numClasses(); i++) {
            names.add("class " + i);
        }
        return names;
    }

    private static List<String> runClasses(WeightsSource source) throws IOException {
        if (source.run != null && Files.isRegularFile(source.run.resolve(org.alexnet4j.data.ClassList.FILE))) {
            return org.alexnet4j.data.ClassList.read(source.run.resolve(org.alexnet4j.data.ClassList.FILE));
        }
        Path data = runData(source);
        if (data == null) {
            return null;
        }
        if (PreparedCache.isCache(data)) {
            return PreparedCache.open(data).wnids();
        }
        Path manifest = data.resolve(org.alexnet4j.data.Datasets.MANIFEST_FILE);
        return Files.isRegularFile(manifest) ? Manifest.read(manifest).wnids() : null;
    }

    /** The training statistics of the run's prepared cache (its mean image), or null. */
    static DatasetStats runStats(WeightsSource source) throws IOException {
        if (source.run != null && Files.isRegularFile(source.run.resolve(Trainer.PREPROCESSING)
                .resolve(DatasetStats.STATS_FILE))) {
            return DatasetStats.load(source.run.resolve(Trainer.PREPROCESSING));
        }
        Path data = runData(source);
        if (data != null && PreparedCache.isCache(data)) {
            log.info("{} has no stored statistics (trained before runs kept them): taking them from its dataset {}",
                    source.run, data);
            return PreparedCache.open(data).stats();
        }
        if (data != null) {
            log.warn("{} has no stored statistics and its dataset {} is not a prepared cache here: using the published "
                    + "ImageNet constants, which may not be what it trained with", source.run, data);
        }
        return null;
    }

    private static Path runData(WeightsSource source) throws IOException {
        if (source.run == null || !Files.exists(source.run.resolve(Trainer.CONFIG))) {
            return null;
        }
        String data = TrainConfig.read(source.run.resolve(Trainer.CONFIG)).data;
        return data == null ? null : Path.of(data);
    }

    /** The image files named, folders expanded (sorted); a missing path is an error before any work. */
    static List<Path> imageFiles(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                            .filter(f -> IMAGE_EXTENSIONS.contains(extension(f))).sorted().forEach(files::add);
                }
            } else if (Files.exists(p)) {
                files.add(p);
            } else {
                throw new IllegalArgumentException(p + " does not exist (give image files or folders of images)");
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files (.jpg .jpeg .png .bmp) in " + inputs);
        }
        return files;
    }

    private static String extension(Path f) {
        String name = f.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }
}
