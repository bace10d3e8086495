package org.alexnet4j.serve;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching for one model, as Triton's and TorchServe's: requests wait in a bounded queue; one thread takes
 * the oldest and gathers more until the batch holds {@code maxBatch} images or the oldest has waited {@code maxDelay}
 * (a request that would overflow the batch starts the next one), runs them in one forward pass and hands each its
 * rows. It waits only while more requests are on their way (being decoded, {@link #announce}): with none, waiting
 * cannot fill the batch, and a lone client pays no delay. A full queue refuses at once ({@link ServeException.Status#QUEUE_FULL}); a request whose deadline passes in
 * the queue is dropped ({@link ServeException.Status#TIMEOUT}). {@link #close} stops taking requests and finishes
 * every one already queued.
 */
public final class Batcher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Batcher.class);

    /** What a request gets back: its rows of the batch's logits, and where its time went. */
    public record Result(float[] logits, int batchImages, long queueNanos, long inferNanos) {
    }

    private record Pending(float[] x, int n, long enqueued, long deadline, CompletableFuture<Result> future) {
    }

    private final ServedModel model;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final BlockingQueue<Pending> queue;
    private final ServeMetrics metrics;
    private final Thread thread;
    /** Requests taken by the endpoints and still being decoded: the ones a batch may wait for. */
    private final java.util.concurrent.atomic.AtomicInteger arriving = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean accepting = true;
    private volatile boolean running = true;
    /** A request taken from the queue that did not fit the last batch: the first of the next. */
    private Pending carried;

    public Batcher(ServedModel model, int maxBatch, long maxDelayNanos, int queueCapacity, ServeMetrics metrics) {
        if (maxBatch < 1 || maxBatch > model.maxBatch()) {
            throw new IllegalArgumentException("--max-batch must be in [1, " + model.maxBatch() + "], got " + maxBatch);
        }
        if (maxDelayNanos < 0) {
            throw new IllegalArgumentException("--max-delay-ms must not be negative");
        }
        if (queueCapacity < 1) {
            throw new IllegalArgumentException("--queue must be at least 1, got " + queueCapacity);
        }
        this.model = model;
        this.maxBatch = maxBatch;
        this.maxDelayNanos = maxDelayNanos;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.metrics = metrics;
        this.thread = new Thread(this::loop, "batcher-" + model.name());
        thread.setDaemon(true);
        thread.start();
    }

    /** A request is on its way: {@link #submit} with {@code announced} (or {@link #withdraw}) follows. */
    public void announce() {
        arriving.incrementAndGet();
    }

    /** An announced request will not come (its images could not be read). */
    public void withdraw() {
        arriving.decrementAndGet();
    }

    /**
     * Queues {@code n} preprocessed inputs ({@code x}, NCHW); the future completes with their logits, or
     * exceptionally with a {@link ServeException}.
     *
     * @param deadline  {@link System#nanoTime()} after which the client no longer waits (0: none)
     * @param announced the request was {@link #announce}d (its images were being decoded)
     */
    public CompletableFuture<Result> submit(float[] x, int n, long deadline, boolean announced) {
        if (announced) {
            arriving.decrementAndGet();
        }
        if (n < 1 || n > maxBatch) {
            throw new ServeException(ServeException.Status.INVALID, "a request holds 1 to " + maxBatch
                    + " images (--max-batch), got " + n);
        }
        if (!accepting) {
            throw new ServeException(ServeException.Status.UNAVAILABLE, "the server is stopping");
        }
        CompletableFuture<Result> f = new CompletableFuture<>();
        if (!queue.offer(new Pending(x, n, System.nanoTime(), deadline, f))) {
            throw new ServeException(ServeException.Status.QUEUE_FULL, "model " + model.name() + "'s queue is full ("
                    + queue.size() + " requests waiting, --queue); retry later");
        }
        return f;
    }

    /** The most images in one forward pass. */
    public int maxBatch() {
        return maxBatch;
    }

    /** Requests waiting (not yet in a batch). */
    public int depth() {
        return queue.size() + (carried != null ? 1 : 0);
    }

    private void loop() {
        while (running || carried != null || !queue.isEmpty()) {
            try {
                Pending first = carried != null ? carried : queue.poll(50, TimeUnit.MILLISECONDS);
                carried = null;
                if (first == null || expired(first)) {
                    continue;
                }
                List<Pending> batch = new ArrayList<>();
                batch.add(first);
                int images = first.n();
                long until = first.enqueued() + maxDelayNanos;
                while (images < maxBatch) {
                    long wait = until - System.nanoTime();
                    Pending p = wait > 0 && (arriving.get() > 0 || !queue.isEmpty())
                            ? queue.poll(Math.min(wait, 1_000_000), TimeUnit.NANOSECONDS) : queue.poll();
                    if (p == null && wait > 1_000_000 && arriving.get() > 0) {
                        continue; // still on its way: look again (in 1 ms steps, so that a withdrawal ends the wait)
                    }
                    if (p == null) {
                        break;
                    }
                    if (expired(p)) {
                        continue;
                    }
                    if (images + p.n() > maxBatch) {
                        carried = p;
                        break;
                    }
                    batch.add(p);
                    images += p.n();
                }
                run(batch, images);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException | Error e) {
                log.error("batcher of model {} failed", model.name(), e);
            }
        }
    }

    private boolean expired(Pending p) {
        if (p.deadline() != 0 && System.nanoTime() - p.deadline() > 0) {
            metrics.dropped(model.name());
            p.future().completeExceptionally(new ServeException(ServeException.Status.TIMEOUT, String.format(
                    java.util.Locale.ROOT, "the request's deadline passed after %.1f ms in the queue",
                    (System.nanoTime() - p.enqueued()) / 1e6)));
            return true;
        }
        return false;
    }

    private void run(List<Pending> batch, int images) {
        int per = model.inputLength();
        float[] x;
        if (batch.size() == 1) {
            x = batch.get(0).x();
        } else {
            x = new float[images * per];
            int at = 0;
            for (Pending p : batch) {
                System.arraycopy(p.x(), 0, x, at, p.n() * per);
                at += p.n() * per;
            }
        }
        long start = System.nanoTime();
        float[] logits;
        try {
            logits = model.run(x, images);
        } catch (RuntimeException | Error e) {
            log.error("inference of a batch of {} on model {} failed", images, model.name(), e);
            for (Pending p : batch) {
                p.future().completeExceptionally(new ServeException(ServeException.Status.INTERNAL,
                        "inference failed: " + e));
            }
            return;
        }
        long done = System.nanoTime();
        metrics.batch(model.name(), images, (done - start) / 1e9);
        int c = model.classes();
        int row = 0;
        for (Pending p : batch) {
            float[] mine = java.util.Arrays.copyOfRange(logits, row * c, (row + p.n()) * c);
            row += p.n();
            metrics.queued(model.name(), (start - p.enqueued()) / 1e9);
            p.future().complete(new Result(mine, images, start - p.enqueued(), done - start));
        }
    }

    /** Stops taking requests, runs every queued one, and stops the thread (waiting at most {@code timeoutMs}). */
    public void drain(long timeoutMs) {
        accepting = false;
        running = false;
        try {
            thread.join(timeoutMs);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Pending late;
        while ((late = queue.poll()) != null) { // offered while the thread was finishing
            late.future().completeExceptionally(new ServeException(ServeException.Status.UNAVAILABLE,
                    "the server is stopping"));
        }
    }

    @Override
    public void close() {
        drain(60_000);
    }
}
