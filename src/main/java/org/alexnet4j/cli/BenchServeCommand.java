package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.bench.ServeBench;
import org.alexnet4j.util.LinePlot;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

@Command(name = "bench-serve", mixinStandardHelpOptions = true,
        description = {"Load-test a running serve (any Open Inference Protocol server): for each --concurrency, "
                + "that many clients send requests back to back until --requests (or --duration-s) is reached; "
                + "prints throughput and p50/p90/p99 latency, the load generator's own CPU and the server's "
                + "resident memory, and writes serve-bench.csv, .json and two PNG plots to --out."})
class BenchServeCommand implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--url", defaultValue = "http://127.0.0.1:8080", paramLabel = "URL",
            description = "The server (default: ${DEFAULT-VALUE}).")
    URI url;

    @Option(names = "--model", defaultValue = "alexnet", paramLabel = "NAME",
            description = "The model to call (default: ${DEFAULT-VALUE}).")
    String model;

    @Option(names = "--concurrency", split = ",", defaultValue = "1,4,16", paramLabel = "N,...",
            description = "Concurrent clients, one level each (default: ${DEFAULT-VALUE}).")
    List<Integer> concurrency;

    @Option(names = "--requests", defaultValue = "200", paramLabel = "N", description = "Requests per level "
            + "(default: ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--duration-s", defaultValue = "0", paramLabel = "S", description = "Seconds per level at "
            + "most; with a large --requests, a soak of that length (default: no limit).")
    double durationS;

    @Option(names = "--warmup", defaultValue = "8", paramLabel = "N", description = "Requests sent first at each "
            + "level, not counted (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--payload", defaultValue = "image", paramLabel = "image|image-json|tensor-json",
            description = "image: JPEG files raw (binary tensor data extension); image-json: the same base64 in "
                    + "JSON; tensor-json: preprocessed FP32 [1,3,S,S] as JSON numbers (default: ${DEFAULT-VALUE}).")
    String payload;

    @Option(names = "--images", paramLabel = "DIR|FILE", description = "Images to send, cycled (default: 32 "
            + "generated 500x375 JPEGs).")
    List<Path> images;

    @Option(names = "--out", defaultValue = "bench-serve", paramLabel = "DIR",
            description = "Where the CSV, JSON and plots go (default: ${DEFAULT-VALUE}).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        List<byte[]> files = new ArrayList<>();
        if (images != null) {
            for (Path f : org.alexnet4j.eval.Predictor.imageFiles(images)) {
                files.add(Files.readAllBytes(f));
            }
        } else {
            files = ServeBench.generatedJpegs(32);
        }
        PrintWriter w = spec.commandLine().getOut();
        ServeBench.Settings s = new ServeBench.Settings(url, model, concurrency, requests, durationS, warmup,
                ServeBench.Payload.fromId(payload), files);
        List<ServeBench.Level> levels = ServeBench.run(s, line -> {
            w.println(line);
            w.flush();
        });
        Files.createDirectories(out);
        write(levels);
        w.println();
        w.println("concurrency  requests  errors   req/s    p50 ms   p90 ms   p99 ms   client CPU %  server RSS MiB");
        for (ServeBench.Level l : levels) {
            w.printf(Locale.ROOT, "%11d  %8d  %6d  %7.1f  %7.1f  %7.1f  %7.1f  %12.0f  %.0f -> %.0f (max %.0f)%n",
                    l.concurrency(), l.requests(), l.errors(), l.perSecond(), l.p50(), l.p90(), l.p99(),
                    l.clientCpuPercent(), l.rssStartMib(), l.rssEndMib(), l.rssMaxMib());
        }
        w.println("results in " + out);
        return levels.stream().anyMatch(l -> l.errors() > 0) ? 1 : 0;
    }

    private void write(List<ServeBench.Level> levels) throws Exception {
        StringBuilder csv = new StringBuilder("concurrency,payload,requests,errors,seconds,requests_per_s,p50_ms,"
                + "p90_ms,p99_ms,mean_ms,client_cpu_percent,server_rss_start_mib,server_rss_end_mib,"
                + "server_rss_max_mib\n");
        for (ServeBench.Level l : levels) {
            csv.append(String.format(Locale.ROOT, "%d,%s,%d,%d,%.3f,%.2f,%.2f,%.2f,%.2f,%.2f,%.1f,%.1f,%.1f,%.1f%n",
                    l.concurrency(), l.payload(), l.requests(), l.errors(), l.seconds(), l.perSecond(), l.p50(),
                    l.p90(), l.p99(), l.mean(), l.clientCpuPercent(), l.rssStartMib(), l.rssEndMib(),
                    l.rssMaxMib()));
        }
        Files.writeString(out.resolve("serve-bench.csv"), csv);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(out.resolve("serve-bench.json").toFile(), java.util.Map.of("url", url.toString(),
                        "model", model, "payload", payload, "levels", levels));
        double[] x = levels.stream().mapToDouble(ServeBench.Level::concurrency).toArray();
        new LinePlot("bench-serve: throughput", "concurrent clients", "requests/s")
                .points("requests/s", x, levels.stream().mapToDouble(ServeBench.Level::perSecond).toArray())
                .write(out.resolve("serve-bench-throughput.png"));
        new LinePlot("bench-serve: latency", "concurrent clients", "ms")
                .points("p50", x, levels.stream().mapToDouble(ServeBench.Level::p50).toArray())
                .points("p90", x, levels.stream().mapToDouble(ServeBench.Level::p90).toArray())
                .points("p99", x, levels.stream().mapToDouble(ServeBench.Level::p99).toArray())
                .write(out.resolve("serve-bench-latency.png"));
    }
}
