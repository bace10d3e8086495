package org.alexnet4j.data.transforms;

import java.util.random.RandomGenerator;

/**
 * Paper section 4.1: a random {@code size x size} patch of the S x S image, every position equally likely
 * (S - size + 1 choices per axis: 30 x 30 for 227 of 256, 33 x 33 for 224).
 */
public record RandomCrop(int size) {
    public RandomCrop {
        if (size <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + size);
        }
    }

    public Crop sample(int sourceSize, RandomGenerator rng) {
        checkSource(size, sourceSize);
        int range = sourceSize - size + 1;
        return new Crop(rng.nextInt(range), rng.nextInt(range), size, false);
    }

    static void checkSource(int size, int sourceSize) {
        if (size > sourceSize) {
            throw new IllegalArgumentException("crop " + size + " is larger than the " + sourceSize + "x"
                    + sourceSize + " image");
        }
    }
}
