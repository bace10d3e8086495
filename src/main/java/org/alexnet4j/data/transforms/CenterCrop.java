package org.alexnet4j.data.transforms;

/** The central {@code size x size} patch (offset (S - size) / 2, rounded down), the single-view test input. */
public record CenterCrop(int size) {
    public CenterCrop {
        if (size <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + size);
        }
    }

    public Crop of(int sourceSize) {
        RandomCrop.checkSource(size, sourceSize);
        int o = (sourceSize - size) / 2;
        return new Crop(o, o, size, false);
    }
}
