package org.alexnet4j.reference;

import org.alexnet4j.weights.NpyArray;

import java.util.Map;

/**
 * An independent, deliberately naive AlexNet forward pass in double precision, written from the paper and from
 * PyTorch's definitions, not from this project's builder: plain loops over PyTorch-layout weights
 * ({@code [out, in/groups, k, k]}, {@code [out, in]}), NCHW maps, flatten index {@code c*H*W + h*W + w}.
 * Geometry (kernels, strides, paddings) is hard-coded here; channel counts come from the weight arrays.
 * Used by tests only.
 */
public final class ReferenceAlexNet {

    /** Options of the paper net's ablations that change the forward pass. */
    public record Options(boolean paper, boolean grouped, boolean lrn, boolean maxPool, int poolWindow,
                          boolean edgePadding, int inputSize, boolean caffe) {
        public Options(boolean paper, boolean grouped, boolean lrn, boolean maxPool, int poolWindow,
                       boolean edgePadding, int inputSize) {
            this(paper, grouped, lrn, maxPool, poolWindow, edgePadding, inputSize, false);
        }

        public static Options paperDefaults() {
            return new Options(true, true, true, true, 3, false, 227);
        }

        public static Options torchvision() {
            return new Options(false, false, false, true, 3, false, 224);
        }

        /**
         * BVLC's bvlc_alexnet as its prototxt defines it: LRN local_size 5, alpha 1e-4 (divided by 5), beta 0.75,
         * k 1, across all channels of conv1 and conv2; Caffe's pooling (output size rounded up); the paper's widths.
         */
        public static Options caffe(int inputSize, boolean grouped, boolean lrn) {
            return new Options(true, grouped, lrn, true, 3, false, inputSize, true);
        }
    }

    /** A C x H x W map. */
    public record Map3(int c, int h, int w, double[] v) {
        public Map3(int c, int h, int w) {
            this(c, h, w, new double[c * h * w]);
        }

        public double get(int ci, int y, int x) {
            return v[(ci * h + y) * w + x];
        }

        public void set(int ci, int y, int x, double value) {
            v[(ci * h + y) * w + x] = value;
        }
    }

    private ReferenceAlexNet() {
    }

    /** Logits (before softmax) for one example. */
    public static double[] logits(Map<String, NpyArray> weights, Options o, Map3 image) {
        String[] k = o.paper
                ? new String[]{"conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7", "fc8"}
                : new String[]{"features.0", "features.3", "features.6", "features.8", "features.10",
                "classifier.1", "classifier.4", "classifier.6"};
        int g = o.grouped ? 2 : 1;
        Map3 x = image;
        if (o.caffe) {
            return caffeLogits(weights, o, image);
        }
        if (o.paper && o.inputSize == 224) {
            x = pad(x, 0, 3, 0, 3, o.edgePadding); // cuda-convnet's overhang: 224 -> 227
        }
        // conv1: both towers see the whole image
        x = relu(conv(x, weights.get(k[0] + ".weight"), weights.get(k[0] + ".bias"), 4, o.paper ? 0 : 2, 1,
                o.edgePadding));
        if (o.lrn) {
            x = lrn(x, g);
        }
        x = pool(x, o.poolWindow, 2, o.maxPool);
        x = relu(conv(x, weights.get(k[1] + ".weight"), weights.get(k[1] + ".bias"), 1, 2, g, o.edgePadding));
        if (o.lrn) {
            x = lrn(x, g);
        }
        x = pool(x, o.poolWindow, 2, o.maxPool);
        x = relu(conv(x, weights.get(k[2] + ".weight"), weights.get(k[2] + ".bias"), 1, 1, 1, o.edgePadding));
        x = relu(conv(x, weights.get(k[3] + ".weight"), weights.get(k[3] + ".bias"), 1, 1, g, o.edgePadding));
        x = relu(conv(x, weights.get(k[4] + ".weight"), weights.get(k[4] + ".bias"), 1, 1, g, o.edgePadding));
        x = pool(x, o.poolWindow, 2, o.maxPool);
        double[] h = x.v(); // NCHW flatten: c*H*W + h*W + w
        h = relu(linear(h, weights.get(k[5] + ".weight"), weights.get(k[5] + ".bias")));
        h = relu(linear(h, weights.get(k[6] + ".weight"), weights.get(k[6] + ".bias")));
        return linear(h, weights.get(k[7] + ".weight"), weights.get(k[7] + ".bias"));
    }

