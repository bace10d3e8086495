package org.alexnet4j.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToIntFunction;

/**
 * The server's Prometheus metrics (Prometheus' Java client, text format on {@code /metrics}): requests by model,
 * protocol and status; queue time, inference time per batch and end-to-end latency as histograms (so that p50/p99
 * come from {@code histogram_quantile} over any window, not from gauges computed in the server); batch sizes as a
 * histogram; queue depth; images served (a counter, and images/s over the last 10 s as a gauge); the JVM's and the
 * process's own (resident memory, CPU, GC).
 */
public final class ServeMetrics {
    private static final double[] SECONDS = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10};

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Counter images;
    private final Counter dropped;
    private final Histogram queue;
    private final Histogram inference;
    private final Histogram latency;
    private final Histogram batchSize;
    private final Map<String, ArrayDeque<long[]>> recent = new ConcurrentHashMap<>();

    /** @param depth the queue depth of a model by name */
    public ServeMetrics(Iterable<String> models, ToIntFunction<String> depth) {
        requests = Counter.builder().name("alexnet4j_requests_total")
                .help("Inference requests answered, by model, protocol (rest, grpc) and status (ok, or the error)")
                .labelNames("model", "protocol", "status").register(registry);
        images = Counter.builder().name("alexnet4j_images_total").help("Images (inputs) run through the net")
                .labelNames("model").register(registry);
        dropped = Counter.builder().name("alexnet4j_deadline_dropped_total")
                .help("Requests dropped from the queue because their deadline passed").labelNames("model")
                .register(registry);
        queue = histogram("alexnet4j_queue_seconds", "Time a request waited in its model's queue", SECONDS);
        inference = histogram("alexnet4j_inference_seconds", "Time of one batch's forward pass", SECONDS);
        latency = histogram("alexnet4j_request_seconds",
                "End-to-end time of a request in the server: body read, decoding, queue, inference, answer", SECONDS);
        batchSize = histogram("alexnet4j_batch_size", "Images per forward pass",
                new double[]{1, 2, 4, 8, 16, 32, 64, 128, 256});
        GaugeWithCallback.builder().name("alexnet4j_queue_depth").help("Requests waiting in the model's queue")
                .labelNames("model").callback(cb -> {
                    for (String m : models) {
                        cb.call(depth.applyAsInt(m), m);
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("alexnet4j_images_per_second").help("Images served per second over the "
                        + "last 10 seconds").labelNames("model").callback(cb -> {
                    for (String m : models) {
                        cb.call(rate(m), m);
                    }
                }).register(registry);
        JvmMetrics.builder().register(registry);
    }

    private Histogram histogram(String name, String help, double[] bounds) {
        return Histogram.builder().name(name).help(help).labelNames("model").classicOnly()
                .classicUpperBounds(bounds).register(registry);
    }

    /** A request answered: {@code status} is "ok" or the error's kind. */
    public void request(String model, String protocol, String status, double seconds) {
        requests.labelValues(model, protocol, status).inc();
        if ("ok".equals(status)) {
            latency.labelValues(model).observe(seconds);
        }
    }

    void batch(String model, int n, double seconds) {
        images.labelValues(model).inc(n);
        inference.labelValues(model).observe(seconds);
        batchSize.labelValues(model).observe(n);
        ArrayDeque<long[]> q = recent.computeIfAbsent(model, k -> new ArrayDeque<>());
        synchronized (q) {
            q.addLast(new long[]{System.nanoTime(), n});
            prune(q);
        }
    }

    void queued(String model, double seconds) {
        queue.labelValues(model).observe(seconds);
    }

    void dropped(String model) {
        dropped.labelValues(model).inc();
    }

    private double rate(String model) {
        ArrayDeque<long[]> q = recent.get(model);
        if (q == null) {
            return 0;
        }
        synchronized (q) {
            prune(q);
            long n = 0;
            for (long[] e : q) {
                n += e[1];
            }
            return n / 10.0;
        }
    }

    private static void prune(ArrayDeque<long[]> q) {
        long oldest = System.nanoTime() - 10_000_000_000L;
        while (!q.isEmpty() && q.peekFirst()[0] - oldest < 0) {
            q.removeFirst();
        }
    }

    /** The content type of {@link #write}. */
    public static String contentType() {
        return PrometheusTextFormatWriter.CONTENT_TYPE;
    }

    /** Every metric in Prometheus' text format. */
    public void write(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape());
    }
}
