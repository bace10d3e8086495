package org.alexnet4j.eval;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Resize;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;

import java.util.Locale;

/**
 * Each variant's own input preprocessing, the way its published weights were made:
 * <ul>
 *   <li>{@code paper}: shorter side 256, central 256x256, centre 227, minus the mean image (a cache's training mean,
 *       else the published per-channel ImageNet mean), 0..255 scale, RGB (section 2).</li>
 *   <li>{@code torchvision}: shorter side 256, centre 224, {@code (v - mean) / std} per channel on 0..1 RGB with
 *       torchvision's published mean/std.</li>
 *   <li>{@code caffe}: the whole image warped to 256x256 (aspect ignored), centre 227, 0..255, minus Caffe's mean
 *       (a cache's mean image, else the published mean pixel of {@code ilsvrc_2012_mean.binaryproto}), BGR planes.</li>
 * </ul>
 * This class is the one place that decides a net's input: its resize, crop, channel order, normalisation kind and
 * which statistics it uses ({@link #input}); training, validation, {@code eval}, {@code predict}, {@code features},
 * {@code serve} and the engines ask it.
 */
public final class Preprocessing {
    /** Caffe's ImageNet mean pixel, B, G, R on 0..255 (per-channel average of ilsvrc_2012_mean.binaryproto). */
    public static final double[] CAFFE_MEAN_BGR = {104.00698793, 116.66876762, 122.67891434};

    private Preprocessing() {
    }

    /**
     * What a net was trained with, as its run directory records it.
     *
     * @param kind        the normalisation kind of the recipe
     * @param stats       the training statistics, or null for the published constants
     * @param statsSource where the statistics came from, for logs ("the run's", "the dataset ...", "published")
     */
    public record Trained(Normalization.Kind kind, DatasetStats stats, String statsSource) {
    }

    /**
     * A net's input: the normalisation of its views and where its statistics came from.
     *
     * @param normalization the last step of every view, in the net's channel order
     * @param statsSource   "published", "computed" (a cache's), or what {@link Trained#statsSource} said
     */
    public record Input(Variant variant, int crop, Normalization normalization, String statsSource) {
        /** The centre view, or the paper's ten views. */
        public Preset views(boolean tenCrop) {
            return tenCrop ? Preset.tenCrop(crop, normalization) : Preset.center(crop, normalization);
        }

        /** One line for logs and JSON: what the input goes through. */
        public String describe() {
            return Preprocessing.describe(variant, crop, normalization, statsSource);
        }
    }

    /**
     * The one rule for a net's input normalisation.
     * <ul>
     *   <li>kind: {@code override} (a command's {@code --normalize}), else what the net trained with, else the
     *       variant's default ({@link #defaultKind});</li>
     *   <li>statistics: the published constants when {@code published} is asked for; else what the net trained with
     *       (a run's, self-contained in its directory); else {@code data}'s (a prepared cache's), except for
     *       torchvision nets, whose published weights were made with torchvision's published mean/std.</li>
     * </ul>
     *
     * @param trained   what the net trained with (a run), or null for weights from elsewhere
     * @param data      the statistics of the data it is about to read (a prepared cache's), or null
     * @param published use the published constants whatever else is known
     * @param size      side of the source squares (256)
     */
    public static Input input(AlexNet net, Normalization.Kind override, Trained trained, DatasetStats data,
                              boolean published, int size) {
        Normalization.Kind kind = override != null ? override : trained != null ? trained.kind() : null;
        DatasetStats stats;
        String source;
        if (published) {
            stats = null;
            source = "published";
        } else if (trained != null) {
            stats = trained.stats();
            source = trained.statsSource();
        } else if (net.variant() == Variant.TORCHVISION) {
            stats = null;
            source = "published";
        } else {
            stats = data;
            source = data != null ? data.source() : "published";
        }
        return new Input(net.variant(), net.inputSize(), normalization(net.variant(), kind, stats, size), source);
    }

    /**
     * The training recipe's input (its validation views, and the normalisation its augmented views end with): the
     * recipe's kind with the training data's statistics, exactly as {@link #input} gives it to a run afterwards.
     *
     * @param trainStats a prepared cache's training statistics, or null (the published constants)
     */
    public static Input training(Variant variant, int crop, Normalization.Kind kind, DatasetStats trainStats,
                                 int size) {
        return new Input(variant, crop, normalization(variant, kind, trainStats, size), trainStats != null
                ? trainStats.source() : "published");
    }

    /** How source images become the 256x256 square the crops are taken from. */
    public static Resize resize(AlexNet net) {
        return resize(net.variant());
    }

    /** How source images become the 256x256 square the crops are taken from, for {@code variant}. */
    public static Resize resize(Variant variant) {
        return variant == Variant.CAFFE ? Resize.WARP : Resize.CENTER;
    }

    /** The normalisation a variant's weights expect unless told otherwise. */
    public static Normalization.Kind defaultKind(Variant variant) {
        return variant == Variant.TORCHVISION ? Normalization.Kind.CHANNEL : Normalization.Kind.MEAN_IMAGE;
    }

    /**
     * The normalisation for {@code net}.
     *
     * @param kind  null for the variant's default ({@link #defaultKind})
     * (private to {@link #input} and {@link #training}: the commands ask for an {@link Input})
     * @param stats a cache's training statistics, or null for the published constants
     * @param size  side of the source squares (256)
     */
    static Normalization normalization(Variant variant, Normalization.Kind kind, DatasetStats stats, int size) {
        Normalization.Kind k = kind != null ? kind : defaultKind(variant);
        if (variant != Variant.CAFFE) {
            return Normalization.of(k, stats != null ? stats : DatasetStats.published(size));
        }
        Normalization n;
        if (k == Normalization.Kind.MEAN_IMAGE && stats != null) {
            n = Normalization.meanImage(stats);
        } else if (k == Normalization.Kind.MEAN_IMAGE) {
            n = Normalization.meanPixel(new double[]{CAFFE_MEAN_BGR[2] / 255, CAFFE_MEAN_BGR[1] / 255,
                    CAFFE_MEAN_BGR[0] / 255});
        } else {
            n = Normalization.of(k, stats != null ? stats : DatasetStats.published(size));
        }
        return inChannelOrder(variant, n);
    }

    /** {@code n} with the planes in the order {@code variant}'s conv1 reads them: B, G, R for caffe, else R, G, B. */
    static Normalization inChannelOrder(Variant variant, Normalization n) {
        return variant == Variant.CAFFE ? n.bgr() : n;
    }

    /** One line for logs and JSON: what the input went through. */
    static String describe(Variant variant, int crop, Normalization n, String statsSource) {
        String norm = n.kind() == Normalization.Kind.CHANNEL ? "(v - mean) / std per channel (" + statsSource + ")"
                : n.size() > 0 ? "minus the mean image (" + statsSource + "), 0..255"
                : variant == Variant.CAFFE ? "minus Caffe's published mean pixel, 0..255"
                : "minus the mean pixel (" + statsSource + "), 0..255";
        return String.format(Locale.ROOT, "%s, centre %d, %s, %s", resize(variant) == Resize.WARP
                ? "warp to 256x256" : "shorter side 256 + central 256x256", crop, norm,
                n.isBgr() ? "BGR" : "RGB");
    }
}
