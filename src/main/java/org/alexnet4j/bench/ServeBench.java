package org.alexnet4j.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.SyntheticImageNet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A bounded load generator for {@code alexnet4j serve} (or any Open Inference Protocol server): for each
 * concurrency, that many clients send requests back to back over HTTP/1.1 until the request count or the duration is
 * reached, and the latencies, throughput, errors, the generator's own CPU and the server's resident memory (from its
 * {@code /metrics}) are reported. Requests carry encoded images with the binary tensor data extension, the same
 * images base64 in JSON, or preprocessed FP32 tensors in JSON.
 */
public final class ServeBench {
    private static final Logger log = LoggerFactory.getLogger(ServeBench.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How requests carry their input. */
    public enum Payload {
        /** Encoded images, raw after the JSON header (Triton's binary tensor data extension). */
        IMAGE,
        /** Encoded images, base64 strings in JSON. */
        IMAGE_JSON,
        /** Preprocessed FP32 tensors as JSON numbers. */
        TENSOR_JSON;

        public static Payload fromId(String id) {
            return switch (id) {
                case "image" -> IMAGE;
                case "image-json" -> IMAGE_JSON;
                case "tensor-json" -> TENSOR_JSON;
                default -> throw new IllegalArgumentException("--payload must be image, image-json or tensor-json, "
                        + "got '" + id + "'");
            };
        }

        public String id() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /**
     * @param requests   requests per concurrency level (the level also ends when {@code durationS} has passed)
     * @param durationS  seconds per level at most (0: no limit, the request count alone)
     * @param images     encoded image files the requests cycle through
     */
    public record Settings(URI url, String model, List<Integer> concurrency, int requests, double durationS,
                           int warmup, Payload payload, List<byte[]> images) {
        public Settings {
            if (concurrency.isEmpty() || concurrency.stream().anyMatch(c -> c < 1)) {
                throw new IllegalArgumentException("--concurrency must be positive counts, got " + concurrency);
            }
            if (requests < 1) {
                throw new IllegalArgumentException("--requests must be at least 1, got " + requests);
            }
            if (images.isEmpty()) {
                throw new IllegalArgumentException("no images to send");
            }
        }
    }

    /** One concurrency level's result. Latencies in milliseconds; memory in MiB (-1: not reported by the server). */
    public record Level(int concurrency, String payload, int requests, int errors, double seconds, double perSecond,
                        double p50, double p90, double p99, double mean, double clientCpuPercent, double rssStartMib,
                        double rssEndMib, double rssMaxMib) {
    }

    private ServeBench() {
    }

    /** {@code n} generated JPEGs of 500x375 (ImageNet's typical size), quality 90. */
    public static List<byte[]> generatedJpegs(int n) {
        List<byte[]> out = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(7);
        for (int i = 0; i < n; i++) {
            out.add(ImageCodec.encodeJpeg(SyntheticImageNet.render(i % 10, rng), 90));
        }
        return out;
    }

    public static List<Level> run(Settings s, Consumer<String> progress) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        URI infer = s.url().resolve("/v2/models/" + s.model() + "/infer");
        int size = inputSize(client, s);
        List<Body> bodies = new ArrayList<>();
        for (int i = 0; i < Math.min(s.images().size(), s.payload() == Payload.TENSOR_JSON ? 4 : 1 << 20); i++) {
            bodies.add(body(s.payload(), s.images().get(i), size, i));
        }
        List<Level> levels = new ArrayList<>();
        for (int c : s.concurrency()) {
            levels.add(level(client, infer, s, bodies, c, progress));
        }
        return levels;
    }

    private record Body(byte[] bytes, Integer jsonLength) {
    }

    private static int inputSize(HttpClient client, Settings s) throws IOException, InterruptedException {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(s.url().resolve("/v2/models/" + s.model()))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalArgumentException("the server at " + s.url() + " answered " + r.statusCode()
                    + " for model '" + s.model() + "': " + r.body());
        }
        for (JsonNode in : JSON.readTree(r.body()).path("inputs")) {
            if (in.path("datatype").asText().equals("FP32")) {
                return in.path("shape").get(2).asInt();
            }
        }
        throw new IllegalArgumentException("model '" + s.model() + "' has no FP32 input in its metadata");
    }

