package org.alexnet4j.data;

import org.nd4j.linalg.dataset.DataSet;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small generated datasets for tests that train or evaluate. */
public final class Fixtures {
    private Fixtures() {
    }

    /** Every batch the iterator has left, copied (it may reuse its arrays for the next batches). */
    public static List<DataSet> batches(ImageNetIterator it) {
        List<DataSet> out = new ArrayList<>();
        while (it.hasNext()) {
            DataSet d = it.next();
            out.add(new DataSet(d.getFeatures().dup(), d.getLabels().dup()));
        }
        return out;
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

    /** Copies the tree at {@code from} to {@code to}. */
    public static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}
