package org.alexnet4j.train;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.deeplearning4j.core.loader.DataSetLoader;
import org.nd4j.common.loader.Source;
import org.nd4j.linalg.dataset.DataSet;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds training batches on Spark executors. The driver hands out one "path" per batch,
 * {@code <dataset URI>#<epoch>/<batch>}; each executor opens the dataset at the same path (a shared filesystem or
 * the same copy on every machine), once per JVM, and builds that batch with the recipe's augmentation exactly as the
 * single-machine iterator would at that position (the order and every crop depend only on seed, epoch and position).
 * Serializable: it carries the recipe, not the data.
 */
final class SparkBatchLoader implements DataSetLoader {
    private static final long serialVersionUID = 1L;
    /** One random-access iterator per dataset and recipe in this JVM (executors run many tasks). */
    private static final Map<String, ImageNetIterator> OPEN = new ConcurrentHashMap<>();

    private final String configJson;
    private final int crop;

    SparkBatchLoader(TrainConfig cfg, int crop) {
        // executors run in working directories of their own: a relative --data must reach them resolved
        TrainConfig forExecutors = TrainConfig.fromJson(cfg.toJson());
        forExecutors.data = Path.of(cfg.data).toAbsolutePath().toString();
        this.configJson = forExecutors.toJson();
        this.crop = crop;
    }

    /** The path the driver gives for batch {@code batch} of epoch {@code epoch}. */
    static String path(String data, int epoch, int batch) {
        return Path.of(data).toAbsolutePath().toUri() + "#" + epoch + "/" + batch;
    }

    @Override
    public DataSet load(Source source) throws IOException {
        String p = source.getPath();
        int hash = p.lastIndexOf('#');
        int slash = p.lastIndexOf('/');
        if (hash < 0 || slash < hash) {
            throw new IllegalArgumentException("not an alexnet4j batch path: " + p);
        }
        int epoch = Integer.parseInt(p.substring(hash + 1, slash));
        int batch = Integer.parseInt(p.substring(slash + 1));
        return iterator().batch(epoch, batch);
    }

    private ImageNetIterator iterator() {
        return OPEN.computeIfAbsent(configJson + "|" + crop, k -> {
            org.alexnet4j.runtime.Backend.init(); // an executor JVM: the same ND4J settings as the CLI
            TrainConfig cfg = TrainConfig.fromJson(configJson);
            try {
                ImageSource train = Datasets.open(Path.of(cfg.data), cfg.dataThreads(), "train").get("train");
                return new ImageNetIterator(train, Recipe.trainPreset(cfg, train.stats(), crop,
                        train.imageSize()), Recipe.iteratorOptions(cfg, 1).withRecycle(false));
            } catch (IOException e) {
                throw new UncheckedIOException("executor cannot open the training data " + cfg.data + " (it must "
                        + "be at the same path on every machine)", e);
            }
        });
    }
}
