package org.alexnet4j.cli;

import org.alexnet4j.weights.Npy;
import org.alexnet4j.weights.NpyArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

@Command(name = "sample-input", mixinStandardHelpOptions = true,
        description = {"Write a batch of random NCHW float32 inputs as .npy: per-pixel N(0, sigma^2), like "
                + "mean-subtracted pixels on the 0..255 scale. For trying 'forward' and comparing with other "
                + "frameworks on identical input; not images (see the data pipeline for those)."})
class SampleInputCommand implements Callable<Integer> {
    @Option(names = "--count", paramLabel = "N", defaultValue = "8", description = "Examples (default: ${DEFAULT-VALUE}).")
    int count;

    @Option(names = "--size", paramLabel = "S", defaultValue = "227", description = "Height and width "
            + "(default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--sigma", paramLabel = "X", defaultValue = "50", description = "Standard deviation "
            + "(default: ${DEFAULT-VALUE}).")
    double sigma;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--out", required = true, paramLabel = "X.npy", description = "Output file.")
    Path out;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (count < 1 || size < 1 || (long) count * 3 * size * size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--count and --size must be positive and hold at most 2^31 values");
        }
        if (!(sigma >= 0) || Double.isInfinite(sigma)) {
            throw new IllegalArgumentException("--sigma must be a finite number >= 0, got " + sigma);
        }
        SplittableRandom r = new SplittableRandom(seed);
        float[] data = new float[count * 3 * size * size];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (gaussian(r) * sigma);
        }
        Npy.write(out, NpyArray.float32(new long[]{count, 3, size, size}, data));
        spec.commandLine().getOut().printf("wrote %s: float32 [%d, 3, %d, %d]%n", out, count, size, size);
        return 0;
    }

    /** Standard normal by Box-Muller (SplittableRandom has no nextGaussian on Java 17). */
    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }
}
