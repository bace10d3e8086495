package org.alexnet4j;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.reference.ReferenceAlexNet;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.TorchLayout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/** Shared fixtures for tests: weights and inputs that make every operator matter. */
public final class TestNets {
    private TestNets() {
    }

    /**
     * PyTorch-layout weights with He-scaled Gaussian weights and non-zero biases, so that activations stay large
     * (tens) through the net and LRN changes them materially (with N(0, 0.01) weights LRN would be a no-op and a
     * wrong LRN would go unnoticed).
     */
    public static Map<String, NpyArray> heWeights(AlexNet net, long seed) {
        return heWeights(net, seed, 0.5);
    }

    /** As {@link #heWeights(AlexNet, long)}, with biases drawn from N(0, biasStd^2) (0 for zero biases). */
    public static Map<String, NpyArray> heWeights(AlexNet net, long seed, double biasStd) {
        Random r = new Random(seed);
        Map<String, NpyArray> m = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : TorchLayout.expectedShapes(net).entrySet()) {
            long[] s = e.getValue();
            float[] d = new float[(int) NpyArray.count(s)];
            if (e.getKey().endsWith(".weight")) {
                double fanIn = NpyArray.count(s) / (double) s[0];
                double std = Math.sqrt(2.0 / fanIn);
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) (r.nextGaussian() * std);
                }
            } else {
                for (int i = 0; i < d.length; i++) {
                    d[i] = (float) (r.nextGaussian() * biasStd);
                }
            }
            m.put(e.getKey(), NpyArray.float32(s, d));
        }
        return m;
    }

    /** NCHW float input, N(0, scale^2), like mean-subtracted pixels on the 0..255 scale. */
    public static INDArray input(int n, int size, double scale, long seed) {
        Nd4j.getRandom().setSeed(seed);
        return Nd4j.randn(DataType.FLOAT, n, 3, size, size).muli(scale);
    }

    /** Example {@code i} of an NCHW batch as a reference map. */
    public static ReferenceAlexNet.Map3 example(INDArray nchw, int i) {
        INDArray x = nchw.slice(i).dup('c');
        return new ReferenceAlexNet.Map3((int) x.size(0), (int) x.size(1), (int) x.size(2),
                x.castTo(DataType.DOUBLE).data().asDouble());
    }
}
