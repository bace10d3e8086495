package org.alexnet4j.cpu;

import org.alexnet4j.cuda.Ops;
import org.alexnet4j.runtime.Dnnl;
import org.alexnet4j.runtime.KernelPool;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_inner_product_desc_t;
import org.bytedeco.dnnl.dnnl_lrn_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_pooling_v2_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.alexnet4j.runtime.Dnnl.check;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * The engine's op seam ({@link Ops}) on oneDNN primitives on the CPU: the whole training step (forward with
 * workspaces, backward data, backward weights, LRN, pooling, ReLU) on primitives created once per shape and kept,
 * in fp32 or in bf16 (bf16 activations, weights and gradients flowing between layers, fp32 sums inside every
 * convolution and inner product, fp32 master weights, weight gradients, momentum and update: oneDNN's bf16 training
 * recipe). {@link org.alexnet4j.cuda.AlexNetEngine} orchestrates it as it does the CUDA ops.
 *
 * <p>Why this and not DL4J's graph: there, conv2-conv5's backward passes run on libnd4j's {@code conv2d_bp}, which
 * reorders weights and activations between NCHW and oneDNN's blocked layouts on every call, the LRN is a Java kernel
 * and every layer allocates its outputs. Here a buffer keeps whatever layout the op that wrote it chose (channel blocks
 * of 16 on AVX-512), so blocked activations flow from convolution to LRN to pooling to the next convolution and back,
 * and a reorder happens only where a reader needs another layout (the image, fc6's flattened input, a weight copy per
 * step). Buffers are NCHW at the seam: {@link #upload} and {@link #download} see plain fp32, and a map in channel
 * blocks is the same memory as its towers folded into the batch when a tower's channels fill whole blocks (the
 * engine's per-tower LRN).
 *
 * <p>Exactness: fp32 equals DL4J's graph and the reference ops within float rounding (tests); bf16 within bf16's
 * rounding of activations and weights (about 3 significant digits). oneDNN's kernels are deterministic for a given
 * CPU and thread count, and dropout masks come from {@link SplittableRandom} streams reseeded per step by the
 * caller, so a resumed run repeats an uninterrupted one. Not thread-safe: one engine, one thread.
 */
public final class OneDnnOps implements Ops {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OneDnnOps.class);
    private static final int[] PLAIN_TAGS = {0, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd, dnnl_abcde};

    private final boolean bf16;
    /** The data type of activations and their gradients (and of the weights' working copies). */
    private final int act;
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    private final Map<String, Prim> prims = new HashMap<>();
    /** Each LRN and pooling output's forward primitive and workspace, for its backward pass. */
    private final Map<Buf, Saved> saved = new IdentityHashMap<>();
    private final List<String> implementations = new ArrayList<>();
    private final List<Pointer> retired = new ArrayList<>();
    private final List<dnnl_primitive_attr> attrs = new ArrayList<>();
    private BytePointer scratchpad = new BytePointer(1);
    private BytePointer temp = new BytePointer(1);
    private boolean closed;

    /**
     * oneDNN's engine on the CPU, computing in bf16 where {@code bf16}, else fp32; direct convolutions. (Winograd
     * was tried for fp32: oneDNN 2.5 has it for the ungrouped conv3 only, and its backward-weights kernel crashed the
     * JVM; docs/benchmarks.md.)
     */
    public OneDnnOps(boolean bf16) {
        if (Dnnl.ERROR != null) {
            throw new IllegalStateException(Dnnl.ERROR);
        }
        if (bf16 && !bf16Available()) {
            throw new IllegalArgumentException("bf16 training needs AVX-512 (oneDNN's bf16 kernels); this CPU has "
                    + Dnnl.isaName() + ": train in fp32");
        }
        this.bf16 = bf16;
        this.act = bf16 ? dnnl_bf16 : dnnl_f32;
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream");
    }

    /**
     * Whether this engine trains {@code spec} faster than DL4J's graph here, as measured (docs/benchmarks.md): oneDNN
     * loads, the CPU has AVX-512, the net has LRN (paper, caffe: there DL4J runs a Java LRN kernel and libnd4j's
     * per-call reorders; torchvision's net, without LRN, trained faster on DL4J: 83.0 against 74.5 img/s), and every
     * convolution's channels per tower (but conv1's input) fill 16-channel blocks, so that no layer falls to a
     * reference or GEMM kernel (the full-width nets; not width 0.5 or below).
     */
    public static boolean covers(org.alexnet4j.model.NetSpec spec) {
        if (Dnnl.ERROR != null || Dnnl.BLOCK != 16 || spec.edgePadding()
                || spec.blocks().stream().noneMatch(b -> b.lrnGroups() > 0)) {
            return false;
        }
        boolean first = true;
        for (org.alexnet4j.model.NetSpec.ConvBlock b : spec.blocks()) {
            org.alexnet4j.model.ParamLayer l = b.layer();
            int in = l.inPerGroup(), out = l.outChannels() / l.groups();
            if ((!first && in % 16 != 0) || out % 16 != 0 || (b.lrnGroups() > 0
                    && l.outChannels() / b.lrnGroups() % 16 != 0)) {
                return false;
            }
            first = false;
        }
        return true;
    }

    /** Whether oneDNN has bf16 kernels here (AVX-512: native with AVX512_BF16 or AMX, emulated on plain AVX-512). */
    public static boolean bf16Available() {
        return Dnnl.ERROR == null && Dnnl.has(dnnl_cpu_isa_avx512_core);
    }

    @Override
    public String name() {
        return bf16 ? "onednn-bf16" : "onednn";
    }

    /** Each primitive's name and the implementation oneDNN chose for it ("conv2 forward: brgconv:avx512_core"). */
    public List<String> implementations() {
        return List.copyOf(implementations);
    }

    // ---------------------------------------------------------------------------------------------------- layouts

    /**
     * How a buffer's bytes hold its values: oneDNN's descriptor, with its dimensions, format tag (-1: another layout,
     * compared by descriptor only) and data type.
     */
    private record Layout(dnnl_memory_desc_t md, long[] dims, int tag, int type, long bytes) {
        long count() {
            long c = 1;
            for (long d : dims) {
                c *= d;
            }
            return c;
        }

        boolean plain() {
            return tag == PLAIN_TAGS[dims.length];
        }

        /** The channel block of a channel-blocked map (16 or 8), else 0. */
        int block() {
            return dims.length == 4 && tag == dnnl_aBcd16b ? 16 : dims.length == 4 && tag == dnnl_aBcd8b ? 8 : 0;
        }

        /**
         * Whether memory in this layout is the same bytes as in {@code o}: equal descriptors; or both plain (row-major)
         * of the same type and count; or both channel-blocked by the same block, same type, height and width, same
         * images x channels, each one's channels a multiple of the block (the towers of a map folded into the batch).
         */
        boolean sameBytesAs(Layout o) {
            if (type != o.type || count() != o.count()) {
                return false;
            }
            if (plain() && o.plain()) {
                return true;
            }
            int b = block();
            if (b > 0 && b == o.block()) {
                return dims[2] == o.dims[2] && dims[3] == o.dims[3] && dims[1] % b == 0 && o.dims[1] % b == 0;
            }
            return dnnl_memory_desc_equal(md, o.md) == 1;
        }

        /** A key naming this layout's bytes: dimensions, tag and type, or the descriptor's content. */
        @Override
        public String toString() {
            return Arrays.toString(dims) + "/" + (tag >= 0 ? String.valueOf(tag) : contentKey(md)) + "/" + type;
        }
    }

    /** A 64-bit hash of a descriptor's bytes (oneDNN zero-initialises them): equal for equal layouts. */
    private static String contentKey(dnnl_memory_desc_t md) {
        BytePointer raw = new BytePointer(md).capacity(md.sizeof());
        byte[] bytes = new byte[(int) md.sizeof()];
        raw.get(bytes);
        long h = 1125899906842597L;
        for (byte b : bytes) {
            h = 31 * h + b;
        }
        return "opaque:" + Long.toHexString(h);
    }

    private static Layout layout(long[] dims, int tag, int type) {
        dnnl_memory_desc_t md = Dnnl.desc(dims, tag, type);
        return new Layout(md, dims, tag, type, dnnl_memory_desc_get_size(md));
    }

    private static Layout plain(long[] dims, int type) {
        return layout(dims, PLAIN_TAGS[dims.length], type);
    }

    /** The layout of a descriptor a primitive chose, its tag found among the plain and channel-blocked ones. */
    private static Layout layout(dnnl_memory_desc_t md) {
        long[] d = new long[md.ndims()];
        for (int i = 0; i < d.length; i++) {
            d[i] = md.dims().get(i);
        }
        int type = md.data_type();
        List<Integer> candidates = new ArrayList<>(List.of(PLAIN_TAGS[d.length]));
        if (d.length == 4) {
            candidates.addAll(List.of(dnnl_aBcd16b, dnnl_aBcd8b, dnnl_acdb));
        }
        for (int tag : candidates) {
            if (dnnl_memory_desc_equal(md, Dnnl.desc(d, tag, type)) == 1) {
                return new Layout(md, d, tag, type, dnnl_memory_desc_get_size(md));
            }
        }
        return new Layout(md, d, -1, type, dnnl_memory_desc_get_size(md));
    }

    /** {@code l} with dimensions {@code dims} where that is the same bytes (plain, or whole channel blocks). */
    private static Layout reshaped(Layout l, long[] dims) {
        if (Arrays.equals(l.dims, dims)) {
            return l;
        }
        if (l.tag >= 0 && dims.length == l.dims.length) {
            Layout r = layout(dims, l.tag, l.type);
            if (r.sameBytesAs(l)) {
                return r;
            }
        }
        return null;
    }

    /**
     * The channel-blocked tag for maps of {@code channels} channels (folded towers included): blocks of the vector
     * width where they fill the channels, the layout oneDNN's direct convolutions, LRN and pooling run fastest on;
     * else {@code any} (the convolution's choice).
     */
    private static int blockedTag(int channels) {
        int block = Dnnl.BLOCK;
        return block > 1 && channels % block == 0 ? (block == 16 ? dnnl_aBcd16b : dnnl_aBcd8b) : dnnl_format_tag_any;
    }

    // ---------------------------------------------------------------------------------------------------- buffers

    /** A copy of a buffer in another layout, valid while the buffer's generation is {@code gen}. */
    private static final class Copy {
        Layout layout;
        BytePointer data;
        long capacity;
        long gen = -1;
    }

    /** A buffer: bytes in the layout of the op that wrote them last, and copies in the layouts readers asked for. */
    private final class Buf implements Buffer {
        final long count;
        final String what;
        BytePointer data;
        long capacity;
        Layout layout;
        long gen;
        final List<Copy> copies = new ArrayList<>(1);

        Buf(long count, String what) {
            this.count = count;
            this.what = what;
        }

        @Override
        public long count() {
            return count;
        }
    }

    private Buf buf(Buffer b) {
        return (Buf) b;
    }

    @Override
    public Buffer alloc(long count, String what) {
        if (count < 0) {
            throw new IllegalArgumentException(what + ": negative size " + count);
        }
        Buf b = new Buf(count, what); // memory on first write, in the layout written
        bufs.add(b);
        return b;
    }

    /** Every buffer made, freed with the engine. */
    private final List<Buf> bufs = new ArrayList<>();

    /** Makes room for {@code l} in {@code b} and marks it written in {@code l}; returns the bytes to write. */
    private BytePointer write(Buf b, Layout l) {
        if (b.data == null || b.capacity < l.bytes) {
            if (b.data != null) {
                retired.add(b.data); // an input of the running op may still point here: freed after it
            }
            b.capacity = Math.max(l.bytes, b.count * 4);
            b.data = new BytePointer(b.capacity);
            b.data.fill(0);
        }
        b.layout = l;
        b.gen++;
        return b.data;
    }

    /** {@code b}'s values in layout {@code want}: its own bytes where they are that, else a copy kept up to date. */
    private BytePointer read(Buf b, Layout want) {
        if (b.layout == null) { // never written: zeros
            write(b, plain(new long[]{b.count}, dnnl_f32));
        }
        if (b.layout.sameBytesAs(want)) {
            return b.data;
        }
        Copy spare = null;
        for (Copy c : b.copies) {
            if (c.layout.sameBytesAs(want)) {
                if (c.gen == b.gen) {
                    return c.data;
                }
                spare = c;
            }
        }
        if (spare == null) {
            spare = new Copy();
            b.copies.add(spare);
        }
        if (spare.data == null || spare.capacity < want.bytes) {
            if (spare.data != null) {
                retired.add(spare.data);
            }
            spare.capacity = want.bytes;
            spare.data = new BytePointer(want.bytes);
        }
        spare.layout = want;
        convert(b.data, b.layout, spare.data, want);
        spare.gen = b.gen;
        return spare.data;
    }

    /** Reorders {@code src} (layout {@code from}) into {@code dst} (layout {@code to}) of the same logical values. */
    private void convert(BytePointer src, Layout from, BytePointer dst, Layout to) {
        if (from.count() != to.count()) {
            throw new IllegalStateException("cannot view " + from.count() + " values as " + to);
        }
        if (Arrays.equals(from.dims, to.dims)) {
            reorder(from, src, to, dst);
        } else if (from.plain()) {
            reorder(plain(to.dims, from.type), src, to, dst);
        } else if (to.plain()) {
            reorder(from, src, plain(from.dims, to.type), dst);
        } else {
            Layout mid = plain(from.dims, from.type);
            if (temp.capacity() < mid.bytes) {
                retired.add(temp);
                temp = new BytePointer(mid.bytes);
            }
            reorder(from, src, mid, temp);
            reorder(plain(to.dims, from.type), temp, to, dst);
        }
    }

    private void reorder(Layout from, BytePointer src, Layout to, BytePointer dst) {
        String key = "reorder " + from + " -> " + to;
        Prim p = cached(key, () -> {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_reorder_primitive_desc_create(pd, from.md, engine, to.md, engine, attr(false)), key);
            return prim(pd, key);
        });
        exec(p, DNNL_ARG_FROM, mem(from.md, src), DNNL_ARG_TO, mem(to.md, dst));
    }

    @Override
    public void upload(float[] src, int count, Buffer dst) {
        Buf b = buf(dst);
        BytePointer d = write(b, plain(new long[]{count}, dnnl_f32));
        new FloatPointer(d).put(src, 0, count);
    }

    @Override
    public void download(Buffer src, int count, float[] dst) {
        Buf b = buf(src);
        long all = b.layout == null ? b.count : b.layout.count();
        new FloatPointer(read(b, plain(new long[]{all}, dnnl_f32))).get(dst, 0, count);
        freeRetired();
    }

    /** The first {@code count} values set to zero (the buffer as plain fp32 then), the rest kept. */
    @Override
    public void zero(Buffer b, long count) {
        Buf x = buf(b);
        master(x, count);
        x.data.position(0).limit(count * 4).fill(0);
        x.data.limit(x.capacity);
        x.gen++;
    }

    /** {@code b} as plain fp32 for a Java kernel ({@code count} values). */
    private FloatBuffer floats(Buf b, long count) {
        return new FloatPointer(read(b, plain(new long[]{count}, dnnl_f32))).limit(count).asBuffer();
    }

    /** {@code b} written as plain fp32 by a Java kernel. */
    private FloatBuffer written(Buf b, long count) {
        return new FloatPointer(write(b, plain(new long[]{count}, dnnl_f32))).limit(count).asBuffer();
    }

    // ------------------------------------------------------------------------------------------------- primitives

    /** A primitive, its descriptor and its name. */
    private record Prim(dnnl_primitive_desc pd, dnnl_primitive primitive, String name, long scratchpadBytes) {
        Layout md(int what) {
            return md(what, 0);
        }

        /** The {@code index}th memory of kind {@code what} (the bias is diff_weights' second). */
        Layout md(int what, int index) {
            return layout(dnnl_primitive_desc_query_md(pd, what, index));
        }
    }

    /** Saved by a forward LRN or pooling for its backward pass: the primitive, its input layout and workspace. */
    private record Saved(Prim forward, Layout src, Layout dst, BytePointer workspace, Layout workspaceLayout) {
    }

    private Prim prim(dnnl_primitive_desc pd, String name) {
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), name);
        dnnl_memory_desc_t s = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        long bytes = s == null || s.isNull() ? 0 : dnnl_memory_desc_get_size(s);
        String impl = Dnnl.implementation(pd);
        implementations.add(name + ": " + impl);
        if (impl.startsWith("ref")) {
            log.debug("oneDNN has only its reference kernel for {}", name);
        }
        Prim prim = new Prim(pd, p, name, bytes);
        prims.put(name, prim);
        return prim;
    }

    /** The primitive named {@code key}, made (and registered under that name) by {@code make} the first time. */
    private Prim cached(String key, java.util.function.Supplier<Prim> make) {
        Prim p = prims.get(key);
        return p != null ? p : make.get();
    }

    private Prim create(Pointer opDesc, dnnl_primitive_attr attr, dnnl_primitive_desc hint, String name) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(opDesc), attr, engine, hint), name);
        return prim(pd, name);
    }

    /** An attribute in user scratchpad mode, with ReLU as post-op where {@code relu}. */
    private dnnl_primitive_attr attr(boolean relu) {
        dnnl_primitive_attr a = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(a), "attr");
        attrs.add(a);
        if (relu) {
            dnnl_post_ops ops = new dnnl_post_ops();
            check(dnnl_post_ops_create(ops), "post-ops");
            check(dnnl_post_ops_append_eltwise(ops, 1f, dnnl_eltwise_relu, 0f, 0f), "relu");
            check(dnnl_primitive_attr_set_post_ops(a, ops), "attr");
            dnnl_post_ops_destroy(ops);
        }
        return Dnnl.Scratchpad.userMode(a);
    }

    /** Memories made for executions not yet run (an op's arguments are made before it runs). */
    private final List<dnnl_memory> live = new ArrayList<>();

    /** A memory object over {@code data} for one execution (destroyed after it). */
    private dnnl_memory mem(dnnl_memory_desc_t md, Pointer data) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine, data), "memory");
        live.add(m);
        return m;
    }

    /** Runs {@code p} on pairs of argument kind and memory (its scratchpad added), then frees this call's memories. */
    private void exec(Prim p, Object... kindAndMemory) {
        Object[] all = kindAndMemory;
        if (p.scratchpadBytes() > 0) {
            if (scratchpad.capacity() < p.scratchpadBytes()) {
                retired.add(scratchpad);
                scratchpad = new BytePointer(p.scratchpadBytes());
            }
            all = Arrays.copyOf(kindAndMemory, kindAndMemory.length + 2);
            all[kindAndMemory.length] = DNNL_ARG_SCRATCHPAD;
            all[kindAndMemory.length + 1] = mem(dnnl_primitive_desc_query_md(p.pd(), dnnl_query_scratchpad_md, 0),
                    scratchpad);
        }
        try (var args = Dnnl.args(all)) {
            check(dnnl_primitive_execute(p.primitive(), stream, all.length / 2, args), p.name());
            check(dnnl_stream_wait(stream), p.name());
        } finally {
            // this call's memories only: an argument's read may have run reorders of its own in between
            for (int i = 1; i < all.length; i += 2) {
                dnnl_memory m = (dnnl_memory) all[i];
                if (live.remove(m)) {
                    dnnl_memory_destroy(m);
                }
            }
            if (live.isEmpty()) {
                freeRetired();
            }
        }
    }

    private void freeRetired() {
        for (Pointer p : retired) {
            p.close();
        }
        retired.clear();
    }

    /** A forward convolution or inner product: {@code y = op(x, w) + b} (with its ReLU), in the primitive's layouts. */
    private void runForward(Prim p, Buffer x, Buffer w, Buffer b, Buffer y, int channels) {
        Layout src = p.md(dnnl_query_src_md), wl = p.md(dnnl_query_weights_md), dst = p.md(dnnl_query_dst_md);
        Layout bl = plain(new long[]{channels}, dnnl_f32);
        exec(p, DNNL_ARG_SRC, mem(src.md, read(buf(x), src)), DNNL_ARG_WEIGHTS, mem(wl.md, read(buf(w), wl)),
                DNNL_ARG_BIAS, mem(bl.md, read(buf(b), bl)), DNNL_ARG_DST, mem(dst.md, write(buf(y), dst)));
    }

    /** A backward-data convolution or inner product: {@code dx} from {@code w} and {@code dy}. */
    private void runBackwardData(Prim p, Buffer w, Buffer dy, Buffer dx) {
        Layout wl = p.md(dnnl_query_weights_md), ddst = p.md(dnnl_query_diff_dst_md);
        Layout dsrc = p.md(dnnl_query_diff_src_md);
        exec(p, DNNL_ARG_WEIGHTS, mem(wl.md, read(buf(w), wl)), DNNL_ARG_DIFF_DST, mem(ddst.md, read(buf(dy), ddst)),
                DNNL_ARG_DIFF_SRC, mem(dsrc.md, write(buf(dx), dsrc)));
    }

    /** A backward-weights convolution or inner product: {@code dw}, {@code db} from {@code x} and {@code dy}. */
    private void runBackwardWeights(Prim p, Buffer x, Buffer dy, Buffer dw, Buffer db) {
        Layout src = p.md(dnnl_query_src_md), ddst = p.md(dnnl_query_diff_dst_md);
        Layout dwl = p.md(dnnl_query_diff_weights_md), dbl = p.md(dnnl_query_diff_weights_md, 1);
        exec(p, DNNL_ARG_SRC, mem(src.md, read(buf(x), src)), DNNL_ARG_DIFF_DST, mem(ddst.md, read(buf(dy), ddst)),
                DNNL_ARG_DIFF_WEIGHTS, mem(dwl.md, write(buf(dw), dwl)),
                DNNL_ARG_DIFF_BIAS, mem(dbl.md, write(buf(db), dbl)));
    }

    // ------------------------------------------------------------------------------------------------ convolution

    private static long[] nchw(int n, int c, int side) {
        return new long[]{n, c, side, side};
    }

    /** The master weights' plain layout: {@code [g, out/g, in/g, k, k]} with groups, else {@code [out, in, k, k]}. */
    private static long[] weightDims(Conv c) {
        int k = c.kernel();
        return c.groups() > 1
                ? new long[]{c.groups(), c.outChannels() / c.groups(), c.inChannels() / c.groups(), k, k}
                : new long[]{c.outChannels(), c.inChannels(), k, k};
    }

    private Prim convForwardPrim(Conv c, int n) {
        String key = "conv fwd " + c + " n" + n;
        return cached(key, () -> newConvForward(c, n, key));
    }

    private Prim newConvForward(Conv c, int n, String key) {
        int srcTag = c.inChannels() == 3 ? dnnl_abcd : blockedTag(c.inChannels());
        // channel blocks first; where a tower's channels do not fill them (narrow nets) oneDNN has only its reference
        // kernel there, so the layouts are left to it (GEMM-based kernels on NCHW or NHWC)
        for (boolean free : new boolean[]{false, true}) {
            dnnl_convolution_desc_t d = new dnnl_convolution_desc_t();
            check(dnnl_convolution_forward_desc_init(d, dnnl_forward_training, dnnl_convolution_direct,
                    Dnnl.desc(nchw(n, c.inChannels(), c.inSide()), free ? dnnl_format_tag_any : srcTag, act),
                    Dnnl.desc(weightDims(c), dnnl_format_tag_any, act), Dnnl.desc(new long[]{c.outChannels()}, dnnl_a),
                    Dnnl.desc(nchw(n, c.outChannels(), c.outSide()), free ? dnnl_format_tag_any
                            : blockedTag(c.outChannels()), act),
                    new long[]{c.stride(), c.stride()}, new long[]{c.pad(), c.pad()}, new long[]{c.pad(), c.pad()}),
                    key);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            if (dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(d), attr(true), engine, null)
                    != dnnl_success) {
                continue;
            }
            if (!free && Dnnl.implementation(pd).startsWith("ref")) {
                dnnl_primitive_desc_destroy(pd);
                continue;
            }
            return prim(pd, key);
        }
        throw new IllegalStateException("oneDNN has no convolution for " + c);
    }

    @Override
    public void convForward(Conv c, int n, Buffer x, Buffer w, Buffer bias, Buffer y) {
        runForward(convForwardPrim(c, n), x, w, bias, y, c.outChannels());
    }

    /**
     * dx from dy. The weights in the layout the backward kernel wants (another than the forward pass's: forced to
     * the forward's, oneDNN 2.5 had only its reference kernel, 16 s for conv2 at batch 8), a second copy per step.
     */
    @Override
    public void convBackwardData(Conv c, int n, Buffer w, Buffer dy, Buffer dx) {
        Prim fwd = convForwardPrim(c, n);
        String key = "conv bwd data " + c + " n" + n;
        Prim p = cached(key, () -> {
            dnnl_convolution_desc_t d = new dnnl_convolution_desc_t();
            check(dnnl_convolution_backward_data_desc_init(d, dnnl_convolution_direct,
                    fwd.md(dnnl_query_src_md).md, Dnnl.desc(weightDims(c), dnnl_format_tag_any, act),
                    fwd.md(dnnl_query_dst_md).md,
                    new long[]{c.stride(), c.stride()}, new long[]{c.pad(), c.pad()}, new long[]{c.pad(), c.pad()}),
                    key);
            return create(d, attr(false), fwd.pd(), key);
        });
        runBackwardData(p, w, dy, dx);
    }

    @Override
    public void convBackwardFilter(Conv c, int n, Buffer x, Buffer dy, Buffer dw, Buffer db) {
        Prim fwd = convForwardPrim(c, n);
        String key = "conv bwd weights " + c + " n" + n;
        Prim p = cached(key, () -> {
            dnnl_convolution_desc_t d = new dnnl_convolution_desc_t();
            check(dnnl_convolution_backward_weights_desc_init(d, dnnl_convolution_direct,
                    fwd.md(dnnl_query_src_md).md, Dnnl.desc(weightDims(c), dnnl_format_tag_any, dnnl_f32),
                    Dnnl.desc(new long[]{c.outChannels()}, dnnl_a), fwd.md(dnnl_query_dst_md).md,
                    new long[]{c.stride(), c.stride()}, new long[]{c.pad(), c.pad()}, new long[]{c.pad(), c.pad()}),
                    key);
            return create(d, attr(false), fwd.pd(), key);
        });
        runBackwardWeights(p, x, dy, dw, db);
    }

    @Override
    public void reluBackward(long count, Buffer y, Buffer dy) {
        Buf yb = buf(y);
        Layout l = yb.layout;
        if (l == null || l.count() != count) {
            throw new IllegalStateException("ReLU's backward pass on " + yb.what + ": its forward output holds "
                    + (l == null ? "nothing" : l.count() + " values") + ", not " + count);
        }
        String key = "relu bwd " + l;
        Prim p = cached(key, () -> {
            dnnl_eltwise_desc_t f = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_forward_desc_init(f, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd, l.md,
                    0f, 0f), key);
            Prim hint = create(f, attr(false), null, "relu fwd " + l);
            dnnl_eltwise_desc_t d = new dnnl_eltwise_desc_t();
            check(dnnl_eltwise_backward_desc_init(d, dnnl_eltwise_relu_use_dst_for_bwd, l.md, l.md, 0f, 0f), key);
            return create(d, attr(false), hint.pd(), key);
        });
        Buf d = buf(dy);
        BytePointer in = read(d, l);
        // in place where dy already holds these bytes (write keeps its memory then), else from the copy into dy
        BytePointer out = write(d, l);
        exec(p, DNNL_ARG_DST, mem(l.md, yb.data), DNNL_ARG_DIFF_DST, mem(l.md, in), DNNL_ARG_DIFF_SRC,
                mem(l.md, out));
    }

    // ---------------------------------------------------------------------------------------------- LRN, pooling

    /**
     * The layout a map op (LRN, pooling, padding) runs in on {@code x} viewed with dimensions {@code dims}: channel
     * blocks where the channels fill them (oneDNN's fast kernels; a copy if {@code x} is in another layout), else
     * {@code x}'s own layout where that is the same bytes, else plain.
     */
    private Layout mapLayout(Buf x, long[] dims) {
        Layout r = x.layout == null ? null : reshaped(x.layout, dims);
        int blocked = blockedTag((int) dims[1]);
        if (blocked != dnnl_format_tag_any && (r == null || r.block() == 0)) {
            return layout(dims, blocked, r != null ? r.type : act);
        }
        return r != null && r.tag >= 0 ? r : layout(dims, dnnl_abcd, act);
    }

    /** The layout each LRN input layout runs in: itself, or NCHW where oneDNN has no fast kernel for it. */
    private final Map<String, Layout> lrnLayouts = new HashMap<>();

    @Override
    public void lrnForward(Shape s, Lrn lrn, Buffer x, Buffer y) {
        Buf xb = buf(x);
        long[] dims = nchw(s.n(), s.c(), s.h());
        Layout given = mapLayout(xb, dims);
        Layout l = lrnLayouts.get(given + " " + lrn);
        if (l == null) {
            l = given;
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            dnnl_primitive_attr a = attr(false);
            check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(lrnDesc(l, lrn, true)), a, engine, null),
                    "lrn");
            if (Dnnl.implementation(pd).startsWith("ref") && !l.plain()) {
                l = layout(dims, dnnl_abcd, l.type); // no fast LRN for this layout: in NCHW, where oneDNN has one
            }
            dnnl_primitive_desc_destroy(pd);
            lrnLayouts.put(given + " " + lrn, l);
        }
        Layout run = l;
        String key = "lrn fwd " + l + " " + lrn;
        Prim p = cached(key, () -> create(lrnDesc(run, lrn, true), attr(false), null, key));
        forwardWithWorkspace(p, l, xb, buf(y));
    }

    private dnnl_lrn_desc_t lrnDesc(Layout l, Lrn lrn, boolean forward) {
        dnnl_lrn_desc_t d = new dnnl_lrn_desc_t();
        float alpha = (float) (lrn.alpha() * lrn.size()); // oneDNN divides alpha by the window
        if (forward) {
            check(dnnl_lrn_forward_desc_init(d, dnnl_forward_training, dnnl_lrn_across_channels, l.md, lrn.size(),
                    alpha, (float) lrn.beta(), (float) lrn.k()), "lrn");
        } else {
            check(dnnl_lrn_backward_desc_init(d, dnnl_lrn_across_channels, l.md, l.md, lrn.size(), alpha,
                    (float) lrn.beta(), (float) lrn.k()), "lrn backward");
        }
        return d;
    }

    /** Runs a forward LRN or pooling from {@code x} into {@code y}, saving its workspace for the backward pass. */
    private void forwardWithWorkspace(Prim p, Layout src, Buf x, Buf y) {
        Layout dst = p.md(dnnl_query_dst_md);
        dnnl_memory_desc_t wsMd = dnnl_primitive_desc_query_md(p.pd(), dnnl_query_workspace_md, 0);
        Layout ws = wsMd == null || wsMd.isNull() || dnnl_memory_desc_get_size(wsMd) == 0 ? null : layout(wsMd);
        Saved old = saved.get(y);
        BytePointer wsData = old != null && old.workspace() != null && ws != null
                && old.workspace().capacity() >= ws.bytes ? old.workspace() : null;
        if (ws != null && wsData == null) {
            if (old != null && old.workspace() != null) {
                retired.add(old.workspace());
            }
            wsData = new BytePointer(ws.bytes);
        }
        BytePointer in = read(x, src);
        BytePointer out = write(y, dst);
        if (ws != null) {
            exec(p, DNNL_ARG_SRC, mem(src.md, in), DNNL_ARG_DST, mem(dst.md, out), DNNL_ARG_WORKSPACE,
                    mem(ws.md, wsData));
        } else {
            exec(p, DNNL_ARG_SRC, mem(src.md, in), DNNL_ARG_DST, mem(dst.md, out));
        }
        saved.put(y, new Saved(p, src, dst, wsData, ws));
    }

    private Saved savedFor(Buf y, String what) {
        Saved s = saved.get(y);
        if (s == null) {
            throw new IllegalStateException(what + "'s backward pass before its forward pass on " + y.what);
        }
        return s;
    }

    @Override
    public void lrnBackward(Shape s, Lrn lrn, Buffer x, Buffer y, Buffer dy, Buffer dx) {
        Saved f = savedFor(buf(y), "LRN");
        String key = "lrn bwd " + f.src() + " " + lrn;
        Prim p = cached(key, () -> create(lrnDesc(f.src(), lrn, false), attr(false), f.forward().pd(), key));
        backwardWithWorkspace(p, f, buf(x), buf(dy), buf(dx));
    }

    private void backwardWithWorkspace(Prim p, Saved f, Buf x, Buf dy, Buf dx) {
        Layout ddst = p.md(dnnl_query_diff_dst_md), dsrc = p.md(dnnl_query_diff_src_md);
        List<Object> args = new ArrayList<>(List.of(DNNL_ARG_DIFF_DST, mem(ddst.md, read(dy, ddst))));
        if (x != null) {
            args.addAll(List.of(DNNL_ARG_SRC, mem(f.src().md, read(x, f.src()))));
        }
        if (f.workspace() != null) {
            args.addAll(List.of(DNNL_ARG_WORKSPACE, mem(f.workspaceLayout().md, f.workspace())));
        }
        args.addAll(List.of(DNNL_ARG_DIFF_SRC, mem(dsrc.md, write(dx, dsrc))));
        exec(p, args.toArray());
    }

    /** Both sides of a square pooling's {@code v} (stride, window; zero for dilation and padding). */
    private static long[] square(long v) {
        return new long[]{v, v};
    }

    @Override
    public void poolForward(Shape in, Pool pool, Buffer x, Buffer y) {
        Buf xb = buf(x);
        Layout l = mapLayout(xb, nchw(in.n(), in.c(), in.h()));
        String key = "pool fwd " + l + " " + pool;
        Prim p = cached(key, () -> {
            dnnl_pooling_v2_desc_t d = new dnnl_pooling_v2_desc_t();
            check(dnnl_pooling_v2_forward_desc_init(d, dnnl_forward_training, poolAlg(pool), l.md,
                    Dnnl.desc(nchw(in.n(), in.c(), pool.out(in.h())), dnnl_format_tag_any, l.type),
                    square(pool.stride()), square(pool.window()), square(0), square(0), square(0)), key);
            return create(d, attr(false), null, key);
        });
        forwardWithWorkspace(p, l, xb, buf(y));
    }

    private static int poolAlg(Pool pool) {
        return pool.max() ? dnnl_pooling_max : dnnl_pooling_avg_include_padding;
    }

    @Override
    public void poolBackward(Shape in, Pool pool, Buffer x, Buffer y, Buffer dy, Buffer dx) {
        Saved f = savedFor(buf(y), "pooling");
        String key = "pool bwd " + f.src() + " " + pool;
        Prim p = cached(key, () -> {
            dnnl_pooling_v2_desc_t d = new dnnl_pooling_v2_desc_t();
            check(dnnl_pooling_v2_backward_desc_init(d, poolAlg(pool), f.src().md, f.dst().md, square(pool.stride()),
                    square(pool.window()), square(0), square(0), square(0)), key);
            return create(d, attr(false), f.forward().pd(), key);
        });
        backwardWithWorkspace(p, f, null, buf(dy), buf(dx));
    }

    @Override
    public void padBottomRight(Shape in, int extra, Buffer x, Buffer y) {
        Buf xb = buf(x);
        Layout from = mapLayout(xb, nchw(in.n(), in.c(), in.h()));
        Layout to = layout(new long[]{in.n(), in.c(), in.h() + extra, in.w() + extra}, from.tag, from.type);
        BytePointer src = read(xb, from);
        BytePointer dst = write(buf(y), to);
        dst.position(0).limit(to.bytes).fill(0);
        dst.limit(dst.capacity());
        reorder(from, src, sub(to, from.dims), dst);
    }

    /** The part {@code dims} (from the origin) of memory laid out as {@code parent}. */
    private static Layout sub(Layout parent, long[] dims) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_submemory(md, parent.md, dims, new long[dims.length]), "submemory");
        return new Layout(md, dims, -1, parent.type, parent.bytes);
    }

    @Override
    public void cropBottomRight(Shape in, int extra, Buffer dy, Buffer dx) {
        Buf d = buf(dy);
        long[] big = {in.n(), in.c(), in.h() + extra, in.w() + extra};
        Layout from = mapLayout(d, big);
        Layout to = layout(nchw(in.n(), in.c(), in.h()), from.tag, from.type);
        BytePointer src = read(d, from);
        reorder(sub(from, to.dims), src, to, write(buf(dx), to));
    }

    // --------------------------------------------------------------------------------------------- fully connected

    private Prim linearForwardPrim(int n, int in, int out, boolean relu) {
        String key = "ip fwd " + n + "x" + in + "->" + out + (relu ? " relu" : "");
        return cached(key, () -> {
            dnnl_inner_product_desc_t d = new dnnl_inner_product_desc_t();
            check(dnnl_inner_product_forward_desc_init(d, dnnl_forward_training, Dnnl.desc(new long[]{n, in}, dnnl_ab,
                            act), Dnnl.desc(new long[]{out, in}, dnnl_ab, act), Dnnl.desc(new long[]{out}, dnnl_a),
                    Dnnl.desc(new long[]{n, out}, dnnl_ab, dnnl_f32)), key);
            return create(d, attr(relu), null, key);
        });
    }

    @Override
    public void linearForward(int n, int in, int out, Buffer x, Buffer w, Buffer b, Buffer y, boolean relu) {
        runForward(linearForwardPrim(n, in, out, relu), x, w, b, y, out);
    }

    @Override
    public void linearBackwardData(int n, int in, int out, Buffer w, Buffer dy, Buffer dx) {
        Prim fwd = linearForwardPrim(n, in, out, false);
        String key = "ip bwd data " + n + "x" + in + "->" + out;
        Prim p = cached(key, () -> {
            dnnl_inner_product_desc_t d = new dnnl_inner_product_desc_t();
            check(dnnl_inner_product_backward_data_desc_init(d, Dnnl.desc(new long[]{n, in}, dnnl_ab, dnnl_f32),
                    Dnnl.desc(new long[]{out, in}, dnnl_ab, act), Dnnl.desc(new long[]{n, out}, dnnl_ab, act)), key);
            return create(d, attr(false), fwd.pd(), key);
        });
        runBackwardData(p, w, dy, dx);
    }

    @Override
    public void linearBackwardWeights(int n, int in, int out, Buffer x, Buffer dy, Buffer dw, Buffer db) {
        Prim fwd = linearForwardPrim(n, in, out, false);
        String key = "ip bwd weights " + n + "x" + in + "->" + out;
        Prim p = cached(key, () -> {
            dnnl_inner_product_desc_t d = new dnnl_inner_product_desc_t();
            check(dnnl_inner_product_backward_weights_desc_init(d, Dnnl.desc(new long[]{n, in}, dnnl_ab, act),
                    Dnnl.desc(new long[]{out, in}, dnnl_ab, dnnl_f32), Dnnl.desc(new long[]{out}, dnnl_a),
                    Dnnl.desc(new long[]{n, out}, dnnl_ab, act)), key);
            return create(d, attr(false), fwd.pd(), key);
        });
        runBackwardWeights(p, x, dy, dw, db);
    }

    // ------------------------------------------------------------------------------ dropout, loss and the update

    /**
     * Inverted dropout drawn as {@link org.alexnet4j.cuda.ReferenceOps}'s (one {@link SplittableRandom} draw per
     * element, kept when {@code >= rate}), so the two seams give the same masks from the same seed.
     */
    @Override
    public Dropout dropout(long count, float rate, long seed) {
        if (count > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("dropout over " + count + " values");
        }
        boolean[] keep = new boolean[(int) count];
        float scale = 1f / (1f - rate);
        return new Dropout() {
            SplittableRandom random = new SplittableRandom(seed);

            @Override
            public void forward(long n, Buffer x, Buffer y) {
                FloatBuffer in = floats(buf(x), n);
                float[] v = new float[(int) n];
                in.get(0, v);
                for (int i = 0; i < n; i++) {
                    keep[i] = random.nextDouble() >= rate;
                    v[i] = keep[i] ? v[i] * scale : 0f;
                }
                written(buf(y), n).put(0, v);
            }

            @Override
            public void backward(long n, Buffer dy, Buffer dx) {
                FloatBuffer in = floats(buf(dy), n);
                float[] v = new float[(int) n];
                in.get(0, v);
                for (int i = 0; i < n; i++) {
                    v[i] = keep[i] ? v[i] * scale : 0f;
                }
                written(buf(dx), n).put(0, v);
            }

            @Override
            public void reseed(long s) {
                random = new SplittableRandom(s);
            }
        };
    }

    @Override
    public void softmaxCrossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer probs, Buffer dlogits) {
        int count = n * classes;
        float[] l = new float[count], y = new float[count], p = new float[count], d = new float[count];
        floats(buf(logits), count).get(0, l);
        floats(buf(onehot), count).get(0, y);
        for (int r = 0; r < n; r++) {
            int base = r * classes;
            org.alexnet4j.cuda.ReferenceOps.softmax(l, base, classes, p, base);
            for (int j = 0; j < classes; j++) {
                d[base + j] = (p[base + j] - y[base + j]) / n;
            }
        }
        written(buf(probs), count).put(0, p);
        written(buf(dlogits), count).put(0, d);
    }

    @Override
    public double crossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer scratch) {
        int count = n * classes;
        float[] l = new float[count], y = new float[count];
        floats(buf(logits), count).get(0, l);
        floats(buf(onehot), count).get(0, y);
        return org.alexnet4j.cuda.ReferenceOps.meanCrossEntropy(l, y, n, classes);
    }

    /** Floats per work item of the update: 64 KiB of each array. */
    private static final int CHUNK = 16 * 1024;
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][]{
            new float[CHUNK], new float[CHUNK], new float[CHUNK]});

    /** The paper's update in one pass over memory, in fp32 on the master weights, on all cores. */
    @Override
    public void momentumUpdate(long count, Buffer w, Buffer g, Buffer v, float lr, float momentum, float decay) {
        Buf wb = buf(w), gb = buf(g), vb = buf(v);
        FloatBuffer gs = floats(gb, count);
        FloatBuffer ws = master(wb, count), vs = master(vb, count);
        int n = Math.toIntExact(count);
        int items = (n + CHUNK - 1) / CHUNK;
        KernelPool.parallel(items, item -> {
            int from = item * CHUNK, len = Math.min(CHUNK, n - from);
            float[][] s = SCRATCH.get();
            float[] wa = s[0], ga = s[1], va = s[2];
            ws.get(from, wa, 0, len);
            gs.get(from, ga, 0, len);
            vs.get(from, va, 0, len);
            for (int i = 0; i < len; i++) {
                float nv = momentum * va[i] - lr * (ga[i] + decay * wa[i]);
                va[i] = nv;
                wa[i] += nv;
            }
            ws.put(from, wa, 0, len);
            vs.put(from, va, 0, len);
        });
        wb.gen++; // the weights' working copies are stale now
        vb.gen++;
    }

    /** {@code b}'s own bytes as plain fp32 (converted in place first if another op wrote another layout). */
    private FloatBuffer master(Buf b, long count) {
        Layout l = plain(new long[]{b.layout == null ? b.count : b.layout.count()}, dnnl_f32);
        if (b.layout == null || !b.layout.sameBytesAs(l)) {
            float[] values = new float[Math.toIntExact(l.count())];
            floats(b, l.count()).get(0, values);
            new FloatPointer(write(b, l)).put(values);
        }
        return new FloatPointer(b.data).limit(count).asBuffer();
    }

    @Override
    public void synchronize() {
        check(dnnl_stream_wait(stream), "stream");
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Prim p : prims.values()) {
            dnnl_primitive_destroy(p.primitive());
            dnnl_primitive_desc_destroy(p.pd());
        }
        prims.clear();
        for (dnnl_primitive_attr a : attrs) {
            dnnl_primitive_attr_destroy(a);
        }
        attrs.clear();
        for (Saved v : saved.values()) {
            if (v.workspace() != null) {
                retired.add(v.workspace());
            }
        }
        saved.clear();
        for (Buf b : bufs) {
            if (b.data != null) {
                retired.add(b.data);
                b.data = null;
            }
            for (Copy c : b.copies) {
                if (c.data != null) {
                    retired.add(c.data);
                }
            }
            b.copies.clear();
        }
        bufs.clear();
        freeRetired();
        scratchpad.close();
        temp.close();
        dnnl_stream_destroy(stream);
        dnnl_engine_destroy(engine);
    }
}