    private static Body body(Payload p, byte[] image, int size, int seed) {
        String outputs = "\"outputs\":[{\"name\":\"top_k\"}]";
        switch (p) {
            case IMAGE -> {
                byte[] json = ("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],"
                        + "\"parameters\":{\"binary_data_size\":" + (image.length + 4) + "}}]," + outputs + "}")
                        .getBytes(StandardCharsets.UTF_8);
                ByteBuffer b = ByteBuffer.allocate(json.length + 4 + image.length).order(ByteOrder.LITTLE_ENDIAN);
                b.put(json).putInt(image.length).put(image);
                return new Body(b.array(), json.length);
            }
            case IMAGE_JSON -> {
                return new Body(("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\""
                        + java.util.Base64.getEncoder().encodeToString(image) + "\"]}]," + outputs + "}")
                        .getBytes(StandardCharsets.UTF_8), null);
            }
            default -> {
                SplittableRandom rng = new SplittableRandom(seed);
                StringBuilder sb = new StringBuilder(3 * size * size * 8);
                sb.append("{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,").append(size)
                        .append(',').append(size).append("],\"data\":[");
                for (int i = 0; i < 3 * size * size; i++) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    sb.append(String.format(Locale.ROOT, "%.4f", rng.nextGaussian()));
                }
                sb.append("]}],").append(outputs).append('}');
                return new Body(sb.toString().getBytes(StandardCharsets.UTF_8), null);
            }
        }
    }

    private static Level level(HttpClient client, URI infer, Settings s, List<Body> bodies, int c,
                               Consumer<String> progress) throws InterruptedException {
        for (int i = 0; i < s.warmup(); i++) {
            send(client, infer, bodies.get(i % bodies.size()));
        }
        int limit = s.requests();
        long end = s.durationS() > 0 ? System.nanoTime() + (long) (s.durationS() * 1e9) : Long.MAX_VALUE;
        AtomicInteger next = new AtomicInteger();
        AtomicInteger errors = new AtomicInteger();
        java.util.Queue<Long> latencies = new java.util.concurrent.ConcurrentLinkedQueue<>();
        AtomicInteger done = new AtomicInteger();
        double[] rss = {-1, -1, -1};
        rss[0] = rss[2] = rssMib(client, s.url());
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        AtomicLong lastReport = new AtomicLong(t0);
        List<Thread> clients = new ArrayList<>();
        for (int k = 0; k < c; k++) {
            Thread t = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < limit && System.nanoTime() < end) {
                    long a = System.nanoTime();
                    if (!send(client, infer, bodies.get(i % bodies.size()))) {
                        errors.incrementAndGet();
                    }
                    latencies.add(System.nanoTime() - a);
                    done.incrementAndGet();
                }
            }, "bench-serve-" + k);
            t.setDaemon(true);
            t.start();
            clients.add(t);
        }
        for (Thread t : clients) {
            while (t.isAlive()) {
                t.join(1000);
                long now = System.nanoTime();
                if (now - lastReport.get() > 10_000_000_000L) {
                    lastReport.set(now);
                    double m = rssMib(client, s.url());
                    rss[2] = Math.max(rss[2], m);
                    progress.accept(String.format(Locale.ROOT, "concurrency %d: %d requests, %.1f req/s, server "
                            + "RSS %.0f MiB", c, done.get(), done.get() / ((now - t0) / 1e9), m));
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double cpu = (os.getProcessCpuTime() - cpu0) / 1e9 / seconds * 100;
        rss[1] = rssMib(client, s.url());
        rss[2] = Math.max(rss[2], rss[1]);
        int n = done.get();
        double[] ms = latencies.stream().mapToDouble(v -> v / 1e6).toArray();
        Arrays.sort(ms);
        Level l = new Level(c, s.payload().id(), n, errors.get(), seconds, n / seconds, pct(ms, 50), pct(ms, 90),
                pct(ms, 99), Arrays.stream(ms).average().orElse(Double.NaN), cpu, rss[0], rss[1], rss[2]);
        progress.accept(String.format(Locale.ROOT, "concurrency %d: %d requests (%d errors) in %.1f s: %.1f req/s, "
                        + "p50 %.1f ms, p90 %.1f ms, p99 %.1f ms; load generator CPU %.0f %% of a core", c, n,
                l.errors(), seconds, l.perSecond(), l.p50(), l.p90(), l.p99(), cpu));
        return l;
    }

    private static boolean send(HttpClient client, URI infer, Body b) {
        HttpRequest.Builder r = HttpRequest.newBuilder(infer).timeout(Duration.ofSeconds(120))
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.bytes()));
        if (b.jsonLength() != null) {
            r.header("Inference-Header-Content-Length", String.valueOf(b.jsonLength()));
        }
        try {
            HttpResponse<byte[]> res = client.send(r.build(), HttpResponse.BodyHandlers.ofByteArray());
            if (res.statusCode() != 200) {
                log.warn("request failed: {} {}", res.statusCode(), new String(res.body(), StandardCharsets.UTF_8));
                return false;
            }
            return true;
        } catch (IOException e) {
            log.warn("request failed: {}", e.toString());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The server's resident memory from its /metrics ({@code process_resident_memory_bytes}), or -1. */
    static double rssMib(HttpClient client, URI url) {
        try {
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(url.resolve("/metrics"))
                    .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
            for (String line : r.body().split("\n")) {
                if (line.startsWith("process_resident_memory_bytes ")) {
                    return Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim()) / (1 << 20);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("no /metrics: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return -1;
    }

    private static double pct(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }
}