    /** bvlc_alexnet's deploy.prototxt, layer by layer (conv1 is one layer in Caffe: its LRN spans the towers). */
    private static double[] caffeLogits(Map<String, NpyArray> w, Options o, Map3 image) {
        int g = o.grouped ? 2 : 1;
        Map3 x = relu(conv(image, w.get("conv1.weight"), w.get("conv1.bias"), 4, 0, 1, false));
        if (o.lrn) {
            x = lrn(x, 1, 1, 1e-4 / 5);
        }
        x = caffePool(x, 3, 2);
        x = relu(conv(x, w.get("conv2.weight"), w.get("conv2.bias"), 1, 2, g, false));
        if (o.lrn) {
            x = lrn(x, 1, 1, 1e-4 / 5);
        }
        x = caffePool(x, 3, 2);
        x = relu(conv(x, w.get("conv3.weight"), w.get("conv3.bias"), 1, 1, 1, false));
        x = relu(conv(x, w.get("conv4.weight"), w.get("conv4.bias"), 1, 1, g, false));
        x = relu(conv(x, w.get("conv5.weight"), w.get("conv5.bias"), 1, 1, g, false));
        x = caffePool(x, 3, 2);
        double[] h = relu(linear(x.v(), w.get("fc6.weight"), w.get("fc6.bias")));
        h = relu(linear(h, w.get("fc7.weight"), w.get("fc7.bias")));
        return linear(h, w.get("fc8.weight"), w.get("fc8.bias"));
    }

    /**
     * Caffe's max pooling without padding ({@code pooling_layer.cpp}): {@code ceil((H - k) / s) + 1} outputs, the last
     * window clipped to the map.
     */
    public static Map3 caffePool(Map3 x, int window, int stride) {
        int ho = (int) Math.ceil((x.h() - window) / (double) stride) + 1;
        int wo = (int) Math.ceil((x.w() - window) / (double) stride) + 1;
        Map3 y = new Map3(x.c(), ho, wo);
        for (int c = 0; c < x.c(); c++) {
            for (int yy = 0; yy < ho; yy++) {
                for (int xx = 0; xx < wo; xx++) {
                    double acc = Double.NEGATIVE_INFINITY;
                    for (int sy = yy * stride; sy < Math.min(x.h(), yy * stride + window); sy++) {
                        for (int sx = xx * stride; sx < Math.min(x.w(), xx * stride + window); sx++) {
                            acc = Math.max(acc, x.get(c, sy, sx));
                        }
                    }
                    y.set(c, yy, xx, acc);
                }
            }
        }
        return y;
    }

    /** Cross-correlation as PyTorch's Conv2d, with {@code groups} and zero or edge padding. */
    public static Map3 conv(Map3 x, NpyArray w, NpyArray b, int stride, int pad, int groups, boolean edge) {
        int out = (int) w.shape()[0], inPerGroup = (int) w.shape()[1], k = (int) w.shape()[2];
        if (inPerGroup * groups != x.c()) {
            throw new IllegalArgumentException("weights read " + inPerGroup + "x" + groups + " channels, map has "
                    + x.c());
        }
        Map3 p = pad > 0 ? pad(x, pad, pad, pad, pad, edge) : x;
        int ho = (p.h() - k) / stride + 1, wo = (p.w() - k) / stride + 1;
        Map3 y = new Map3(out, ho, wo);
        int outPerGroup = out / groups;
        float[] wd = w.data();
        for (int o = 0; o < out; o++) {
            int group = o / outPerGroup;
            for (int yy = 0; yy < ho; yy++) {
                for (int xx = 0; xx < wo; xx++) {
                    double s = b.data()[o];
                    for (int ci = 0; ci < inPerGroup; ci++) {
                        int c = group * inPerGroup + ci;
                        for (int ky = 0; ky < k; ky++) {
                            for (int kx = 0; kx < k; kx++) {
                                s += wd[((o * inPerGroup + ci) * k + ky) * k + kx]
                                        * p.get(c, yy * stride + ky, xx * stride + kx);
                            }
                        }
                    }
                    y.set(o, yy, xx, s);
                }
            }
        }
        return y;
    }

