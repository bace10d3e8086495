package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.HostMemory;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;

/**
 * Space-to-depth with zero padding, for {@link InputConvolutionLayer}: {@code x [N, C, H, W]} placed at offset
 * {@code (pad, pad)} in a zero {@code [N, C, s*rH, s*rW]} canvas (cropped where it does not fit), rearranged to
 * {@code [N, s*s*C, rH, rW]} with channel {@code (by*s + bx)*C + c} holding canvas pixel {@code (s*y+by, s*x+bx)}.
 * One pass per image in Java (ND4J's 6-d permute copy took ~100 ms per 128x3x227x227 batch, this ~10 ms), where Java
 * may touch ND4J's memory ({@link HostMemory#direct()}); elsewhere (CUDA, device-safe mode) the same rearrangement as
 * ND4J operations.
 */
final class SpaceToDepth {
    private SpaceToDepth() {
    }

    /** {@code out} must be a dense C-order float array of the output shape; {@code x} any float array. */
    static void apply(INDArray x, int s, int pad, INDArray out) {
        INDArray in = x.ordering() == 'c' && Shape.hasDefaultStridesForShape(x) && !x.isView() ? x : x.dup('c');
        int n = (int) in.size(0), c = (int) in.size(1), h = (int) in.size(2), w = (int) in.size(3);
        int oc = (int) out.size(1), rh = (int) out.size(2), rw = (int) out.size(3);
        if (out.dataType() != DataType.FLOAT || in.dataType() != DataType.FLOAT || oc != s * s * c
                || out.size(0) != n) {
            throw new IllegalArgumentException("space-to-depth: bad shapes " + java.util.Arrays.toString(in.shape())
                    + " -> " + java.util.Arrays.toString(out.shape()));
        }
        if (!HostMemory.direct()) {
            withOps(in, s, pad, out);
            return;
        }
        int inImage = c * h * w, outImage = oc * rh * rw;
        FloatBuffer src = new FloatPointer(in.data().addressPointer()).limit((long) n * inImage).asBuffer();
        FloatBuffer dst = new FloatPointer(out.data().addressPointer()).limit((long) n * outImage).asBuffer();
        int usedH = Math.min(h, s * rh - pad), usedW = Math.min(w, s * rw - pad);
        org.alexnet4j.runtime.KernelPool.parallel(n, e -> {
            float[] row = new float[w];
            float[] o = new float[outImage]; // zeros: the padding
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < usedH; y++) {
                    src.get(e * inImage + (ch * h + y) * w, row, 0, w);
                    int cy = y + pad, by = cy % s, ry = cy / s;
                    for (int bx = 0; bx < s; bx++) {
                        int plane = ((by * s + bx) * c + ch) * rh * rw + ry * rw;
                        // canvas column cx = x + pad with cx % s == bx
                        int first = Math.floorMod(bx - pad, s);
                        for (int xx = first; xx < usedW; xx += s) {
                            o[plane + (xx + pad) / s] = row[xx];
                        }
                    }
                }
            }
            dst.put(e * outImage, o, 0, outImage);
        });
        // the buffers do not hold the arrays: keep them (and a dense copy made above) alive until the copy is done
        java.lang.ref.Reference.reachabilityFence(in);
        java.lang.ref.Reference.reachabilityFence(out);
    }

    /** The device-safe twin: the canvas as an ND4J array, rearranged by reshape and permute. */
    static void withOps(INDArray x, int s, int pad, INDArray out) {
        long n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3), rh = out.size(2), rw = out.size(3);
        long usedH = Math.min(h, s * rh - pad), usedW = Math.min(w, s * rw - pad);
        INDArray canvas = Nd4j.create(DataType.FLOAT, n, c, s * rh, s * rw);
        canvas.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(pad, pad + usedH),
                NDArrayIndex.interval(pad, pad + usedW)).assign(x.get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.interval(0, usedH), NDArrayIndex.interval(0, usedW)));
        // [n, c, y, by, x, bx] -> [n, by, bx, c, y, x], copied once into out's dense memory
        out.reshape('c', n, s, s, c, rh, rw).assign(canvas.reshape('c', n, c, rh, s, rw, s).permute(0, 3, 5, 1, 2, 4));
    }
}
