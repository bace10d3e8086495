package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.bench.ScaleBench;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

@Command(name = "bench-scale", mixinStandardHelpOptions = true,
        description = {"ImageNet scale by simulation: datasets of N small synthetic JPEGs (hard links to a few "
                + "hundred distinct files, 1000 classes), the time and memory per image of manifest build, manifest "
                + "verify, prepare and the training iterator's index, and their projection to ILSVRC2012 "
                + "(1,281,167 + 50,000 images)."})
class BenchScaleCommand implements Callable<Integer> {
    static final long IMAGENET = 1_281_167L + 50_000L;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Work directory (datasets, caches).")
    Path out;

    @Option(names = "--images", defaultValue = "10000,50000", split = ",", paramLabel = "N[,N...]",
            description = "Training images per dataset (default: ${DEFAULT-VALUE}).")
    List<Integer> sizes;

    @Option(names = "--side", defaultValue = "320", paramLabel = "PX", description = "Width of the images "
            + "(height 3/4 of it; default: ${DEFAULT-VALUE}).")
    int side;

    @Option(names = "--json", description = "Print the results as JSON.")
    boolean json;

    @Mixin
    ThreadsOption threads;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (side < 64 || side > 1024) {
            throw new IllegalArgumentException("--side must be in 64..1024, got " + side);
        }
        List<ScaleBench.Row> rows = new ArrayList<>();
        for (int n : sizes) {
            if (n < 1000) {
                throw new IllegalArgumentException("--images values must be at least 1000, got " + n);
            }
            rows.add(ScaleBench.run(out, n, side, threads.count()));
        }
        PrintWriter o = spec.commandLine().getOut();
        if (json) {
            List<Map<String, Object>> list = new ArrayList<>();
            rows.forEach(r -> list.add(r.toMap()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("side", side);
            m.put("threads", threads.count());
            m.put("rows", list);
            o.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(m));
            return 0;
        }
        o.printf("%10s %12s %12s %12s %12s %14s %12s%n", "images", "build us/img", "verify us/img",
                "prepare ms/img", "index us/img", "index B/img", "cache KB/img");
        for (ScaleBench.Row r : rows) {
            double n = r.images() * 1.04;
            o.printf(Locale.ROOT, "%10d %12.1f %12.1f %12.2f %12.2f %14.1f %12.1f%n", r.images(),
                    r.buildSeconds() / n * 1e6, r.verifySeconds() / n * 1e6, r.prepareSeconds() / n * 1e3,
                    r.indexSeconds() / r.images() * 1e6, r.indexHeapBytes() / (double) r.images(),
                    r.cacheBytes() / n / 1024);
        }
        ScaleBench.Row big = rows.get(rows.size() - 1);
        double n = big.images() * 1.04;
        o.printf(Locale.ROOT, "projected to ILSVRC2012 (%,d images) from the largest: manifest build %.1f min, verify "
                        + "%.1f min, prepare %.1f h (these small images decode faster than ImageNet's), iterator "
                        + "index %.0f MB of heap, cache %.0f GB%n", IMAGENET, big.buildSeconds() / n * IMAGENET / 60,
                big.verifySeconds() / n * IMAGENET / 60, big.prepareSeconds() / n * IMAGENET / 3600,
                big.indexHeapBytes() / (double) big.images() * IMAGENET / 1e6,
                big.cacheBytes() / n * IMAGENET / 1e9);
        return 0;
    }
}
