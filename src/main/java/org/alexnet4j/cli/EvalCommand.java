package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Evaluator;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.eval.TopK;
import org.alexnet4j.infer.CpuPrecision;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.train.RunDirectory;
import org.alexnet4j.util.AtomicFiles;
import org.alexnet4j.weights.ModelFiles;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Top-1 and top-5 error of a trained net on a dataset split, with the centre crop and with the "
                + "paper's 10 crops (softmax outputs averaged). Writes eval.json and per_class.csv."})
class EvalCommand implements Callable<Integer> {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(EvalCommand.class);

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Dataset or prepared cache.")
    Path data;

    @Option(names = "--split", defaultValue = "val", paramLabel = "NAME", description = "Split (default: ${DEFAULT-VALUE}).")
    String split;

    @ArgGroup(exclusive = true, multiplicity = "1")
    WeightsSource source;

    @Mixin
    ModelOptions model;

    @Option(names = "--crops", defaultValue = "both", paramLabel = "center|ten|both",
            description = "Views per image (default: ${DEFAULT-VALUE}).")
    String crops;

    @Option(names = "--normalize", paramLabel = "mean-image|channel", description = "Input normalisation (default: "
            + "the run's, else the variant's: mean-image for paper and caffe, channel for torchvision).")
    String normalize;

    @Option(names = "--stats", defaultValue = "auto", paramLabel = "auto|published",
            description = "Mean/std: auto = a run's own (stored in it), else the prepared cache's (for --model "
                    + "torchvision weights: torchvision's published ones), or published (default: ${DEFAULT-VALUE}).")
    String stats;

    @Option(names = "--batch", defaultValue = "64", paramLabel = "N", description = "Images per batch "
            + "(default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--limit-batches", defaultValue = "0", paramLabel = "N", description = "Evaluate only N batches.")
    int limitBatches;

    @Option(names = "--out", paramLabel = "DIR", description = "Where eval.json and per_class.csv go (default: "
            + "RUN_DIR/eval, or ./eval).")
    Path out;

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    @Mixin
    ThreadsOption threads;

