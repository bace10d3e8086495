package org.alexnet4j.train;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;

/**
 * What a {@link TrainConfig} makes: the net it describes, its optimiser, its training augmentation and validation
 * views, and its iterator settings. {@link Trainer}, Spark's executors, fine-tuning and hyperparameter search build
 * from the recipe through here.
 */
public final class Recipe {
    private Recipe() {
    }

    /** The variant the recipe trains ("paper" unless its "model" says otherwise). */
    public static Variant variant(TrainConfig cfg) {
        return Variant.fromId(cfg.model == null ? "paper" : cfg.model);
    }

    /**
     * The net a recipe describes: its "model", "width", "inputSize" and "dropout" (the variant's defaults where
     * unset), seeded with its seed, as {@code alexnet4j train} builds it from a config file.
     */
    public static AlexNet model(TrainConfig cfg) {
        AlexNet.Builder b = AlexNet.builder(variant(cfg)).seed(cfg.seed);
        if (cfg.width != null) {
            b.width(cfg.width);
        }
        if (cfg.inputSize != null) {
            b.inputSize(cfg.inputSize);
        }
        if (cfg.dropout != null) {
            b.dropout(cfg.dropout);
        }
        return b.build();
    }

    /** The recipe's optimiser at learning rate {@code lr}: the paper's classical momentum, or Adam. */
    public static org.nd4j.linalg.learning.config.IUpdater updater(TrainConfig cfg, double lr) {
        return cfg.optimizer == Optimizer.ADAM ? new org.nd4j.linalg.learning.config.Adam(lr)
                : new ClassicalMomentum(lr, cfg.momentum);
    }

    /**
     * The recipe's input ({@link Preprocessing#training}): its normalisation kind with the training data's
     * statistics ({@code trainStats}: a prepared cache's, or null for the published constants).
     */
    public static Preprocessing.Input input(TrainConfig cfg, DatasetStats trainStats, int crop, int size) {
        return Preprocessing.training(variant(cfg), crop, cfg.normalize, trainStats, size);
    }

    /** How the recipe validates: centre crops with its normalisation. */
    public static Preset validationPreset(TrainConfig cfg, DatasetStats trainStats, int crop, int size) {
        return input(cfg, trainStats, crop, size).views(false);
    }

    /**
     * The training augmentation of the recipe: random crops, flips, PCA lighting (with the training data's
     * eigen-decomposition, else the published one), the recipe's normalisation.
     */
    public static Preset trainPreset(TrainConfig cfg, DatasetStats trainStats, int crop, int size) {
        DatasetStats lighting = trainStats != null ? trainStats : DatasetStats.published(size);
        return Preset.train(crop, cfg.lighting > 0 ? PcaLighting.of(lighting, cfg.lighting) : null,
                input(cfg, trainStats, crop, size).normalization());
    }

    /** The training iterator's settings for this recipe ({@code held}: batches in use at once). */
    public static ImageNetIterator.Options iteratorOptions(TrainConfig cfg, int held) {
        ImageNetIterator.Options opts = ImageNetIterator.Options.training(cfg.batch, cfg.seed, cfg.dataThreads())
                .withStrict(cfg.strict).withHeld(held);
        return cfg.prefetch > 0 ? opts.withPrefetch(cfg.prefetch) : opts;
    }
}
