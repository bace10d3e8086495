package org.alexnet4j.train;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.parallelism.ParallelWrapper;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Data-parallel training through DL4J's {@link ParallelWrapper}: {@code replicas} copies of the network (one per GPU
 * with the CUDA backend, one per worker thread on the CPU) each train on their own batch; a step is one batch per
 * replica. In {@link Mode#AVERAGING} the parameters and the updater state (momentum) are averaged every
 * {@code averagingFrequency} steps; averaging after every step is plain SGD on the mean gradient of all replicas'
 * batches, i.e. a single-device step with an effective batch of {@code replicas * batch} at the same learning rate.
 *
 * <p>ParallelWrapper has a history of silent averaging bugs, so this class checks it: at the start of every step that
 * follows an averaging (and the first step, right after the replicas were copied), every replica fingerprints its
 * parameters (a strided sample, bit for bit) and the fingerprints must agree; if they do not, training stops with an
 * error instead of continuing with replicas that drifted apart. {@link #averagingsVerified()} counts the checks passed.
 *
 * <p>Three flaws of ParallelWrapper (1.0.0-M2.1) are handled here. Its replicas copy the original network's
 * parameters when their threads get going, while worker 0 is already training the original (on a large net the
 * copies catch it mid-update and the replicas start from different points): every replica waits at its first forward
 * pass (before any update) until all have their copies. Each {@code fit} call ends by discarding the replicas (worker
 * 0's network, the original, keeps its parameters), so a call whose step count is not a multiple of the averaging
 * frequency would lose the replicas' last steps: it is split and its tail averaged once at its end. Its step counter
 * runs across calls: it is reset per call so the averaging points line up with the steps this class counts. Its own prefetcher is off: the project's iterator
 * already loads batches on its own threads ({@code --prefetch} sets how far ahead).
 */
public final class DataParallel implements StepEngine {
    private static final Logger log = LoggerFactory.getLogger(DataParallel.class);

    /** How replicas combine their work. */
    public enum Mode {
        /** Average parameters and updater state every {@code averagingFrequency} steps. */
        AVERAGING("averaging"),
        /** Exchange threshold-encoded updates after every step (DL4J's gradient sharing). */
        SHARED_GRADIENTS("shared-gradients");

        public final String id;

        Mode(String id) {
            this.id = id;
        }

        /** The name in flags and config.json. */
        @Override
        public String toString() {
            return id;
        }

        public static Mode fromId(String id) {
            for (Mode m : values()) {
                if (m.id.equals(id)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--parallel-mode must be averaging or shared-gradients, got " + id);
        }
    }

    private final ComputationGraph graph;
    private final int replicas;
    private final Mode mode;
    private final int averagingFrequency;
    /** Tests only: the frequency given to ParallelWrapper regardless of the above (0: as planned). */
    private final int forcedFrequency;
    private final double weightDecay;
    private final ParallelWrapper wrapper;
    private final Monitor monitor = new Monitor();

    /** Wraps {@code graph}; it is trained in place (as worker 0) and holds the result after every call. */
    public DataParallel(ComputationGraph graph, int replicas, Mode mode, int averagingFrequency, double weightDecay) {
        this(graph, replicas, mode, averagingFrequency, 0, weightDecay);
    }

    /**
     * As above, but ParallelWrapper itself is told to average every {@code forcedFrequency} steps (if positive)
     * while the check still expects {@code averagingFrequency}: how tests make a run whose replicas do not average.
     */
    DataParallel(ComputationGraph graph, int replicas, Mode mode, int averagingFrequency, int forcedFrequency,
                 double weightDecay) {
        if (replicas < 2) {
            throw new IllegalArgumentException("data-parallel training needs at least 2 replicas, got " + replicas);
        }
        if (averagingFrequency < 1) {
            throw new IllegalArgumentException("--averaging-frequency must be at least 1, got " + averagingFrequency);
        }
        this.graph = graph;
        this.replicas = replicas;
        this.mode = mode;
        this.averagingFrequency = averagingFrequency;
        this.forcedFrequency = forcedFrequency;
        this.weightDecay = weightDecay;
        this.wrapper = new ParallelWrapper.Builder<>(graph)
                .workers(replicas)
                .prefetchBuffer(0)
                .averagingFrequency(averagingFrequency)
                .averageUpdaters(true)
                .reportScoreAfterAveraging(false)
                .workspaceMode(WorkspaceMode.ENABLED)
                .trainingMode(mode == Mode.AVERAGING ? ParallelWrapper.TrainingMode.AVERAGING
                        : ParallelWrapper.TrainingMode.SHARED_GRADIENTS)
                .build();
        wrapper.setListeners(monitor);
    }

    @Override
    public int batchesPerStep() {
        return replicas;
    }

    /** Post-averaging steps whose replicas were checked and agreed, over the life of this engine. */
    public long averagingsVerified() {
        synchronized (monitor) {
            return monitor.verified;
        }
    }

    @Override
    public int train(DataSetIterator data, int batches, StepListener listener) {
        if (batches <= 0) {
            return 0;
        }
        int steps = (batches + replicas - 1) / replicas;
        int tail = mode == Mode.AVERAGING ? steps % averagingFrequency : 0;
        int done = 0;
        if (steps > tail) {
            int first = Math.min(batches, (steps - tail) * replicas);
            done = fit(data, first, averagingFrequency, listener);
            if (done < first) {
                return done;
            }
        }
        if (tail > 0) {
            // averaged once, at the end of this call, instead of being thrown away with the replicas
            done += fit(data, batches - done, tail, listener);
        }
        return done;
    }

    /** One ParallelWrapper fit over {@code batches} batches, averaging every {@code frequency} steps. */
    private int fit(DataSetIterator data, int batches, int frequency, StepListener listener) {
        Limited limited = new Limited(data, batches);
        monitor.begin(batches, frequency, listener, limited);
        wrapper.setAveragingFrequency(forcedFrequency > 0 ? forcedFrequency : frequency);
        wrapper.getIterationsCounter().set(0);
        try {
            wrapper.fit(limited);
        } finally {
            monitor.end();
        }
        String failure = monitor.failure;
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
        return monitor.batchesDone;
    }

    @Override
    public void close() {
        wrapper.shutdown();
        if (mode == Mode.AVERAGING) {
            log.info("data-parallel: replicas checked and equal after {} averagings", averagingsVerified());
        }
    }

    /**
     * A fingerprint of a network's parameters: a hash of the bits of an evenly strided sample of about a million
     * values. Replicas that were just averaged hold identical arrays, so their fingerprints are equal; replicas that
     * trained on different batches differ in practically every sampled value.
     */
    static int fingerprint(INDArray params) {
        INDArray flat = params.reshape(params.length());
        long n = flat.length();
        long stride = Math.max(1, n >> 20);
        INDArray sample = stride == 1 ? flat : flat.get(NDArrayIndex.interval(0, stride, n));
        return Arrays.hashCode(sample.toFloatVector());
    }

    /** Follows every replica's steps (on the worker threads): fingerprints, losses, step completion. */
    private final class Monitor extends BaseTrainingListener {
        private final Map<Model, Integer> stepsOf = new IdentityHashMap<>();
        private final Map<Integer, List<Integer>> prints = new HashMap<>();
        private final Map<Integer, double[]> partial = new HashMap<>();
        private int batches;
        private int checked;
        private StepListener listener;
        private Limited source;
        private int stepsDone;
        private int batchesDone;
        private long lastStepEnd;
        private volatile String failure;
        private long verified;
        private boolean ended;

        synchronized void begin(int batches, int checked, StepListener listener, Limited source) {
            this.batches = batches;
            this.checked = checked;
            this.listener = listener;
            this.source = source;
            stepsOf.clear();
            prints.clear();
            partial.clear();
            stepsDone = 0;
            batchesDone = 0;
            failure = null;
            ended = false;
            lastStepEnd = System.nanoTime();
        }

        synchronized void end() {
            listener = null;
            source = null;
            ended = true;
            notifyAll();
        }

        private int replicasIn(int step) {
            return Math.min(replicas, batches - step * replicas);
        }

        @Override
        public void onForwardPass(Model model, Map<String, INDArray> activations) {
            int step;
            synchronized (this) {
                step = stepsOf.getOrDefault(model, 0);
            }
            boolean averaged = mode == Mode.AVERAGING && step % checked == 0;
            if (step != 0 && !averaged) {
                return;
            }
            int print = fingerprint(model.params()); // outside the lock: replicas fingerprint in parallel
            synchronized (this) {
                List<Integer> got = prints.computeIfAbsent(step, k -> new ArrayList<>());
                got.add(print);
                if (got.size() == replicasIn(step)) {
                    if (got.size() > 1 && got.stream().distinct().count() > 1) {
                        fail(String.format(Locale.ROOT, "data-parallel replicas hold different parameters at the "
                                + "start of step %d of this round, where ParallelWrapper should just have %s them "
                                + "(fingerprints %s): training stopped, the last checkpoint is intact", step + 1,
                                step == 0 ? "copied" : "averaged", got));
                    } else if (step > 0) {
                        verified++;
                    }
                    notifyAll();
                }
                // ParallelWrapper starts the replicas' threads and feeds worker 0 (the original network) at once;
                // a replica copies the original's parameters when its thread gets going, which for a large net is
                // after worker 0 has begun updating them. Nobody passes the first forward pass (updates come after
                // it) before every replica has its copy.
                while (step == 0 && !ended && prints.get(0).size() < replicasIn(0) && failure == null) {
                    try {
                        wait(10);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        @Override
        public void iterationDone(Model model, int iteration, int epoch) {
            double loss = StepEngine.dataLoss((ComputationGraph) model, weightDecay);
            synchronized (this) {
                int step = stepsOf.getOrDefault(model, 0);
                stepsOf.put(model, step + 1);
                double[] p = partial.computeIfAbsent(step, k -> new double[2]);
                p[0]++;
                p[1] += loss;
                if (p[0] < replicasIn(step)) {
                    return;
                }
                partial.remove(step);
                long now = System.nanoTime();
                double dataSecs = source.takeSeconds();
                long images = source.takeImages((int) p[0]);
                double secs = (now - lastStepEnd) / 1e9;
                lastStepEnd = now;
                stepsDone++;
                batchesDone += (int) p[0];
                boolean go = listener.onStep(new Step((int) p[0], images, p[1] / p[0], dataSecs,
                        Math.max(0, secs - dataSecs)));
                if (!go || failure != null) {
                    wrapper.stopFit();
                }
            }
        }

        private void fail(String message) {
            if (failure == null) {
                failure = message;
                log.error(message);
            }
            wrapper.stopFit();
        }
    }

    /** The next {@code limit} batches of an iterator, timing the waits for them. */
    private static final class Limited implements DataSetIterator {
        private final DataSetIterator source;
        private final int limit;
        private int taken;
        private long waitNanos;
        private final java.util.ArrayDeque<Long> sizes = new java.util.ArrayDeque<>();

        Limited(DataSetIterator source, int limit) {
            this.source = source;
            this.limit = limit;
        }

        synchronized double takeSeconds() {
            double s = waitNanos / 1e9;
            waitNanos = 0;
            return s;
        }

        /** Images in the next {@code count} batches handed out (batches are trained in the order they are taken). */
        synchronized long takeImages(int count) {
            long n = 0;
            for (int i = 0; i < count && !sizes.isEmpty(); i++) {
                n += sizes.removeFirst();
            }
            return n;
        }

        @Override
        public boolean hasNext() {
            return taken < limit && source.hasNext();
        }

        @Override
        public DataSet next() {
            long t0 = System.nanoTime();
            DataSet ds = source.next();
            synchronized (this) {
                waitNanos += System.nanoTime() - t0;
                sizes.addLast(ds.getFeatures().size(0));
            }
            taken++;
            return ds;
        }

        @Override
        public DataSet next(int num) {
            throw new UnsupportedOperationException("fixed batch size");
        }

        @Override
        public int inputColumns() {
            return source.inputColumns();
        }

        @Override
        public int totalOutcomes() {
            return source.totalOutcomes();
        }

        @Override
        public boolean resetSupported() {
            return false;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public void reset() {
            throw new UnsupportedOperationException("a bounded view of a training iterator");
        }

        @Override
        public int batch() {
            return source.batch();
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            throw new UnsupportedOperationException("set it on the underlying iterator");
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return source.getPreProcessor();
        }

        @Override
        public List<String> getLabels() {
            return source.getLabels();
        }
    }
}
