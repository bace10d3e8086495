package org.alexnet4j.eval;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Resize;
import org.alexnet4j.data.transforms.Normalization;
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
 */
public final class Preprocessing {
    /** Caffe's ImageNet mean pixel, B, G, R on 0..255 (per-channel average of ilsvrc_2012_mean.binaryproto). */
    public static final double[] CAFFE_MEAN_BGR = {104.00698793, 116.66876762, 122.67891434};

    private Preprocessing() {
    }

    /** How source images become the 256x256 square the crops are taken from. */
    public static Resize resize(AlexNet net) {
        return net.variant() == Variant.CAFFE ? Resize.WARP : Resize.CENTER;
    }

    /** The normalisation a variant's weights expect unless told otherwise. */
    public static Normalization.Kind defaultKind(AlexNet net) {
        return net.variant() == Variant.TORCHVISION ? Normalization.Kind.CHANNEL : Normalization.Kind.MEAN_IMAGE;
    }

    /**
     * The normalisation for {@code net}.
     *
     * @param kind  null for the variant's default ({@link #defaultKind})
     * @param stats a cache's training statistics, or null for the published constants
     * @param size  side of the source squares (256)
     */
    public static Normalization normalization(AlexNet net, Normalization.Kind kind, DatasetStats stats, int size) {
        Normalization.Kind k = kind != null ? kind : defaultKind(net);
        if (net.variant() != Variant.CAFFE) {
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
        return inChannelOrder(net.variant(), n);
    }

    /** {@code n} with the planes in the order {@code variant}'s conv1 reads them: B, G, R for caffe, else R, G, B. */
    public static Normalization inChannelOrder(Variant variant, Normalization n) {
        return variant == Variant.CAFFE ? n.bgr() : n;
    }

    /** One line for logs and JSON: what the input went through. */
    public static String describe(AlexNet net, Normalization n, String statsSource) {
        String norm = n.kind() == Normalization.Kind.CHANNEL ? "(v - mean) / std per channel (" + statsSource + ")"
                : n.size() > 0 ? "minus the mean image (" + statsSource + "), 0..255"
                : net.variant() == Variant.CAFFE ? "minus Caffe's published mean pixel, 0..255"
                : "minus the mean pixel (" + statsSource + "), 0..255";
        return String.format(Locale.ROOT, "%s, centre %d, %s, %s", resize(net) == Resize.WARP
                ? "warp to 256x256" : "shorter side 256 + central 256x256", net.inputSize(), norm,
                n.isBgr() ? "BGR" : "RGB");
    }
}
