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
