package org.alexnet4j.cli;

import org.alexnet4j.bench.DataBench;
import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.FileImageSource;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.PreparedCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "bench-data", mixinStandardHelpOptions = true,
        description = {"Input pipeline throughput in training images/s: (a) from the original JPEGs (decode, "
                + "resize, crop, flip, lighting, normalize), (b) from a prepared cache (the full training "
                + "transform), per thread count, and DataVec's stock ImageRecordReader pipeline as the baseline."})
class BenchDataCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "ILSVRC2012-layout dataset.")
    Path data;

    @Option(names = "--cache", paramLabel = "CACHE", description = "Prepared cache of DIR (default: none: only (a)).")
    Path cache;

    @Option(names = "--threads", split = ",", paramLabel = "N[,N...]",
            description = "Thread counts to measure (default: 1 and all cores).")
    List<Integer> threads;

    @Option(names = "--images", defaultValue = "2000", paramLabel = "N",
            description = "Images per measurement (default: ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--crop", defaultValue = "227", paramLabel = "S", description = "Crop (default: ${DEFAULT-VALUE}).")
    int crop;

    @Option(names = "--batch", defaultValue = "128", paramLabel = "N", description = "Batch (default: ${DEFAULT-VALUE}).")
    int batch;

    @Option(names = "--no-baseline", description = "Skip the DataVec baseline.")
    boolean noBaseline;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (org.alexnet4j.data.PreparedCache.isCache(data)) {
            throw new IllegalArgumentException(data + " is a prepared cache; bench-data reads the original images: "
                    + "give the dataset as --data and the cache as --cache");
        }
        int cores = Runtime.getRuntime().availableProcessors();
        List<Integer> counts = threads != null ? threads : (cores > 1 ? List.of(1, cores) : List.of(1));
        for (int t : counts) {
            if (t < 1) {
                throw new IllegalArgumentException("--threads values must be at least 1, got " + t);
            }
        }
        if (images < 1) {
            throw new IllegalArgumentException("--images must be at least 1");
        }
        Manifest manifest = Datasets.manifest(data, null, null, cores);
        List<DataBench.Row> rows = new ArrayList<>();
        DataBench.Row baseline = null;
        if (!noBaseline) {
            baseline = DataBench.dataVecBaseline(data, manifest, images, crop, batch);
            rows.add(baseline);
        }
        FileImageSource raw = new FileImageSource(data, manifest, "train", 256, cores);
        for (int t : counts) {
            rows.add(DataBench.measure("alexnet4j, original JPEGs", raw, t, images, crop, batch));
        }
        if (cache != null) {
            PreparedCache c = PreparedCache.open(cache);
            for (int t : counts) {
                rows.add(DataBench.measure("alexnet4j, prepared cache (" + c.info().get("format") + ")",
                        c.split("train"), t, images, crop, batch));
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("cores", cores);
            m.put("cpu", org.alexnet4j.runtime.Backend.cpuModel());
            m.put("crop", crop);
            m.put("batch", batch);
            m.put("results", rows.stream().map(DataBench.Row::toMap).toList());
            out.println(Json.pretty(m));
        } else {
            out.printf(Locale.ROOT, "%-62s %7s %8s %10s %12s %9s%n", "pipeline", "threads", "images", "images/s",
                    "img/s/thread", "vs base");
            for (DataBench.Row r : rows) {
                out.printf(Locale.ROOT, "%-62s %7d %8d %10.1f %12.1f %9s%n", r.pipeline(), r.threads(), r.images(),
                        r.imagesPerSecond(), r.perThread(), baseline == null ? "-"
                                : String.format(Locale.ROOT, "%.2fx", r.imagesPerSecond() / baseline.imagesPerSecond()));
            }
        }
        out.flush();
        return 0;
    }
}
