package org.alexnet4j.cli;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.PreparedCache;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Once per dataset: rescale every image so its shorter side is 256 and keep the central "
                + "256x256 patch (paper section 2), stored in a sharded cache (JPEG or raw), and compute the "
                + "training set's mean image, channel mean/std and RGB covariance eigen-decomposition. Parallel, "
                + "resumable (rerun with the same --out), unreadable files skipped and listed (--strict: error)."})
class PrepareCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "DIR", description = "Dataset: ILSVRC2012's layout or "
            + "any class folders (see manifest build).")
    Path data;

    @Option(names = "--out", required = true, paramLabel = "CACHE", description = "Cache directory.")
    Path out;

    @Option(names = "--manifest", paramLabel = "FILE",
            description = "Manifest (default: DIR/manifest.tsv, or index DIR now).")
    Path manifest;

    @Option(names = "--val-labels", paramLabel = "FILE", description = "Labels for a flat val/ when indexing.")
    Path valLabels;

    @Option(names = "--labels", paramLabel = "FILE", description = "A label list instead of class folders "
            + "('train/PATH<TAB>class', 'val/PATH<TAB>class' lines) when indexing.")
    Path labels;

    @Option(names = "--size", defaultValue = "256", paramLabel = "S", description = "Side of the stored images "
            + "(default: ${DEFAULT-VALUE}, the paper's).")
    int size;

    @Option(names = "--format", defaultValue = "jpeg", paramLabel = "jpeg|raw",
            description = "Storage: JPEG (compact) or raw RGB bytes (fastest to read, 192 KiB per image) "
                    + "(default: ${DEFAULT-VALUE}).")
    PreparedCache.Format format;

    @Option(names = "--quality", defaultValue = "90", paramLabel = "Q", description = "JPEG quality "
            + "(default: ${DEFAULT-VALUE}).")
    int quality;

    @Option(names = "--shard-size", defaultValue = "0", paramLabel = "N",
            description = "Images per shard (default: automatic, 64..1024).")
    int shardSize;

    @Option(names = "--resize", defaultValue = "center", paramLabel = "center|warp",
            description = "center: shorter side to S, central S x S (the paper's); warp: the whole image to S x S, "
                    + "aspect ignored (Caffe's, what bvlc_alexnet / --model caffe was trained on) "
                    + "(default: ${DEFAULT-VALUE}).")
    String resize;

    @picocli.CommandLine.Mixin

    ThreadsOption threads;

    @Option(names = "--strict", description = "Stop at the first unreadable file instead of skipping it.")
    boolean strict;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        int t = threads.count();
        Manifest m = Datasets.manifest(data, manifest, valLabels, labels, t);
        PreparedCache.Summary s = PreparedCache.prepare(data, m, out,
                new PreparedCache.Options(size, format, quality, shardSize, t, strict,
                        org.alexnet4j.data.Resize.fromId(resize)));
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "prepared %s in %.1f s: images %s, skipped %s (%d shards written, %d reused)%n", out,
                s.seconds(), s.images(), s.skipped(), s.shardsWritten(), s.shardsReused());
        DatasetStats st = s.stats();
        if (st != null) {
            o.printf(Locale.ROOT, "training statistics (0..1 RGB, %d images): mean %s std %s eigval %s%n",
                    st.images(), fmt(st.channelMean()), fmt(st.channelStd()), fmt(st.eigval()));
        }
        return 0;
    }

    private static String fmt(double[] v) {
        return Arrays.stream(v).mapToObj(x -> String.format(Locale.ROOT, "%.4f", x)).toList().toString();
    }
}
