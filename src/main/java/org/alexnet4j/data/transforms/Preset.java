package org.alexnet4j.data.transforms;

import java.util.List;
import java.util.random.RandomGenerator;

/**
 * A named augmentation preset: which views each image yields and how they are normalized.
 * <ul>
 *   <li>{@link #train}: random crop, horizontal flip (p = 0.5), PCA lighting (optional), normalization: one view.</li>
 *   <li>{@link #center}: the centre crop: one view (single-view evaluation).</li>
 *   <li>{@link #tenCrop}: the paper's ten test views (four corners and centre, each mirrored).</li>
 * </ul>
 */
public final class Preset {
    /** The kind of preset. */
    public enum Mode { TRAIN, CENTER, TEN_CROP }

    /** One view: where to cut, and the lighting offset (null for none). */
    public record View(Crop crop, float[] lighting) {
    }

    private final Mode mode;
    private final int cropSize;
    private final HorizontalFlip flip;
    private final PcaLighting lighting;
    private final Normalization normalization;

    private Preset(Mode mode, int cropSize, HorizontalFlip flip, PcaLighting lighting, Normalization norm) {
        if (cropSize <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + cropSize);
        }
        this.mode = mode;
        this.cropSize = cropSize;
        this.flip = flip;
        this.lighting = lighting;
        this.normalization = java.util.Objects.requireNonNull(norm, "normalization");
    }

    /** The paper's training views; {@code lighting} null turns PCA lighting off. */
    public static Preset train(int cropSize, PcaLighting lighting, Normalization norm) {
        return new Preset(Mode.TRAIN, cropSize, new HorizontalFlip(0.5), lighting, norm);
    }

    public static Preset center(int cropSize, Normalization norm) {
        return new Preset(Mode.CENTER, cropSize, null, null, norm);
    }

    public static Preset tenCrop(int cropSize, Normalization norm) {
        return new Preset(Mode.TEN_CROP, cropSize, null, null, norm);
    }

    public Mode mode() {
        return mode;
    }

    public int cropSize() {
        return cropSize;
    }

    public Normalization normalization() {
        return normalization;
    }

    public PcaLighting lighting() {
        return lighting;
    }

    public int viewsPerImage() {
        return mode == Mode.TEN_CROP ? TenCrop.VIEWS : 1;
    }

    /** The views of one image of side {@code sourceSize}; {@code rng} is the image's own random stream. */
    public List<View> views(int sourceSize, RandomGenerator rng) {
        switch (mode) {
            case TRAIN: {
                Crop c = flip.apply(new RandomCrop(cropSize).sample(sourceSize, rng), rng);
                float[] light = lighting == null ? null : lighting.offset(lighting.sampleAlpha(rng));
                return List.of(new View(c, light));
            }
            case CENTER:
                return List.of(new View(new CenterCrop(cropSize).of(sourceSize), null));
            default:
                return new TenCrop(cropSize).of(sourceSize).stream().map(c -> new View(c, null)).toList();
        }
    }

    @Override
    public String toString() {
        return switch (mode) {
            case TRAIN -> "train(random crop " + cropSize + ", flip p=0.5, "
                    + (lighting == null ? "no lighting" : "PCA lighting std " + lighting.alphaStd()) + ", "
                    + normalization.kind() + ")";
            case CENTER -> "center(" + cropSize + ", " + normalization.kind() + ")";
            case TEN_CROP -> "ten-crop(" + cropSize + ", " + normalization.kind() + ")";
        };
    }
}
