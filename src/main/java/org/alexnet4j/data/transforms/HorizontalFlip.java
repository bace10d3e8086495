package org.alexnet4j.data.transforms;

import java.util.random.RandomGenerator;

/**
 * Paper section 4.1: a horizontal reflection with probability {@code p} (0.5 in the paper). Unlike DataVec's
 * {@code FlipImageTransform(Random)}, which picks among no flip, vertical, horizontal and both, this only mirrors
 * left-right.
 */
public record HorizontalFlip(double p) {
    public HorizontalFlip {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("flip probability must be in [0, 1], got " + p);
        }
    }

    public Crop apply(Crop crop, RandomGenerator rng) {
        return crop.mirrored(rng.nextDouble() < p);
    }
}
