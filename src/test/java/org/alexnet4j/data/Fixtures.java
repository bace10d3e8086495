package org.alexnet4j.data;

import java.nio.file.Path;

/** Small generated datasets for tests that train or evaluate. */
public final class Fixtures {
    private Fixtures() {
    }

    /** A synthetic ILSVRC-layout set under {@code dir/synth}, prepared as a raw cache in {@code dir/cache}. */
    public static Path rawCache(Path dir, int classes, int trainPerClass, int valPerClass, long seed)
            throws Exception {
        Path d = dir.resolve("synth");
        SyntheticImageNet.generate(d, new SyntheticImageNet.Options(classes, trainPerClass, valPerClass, seed, false,
                true, 2));
        Path cache = dir.resolve("cache");
        PreparedCache.prepare(d, Manifest.build(d, null, 2), cache,
                new PreparedCache.Options(256, PreparedCache.Format.RAW, 90, 0, 2, false));
        return cache;
    }
}
