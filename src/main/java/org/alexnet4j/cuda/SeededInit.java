package org.alexnet4j.cuda;

import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.ParamLayer;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Weights and inputs generated from a seed, the same on every machine with the same Java: how the GPU bundle and
 * the CPU that made its fixtures agree on a 244 MB net without shipping it. Each layer has its own stream (the seed
 * mixed with the layer's name), so a layer's values do not depend on the others. Weights follow the spec's
 * initialisation (N(0, std^2), constant biases); biases get a small seeded jitter on top, so that a bias gradient
 * error cannot hide behind equal values.
 */
public final class SeededInit {

    private SeededInit() {
    }

    /** {@code {weights, biases}} of one layer in PyTorch's layout, with the spec's initialisation. */
    public static float[][] layer(NetSpec spec, ParamLayer layer, long seed) {
        return layer(spec, layer, seed, false);
    }

    /**
     * {@code {weights, biases}} of one layer; with {@code he}, weights N(0, 2/fan-in) instead of the spec's standard
     * deviation: with the paper's N(0, 0.01^2) the input's signal fades through conv3-conv5, and a comparison of
     * two engines on such a net would check little but the biases.
     */
    public static float[][] layer(NetSpec spec, ParamLayer layer, long seed, boolean he) {
        NetSpec.Init init = spec.init().get(layer.name());
        if (init == null) {
            throw new IllegalArgumentException("the net description has no initialisation for " + layer.name());
        }
        SplittableRandom r = new SplittableRandom(mix(seed, layer.name()));
        long count = layer.weightCount();
        long fanIn = count / layer.outChannels();
        double std = he ? Math.sqrt(2.0 / fanIn) : init.weightStd();
        float[] w = new float[Math.toIntExact(count)];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * std);
        }
        float[] b = new float[layer.outChannels()];
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) ((he ? 0 : init.bias()) + 0.01 * r.nextGaussian());
        }
        return new float[][]{w, b};
    }

    /** {@code n} images {@code [n, 3, S, S]}, values roughly N(0, 1) as normalised images are. */
    public static float[] images(NetSpec spec, int n, long seed) {
        SplittableRandom r = new SplittableRandom(mix(seed, "images"));
        int s = spec.inputSize();
        float[] x = new float[n * 3 * s * s];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** {@code n} labels in {@code 0..classes-1}. */
    public static int[] labels(int classes, int n, long seed) {
        SplittableRandom r = new SplittableRandom(mix(seed, "labels"));
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    private static long mix(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ b) * 0x100000001B3L;
        }
        return h;
    }
}
