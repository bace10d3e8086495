package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.Dnnl;
import org.alexnet4j.runtime.HostMemory;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.alexnet4j.runtime.Dnnl.check;
import static org.alexnet4j.runtime.Dnnl.desc;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * The weight and bias gradients of a convolution without its input gradient, through oneDNN 2.5's backward-weights
 * primitive (JavaCPP's presets): for conv1, whose input gradient nothing uses. libnd4j's {@code conv2d_bp} always
 * computes both gradients (its oneDNN 2.3 code runs backward-data, then backward-weights): 144-148 ms per conv1
 * tower of a batch-128 step, against ~60 ms for the weights alone here (docs/benchmarks.md). The primitive and its
 * reorders (the input and the output gradient from NCHW into the blocked layouts the kernel wants, the weight
 * gradient back to OIHW) are made once per input shape.
 *
 * <p>It reads and writes the arrays' memory in place, so it runs where {@link HostMemory#direct()} and the natives
 * load; {@link #available()} says so, and the layer takes libnd4j's op otherwise. Its primitives take their
 * scratchpad from {@link Dnnl.Scratchpad}, so that it can run in threads other than the one that made it (a layer
 * trains in whichever thread ParallelWrapper or Spark gives it), one call at a time.
 */
final class OneDnnWeightGradient implements AutoCloseable {
    private final long[] key;
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    private final Dnnl.Scratchpad scratchpad = new Dnnl.Scratchpad(engine);
    private final List<Pointer> owned = new ArrayList<>();
    private final List<Runnable> steps = new ArrayList<>();
    private final dnnl_memory src;
    private final dnnl_memory diffDst;
    private final dnnl_memory diffWeights;
    private final dnnl_memory diffBias;
    private final String implementation;

    /** Whether this can run here: the natives load and Java may touch ND4J's memory. */
    static boolean available() {
        return Dnnl.ERROR == null && HostMemory.direct();
    }

    /** The cache key of a problem: input and output-gradient shapes, kernel, stride and padding. */
    static long[] key(INDArray x, INDArray delta, int k, int s, int p) {
        return new long[]{x.size(0), x.size(1), x.size(2), x.size(3), delta.size(1), delta.size(2), delta.size(3), k,
                s, p};
    }

    /** oneDNN's name of the backward-weights implementation it chose (as {@code jit:avx512_common}). */
    String implementation() {
        return implementation;
    }

    private static String implementationOf(dnnl_primitive_desc pd) {
        org.bytedeco.javacpp.PointerPointer<BytePointer> name = new org.bytedeco.javacpp.PointerPointer<>(1);
        try {
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, name), "implementation name");
            return name.get(BytePointer.class, 0).getString();
        } finally {
            name.close();
        }
    }

    boolean fits(long[] other) {
        return Arrays.equals(key, other);
    }

    /**
     * A backward-weights primitive for input {@code [N, C, H, W]}, output gradient {@code [N, O, oH, oW]}, a square
     * {@code k x k} kernel with stride {@code s} and padding {@code p} on the top and left (the bottom and right
     * padding follow from the output size, as DL4J's truncating convolution mode gives them).
     */
    OneDnnWeightGradient(long[] key) {
        this(key, false);
    }

    /**
     * As above; with {@code plainLayouts} the kernel works on NCHW and OIHW as given instead of the blocked layouts it
     * prefers (oneDNN then takes its GEMM implementation, whose library-mode scratchpad is per thread: a test case).
     */
    OneDnnWeightGradient(long[] key, boolean plainLayouts) {
        this.key = key.clone();
        long n = key[0], c = key[1], h = key[2], w = key[3], o = key[4], oh = key[5], ow = key[6];
        int k = (int) key[7], s = (int) key[8], p = (int) key[9];
        long padB = (oh - 1) * s - h + k - p, padR = (ow - 1) * s - w + k - p;
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream");
        try {
            long[] srcDims = {n, c, h, w}, dstDims = {n, o, oh, ow}, wDims = {o, c, k, k}, bDims = {o};
            long[] strides = {s, s}, padL = {p, p}, padRB = {padB, padR};
            dnnl_convolution_desc_t fwd = own(new dnnl_convolution_desc_t());
            check(dnnl_convolution_forward_desc_init(fwd, dnnl_forward_training, dnnl_convolution_direct,
                    own(desc(srcDims, dnnl_format_tag_any)), own(desc(wDims, dnnl_format_tag_any)),
                    own(desc(bDims, dnnl_x)), own(desc(dstDims, dnnl_format_tag_any)), strides, padL, padRB),
                    "forward descriptor");
            dnnl_primitive_desc fwdPd = own(new dnnl_primitive_desc());
            check(dnnl_primitive_desc_create(fwdPd, new const_dnnl_op_desc_t(fwd), scratchpad.attr(), engine, null),
                    "forward");
            int dataTag = plainLayouts ? dnnl_nchw : dnnl_format_tag_any;
            int weightTag = plainLayouts ? dnnl_oihw : dnnl_format_tag_any;
            dnnl_convolution_desc_t bwd = own(new dnnl_convolution_desc_t());
            check(dnnl_convolution_backward_weights_desc_init(bwd, dnnl_convolution_direct,
                    own(desc(srcDims, dataTag)), own(desc(wDims, weightTag)),
                    own(desc(bDims, dnnl_x)), own(desc(dstDims, dataTag)), strides, padL, padRB),
                    "backward-weights descriptor");
            dnnl_primitive_desc pd = own(new dnnl_primitive_desc());
            check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(bwd), scratchpad.attr(), engine, fwdPd),
                    "backward-weights");
            implementation = implementationOf(pd);
            // the user's arrays (NCHW, OIHW, bias) get their data handles at each call
            dnnl_memory_desc_t srcMd = own(desc(srcDims, dnnl_nchw)), dstMd = own(desc(dstDims, dnnl_nchw));
            src = userMemory(srcMd);
            diffDst = userMemory(dstMd);
            diffWeights = userMemory(own(desc(wDims, dnnl_oihw)));
            diffBias = userMemory(own(desc(bDims, dnnl_x)));
            dnnl_memory srcK = into(src, srcMd, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0));
            dnnl_memory dstK = into(diffDst, dstMd, dnnl_primitive_desc_query_md(pd, dnnl_query_diff_dst_md, 0));
            dnnl_memory_desc_t wMd = dnnl_primitive_desc_query_md(pd, dnnl_query_diff_weights_md, 0);
            boolean wPlain = dnnl_memory_desc_equal(wMd, own(desc(wDims, dnnl_oihw))) == 1;
            dnnl_memory wK = wPlain ? diffWeights : allocated(wMd);
            execute(pd, DNNL_ARG_SRC, srcK, DNNL_ARG_DIFF_DST, dstK, DNNL_ARG_DIFF_WEIGHTS, wK, DNNL_ARG_DIFF_BIAS,
                    diffBias);
            if (!wPlain) {
                reorder(wK, wMd, diffWeights, own(desc(wDims, dnnl_oihw)));
            }
            scratchpad.allocate();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /**
     * Writes the gradients of the weights ({@code [O, C, k, k]}) and bias ({@code O} values) for input {@code x} and
     * the gradient {@code delta} at the convolution's output (pre-activation). All four arrays are float and dense ('c' order; vectors any).
     */
    void compute(INDArray x, INDArray delta, INDArray gradW, INDArray gradB) {
        for (INDArray a : new INDArray[]{x, delta, gradW, gradB}) {
            boolean dense = a.isVectorOrScalar() ? a.length() == 1 || a.elementWiseStride() == 1
                    : a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a);
            if (a.dataType() != DataType.FLOAT || !dense) {
                throw new IllegalArgumentException("dense float 'c' arrays only, got " + a.shapeInfoToString());
            }
        }
        check(dnnl_memory_set_data_handle(src, x.data().addressPointer()), "input");
        check(dnnl_memory_set_data_handle(diffDst, delta.data().addressPointer()), "output gradient");
        check(dnnl_memory_set_data_handle(diffWeights, gradW.data().addressPointer()), "weight gradient");
        check(dnnl_memory_set_data_handle(diffBias, gradB.data().addressPointer()), "bias gradient");
        for (Runnable r : steps) {
            r.run();
        }
        check(dnnl_stream_wait(stream), "wait");
        java.lang.ref.Reference.reachabilityFence(x);
        java.lang.ref.Reference.reachabilityFence(delta);
        java.lang.ref.Reference.reachabilityFence(gradW);
        java.lang.ref.Reference.reachabilityFence(gradB);
    }

    private <T extends Pointer> T own(T p) {
        owned.add(p);
        return p;
    }

    private dnnl_memory userMemory(dnnl_memory_desc_t md) {
        dnnl_memory m = own(new dnnl_memory());
        check(dnnl_memory_create(m, md, engine, (Pointer) null), "memory");
        return m;
    }

    private dnnl_memory allocated(dnnl_memory_desc_t md) {
        FloatPointer buf = own(new FloatPointer((dnnl_memory_desc_get_size(md) + 3) / 4));
        dnnl_memory m = own(new dnnl_memory());
        check(dnnl_memory_create(m, md, engine, buf), "memory");
        return m;
    }

    /** {@code user} (layout {@code userMd}) in layout {@code md}: itself when equal, else a buffer a reorder fills. */
    private dnnl_memory into(dnnl_memory user, dnnl_memory_desc_t userMd, dnnl_memory_desc_t md) {
        if (dnnl_memory_desc_equal(userMd, md) == 1) {
            return user;
        }
        dnnl_memory m = allocated(md);
        reorder(user, userMd, m, md);
        return m;
    }

    private void reorder(dnnl_memory from, dnnl_memory_desc_t fromMd, dnnl_memory to, dnnl_memory_desc_t toMd) {
        dnnl_primitive_desc pd = own(new dnnl_primitive_desc());
        check(dnnl_reorder_primitive_desc_create(pd, fromMd, engine, toMd, engine, scratchpad.attr()), "reorder");
        execute(pd, DNNL_ARG_FROM, from, DNNL_ARG_TO, to);
    }

    private void execute(dnnl_primitive_desc pd, Object... kindAndMemory) {
        dnnl_primitive p = own(new dnnl_primitive());
        check(dnnl_primitive_create(p, pd), "primitive");
        Object[] all = scratchpad.withScratchpad(pd, kindAndMemory);
        int count = all.length / 2;
        dnnl_exec_arg_t args = own(Dnnl.args(all));
        steps.add(() -> check(dnnl_primitive_execute(p, stream, count, args), "execute"));
    }

    @Override
    public void close() {
        steps.clear();
        scratchpad.release();
        Dnnl.release(owned, stream, engine);
    }
}
