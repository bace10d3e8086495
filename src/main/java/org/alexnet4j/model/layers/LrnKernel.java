package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.KernelPool;
import org.alexnet4j.runtime.HostMemory;
import org.bytedeco.javacpp.FloatPointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/**
 * The CPU kernel of {@link ChannelLrnLayer}: forward and backward of the paper's LRN on float32 activations, in one
 * pass over memory each, on all cores.
 *
 * <p>Work is cut into blocks of one example and a run of pixels; a block is copied into per-thread scratch arrays laid
 * out channel-major ({@code [C][pixels]}), so that every inner loop is a plain loop over pixels the JIT vectorises,
 * computed and copied back. With {@code s_c = k + alpha * sum_{c' in W(c)} a_c'^2} over the clipped window
 * {@code W(c) = [c - n/2, c + n/2]}:
 * <pre>
 *   forward   b_c  = a_c * s_c^-beta
 *   backward  da_c = g_c * s_c^-beta - 2 alpha beta a_c * sum_{c' in W(c)} g_c' a_c' s_c'^(-beta-1)
 * </pre>
 * (the window is symmetric, so {@code c' in W(c)} iff {@code c in W(c')}). {@code s} is recomputed in the backward
 * pass rather than kept, as DL4J does, which costs a few adds per element and no memory.
 */
final class LrnKernel {
    /** Target size of one block's scratch array, in floats (fits the L2 cache with the block's other arrays). */
    private static final int BLOCK_FLOATS = 32 * 1024;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private LrnKernel() {
    }

    /** How a rank-4 activation array is laid out in memory, as this kernel sees it. */
    record Geometry(int examples, long exampleStride, int channels, int pixels, boolean channelMajor) {
        long extent() {
            return (examples - 1) * exampleStride + (long) channels * pixels;
        }
    }

    /**
     * The layout of {@code a} if this kernel can run on it directly: float32 where Java may touch ND4J's memory
     * ({@link HostMemory#direct()}: the CPU backend, not in device-safe mode), each example one
     * dense block ({@code [C][H][W]} for NCHW, {@code [H][W][C]} for NHWC; examples may be strided, as channel slices
     * of a merged array are), addressable by a Java buffer. Null otherwise.
     */
    static Geometry geometry(INDArray a, CNN2DFormat format) {
        if (a.rank() != 4 || a.dataType() != DataType.FLOAT || !HostMemory.direct()) {
            return null;
        }
        long[] s = a.shape();
        long[] st = a.stride();
        boolean nchw = format == CNN2DFormat.NCHW;
        long c = nchw ? s[1] : s[3];
        long pixels = nchw ? s[2] * s[3] : s[1] * s[2];
        // dimensions 1..3 dense in C order, whichever of them is the channel
        boolean dense = st[3] == 1 && st[2] == s[3] && st[1] == s[2] * s[3];
        if (!dense || s[0] == 0 || c * pixels == 0 || (s[0] > 1 && st[0] < c * pixels)) {
            return null;
        }
        Geometry g = new Geometry((int) s[0], s[0] > 1 ? st[0] : c * pixels, (int) c, (int) pixels, nchw);
        return g.extent() <= Integer.MAX_VALUE ? g : null;
    }

    /** {@code out = lrn(x)}; {@code out} has the same geometry as {@code x}. */
    static void forward(INDArray x, Geometry gx, INDArray out, Geometry gout, Params p) {
        FloatBuffer xb = buffer(x, gx), ob = buffer(out, gout);
        run(gx, (scratch, e, from, len) -> {
            float[] xs = scratch.load(0, xb, gx, e, from, len);
            float[] sq = scratch.array(1, gx.channels * len);
            float[] acc = scratch.array(2, len);
            float[] ys = scratch.array(3, gx.channels * len);
            float[] run = scratch.array(4, len);
            squares(xs, sq, gx.channels * len);
            for (int c = 0; c < gx.channels; c++) {
                slide(sq, run, c, gx.channels, len, p.half);
                System.arraycopy(run, 0, acc, 0, len);
                p.scalePow(acc, len); // acc = s^-beta
                int base = c * len;
                for (int i = 0; i < len; i++) {
                    ys[base + i] = xs[base + i] * acc[i];
                }
            }
            scratch.store(ys, ob, gout, e, from, len);
        });
        fence(x, out);
    }

