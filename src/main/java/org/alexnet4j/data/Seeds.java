package org.alexnet4j.data;

/**
 * Derived random seeds: one stream per (seed, purpose, indices), so that results depend on the seed and the
 * position of an item, never on thread scheduling. SplitMix64's finaliser mixes the parts.
 */
public final class Seeds {
    private Seeds() {
    }

    public static long mix(long seed, long... parts) {
        long h = mix64(seed ^ 0x9E3779B97F4A7C15L);
        for (long p : parts) {
            h = mix64(h + 0x9E3779B97F4A7C15L * (p + 1));
        }
        return h;
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
