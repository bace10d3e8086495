package org.alexnet4j.train;

import org.alexnet4j.data.ImageNetIterator;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.spark.impl.graph.SparkComputationGraph;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Training on Apache Spark with DL4J's {@link ParameterAveragingTrainingMaster}: each of {@code workers} Spark tasks
 * trains its own copy of the network on {@code averagingFrequency} batches, then the driver averages parameters and
 * updater state and broadcasts them for the next round. One step of the training loop is one such round
 * ({@code workers * averagingFrequency} batches); the loop around it (schedule, checkpoints, metrics, evaluation)
 * runs on the driver exactly as on one machine.
 *
 * <p>Data: no batch travels through Spark. The driver sends batch addresses ({@link SparkBatchLoader#path}); the
 * executors build the batches from the dataset, which must be at the same path on every machine.
 *
 * <p>Gradient sharing ({@code SharedTrainingMaster}) is not offered: with this stack it runs without learning
 * (docs/stack.md).
 */
final class SparkTraining implements StepEngine {
    private static final Logger log = LoggerFactory.getLogger(SparkTraining.class);

    private final JavaSparkContext sc;
    private final SparkComputationGraph sparkNet;
    private final ComputationGraph graph;
    private final SparkBatchLoader loader;
    private final String data;
    private final int workers;
    private final int perStep;
    private final double weightDecay;
    private final int batch;

    /** Starts a Spark context on {@code cfg.spark}; {@code graph} is trained in place. */
    SparkTraining(ComputationGraph graph, TrainConfig cfg, int crop, Path runDir) {
        SparkConf conf = new SparkConf().setAppName("alexnet4j train " + runDir.getFileName())
                .setMaster(cfg.spark)
                .setIfMissing("spark.ui.enabled", "false");
        if (cfg.spark.startsWith("local")) {
            conf.setIfMissing("spark.driver.host", "localhost")
                    .setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        } else if (onLoopback(cfg.spark)) {
            // a cluster on this machine (scripts/spark-cluster.sh): the driver stays on the loopback address too,
            // instead of the host name's address that executors would call back on
            conf.setIfMissing("spark.driver.host", "127.0.0.1")
                    .setIfMissing("spark.driver.bindAddress", "127.0.0.1");
        }
        this.sc = new JavaSparkContext(conf);
        awaitExecutors(sc, cfg.spark);
        this.workers = cfg.sparkWorkers > 0 ? cfg.sparkWorkers : sc.defaultParallelism();
        ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(workers, cfg.batch)
                .batchSizePerWorker(cfg.batch)
                .averagingFrequency(cfg.averagingFrequency)
                .workerPrefetchNumBatches(0) // the loader builds each batch on the task's thread
                .saveUpdater(true)
                .rngSeed(cfg.seed)
                .collectTrainingStats(false)
                .build();
        this.graph = graph;
        this.sparkNet = new SparkComputationGraph(sc, graph, tm);
        this.loader = new SparkBatchLoader(cfg, crop);
        this.data = cfg.data;
        this.perStep = workers * cfg.averagingFrequency;
        this.weightDecay = cfg.weightDecay;
        this.batch = cfg.batch;
        log.info(String.format(Locale.ROOT, "Spark %s: %d workers, batch %d each, parameters and momentum averaged "
                        + "every %d batch(es) per worker: %d images per step", cfg.spark, workers, cfg.batch,
                cfg.averagingFrequency, perStep * cfg.batch));
    }

    /** Whether a {@code spark://host:port} master URL names this machine's loopback address. */
    /** Setting: how long a cluster master may take to start this application's first executor (default 120 s). */
    static final String EXECUTOR_WAIT = "spark.alexnet4j.executorWaitSeconds";
    /** Setting: the master's web UI (for its workers' offers in the sentence; default: the master's host, port 8080). */
    static final String MASTER_WEB_UI = "spark.alexnet4j.masterWebUi";

    /**
     * Waits for the first executor on a cluster master; none within {@link #EXECUTOR_WAIT}: the context stops and the
     * run fails with what the application asked for and what the workers offer, instead of Spark's driver printing
     * "Initial job has not accepted any resources" every 15 s for ever.
     */
    private static void awaitExecutors(JavaSparkContext sc, String master) {
        if (!master.startsWith("spark://")) {
            return;
        }
        SparkConf conf = sc.getConf();
        long waitS = conf.getLong(EXECUTOR_WAIT, 120);
        long deadline = System.nanoTime() + waitS * 1_000_000_000L;
        while (sc.sc().getExecutorMemoryStatus().size() <= 1) { // the driver counts as one
            if (System.nanoTime() - deadline > 0) {
                String ui = conf.get(MASTER_WEB_UI, "http://" + master.substring("spark://".length())
                        .replaceFirst(":\\d+$", "") + ":8080");
                String json = masterJson(ui);
                String sentence = noExecutors(master, waitS, conf.get("spark.executor.cores", null),
                        conf.get("spark.executor.memory", "1g"), ui, json);
                sc.stop();
                throw new IllegalStateException(sentence);
            }
            try {
                Thread.sleep(500);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                sc.stop();
                throw new IllegalStateException("interrupted while waiting for Spark executors", e);
            }
        }
    }

    private static String masterJson(String ui) {
        try {
            java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create(ui + "/json/"))
                            .timeout(java.time.Duration.ofSeconds(5)).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /**
     * The sentence for a cluster that started no executor: what was asked ({@code cores} null: all of a worker's),
     * and each worker's offer from the master's JSON ({@code null}: the master could not be asked).
     */
    static String noExecutors(String master, long waitS, String cores, String memory, String ui, String json) {
        StringBuilder s = new StringBuilder("no Spark executor started on " + master + " within " + waitS + " s: "
                + "this application asks for " + (cores != null ? cores + " cores" : "a worker's cores") + " and "
                + memory + " of memory per executor (spark.executor.cores, spark.executor.memory)");
        List<String> offers = new ArrayList<>();
        if (json != null) {
            try {
                for (com.fasterxml.jackson.databind.JsonNode w : new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(json).path("workers")) {
                    offers.add(String.format(Locale.ROOT, "%s %s: %d of %d cores free, %d MB of memory free",
                            w.path("id").asText(), w.path("state").asText(), w.path("coresfree").asInt(),
                            w.path("cores").asInt(), w.path("memoryfree").asInt()));
                }
            } catch (java.io.IOException e) {
                json = null;
            }
        }
        if (json == null) {
            s.append("; the master's workers could not be listed (no JSON at ").append(ui).append("/json/; set ")
                    .append(MASTER_WEB_UI).append(")");
        } else if (offers.isEmpty()) {
            s.append("; the master has no workers");
        } else {
            s.append("; the master's workers offer: ").append(String.join("; ", offers));
        }
        return s.append(". Ask for less (scripts/spark-submit.sh --cores N --executor-memory M) or give the workers "
                + "more (scripts/spark-cluster.sh start --cores C --memory M)").toString();
    }

    static boolean onLoopback(String master) {
        return master.matches("spark://(127\\.0\\.0\\.1|localhost)(:\\d+)?(,.*)?");
    }

    @Override
    public int batchesPerStep() {
        return perStep;
    }

    /** {@code data} must be the training iterator, positioned where training continues; it is not consumed. */
    @Override
    public int train(DataSetIterator data, int batches, StepListener listener) {
        ImageNetIterator it = (ImageNetIterator) data;
        int epoch = it.epoch();
        int from = it.batchIndex();
        int done = 0;
        while (done < batches) {
            int n = Math.min(perStep, batches - done);
            List<String> paths = new ArrayList<>(n);
            long images = 0;
            for (int b = from + done; b < from + done + n; b++) {
                paths.add(SparkBatchLoader.path(this.data, epoch, b));
                images += Math.min(batch, it.imagesPerEpoch() - (long) b * batch);
            }
            long t0 = System.nanoTime();
            sparkNet.fitPaths(sc.parallelize(paths, Math.min(n, workers)), loader);
            double secs = (System.nanoTime() - t0) / 1e9;
            // the workers' mean score includes the weight penalty; take it out as on one machine
            double loss = sparkNet.getScore() - (weightDecay > 0 ? graph.calcRegularizationScore(true) : 0);
            done += n;
            if (!listener.onStep(new Step(n, images, loss, 0, secs))) {
                break;
            }
        }
        it.seek(epoch, from + done);
        return done;
    }

    @Override
    public void close() {
        try {
            sparkNet.getTrainingMaster().deleteTempFiles(sc);
        } finally {
            sc.stop();
        }
    }
}
