package org.alexnet4j.data;

import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.data.transforms.ViewWriter;
import org.alexnet4j.runtime.HostMemory;
import org.alexnet4j.util.OffHeap;
import org.alexnet4j.util.Parallel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A DL4J {@link DataSetIterator} over an {@link ImageSource}: NCHW float32 batches of the views a {@link Preset}
 * makes (a random crop/flip/lighting view for training, the centre view, or the ten test views grouped by image),
 * with one-hot labels.
 *
 * <p>Order and randomness: each epoch's order is a permutation drawn from (seed, epoch) when shuffling, and each
 * image's augmentation from (seed, epoch, position in the epoch), so batches depend only on the seed and the epoch:
 * the same with 1 or 8 threads, and reproducible from any {@link #seek position} (for resuming a run).
 *
 * <p>Batches are built by {@code threads} worker threads, at most {@code prefetch} batches ahead, written straight
 * into off-heap arrays. An image that cannot be decoded is left out of its batch (which is then one image shorter),
 * counted and logged once with its path; with {@code strict} it stops the iteration with an error naming it.
 *
 * <p>Memory: with {@code recycle} (the default), a returned batch's arrays stay valid until {@code held} further calls
 * to {@link #next()} (1 by default), which then hand them back to a small pool that later batches are written into:
 * fresh off-heap memory for every 79 MB batch costs page faults (about 200 ms per batch on this project's VMs),
 * recycled memory does not. DL4J's {@code fit} uses each batch before asking for the next; data-parallel training
 * holds one batch per replica ({@code held} = replicas); other code that keeps batches must {@code dup()} them or
 * turn recycling off.
 *
 * <p>Ten-crop batches have {@code 10 * images} rows, image-major (rows 10i..10i+9 are image i's views; labels
 * repeated), so {@link org.alexnet4j.data.transforms.TenCrop#average} recovers per-image predictions.
 */
public final class ImageNetIterator implements DataSetIterator, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ImageNetIterator.class);

    /** Iteration settings. */
    public record Options(int batch, long seed, int threads, int prefetch, boolean shuffle, boolean strict,
                          boolean recycle, int held) {
        public Options {
            if (held < 1) {
                throw new IllegalArgumentException("held batches must be at least 1, got " + held);
            }
            if (batch < 1) {
                throw new IllegalArgumentException("batch size must be at least 1, got " + batch);
            }
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1, got " + threads);
            }
            if (prefetch < 1) {
                throw new IllegalArgumentException("prefetch must be at least 1, got " + prefetch);
            }
        }

        /** Training defaults: shuffled, prefetch 2 batches per thread, batch memory recycled. */
        public static Options training(int batch, long seed, int threads) {
            return new Options(batch, seed, threads, 2 * threads, true, false, true, 1);
        }

        /** Evaluation defaults: dataset order, batch memory recycled. */
        public static Options evaluation(int batch, int threads) {
            return new Options(batch, 0, threads, 2 * threads, false, false, true, 1);
        }

        public Options withStrict(boolean s) {
            return new Options(batch, seed, threads, prefetch, shuffle, s, recycle, held);
        }

        public Options withRecycle(boolean r) {
            return new Options(batch, seed, threads, prefetch, shuffle, strict, r, held);
        }

        /** Batches loaded ahead of the one being returned. */
        public Options withPrefetch(int p) {
            return new Options(batch, seed, threads, p, shuffle, strict, recycle, held);
        }

        /** How many returned batches the caller uses at once (one per data-parallel replica). */
        public Options withHeld(int h) {
            return new Options(batch, seed, threads, prefetch, shuffle, strict, recycle, h);
        }
    }

    private final ImageSource source;
    private final Preset preset;
    private final Options options;
    private final int numBatches;
    private final ExecutorService workers;
    private final Map<Integer, Future<Batch>> pending = new HashMap<>();
    private final java.util.concurrent.BlockingQueue<INDArray[]> pool;
    private final java.util.ArrayDeque<INDArray[]> lent = new java.util.ArrayDeque<>();
    private final Map<String, String> skippedFiles = new ConcurrentHashMap<>();
    private final AtomicLong skippedThisEpoch = new AtomicLong();
    private final AtomicLong skippedTotal = new AtomicLong();
    private DataSetPreProcessor preProcessor;
    private int epoch;
    private int[] order;
    private int cursor;
    private int submitted;
    private int randomAccessEpoch = -1;
    private int[] randomAccessOrder;

    public ImageNetIterator(ImageSource source, Preset preset, Options options) {
        if (source.size() == 0) {
            throw new IllegalArgumentException("no images in " + source);
        }
        if (preset.cropSize() > source.imageSize()) {
            throw new IllegalArgumentException("crop " + preset.cropSize() + " is larger than the "
                    + source.imageSize() + "x" + source.imageSize() + " images of " + source);
        }
        this.source = source;
        this.preset = preset;
        this.options = options;
        this.numBatches = (source.size() + options.batch() - 1) / options.batch();
        this.workers = Executors.newFixedThreadPool(options.threads(), Parallel.daemonThreads("alexnet4j-data"));
        this.pool = new java.util.concurrent.LinkedBlockingQueue<>();
        this.order = order(0);
    }

    /** Epoch of the batches being returned (0-based). */
    public int epoch() {
        return epoch;
    }

    /** Index within the epoch of the next batch {@link #next()} returns. */
    public int batchIndex() {
        return cursor;
    }

    public int batchesPerEpoch() {
        return numBatches;
    }

    public int imagesPerEpoch() {
        return source.size();
    }

    public ImageSource source() {
        return source;
    }

    public Preset preset() {
        return preset;
    }

    /** Files left out so far (path to reason). */
    public Map<String, String> skippedFiles() {
        return Map.copyOf(skippedFiles);
    }

    /** Images left out so far, counting every presentation. */
    public long skippedCount() {
        return skippedTotal.get();
    }

    /** Continues from batch {@code batch} of epoch {@code epoch}, exactly as an uninterrupted iteration would. */
    public void seek(int epoch, int batch) {
        if (epoch < 0 || batch < 0 || batch > numBatches) {
            throw new IllegalArgumentException("cannot seek to epoch " + epoch + " batch " + batch + " (of "
                    + numBatches + ")");
        }
        if (epoch == this.epoch && batch == cursor) {
            return; // already there: keep the batches being loaded
        }
        cancelPending();
        this.epoch = epoch;
        this.order = order(epoch);
        this.cursor = batch;
        this.submitted = batch;
        skippedThisEpoch.set(0);
    }

    private int[] order(int e) {
        int n = source.size();
        int[] o = new int[n];
        for (int i = 0; i < n; i++) {
            o[i] = i;
        }
        if (options.shuffle()) {
            SplittableRandom rng = new SplittableRandom(Seeds.mix(options.seed(), e, -1));
            for (int i = n - 1; i > 0; i--) {
                int j = rng.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
        }
        return o;
    }

    /**
     * Batch {@code batch} of epoch {@code epoch}, built on the calling thread: exactly what {@link #next()} returns
     * at that position. Random access for distributed training, where each executor builds the batches it is given;
     * thread-safe, and only with recycling off (the caller keeps the arrays).
     */
    public DataSet batch(int epoch, int batch) {
        if (options.recycle()) {
            throw new IllegalStateException("random access needs Options.withRecycle(false)");
        }
        if (epoch < 0 || batch < 0 || batch >= numBatches) {
            throw new IllegalArgumentException("no batch " + batch + " of epoch " + epoch + " (" + numBatches
                    + " batches per epoch)");
        }
        int[] ord;
        synchronized (this) {
            if (randomAccessEpoch != epoch) {
                randomAccessOrder = order(epoch);
                randomAccessEpoch = epoch;
            }
            ord = randomAccessOrder;
        }
        return build(epoch, ord, batch).data();
    }

    @Override
    public boolean hasNext() {
        return cursor < numBatches;
    }

    @Override
    public DataSet next() {
        if (!hasNext()) {
            throw new java.util.NoSuchElementException("epoch " + epoch + " is over; call reset()");
        }
        giveBack();
        fill();
        Future<Batch> f = pending.remove(cursor);
        DataSet ds;
        try {
            Batch batch = f.get();
            ds = batch.data();
            if (batch.buffers() != null) {
                lent.addLast(batch.buffers());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while loading a batch", e);
        } catch (ExecutionException e) {
            cancelPending();
            submitted = cursor; // a later next() retries this batch instead of finding nothing
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("loading batch " + cursor + " failed: " + cause, cause);
        }
        cursor++;
        fill();
        if (cursor == numBatches && skippedThisEpoch.get() > 0) {
            log.warn("epoch {}: {} unreadable images left out ({} distinct files so far)", epoch,
                    skippedThisEpoch.get(), skippedFiles.size());
        }
        if (preProcessor != null) {
            preProcessor.preProcess(ds);
        }
        return ds;
    }

    private void fill() {
        int limit = Math.min(numBatches, cursor + options.prefetch());
        while (submitted < limit) {
            int b = submitted++;
            int e = epoch;
            int[] ord = order;
            pending.put(b, workers.submit(() -> build(e, ord, b)));
        }
    }

    private void cancelPending() {
        for (Future<Batch> f : pending.values()) {
            f.cancel(false);
        }
        pending.clear();
    }

    /** A built batch and the pooled arrays it lives in (null when not recycled). */
    private record Batch(DataSet data, INDArray[] buffers) {
    }

    /** Returns the arrays of batches handed out {@code held} calls ago to the pool: the caller is done with them. */
    private void giveBack() {
        while (lent.size() >= options.held()) {
            pool.offer(lent.removeFirst());
        }
    }

    /** Builds batch {@code b} of epoch {@code e}. Runs on a worker thread. */
    private Batch build(int e, int[] ord, int b) {
        int from = b * options.batch();
        int to = Math.min(source.size(), from + options.batch());
        int views = preset.viewsPerImage();
        int crop = preset.cropSize();
        int viewLength = 3 * crop * crop;
        int classes = source.wnids().size();
        long fullRows = (long) options.batch() * views;
        // Java writes the batch straight into ND4J's memory only where that is correct (HostMemory); elsewhere into
        // Java arrays that ND4J copies in (the device-safe twin; no pooling then)
        boolean direct = HostMemory.direct();
        boolean recycle = options.recycle() && direct;
        INDArray[] buffers = recycle ? pool.poll() : null;
        if (buffers == null && direct) {
            buffers = new INDArray[]{OffHeap.floatArray(fullRows, 3, crop, crop), OffHeap.floatArray(fullRows, classes)};
        }
        float[] heap = direct ? null : new float[Math.toIntExact(fullRows * viewLength)];
        INDArray features = direct ? buffers[0] : null;
        java.nio.FloatBuffer dst = direct ? OffHeap.buffer(features) : java.nio.FloatBuffer.wrap(heap);
        List<Integer> labels = new ArrayList<>(to - from);
        List<java.io.Serializable> images = new ArrayList<>(to - from); // source index of every row
        int rows = 0;
        for (int pos = from; pos < to; pos++) {
            int i = ord[pos];
            RgbImage image;
            try {
                image = source.load(i);
            } catch (ImageCodec.DecodeException | IOException ex) {
                skip(source.path(i), ex.getMessage());
                continue;
            }
            SplittableRandom rng = new SplittableRandom(Seeds.mix(options.seed(), e, pos));
            for (Preset.View v : preset.views(image.width(), rng)) {
                ViewWriter.write(image, v.crop(), v.lighting(), preset.normalization(), dst, rows * viewLength);
                labels.add(source.label(i));
                images.add(i);
                rows++;
            }
        }
        float[] oneHot = new float[rows * classes];
        for (int r = 0; r < rows; r++) {
            oneHot[r * classes + labels.get(r)] = 1f;
        }
        if (rows == 0) {
            return new Batch(new DataSet(Nd4j.create(DataType.FLOAT, 0, 3, crop, crop),
                    Nd4j.create(DataType.FLOAT, 0, classes)), recycle ? buffers : null);
        }
        INDArray y;
        if (direct) {
            y = buffers[1];
            OffHeap.pointer(y).put(oneHot, 0, oneHot.length);
        } else {
            features = Nd4j.create(rows == fullRows ? heap : java.util.Arrays.copyOf(heap, rows * viewLength),
                    new long[]{rows, 3, crop, crop}, 'c');
            y = Nd4j.create(oneHot, new long[]{rows, classes}, 'c');
        }
        if (direct && rows < fullRows) { // a short batch: a view of the first rows (contiguous in C order)
            features = features.get(NDArrayIndex.interval(0, rows));
            y = y.get(NDArrayIndex.interval(0, rows));
        }
        DataSet ds = new DataSet(features, y);
        ds.setExampleMetaData(images); // which image each row shows (features, file names)
        return new Batch(ds, recycle ? buffers : null);
    }

    private void skip(String path, String reason) {
        if (options.strict()) {
            throw new IllegalStateException("--strict: cannot read " + path + ": " + reason);
        }
        skippedThisEpoch.incrementAndGet();
        skippedTotal.incrementAndGet();
        if (skippedFiles.putIfAbsent(path, reason) == null) {
            log.warn("skipping unreadable image {}: {} ({} skipped so far)", path, reason, skippedTotal.get());
        }
    }

    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("ImageNetIterator has a fixed batch size (" + options.batch()
                + "); use next()");
    }

    @Override
    public int inputColumns() {
        return 3 * preset.cropSize() * preset.cropSize();
    }

    @Override
    public int totalOutcomes() {
        return source.wnids().size();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    @Override
    public boolean asyncSupported() {
        return false; // it prefetches on its own threads
    }

    /** Starts the next epoch (a new order); does nothing if no batch of the current epoch was taken yet. */
    @Override
    public void reset() {
        if (cursor == 0) {
            return;
        }
        seek(epoch + 1, 0);
    }

    @Override
    public int batch() {
        return options.batch();
    }

    @Override
    public void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return source.wnids();
    }

    @Override
    public void close() {
        cancelPending();
        workers.shutdownNow();
        pool.clear();
        lent.clear();
    }
}