    /** {@code dx = d lrn(x) / dx * g}; all three arrays share one shape, each has its own geometry. */
    static void backward(INDArray x, Geometry gx, INDArray g, Geometry gg, INDArray dx, Geometry gdx, Params p) {
        FloatBuffer xb = buffer(x, gx), gb = buffer(g, gg), db = buffer(dx, gdx);
        float twoAlphaBeta = 2f * p.alpha * p.beta;
        run(gx, (scratch, e, from, len) -> {
            int n = gx.channels * len;
            float[] xs = scratch.load(0, xb, gx, e, from, len);
            float[] gs = scratch.load(1, gb, gg, e, from, len);
            float[] sq = scratch.array(2, n);
            float[] t = scratch.array(3, n);
            float[] acc = scratch.array(4, len);
            float[] pw = scratch.array(5, len);
            float[] run = scratch.array(7, len);
            squares(xs, sq, n);
            for (int c = 0; c < gx.channels; c++) {
                slide(sq, run, c, gx.channels, len, p.half);
                for (int i = 0; i < len; i++) {
                    acc[i] = p.k + p.alpha * run[i]; // s
                }
                System.arraycopy(acc, 0, pw, 0, len);
                p.pow(pw, len); // s^-beta
                int base = c * len;
                for (int i = 0; i < len; i++) {
                    float gp = gs[base + i] * pw[i];
                    t[base + i] = gp * xs[base + i] / acc[i];
                    gs[base + i] = gp;
                }
            }
            float[] out = sq; // the squares are no longer needed
            for (int c = 0; c < gx.channels; c++) {
                slide(t, run, c, gx.channels, len, p.half);
                int base = c * len;
                for (int i = 0; i < len; i++) {
                    out[base + i] = gs[base + i] - twoAlphaBeta * xs[base + i] * run[i];
                }
            }
            scratch.store(out, db, gdx, e, from, len);
        });
        fence(x, g, dx);
    }

    /** The LRN constants in float, with the exponent's fast path. */
    record Params(float k, int half, float alpha, float beta) {
        static Params of(ChannelLrn c) {
            return new Params((float) c.getK(), c.getN() / 2, (float) c.getAlpha(), (float) c.getBeta());
        }

        /** {@code a[i] = (k + alpha a[i])^-beta} for the first {@code n} entries. */
        void scalePow(float[] a, int n) {
            for (int i = 0; i < n; i++) {
                a[i] = k + alpha * a[i];
            }
            pow(a, n);
        }

        /**
         * {@code a[i] = a[i]^-beta}; beta = 3/4 (the paper's) as two square roots instead of {@code pow}, in plain
         * loops the JIT vectorises.
         */
        void pow(float[] a, int n) {
            if (beta == 0.75f) {
                for (int i = 0; i < n; i++) {
                    float r = (float) Math.sqrt(a[i]);
                    a[i] = 1f / (r * (float) Math.sqrt(r));
                }
            } else {
                double e = -beta;
                for (int i = 0; i < n; i++) {
                    a[i] = (float) Math.pow(a[i], e);
                }
            }
        }
    }

    private static void squares(float[] x, float[] sq, int n) {
        for (int i = 0; i < n; i++) {
            sq[i] = x[i] * x[i];
        }
    }

