package org.alexnet4j.infer;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.model.Pooling;
import org.alexnet4j.runtime.Dnnl;
import org.alexnet4j.runtime.HostMemory;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.TorchLayout;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_inner_product_desc_t;
import org.bytedeco.dnnl.dnnl_lrn_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_pooling_v2_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_softmax_desc_t;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.alexnet4j.runtime.Dnnl.check;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * AlexNet's inference compiled once into oneDNN primitives (oneDNN 2.5 through JavaCPP's presets), for a fixed batch
 * size: every convolution with its ReLU fused and its weights reordered once into the layout the kernel wants, LRN,
 * max pooling and the three inner products, run back to back on one stream. It computes the same function as the
 * network's {@code output} (the softmax probabilities; tested against it) from the same weights, without DL4J's
 * per-layer and per-op costs (30-90 us per ND4J op, workspaces, weights reordered on every call): what a batch of one
 * example pays for most.
 *
 * <p>Two-tower layers are grouped convolutions (groups = 2, as the ONNX export writes them); the paper's per-tower
 * LRN runs on the conv output viewed as {@code [2N, C/2, H, W]}, which is the same memory in NCHW and in the blocked
 * layouts when each tower's channels fill whole blocks (otherwise the output is reordered to NCHW first). Nets this
 * engine does not cover ({@link #unsupported}) stay on DL4J. It reads the input's memory directly, so it runs on the
 * CPU backend only ({@link HostMemory#direct()}).
 */
public final class OneDnnInference implements AutoCloseable {
    private final AlexNet net;
    private final int batch;
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    /** The primitives in execution order, with their arguments. */
    private final List<Step> steps = new ArrayList<>();
    /** Steps up to fc8's output: the softmax after them is left out when only the logits are asked for. */
    private int logitSteps;
    /** Everything native this engine owns, released by {@link #close()}. */
    private final List<Pointer> owned = new ArrayList<>();
    /** The primitives' scratchpads, so that {@link #output} may run in any thread (see {@link Dnnl.Scratchpad}). */
    private final Dnnl.Scratchpad scratchpad;
    private final dnnl_memory input;
    private final FloatPointer probabilities;
    /** fc8's output before the softmax, plain {@code [batch, classes]}. */
    private final FloatPointer logits;
    private boolean closed;

    private record Step(dnnl_primitive primitive, dnnl_exec_arg_t args, int count) {
    }

    /** A memory object, the buffer behind it and its descriptor. */
    private record Mem(dnnl_memory memory, FloatPointer buffer, dnnl_memory_desc_t desc) {
    }

    /** Why {@code net} cannot run on this engine, or null when it can. */
    public static String unsupported(AlexNet net) {
        if (net.dataType() != DataType.FLOAT) {
            return "it computes in " + net.dataType() + ", not float32";
        }
        if (net.dataFormat() != CNN2DFormat.NCHW) {
            return "its data format is " + net.dataFormat() + ", not NCHW";
        }
        if (net.padding() == Padding.EDGE) {
            return "it pads with edge values";
        }
        if (net.pooling() != Pooling.MAX) {
            return "it uses " + net.pooling() + " pooling";
        }
        if (!HostMemory.direct()) {
            return "it needs the CPU backend outside device-safe mode";
        }
        return Dnnl.ERROR;
    }

    /** Compiles {@code net} with the parameters of {@code graph} for batches of {@code batch} examples. */
    public static OneDnnInference compile(AlexNet net, ComputationGraph graph, int batch) {
        return new OneDnnInference(net, TorchLayout.export(graph, net), batch);
    }

    /**
     * Compiles {@code net} with weights in PyTorch layout ({@link TorchLayout}: {@code conv1.weight} ... {@code
     * fc8.bias}) for batches of {@code batch} examples.
     */
    public OneDnnInference(AlexNet net, Map<String, NpyArray> weights, int batch) {
        String why = unsupported(net);
        if (why != null) {
            throw new IllegalArgumentException("the oneDNN engine cannot run this net: " + why);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        TorchLayout.validate(net, weights);
        this.net = net;
        this.batch = batch;
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream");
        scratchpad = new Dnnl.Scratchpad(engine);
        try {
            int s = net.inputSize();
            dnnl_memory_desc_t inMd = desc(new long[]{batch, 3, s, s}, dnnl_nchw);
            input = new dnnl_memory();
            check(dnnl_memory_create(input, inMd, engine, (Pointer) null), "input memory");
            owned.add(input);
            Mem cur = new Mem(input, null, inMd);
            int channels = 3;
            int spatial = s;
            boolean first = true;
            for (NetSpec.ConvBlock block : net.convBlocks()) {
                ParamLayer l = block.layer();
                int k = l.kernel(), stride = block.stride(), pad = block.pad();
                int padR = pad + (first ? net.inputOverhang() : 0);
                int out = (spatial + pad + padR - k) / stride + 1;
                cur = conv(cur, first, l, weights, channels, out, stride, pad, padR);
                channels = l.outChannels();
                spatial = out;
                if (block.lrnGroups() > 0) {
                    cur = lrn(cur, channels, spatial, block.lrnGroups());
                }
                if (block.pool()) {
                    int w = net.poolWindow(), e = block.poolPadding();
                    int pooled = (spatial + e - w) / 2 + 1;
                    cur = pool(cur, channels, pooled, w, e);
                    spatial = pooled;
                }
                first = false;
            }
            List<ParamLayer> fcs = net.paramLayers().subList(5, 8);
            for (int i = 0; i < fcs.size(); i++) {
                ParamLayer l = fcs.get(i);
                long[] wDims = i == 0 ? new long[]{l.outChannels(), channels, spatial, spatial}
                        : new long[]{l.outChannels(), l.inPerGroup()};
                cur = innerProduct(cur, l, weights, wDims, i < 2);
            }
            logits = cur.buffer();
            logitSteps = steps.size();
            Mem probs = softmax(cur);
            probabilities = probs.buffer();
            scratchpad.allocate();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** The batch size this engine was compiled for. */
    public int batch() {
        return batch;
    }

    /** The net it computes. */
    public AlexNet net() {
        return net;
    }

    /**
     * The softmax probabilities {@code [batch, classes]} of the input {@code x} ({@code [batch, 3, size, size]},
     * float, NCHW), as the network's {@code output(x)}.
     */
    public synchronized INDArray output(INDArray x) {
        return Nd4j.create(run(x, false), new long[]{batch, net.numClasses()}, 'c');
    }

    /**
     * The probabilities ({@code logits} false) or fc8's outputs before the softmax ({@code logits} true) of the input
     * {@code x}, {@code [batch, classes]} row-major.
     */
    public synchronized float[] run(INDArray x, boolean logits) {
        if (closed) {
            throw new IllegalStateException("this oneDNN engine is closed");
        }
        long s = net.inputSize();
        if (x.rank() != 4 || x.size(0) != batch || x.size(1) != 3 || x.size(2) != s || x.size(3) != s) {
            throw new IllegalArgumentException("input must be [" + batch + ", 3, " + s + ", " + s + "], got "
                    + java.util.Arrays.toString(x.shape()));
        }
        INDArray in = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() ? x
                : x.castTo(DataType.FLOAT).dup('c');
        check(dnnl_memory_set_data_handle(input, in.data().addressPointer()), "input");
        for (Step st : logits ? steps.subList(0, logitSteps) : steps) {
            check(dnnl_primitive_execute(st.primitive(), stream, st.count(), st.args()), "execute");
        }
        check(dnnl_stream_wait(stream), "wait");
        float[] p = new float[batch * net.numClasses()];
        (logits ? this.logits : probabilities).get(p);
        java.lang.ref.Reference.reachabilityFence(in); // its memory was read by the primitives above
        return p;
    }

    private Mem conv(Mem src, boolean first, ParamLayer l, Map<String, NpyArray> weights, int inChannels, int out,
                     int stride, int pad, int padR) {
        int g = l.groups(), oc = l.outChannels(), k = l.kernel();
        long[] srcDims = {batch, inChannels, dims(src.desc())[2], dims(src.desc())[3]};
        long[] wDims = g == 1 ? new long[]{oc, inChannels, k, k} : new long[]{g, oc / g, inChannels / g, k, k};
        boolean chooseSrc = first;
        dnnl_primitive_desc pd = convDesc(chooseSrc ? desc(srcDims, dnnl_format_tag_any) : src.desc(), wDims, oc, out,
                activationTag(oc), stride, pad, padR, l.name());
        if (!first && implementation(pd).startsWith("ref")) {
            // no fast kernel for the previous layer's layout here (seen: width 0.25, conv2's towers of 12 channels on
            // a plain NCHW input: oneDNN's reference convolution, 7 s a batch of 64): the convolution chooses its
            // input and output layouts, and the input is reordered into it
            pd = convDesc(desc(srcDims, dnnl_format_tag_any), wDims, oc, out, dnnl_format_tag_any, stride, pad, padR,
                    l.name());
            chooseSrc = true;
        }
        Mem in = chooseSrc ? reorderInto(src, query(pd, dnnl_query_src_md)) : src;
        String key = TorchLayout.key(net, l);
        Mem w = constant(weights.get(key + ".weight").data(), desc(wDims, g == 1 ? dnnl_oihw : dnnl_goihw),
                query(pd, dnnl_query_weights_md));
        Mem b = constant(weights.get(key + ".bias").data(), desc(new long[]{oc}, dnnl_x), null);
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, l.name(), DNNL_ARG_SRC, in, DNNL_ARG_WEIGHTS, w, DNNL_ARG_BIAS, b, DNNL_ARG_DST, dst);
        return dst;
    }

    private dnnl_primitive_desc convDesc(dnnl_memory_desc_t srcMd, long[] wDims, int oc, int out, int dstTag,
                                         int stride, int pad, int padR, String name) {
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        owned.add(cd);
        check(dnnl_convolution_forward_desc_init(cd, dnnl_forward_inference, dnnl_convolution_direct, srcMd,
                desc(wDims, dnnl_format_tag_any), desc(new long[]{oc}, dnnl_x),
                desc(new long[]{batch, oc, out, out}, dstTag), new long[]{stride, stride},
                new long[]{pad, pad}, new long[]{padR, padR}), name);
        return primitiveDesc(cd, relu(), name);
    }

    /** oneDNN's name of the implementation a primitive descriptor chose ("jit:avx512_common", "ref:any", ...). */
    static String implementation(dnnl_primitive_desc pd) {
        org.bytedeco.javacpp.PointerPointer<org.bytedeco.javacpp.BytePointer> p =
                new org.bytedeco.javacpp.PointerPointer<>(1);
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, p) != dnnl_success) {
            return "";
        }
        org.bytedeco.javacpp.BytePointer s = p.get(org.bytedeco.javacpp.BytePointer.class, 0);
        return s == null || s.isNull() ? "" : s.getString();
    }

    /** LRN across channels, in {@code groups} separate blocks of channels (the paper's towers: 2). */
    private Mem lrn(Mem src, int channels, int spatial, int groups) {
        Mem in = src;
        dnnl_memory_desc_t view = src.desc();
        int tag = dnnl_nchw;
        if (groups > 1) {
            tag = tagOf(src.desc(), channels, spatial, channels / groups);
            if (tag < 0) { // each tower's channels do not fill whole blocks
                return towerLrnInNchw(src, channels, spatial, groups);
            }
            view = desc(new long[]{(long) batch * groups, channels / groups, spatial, spatial}, tag);
        }
        Mem viewIn = alias(in, view);
        dnnl_primitive_desc pd = lrnDesc(view);
        if (groups == 1 && implementation(pd).contains("ref")) {
            // no fast LRN for the layout the convolution chose (seen: the caffe net at width 0.25 after conv2)
            return towerLrnInNchw(src, channels, spatial, 1);
        }
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "lrn", DNNL_ARG_SRC, viewIn, DNNL_ARG_DST, dst);
        return groups > 1 ? alias(dst, desc(new long[]{batch, channels, spatial, spatial}, tag)) : dst;
    }

    /**
     * LRN per tower when a tower's channels do not fill whole channel blocks (width 0.25: towers of 12 and 32 channels
     * after conv1 and conv2): the towers as {@code [groups * N, C/groups, H, W]} in NCHW (the same memory as the map in
     * NCHW). Where a tower's channels are not a multiple of the vector width they are copied into the first channels
     * of a zeroed NCHW buffer of {@code [groups * N, P, H, W]}, P the tower's channels rounded up to
     * the vector width, where oneDNN's jit LRN runs; the result's first channels are copied back. The extra channels
     * stay zero and add nothing to a window's sum of squares, so every real channel's value is exact. (On the towers
     * as they are oneDNN has only its reference LRN: 110 of 320 ms of a width-0.25 batch of 256, which made this
     * engine slower than DL4J's there; now 10 ms plus two 3 ms copies.)
     */
    private Mem towerLrnInNchw(Mem src, int channels, int spatial, int groups) {
        int perTower = channels / groups;
        int width = Math.max(8, Dnnl.BLOCK);
        long[] towers = {(long) batch * groups, perTower, spatial, spatial};
        long[] padded = {(long) batch * groups, (long) (perTower + width - 1) / width * width, spatial, spatial};
        Mem nchw = reorderInto(src, desc(new long[]{batch, channels, spatial, spatial}, dnnl_nchw));
        Mem towersNchw = alias(nchw, desc(towers, dnnl_nchw));
        boolean pad = padded[1] != perTower;
        Mem in = pad ? allocate(desc(padded, dnnl_nchw)) : towersNchw;
        if (pad) {
            in.buffer().zero();
            copy(towersNchw, alias(in, submemory(in.desc(), towers)));
        }
        dnnl_primitive_desc pd = lrnDesc(in.desc());
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "lrn", DNNL_ARG_SRC, in, DNNL_ARG_DST, dst);
        Mem out = dst;
        if (pad) {
            out = allocate(desc(towers, dnnl_nchw));
            copy(alias(dst, submemory(dst.desc(), towers)), out);
        }
        return alias(out, desc(new long[]{batch, channels, spatial, spatial}, dnnl_nchw));
    }

    /** The net's LRN (its constants, across channels) on memory laid out as {@code src}. */
    private dnnl_primitive_desc lrnDesc(dnnl_memory_desc_t src) {
        dnnl_lrn_desc_t ld = new dnnl_lrn_desc_t();
        owned.add(ld);
        check(dnnl_lrn_forward_desc_init(ld, dnnl_forward_inference, dnnl_lrn_across_channels, src,
                (long) AlexNet.LRN_N, (float) (net.lrnAlpha() * AlexNet.LRN_N), (float) AlexNet.LRN_BETA,
                (float) net.lrnK()), "lrn");
        return primitiveDesc(ld, null, "lrn");
    }

    /** The part {@code dims} (from the origin) of memory laid out as {@code parent}. */
    private dnnl_memory_desc_t submemory(dnnl_memory_desc_t parent, long[] dims) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        owned.add(md);
        check(dnnl_memory_desc_init_submemory(md, parent, dims, new long[dims.length]), "submemory");
        return md;
    }

    /** A reorder step from {@code src} into {@code dst} (both existing memories). */
    private void copy(Mem src, Mem dst) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, src.desc(), engine, dst.desc(), engine, scratchpad.attr()),
                "reorder");
        owned.add(pd);
        step(pd, "reorder", DNNL_ARG_FROM, src, DNNL_ARG_TO, dst);
    }

    private Mem pool(Mem src, int channels, int out, int window, int extra) {
        dnnl_pooling_v2_desc_t d = new dnnl_pooling_v2_desc_t();
        owned.add(d);
        check(dnnl_pooling_v2_forward_desc_init(d, dnnl_forward_inference, dnnl_pooling_max, src.desc(),
                desc(new long[]{batch, channels, out, out}, dnnl_format_tag_any), new long[]{2, 2},
                new long[]{window, window}, new long[]{0, 0}, new long[]{0, 0}, new long[]{extra, extra}), "pool");
        dnnl_primitive_desc pd = primitiveDesc(d, null, "pool");
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "pool", DNNL_ARG_SRC, src, DNNL_ARG_DST, dst);
        return dst;
    }

    private Mem innerProduct(Mem src, ParamLayer l, Map<String, NpyArray> weights, long[] wDims, boolean relu) {
        int oc = l.outChannels();
        dnnl_inner_product_desc_t d = new dnnl_inner_product_desc_t();
        owned.add(d);
        check(dnnl_inner_product_forward_desc_init(d, dnnl_forward_inference, src.desc(),
                desc(wDims, dnnl_format_tag_any), desc(new long[]{oc}, dnnl_x),
                desc(new long[]{batch, oc}, relu ? dnnl_format_tag_any : dnnl_nc)), l.name());
        dnnl_primitive_desc pd = primitiveDesc(d, relu ? relu() : null, l.name());
        String key = TorchLayout.key(net, l);
        Mem w = constant(weights.get(key + ".weight").data(), desc(wDims, wDims.length == 4 ? dnnl_oihw : dnnl_oi),
                query(pd, dnnl_query_weights_md));
        Mem b = constant(weights.get(key + ".bias").data(), desc(new long[]{oc}, dnnl_x), null);
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, l.name(), DNNL_ARG_SRC, src, DNNL_ARG_WEIGHTS, w, DNNL_ARG_BIAS, b, DNNL_ARG_DST, dst);
        return dst;
    }

    private Mem softmax(Mem logits) {
        dnnl_softmax_desc_t d = new dnnl_softmax_desc_t();
        owned.add(d);
        check(dnnl_softmax_forward_desc_init(d, dnnl_forward_inference, logits.desc(), 1), "softmax");
        dnnl_primitive_desc pd = primitiveDesc(d, null, "softmax");
        Mem dst = allocate(desc(new long[]{batch, net.numClasses()}, dnnl_nc));
        step(pd, "softmax", DNNL_ARG_SRC, logits, DNNL_ARG_DST, dst);
        return dst;
    }

    /**
     * The layout of the activations: channel blocks of the vector width where they fill the channels (16 floats with
     * AVX-512, 8 with AVX2), the layout oneDNN's direct convolutions, LRN and pooling run fastest on and in which
     * a tower's channels are one run of blocks; else whatever the convolution prefers. (Left to choose, oneDNN 2.5
     * picks NHWC for conv1 on AVX-512, and every later layer then fell to slower GEMM-based kernels.)
     */
    private static int activationTag(int channels) {
        int block = Dnnl.BLOCK;
        return block > 1 && channels % block == 0 ? (block == 16 ? dnnl_nChw16c : dnnl_nChw8c) : dnnl_format_tag_any;
    }

    /** A primitive attribute with ReLU as post-op. */
    private dnnl_primitive_attr relu() {
        dnnl_post_ops ops = new dnnl_post_ops();
        check(dnnl_post_ops_create(ops), "post-ops");
        check(dnnl_post_ops_append_eltwise(ops, 1f, dnnl_eltwise_relu, 0f, 0f), "relu");
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "attr");
        check(dnnl_primitive_attr_set_post_ops(attr, ops), "attr");
        Dnnl.Scratchpad.userMode(attr);
        dnnl_post_ops_destroy(ops);
        owned.add(attr);
        return attr;
    }

    private dnnl_primitive_desc primitiveDesc(Pointer opDesc, dnnl_primitive_attr attr, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(opDesc), attr != null ? attr
                : scratchpad.attr(), engine, null), what);
        owned.add(pd);
        return pd;
    }

    private static dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what) {
        return dnnl_primitive_desc_query_md(pd, what, 0);
    }

    /** {@link Dnnl#desc}, owned by this engine. */
    private dnnl_memory_desc_t desc(long[] dims, int tag) {
        dnnl_memory_desc_t md = Dnnl.desc(dims, tag);
        owned.add(md);
        return md;
    }

    private static long[] dims(dnnl_memory_desc_t md) {
        long[] d = new long[md.ndims()];
        for (int i = 0; i < d.length; i++) {
            d[i] = md.dims().get(i);
        }
        return d;
    }

    /**
     * The format tag of {@code md} ({@code [N, C, H, W]}) if viewing it as {@code [N * C/perGroup, perGroup, H, W]}
     * with the same tag is the same memory: NCHW, or a channel-blocked layout whose block divides {@code perGroup};
     * else -1.
     */
    private int tagOf(dnnl_memory_desc_t md, int channels, int spatial, int perGroup) {
        long[] d = {batch, channels, spatial, spatial};
        int[][] candidates = {{dnnl_nchw, 1}, {dnnl_nChw16c, 16}, {dnnl_nChw8c, 8}};
        for (int[] c : candidates) {
            if (dnnl_memory_desc_equal(md, desc(d, c[0])) == 1) {
                return perGroup % c[1] == 0 ? c[0] : -1;
            }
        }
        return -1;
    }

    private Mem allocate(dnnl_memory_desc_t md) {
        FloatPointer buf = new FloatPointer((dnnl_memory_desc_get_size(md) + 3) / 4);
        owned.add(buf);
        return wrap(md, buf);
    }

    /** A memory object over {@code buf} with descriptor {@code md}. */
    private Mem wrap(dnnl_memory_desc_t md, FloatPointer buf) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine, buf), "memory");
        owned.add(m);
        return new Mem(m, buf, md);
    }

    /** The same buffer under another descriptor (a reinterpreting view). */
    private Mem alias(Mem m, dnnl_memory_desc_t md) {
        return wrap(md, m.buffer());
    }

    /** {@code src} in layout {@code md}: itself, or a new memory a reorder step fills. */
    private Mem reorderInto(Mem src, dnnl_memory_desc_t md) {
        if (dnnl_memory_desc_equal(src.desc(), md) == 1) {
            return src;
        }
        Mem dst = allocate(md);
        copy(src, dst);
        return dst;
    }

    /** Constant data (weights, biases) given in {@code userMd}, reordered once into {@code md} (null: as given). */
    private Mem constant(float[] data, dnnl_memory_desc_t userMd, dnnl_memory_desc_t md) {
        FloatPointer buf = new FloatPointer(data);
        owned.add(buf);
        Mem user = wrap(userMd, buf);
        if (md == null || dnnl_memory_desc_equal(userMd, md) == 1) {
            return user;
        }
        Mem dst = allocate(md);
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, userMd, engine, md, engine, null), "weights reorder");
        // the user-layout copy is freed once reordered (fc6's alone is 151 MB)
        owned.remove(user.memory());
        owned.remove(buf);
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), "weights reorder");
        dnnl_exec_arg_t args = args(DNNL_ARG_FROM, user, DNNL_ARG_TO, dst);
        check(dnnl_primitive_execute(p, stream, 2, args), "weights reorder");
        check(dnnl_stream_wait(stream), "weights reorder");
        dnnl_primitive_destroy(p);
        dnnl_primitive_desc_destroy(pd);
        args.close();
        dnnl_memory_destroy(user.memory());
        buf.close();
        return dst;
    }

    private final java.util.List<String> implementations = new java.util.ArrayList<>();

    /** Each step's name and oneDNN's implementation, in order ("conv2: brgconv:avx512_core", ...). */
    public java.util.List<String> implementations() {
        return java.util.Collections.unmodifiableList(implementations);
    }

    private void step(dnnl_primitive_desc pd, String what, Object... kindAndMem) {
        implementations.add(what + ": " + implementation(pd));
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), what);
        owned.add(p);
        Object[] all = scratchpad.withScratchpad(pd, kindAndMem);
        dnnl_exec_arg_t a = args(all);
        owned.add(a);
        steps.add(new Step(p, a, all.length / 2));
    }

    /** {@link Dnnl#args} of pairs of argument kind and {@link Mem}. */
    private static dnnl_exec_arg_t args(Object... kindAndMem) {
        Object[] pairs = kindAndMem.clone();
        for (int i = 1; i < pairs.length; i += 2) {
            pairs[i] = pairs[i] instanceof Mem m ? m.memory() : pairs[i];
        }
        return Dnnl.args(pairs);
    }

    /** Releases the primitives, memories and buffers (the engine cannot be used afterwards). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (scratchpad != null) {
            scratchpad.release();
        }
        Dnnl.release(owned, stream, engine);
    }
}
