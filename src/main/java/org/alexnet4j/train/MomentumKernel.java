package org.alexnet4j.train;

import org.alexnet4j.runtime.HostMemory;
import org.alexnet4j.runtime.KernelPool;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;

/**
 * {@link ClassicalMomentum}'s update in one pass over memory: {@code v = momentum * v - lr * g; g = -v} (DL4J then
 * subtracts {@code g} from the parameters). As ND4J operations the same update reads or writes the 61 M parameters'
 * arrays eleven times ({@code g *= lr}, {@code v *= mu}, {@code v -= g}, {@code g = v}, {@code g = -g}); here it
 * reads {@code g} and {@code v} once and writes each once, in float with the operations' own rounding
 * ({@code (mu * v) - (lr * g)}, each product rounded to float first), so its results are bit for bit theirs.
 * It runs where Java may touch ND4J's memory ({@link HostMemory#direct()}), on float, dense arrays; elsewhere
 * {@link ClassicalMomentum} takes the operations.
 */
final class MomentumKernel {
    /** Floats per work item: 64 KiB of each array, in the L2 cache with its scratch copy. */
    private static final int CHUNK = 16 * 1024;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][]{
            new float[CHUNK], new float[CHUNK]});

    private MomentumKernel() {
    }

    /** True when {@link #apply} can run on these arrays. */
    static boolean applies(INDArray g, INDArray v) {
        return HostMemory.direct() && dense(g) && dense(v) && g.length() == v.length()
                && g.length() <= Integer.MAX_VALUE;
    }

    /** Float and one dense run of memory (a view's data() starts at the view's first element). */
    private static boolean dense(INDArray a) {
        return a.dataType() == DataType.FLOAT && a.isVectorOrScalar() && (a.length() == 1 || a.elementWiseStride() == 1);
    }

    /** {@code v = momentum * v - lr * g; g = -v}, on all cores. */
    static void apply(INDArray g, INDArray v, float lr, float momentum) {
        int n = (int) g.length();
        FloatBuffer gb = new FloatPointer(g.data().addressPointer()).limit(n).asBuffer();
        FloatBuffer vb = new FloatPointer(v.data().addressPointer()).limit(n).asBuffer();
        int items = (n + CHUNK - 1) / CHUNK;
        KernelPool.parallel(items, item -> {
            int from = item * CHUNK, len = Math.min(CHUNK, n - from);
            float[][] s = SCRATCH.get();
            float[] gs = s[0], vs = s[1];
            gb.get(from, gs, 0, len);
            vb.get(from, vs, 0, len);
            for (int i = 0; i < len; i++) {
                float lg = lr * gs[i];
                float mv = momentum * vs[i];
                float nv = mv - lg;
                vs[i] = nv;
                gs[i] = -nv;
            }
            vb.put(from, vs, 0, len);
            gb.put(from, gs, 0, len);
        });
        // the buffers do not hold the arrays: keep them (and their memory) alive until the pass is done
        java.lang.ref.Reference.reachabilityFence(g);
        java.lang.ref.Reference.reachabilityFence(v);
    }
}