    /**
     * Moves the running window sum {@code run[i] = sum of v[c'][i] over the clipped window around channel c} from
     * channel {@code c - 1} to {@code c} ({@code c = 0} starts it), {@code v} channel-major: one add and one subtract
     * per entry. The rounding this accumulates is relative to the largest term, ~1e-7 x channels, far below what
     * {@code alpha = 1e-4} lets reach the output.
     */
    private static void slide(float[] v, float[] run, int c, int channels, int len, int half) {
        if (c == 0) {
            System.arraycopy(v, 0, run, 0, len);
            for (int cc = 1; cc <= Math.min(channels - 1, half); cc++) {
                int base = cc * len;
                for (int i = 0; i < len; i++) {
                    run[i] += v[base + i];
                }
            }
            return;
        }
        int add = c + half, sub = c - half - 1;
        int ab = add * len, sb = sub * len;
        if (add < channels && sub >= 0) {
            for (int i = 0; i < len; i++) {
                run[i] += v[ab + i] - v[sb + i];
            }
        } else if (add < channels) {
            for (int i = 0; i < len; i++) {
                run[i] += v[ab + i];
            }
        } else if (sub >= 0) {
            for (int i = 0; i < len; i++) {
                run[i] -= v[sb + i];
            }
        }
    }

    private interface Block {
        void run(Scratch scratch, int example, int from, int len);
    }

    /** Runs {@code block} over every (example, pixel run) of {@code g} on the kernel's pool. */
    private static void run(Geometry g, Block block) {
        int len = (int) Math.max(1, Math.min(g.pixels, BLOCK_FLOATS / g.channels));
        int runs = (g.pixels + len - 1) / len;
        int items = g.examples * runs;
        KernelPool.parallel(items, item -> {
            int e = item / runs, from = (item % runs) * len;
            block.run(SCRATCH.get(), e, from, Math.min(len, g.pixels - from));
        });
    }

    /**
     * Keeps the arrays, and so their memory, alive until the kernel is done: a buffer made from an address does not
     * hold the array, and a dense copy made for the kernel is referenced nowhere else (ND4J frees an unreachable
     * array's memory).
     */
    private static void fence(INDArray... arrays) {
        java.lang.ref.Reference.reachabilityFence(arrays);
    }

    private static FloatBuffer buffer(INDArray a, Geometry g) {
        // a view's data() is already a view buffer: its address is the view's first element
        return new FloatPointer(a.data().addressPointer()).limit(g.extent()).asBuffer();
    }

    /** Per-thread scratch arrays, grown on demand and kept. */
    private static final class Scratch {
        private final float[][] arrays = new float[8][];

        float[] array(int slot, int n) {
            float[] a = arrays[slot];
            if (a == null || a.length < n) {
                a = new float[n];
                arrays[slot] = a;
            }
            return a;
        }

        /** Copies a block into scratch slot {@code slot}, channel-major. */
        float[] load(int slot, FloatBuffer b, Geometry g, int e, int from, int len) {
            float[] dst = array(slot, g.channels * len);
            long base = e * g.exampleStride;
            if (g.channelMajor) {
                for (int c = 0; c < g.channels; c++) {
                    b.get((int) (base + (long) c * g.pixels + from), dst, c * len, len);
                }
            } else {
                float[] tmp = array(6, g.channels * len);
                b.get((int) (base + (long) from * g.channels), tmp, 0, g.channels * len);
                for (int i = 0; i < len; i++) {
                    for (int c = 0; c < g.channels; c++) {
                        dst[c * len + i] = tmp[i * g.channels + c];
                    }
                }
            }
            return dst;
        }

        /** Writes a channel-major block back into {@code b}. */
        void store(float[] src, FloatBuffer b, Geometry g, int e, int from, int len) {
            long base = e * g.exampleStride;
            if (g.channelMajor) {
                for (int c = 0; c < g.channels; c++) {
                    b.put((int) (base + (long) c * g.pixels + from), src, c * len, len);
                }
            } else {
                float[] tmp = array(6, g.channels * len);
                for (int i = 0; i < len; i++) {
                    for (int c = 0; c < g.channels; c++) {
                        tmp[i * g.channels + c] = src[c * len + i];
                    }
                }
                b.put((int) (base + (long) from * g.channels), tmp, 0, g.channels * len);
            }
        }
    }
}
