package org.alexnet4j.data;

import java.util.Locale;

/**
 * How an image becomes the S x S square the pipeline crops from.
 * <ul>
 *   <li>{@link #CENTER}: the paper's (section 2): shorter side to S, aspect kept, the central S x S patch.</li>
 *   <li>{@link #WARP}: Caffe's ImageNet conversion ({@code convert_imageset --resize_height 256 --resize_width 256}):
 *       the whole image to S x S, aspect ignored, bilinear. What bvlc_alexnet was trained and evaluated on.</li>
 * </ul>
 */
public enum Resize {
    CENTER, WARP;

    /** The command-line name: {@code center} or {@code warp}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Resize fromId(String id) {
        for (Resize r : values()) {
            if (r.id().equals(id)) {
                return r;
            }
        }
        throw new IllegalArgumentException("resize must be center or warp, got " + id);
    }

    /** Decodes an image file's bytes into the S x S square of this kind. */
    public RgbImage decode(byte[] data, int length, int size) throws ImageCodec.DecodeException {
        return this == CENTER ? ImageCodec.decodeCentered(data, length, size) : ImageCodec.decodeWarped(data, length,
                size);
    }
}