    /** Pads a map by copying zeros or the nearest edge pixel. */
    public static Map3 pad(Map3 x, int top, int bottom, int left, int right, boolean edge) {
        Map3 y = new Map3(x.c(), x.h() + top + bottom, x.w() + left + right);
        for (int c = 0; c < x.c(); c++) {
            for (int yy = 0; yy < y.h(); yy++) {
                for (int xx = 0; xx < y.w(); xx++) {
                    int sy = yy - top, sx = xx - left;
                    boolean inside = sy >= 0 && sy < x.h() && sx >= 0 && sx < x.w();
                    if (inside) {
                        y.set(c, yy, xx, x.get(c, sy, sx));
                    } else if (edge) {
                        y.set(c, yy, xx, x.get(c, clamp(sy, x.h()), clamp(sx, x.w())));
                    }
                }
            }
        }
        return y;
    }

    /**
     * The paper's LRN (section 3.3): {@code b_i = a_i / (k + alpha * sum_j a_j^2)^beta}, j over
     * {@code max(0, i-n/2) .. min(N-1, i+n/2)} within each tower, k=2, n=5, alpha=1e-4, beta=0.75 (alpha NOT
     * divided by n).
     */
    public static Map3 lrn(Map3 x, int towers) {
        return lrn(x, towers, 2, 1e-4);
    }

    /** LRN with the given k and per-term alpha (Caffe's alpha / n), n = 5, beta = 0.75. */
    public static Map3 lrn(Map3 x, int towers, double k, double alpha) {
        final double beta = 0.75;
        final int half = 5 / 2;
        int per = x.c() / towers;
        Map3 y = new Map3(x.c(), x.h(), x.w());
        for (int t = 0; t < towers; t++) {
            for (int i = 0; i < per; i++) {
                for (int yy = 0; yy < x.h(); yy++) {
                    for (int xx = 0; xx < x.w(); xx++) {
                        double sum = 0;
                        for (int j = Math.max(0, i - half); j <= Math.min(per - 1, i + half); j++) {
                            double a = x.get(t * per + j, yy, xx);
                            sum += a * a;
                        }
                        y.set(t * per + i, yy, xx, x.get(t * per + i, yy, xx) / Math.pow(k + alpha * sum, beta));
                    }
                }
            }
        }
        return y;
    }

    /** Max or average pooling with no padding (windows that would overhang are dropped). */
    public static Map3 pool(Map3 x, int window, int stride, boolean max) {
        int ho = (x.h() - window) / stride + 1, wo = (x.w() - window) / stride + 1;
        Map3 y = new Map3(x.c(), ho, wo);
        for (int c = 0; c < x.c(); c++) {
            for (int yy = 0; yy < ho; yy++) {
                for (int xx = 0; xx < wo; xx++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int dy = 0; dy < window; dy++) {
                        for (int dx = 0; dx < window; dx++) {
                            double v = x.get(c, yy * stride + dy, xx * stride + dx);
                            acc = max ? Math.max(acc, v) : acc + v;
                        }
                    }
                    y.set(c, yy, xx, max ? acc : acc / (window * window));
                }
            }
        }
        return y;
    }

    public static double[] linear(double[] x, NpyArray w, NpyArray b) {
        int out = (int) w.shape()[0], in = (int) w.shape()[1];
        if (in != x.length) {
            throw new IllegalArgumentException("linear layer reads " + in + " inputs, got " + x.length);
        }
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b.data()[o];
            for (int i = 0; i < in; i++) {
                s += w.data()[o * in + i] * x[i];
            }
            y[o] = s;
        }
        return y;
    }

    public static Map3 relu(Map3 x) {
        Map3 y = new Map3(x.c(), x.h(), x.w());
        for (int i = 0; i < x.v().length; i++) {
            y.v()[i] = Math.max(0, x.v()[i]);
        }
        return y;
    }

    public static double[] relu(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0, x[i]);
        }
        return y;
    }

    private static int clamp(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }
}
