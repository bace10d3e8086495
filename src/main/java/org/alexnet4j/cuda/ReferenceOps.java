package org.alexnet4j.cuda;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * The op seam in plain Java on the CPU: direct loops in float32, written for clarity and checked against DL4J's
 * graph (tests), not for speed. It runs the engine's orchestration where no GPU is present (unit tests, the GPU
 * bundle's self-test) and is the second opinion the CUDA ops are compared with. Work is spread over the common
 * fork-join pool, one task per (example, channel) or per row.
 */
public final class ReferenceOps implements Ops {

    /** A host buffer. */
    static final class Host implements Buffer {
        final float[] a;

        Host(long count) {
            if (count > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("reference buffers hold at most 2^31 floats, asked " + count);
            }
            this.a = new float[(int) count];
        }

        @Override
        public long count() {
            return a.length;
        }
    }

    private static float[] a(Buffer b) {
        return ((Host) b).a;
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public Buffer alloc(long count, String what) {
        return new Host(count);
    }

    @Override
    public void upload(float[] src, int count, Buffer dst) {
        System.arraycopy(src, 0, a(dst), 0, count);
    }

    @Override
    public void download(Buffer src, int count, float[] dst) {
        System.arraycopy(a(src), 0, dst, 0, count);
    }

    @Override
    public void zero(Buffer b, long count) {
        Arrays.fill(a(b), 0, (int) count, 0f);
    }

    @Override
    public void convForward(Conv c, int n, Buffer xb, Buffer wb, Buffer bb, Buffer yb) {
        float[] x = a(xb), w = a(wb), bias = a(bb), y = a(yb);
        int cin = c.inChannels(), cout = c.outChannels(), g = c.groups(), inG = cin / g, outG = cout / g;
        int hs = c.inSide(), os = c.outSide(), k = c.kernel(), s = c.stride(), p = c.pad();
        IntStream.range(0, n * cout).parallel().forEach(job -> {
            int img = job / cout, oc = job % cout, grp = oc / outG;
            int yBase = (img * cout + oc) * os * os;
            float[] acc = new float[os * os];
            Arrays.fill(acc, bias[oc]);
            for (int icg = 0; icg < inG; icg++) {
                int ic = grp * inG + icg;
                int xBase = (img * cin + ic) * hs * hs;
                int wBase = ((oc * inG) + icg) * k * k;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        float wv = w[wBase + ky * k + kx];
                        for (int oy = 0; oy < os; oy++) {
                            int iy = oy * s - p + ky;
                            if (iy < 0 || iy >= hs) {
                                continue;
                            }
                            int row = xBase + iy * hs;
                            for (int ox = 0; ox < os; ox++) {
                                int ix = ox * s - p + kx;
                                if (ix >= 0 && ix < hs) {
                                    acc[oy * os + ox] += wv * x[row + ix];
                                }
                            }
                        }
                    }
                }
            }
            for (int i = 0; i < acc.length; i++) {
                y[yBase + i] = Math.max(acc[i], 0f);
            }
        });
    }

    @Override
    public void convBackwardData(Conv c, int n, Buffer wb, Buffer dyb, Buffer dxb) {
        float[] w = a(wb), dy = a(dyb), dx = a(dxb);
        int cin = c.inChannels(), cout = c.outChannels(), g = c.groups(), inG = cin / g, outG = cout / g;
        int hs = c.inSide(), os = c.outSide(), k = c.kernel(), s = c.stride(), p = c.pad();
        IntStream.range(0, n * cin).parallel().forEach(job -> {
            int img = job / cin, ic = job % cin, grp = ic / inG, icg = ic % inG;
            int xBase = (img * cin + ic) * hs * hs;
            float[] acc = new float[hs * hs];
            for (int ocg = 0; ocg < outG; ocg++) {
                int oc = grp * outG + ocg;
                int yBase = (img * cout + oc) * os * os;
                int wBase = ((oc * inG) + icg) * k * k;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        float wv = w[wBase + ky * k + kx];
                        for (int oy = 0; oy < os; oy++) {
                            int iy = oy * s - p + ky;
                            if (iy < 0 || iy >= hs) {
                                continue;
                            }
                            for (int ox = 0; ox < os; ox++) {
                                int ix = ox * s - p + kx;
                                if (ix >= 0 && ix < hs) {
                                    acc[iy * hs + ix] += wv * dy[yBase + oy * os + ox];
                                }
                            }
                        }
                    }
                }
            }
            System.arraycopy(acc, 0, dx, xBase, acc.length);
        });
    }

    @Override
    public void convBackwardFilter(Conv c, int n, Buffer xb, Buffer dyb, Buffer dwb, Buffer dbb) {
        float[] x = a(xb), dy = a(dyb), dw = a(dwb), db = a(dbb);
        int cin = c.inChannels(), cout = c.outChannels(), g = c.groups(), inG = cin / g, outG = cout / g;
        int hs = c.inSide(), os = c.outSide(), k = c.kernel(), s = c.stride(), p = c.pad();
        IntStream.range(0, cout).parallel().forEach(oc -> {
            int grp = oc / outG;
            double bsum = 0;
            for (int img = 0; img < n; img++) {
                int yBase = (img * cout + oc) * os * os;
                for (int i = 0; i < os * os; i++) {
                    bsum += dy[yBase + i];
                }
            }
            db[oc] = (float) bsum;
            for (int icg = 0; icg < inG; icg++) {
                int ic = grp * inG + icg;
                int wBase = ((oc * inG) + icg) * k * k;
                for (int ky = 0; ky < k; ky++) {
                    for (int kx = 0; kx < k; kx++) {
                        float acc = 0;
                        for (int img = 0; img < n; img++) {
                            int yBase = (img * cout + oc) * os * os;
                            int xBase = (img * cin + ic) * hs * hs;
                            for (int oy = 0; oy < os; oy++) {
                                int iy = oy * s - p + ky;
                                if (iy < 0 || iy >= hs) {
                                    continue;
                                }
                                for (int ox = 0; ox < os; ox++) {
                                    int ix = ox * s - p + kx;
                                    if (ix >= 0 && ix < hs) {
                                        acc += dy[yBase + oy * os + ox] * x[xBase + iy * hs + ix];
                                    }
                                }
                            }
                        }
                        dw[wBase + ky * k + kx] = acc;
                    }
                }
            }
        });
    }

    @Override
    public void reluBackward(long count, Buffer yb, Buffer dyb) {
        float[] y = a(yb), dy = a(dyb);
        for (int i = 0; i < count; i++) {
            if (y[i] <= 0) {
                dy[i] = 0;
            }
        }
    }

    @Override
    public void lrnForward(Shape s, Lrn lrn, Buffer xb, Buffer yb) {
        float[] x = a(xb), y = a(yb);
        int c = s.c(), hw = s.h() * s.w(), half = lrn.size() / 2;
        IntStream.range(0, s.n() * c).parallel().forEach(job -> {
            int img = job / c, ch = job % c;
            int lo = Math.max(0, ch - half), hi = Math.min(c - 1, ch + half);
            for (int i = 0; i < hw; i++) {
                double sum = 0;
                for (int j = lo; j <= hi; j++) {
                    double v = x[(img * c + j) * hw + i];
                    sum += v * v;
                }
                int at = (img * c + ch) * hw + i;
                y[at] = (float) (x[at] / Math.pow(lrn.k() + lrn.alpha() * sum, lrn.beta()));
            }
        });
    }

    @Override
    public void lrnBackward(Shape s, Lrn lrn, Buffer xb, Buffer yb, Buffer dyb, Buffer dxb) {
        float[] x = a(xb), dy = a(dyb), dx = a(dxb);
        int c = s.c(), hw = s.h() * s.w(), half = lrn.size() / 2;
        double k = lrn.k(), alpha = lrn.alpha(), beta = lrn.beta();
        IntStream.range(0, s.n()).parallel().forEach(img -> {
            double[] d = new double[c];
            for (int i = 0; i < hw; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double sum = 0;
                    for (int j = Math.max(0, ch - half); j <= Math.min(c - 1, ch + half); j++) {
                        double v = x[(img * c + j) * hw + i];
                        sum += v * v;
                    }
                    d[ch] = k + alpha * sum;
                }
                for (int ch = 0; ch < c; ch++) {
                    int at = (img * c + ch) * hw + i;
                    double cross = 0;
                    for (int j = Math.max(0, ch - half); j <= Math.min(c - 1, ch + half); j++) {
                        int bj = (img * c + j) * hw + i;
                        cross += dy[bj] * x[bj] / Math.pow(d[j], beta + 1);
                    }
                    dx[at] = (float) (dy[at] / Math.pow(d[ch], beta) - 2 * alpha * beta * x[at] * cross);
                }
            }
        });
    }

    @Override
    public void poolForward(Shape in, Pool p, Buffer xb, Buffer yb) {
        float[] x = a(xb), y = a(yb);
        int hs = in.h(), os = p.out(hs), win = p.window(), st = p.stride();
        IntStream.range(0, in.n() * in.c()).parallel().forEach(plane -> {
            int xBase = plane * hs * hs, yBase = plane * os * os;
            for (int oy = 0; oy < os; oy++) {
                for (int ox = 0; ox < os; ox++) {
                    float m = Float.NEGATIVE_INFINITY, sum = 0;
                    for (int ky = 0; ky < win; ky++) {
                        for (int kx = 0; kx < win; kx++) {
                            float v = x[xBase + (oy * st + ky) * hs + ox * st + kx];
                            m = Math.max(m, v);
                            sum += v;
                        }
                    }
                    y[yBase + oy * os + ox] = p.max() ? m : sum / (win * win);
                }
            }
        });
    }

    @Override
    public void poolBackward(Shape in, Pool p, Buffer xb, Buffer yb, Buffer dyb, Buffer dxb) {
        float[] x = a(xb), y = a(yb), dy = a(dyb), dx = a(dxb);
        int hs = in.h(), os = p.out(hs), win = p.window(), st = p.stride();
        IntStream.range(0, in.n() * in.c()).parallel().forEach(plane -> {
            int xBase = plane * hs * hs, yBase = plane * os * os;
            Arrays.fill(dx, xBase, xBase + hs * hs, 0f);
            for (int oy = 0; oy < os; oy++) {
                for (int ox = 0; ox < os; ox++) {
                    float g = dy[yBase + oy * os + ox];
                    if (p.max()) {
                        float m = y[yBase + oy * os + ox];
                        found:
                        for (int ky = 0; ky < win; ky++) {
                            for (int kx = 0; kx < win; kx++) {
                                int at = xBase + (oy * st + ky) * hs + ox * st + kx;
                                if (x[at] == m) {
                                    dx[at] += g;
                                    break found;
                                }
                            }
                        }
                    } else {
                        for (int ky = 0; ky < win; ky++) {
                            for (int kx = 0; kx < win; kx++) {
                                dx[xBase + (oy * st + ky) * hs + ox * st + kx] += g / (win * win);
                            }
                        }
                    }
                }
            }
        });
    }

    @Override
    public void padBottomRight(Shape in, int extra, Buffer xb, Buffer yb) {
        float[] x = a(xb), y = a(yb);
        int h = in.h(), w = in.w(), ph = h + extra, pw = w + extra;
        IntStream.range(0, in.n() * in.c()).parallel().forEach(plane -> {
            Arrays.fill(y, plane * ph * pw, (plane + 1) * ph * pw, 0f);
            for (int r = 0; r < h; r++) {
                System.arraycopy(x, (plane * h + r) * w, y, (plane * ph + r) * pw, w);
            }
        });
    }

    @Override
    public void cropBottomRight(Shape in, int extra, Buffer dyb, Buffer dxb) {
        float[] dy = a(dyb), dx = a(dxb);
        int h = in.h(), w = in.w(), ph = h + extra, pw = w + extra;
        IntStream.range(0, in.n() * in.c()).parallel().forEach(plane -> {
            for (int r = 0; r < h; r++) {
                System.arraycopy(dy, (plane * ph + r) * pw, dx, (plane * h + r) * w, w);
            }
        });
    }

    @Override
    public void linearForward(int n, int in, int out, Buffer xb, Buffer wb, Buffer bb, Buffer yb, boolean relu) {
        float[] x = a(xb), w = a(wb), b = a(bb), y = a(yb);
        IntStream.range(0, n * out).parallel().forEach(job -> {
            int r = job / out, o = job % out;
            float acc = 0;
            for (int i = 0; i < in; i++) {
                acc += x[r * in + i] * w[o * in + i];
            }
            acc += b[o];
            y[r * out + o] = relu ? Math.max(acc, 0f) : acc;
        });
    }

    @Override
    public void linearBackwardData(int n, int in, int out, Buffer wb, Buffer dyb, Buffer dxb) {
        float[] w = a(wb), dy = a(dyb), dx = a(dxb);
        IntStream.range(0, n).parallel().forEach(r -> {
            float[] acc = new float[in];
            for (int o = 0; o < out; o++) {
                float g = dy[r * out + o];
                if (g != 0) {
                    for (int i = 0; i < in; i++) {
                        acc[i] += g * w[o * in + i];
                    }
                }
            }
            System.arraycopy(acc, 0, dx, r * in, in);
        });
    }

    @Override
    public void linearBackwardWeights(int n, int in, int out, Buffer xb, Buffer dyb, Buffer dwb, Buffer dbb) {
        float[] x = a(xb), dy = a(dyb), dw = a(dwb), db = a(dbb);
        IntStream.range(0, out).parallel().forEach(o -> {
            float bsum = 0;
            Arrays.fill(dw, o * in, (o + 1) * in, 0f);
            for (int r = 0; r < n; r++) {
                float g = dy[r * out + o];
                bsum += g;
                for (int i = 0; i < in; i++) {
                    dw[o * in + i] += g * x[r * in + i];
                }
            }
            db[o] = bsum;
        });
    }

    @Override
    public Dropout dropout(long count, float rate, long seed) {
        boolean[] keep = new boolean[(int) count];
        float scale = 1f / (1f - rate);
        return new Dropout() {
            SplittableRandom random = new SplittableRandom(seed);

            @Override
            public void reseed(long s) {
                random = new SplittableRandom(s);
            }

            @Override
            public void forward(long n, Buffer xb, Buffer yb) {
                float[] x = a(xb), y = a(yb);
                for (int i = 0; i < n; i++) {
                    keep[i] = random.nextDouble() >= rate;
                    y[i] = keep[i] ? x[i] * scale : 0f;
                }
            }

            @Override
            public void backward(long n, Buffer dyb, Buffer dxb) {
                float[] dy = a(dyb), dx = a(dxb);
                for (int i = 0; i < n; i++) {
                    dx[i] = keep[i] ? dy[i] * scale : 0f;
                }
            }
        };
    }

    @Override
    public void softmaxCrossEntropy(int n, int classes, Buffer lb, Buffer yb, Buffer pb, Buffer db) {
        float[] logits = a(lb), onehot = a(yb), probs = a(pb), d = a(db);
        IntStream.range(0, n).parallel().forEach(r -> {
            int base = r * classes;
            softmax(logits, base, classes, probs, base);
            for (int j = 0; j < classes; j++) {
                d[base + j] = (probs[base + j] - onehot[base + j]) / n;
            }
        });
    }

    /** {@code out[to..to+len)} = softmax of {@code in[at..at+len)} (max-shifted, summed in double). */
    public static void softmax(float[] in, int at, int len, float[] out, int to) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < len; i++) {
            max = Math.max(max, in[at + i]);
        }
        double sum = 0;
        for (int i = 0; i < len; i++) {
            sum += Math.exp(in[at + i] - max);
        }
        for (int i = 0; i < len; i++) {
            out[to + i] = (float) (Math.exp(in[at + i] - max) / sum);
        }
    }

    @Override
    public double crossEntropy(int n, int classes, Buffer lb, Buffer yb, Buffer scratch) {
        return meanCrossEntropy(a(lb), a(yb), n, classes);
    }

    /** The mean cross-entropy -sum(onehot * log softmax(logits)) / n of {@code n} rows, in double. */
    public static double meanCrossEntropy(float[] logits, float[] onehot, int n, int classes) {
        double total = 0;
        for (int r = 0; r < n; r++) {
            int base = r * classes;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                max = Math.max(max, logits[base + j]);
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits[base + j] - max);
            }
            double logZ = max + Math.log(sum);
            for (int j = 0; j < classes; j++) {
                total -= onehot[base + j] * (logits[base + j] - logZ);
            }
        }
        return total / n;
    }

    @Override
    public void momentumUpdate(long count, Buffer wb, Buffer gb, Buffer vb, float lr, float momentum, float decay) {
        float[] w = a(wb), g = a(gb), v = a(vb);
        for (int i = 0; i < count; i++) {
            v[i] = momentum * v[i] - lr * (g[i] + decay * w[i]);
            w[i] += v[i];
        }
    }

    @Override
    public void synchronize() {
    }

    @Override
    public void close() {
    }
}