    @Mixin
    EngineOption engine;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (!List.of("center", "ten", "both").contains(crops)) {
            throw new IllegalArgumentException("--crops must be center, ten or both, got " + crops);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1");
        }
        Backend.init();
        ModelFiles.Loaded loaded = source.load(model);
        Path run = source.run;
        int t = threads.count();
        AlexNet net = loaded.net();
        ImageSource images = Datasets.open(data, t, Preprocessing.resize(net), split).get(split);
        if (images.resize() != Preprocessing.resize(net)) {
            log.warn("{} was prepared with the {} resize; the {} net's weights were made with {} (prepare "
                    + "--resize {}): expect results a little off the published ones", data, images.resize().id(),
                    net.variant().id(), Preprocessing.resize(net).id(), Preprocessing.resize(net).id());
        }
        if (images.wnids().size() != loaded.net().numClasses()) {
            throw new IllegalArgumentException("the net has " + loaded.net().numClasses() + " classes but " + data
                    + " has " + images.wnids().size());
        }
        if (!stats.equals("auto") && !stats.equals("published")) {
            throw new IllegalArgumentException("--stats must be auto or published, got " + stats);
        }
        Preprocessing.Input input = source.input(net, normalize, images.stats(), stats.equals("published"),
                images.imageSize());
        Normalization n = input.normalization();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("data", data.toString());
        result.put("split", split);
        result.put("model", loaded.net().settings());
        result.put("normalize", n.kind().id());
        result.put("statistics", input.statsSource());
        result.put("preprocessing", input.describe());
        result.put("chanceTop1Error", 1 - 1.0 / images.wnids().size());
        result.put("chanceTop5Error", Math.max(0, 1 - 5.0 / images.wnids().size()));
        TopK center = null;
        TopK ten = null;
        try (org.alexnet4j.infer.InferenceEngine inference = engine.open(net, loaded.graph(), source, t);
             org.alexnet4j.infer.InferenceEngine reference = inference.precision() == CpuPrecision.FP32 ? null
                     : org.alexnet4j.infer.InferenceEngine.open(org.alexnet4j.infer.InferenceEngine.Kind.ONEDNN, net,
                     loaded.graph())) {
            log.info("eval: inference on {}{}", inference.name(), reference == null ? ""
                    : ", beside fp32 on the same views for the agreement and the error change");
            result.put("engine", inference.name());
            result.put("precision", inference.precision().id());
            if (!crops.equals("ten")) {
                Evaluator.Comparison c = Evaluator.compare(inference, reference, images, input.views(false), batch, t,
                        limitBatches, true);
                center = c.result();
                result.put("center", summary(c));
            }
            if (!crops.equals("center")) {
                int tenBatch = Math.max(1, batch / 10); // images per batch: 10 views each
                int tenLimit = limitBatches == 0 ? 0 : (limitBatches * batch + tenBatch - 1) / tenBatch; // same images
                Evaluator.Comparison c = Evaluator.compare(inference, reference, images, input.views(true), tenBatch,
                        t, tenLimit, true);
                ten = c.result();
                result.put("tenCrop", summary(c));
            }
        }
        Path dir = out != null ? out : (run != null ? RunDirectory.open(run).eval() : Path.of("eval"));
        Files.createDirectories(dir);
        ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        byte[] jsonBytes = om.writeValueAsBytes(result);
        AtomicFiles.write(dir.resolve("eval.json"), tmp -> Files.write(tmp, jsonBytes));
        Evaluator.writePerClass(dir.resolve("per_class.csv"), images.wnids(), center, ten);
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            o.println(om.writeValueAsString(result));
        } else {
            o.printf(Locale.ROOT, "%s split of %s, %d classes (chance: top-1 error %.4f, top-5 error %.4f)%n", split,
                    data, images.wnids().size(), result.get("chanceTop1Error"), result.get("chanceTop5Error"));
            if (center != null) {
                o.printf(Locale.ROOT, "centre crop: top-1 error %.4f, top-5 error %.4f (%d images)%s%n",
                        center.top1Error(), center.top5Error(), center.examples(), against(result.get("center")));
            }
            if (ten != null) {
                o.printf(Locale.ROOT, "10 crops:    top-1 error %.4f, top-5 error %.4f (%d images)%s%n",
                        ten.top1Error(), ten.top5Error(), ten.examples(), against(result.get("tenCrop")));
            }
            o.printf("wrote %s and %s%n", dir.resolve("eval.json"), dir.resolve("per_class.csv"));
        }
        o.flush();
        return 0;
    }

    private static Map<String, Object> summary(TopK k) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images", k.examples());
        m.put("top1Error", k.top1Error());
        m.put("top5Error", k.top5Error());
        m.put("loss", k.loss());
        return m;
    }

    /** "; fp32: ..., agreement ..." for a reduced precision's summary, else "". */
    @SuppressWarnings("unchecked")
    private static String against(Object summary) {
        Map<String, Object> m = (Map<String, Object>) summary;
        if (!m.containsKey("fp32")) {
            return "";
        }
        Map<String, Object> f = (Map<String, Object>) m.get("fp32");
        return String.format(Locale.ROOT, "%n             fp32: top-1 error %.4f, top-5 error %.4f; top-1 error change "
                + "%+.2f points; agreement with fp32: top-1 %.4f, top-5 %.4f", f.get("top1Error"), f.get("top5Error"),
                m.get("top1ErrorChangePoints"), m.get("top1Agreement"), m.get("top5Agreement"));
    }

    /** {@link #summary(TopK)}, and beside a reduced precision its fp32 reference and their agreement. */
    private static Map<String, Object> summary(Evaluator.Comparison c) {
        Map<String, Object> m = summary(c.result());
        if (c.reference() != null) {
            m.put("fp32", summary(c.reference()));
            m.put("top1Agreement", c.top1Agreement());
            m.put("top5Agreement", c.top5Agreement());
            m.put("top1ErrorChangePoints", 100 * (c.result().top1Error() - c.reference().top1Error()));
            m.put("top5ErrorChangePoints", 100 * (c.result().top5Error() - c.reference().top5Error()));
        }
        return m;
    }
}
