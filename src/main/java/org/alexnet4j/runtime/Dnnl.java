package org.alexnet4j.runtime;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * oneDNN 2.5 through JavaCPP's presets (beside ND4J's own oneDNN 2.3 inside libnd4j): whether its natives load
 * here, this CPU's channel block, and the C API's status check. Used by the inference engine and by conv1's weight
 * gradient.
 */
public final class Dnnl {
    /** Why oneDNN's natives could not be loaded, or null when they were. */
    public static final String ERROR = load();
    /** The channel block of this CPU's vector unit: 16 (AVX-512), 8 (AVX2) or 1. */
    public static final int BLOCK = ERROR == null ? blockOf(dnnl_get_effective_cpu_isa()) : 1;

    private Dnnl() {
    }

    /** Whether oneDNN dispatches to {@code isa} ({@code dnnl_cpu_isa_avx512_core_bf16} ...) or better on this CPU. */
    public static boolean has(int isa) {
        return ERROR == null && (dnnl_get_effective_cpu_isa() & isa) == isa;
    }

    /**
     * The instruction set oneDNN dispatches to here, by name ("avx512_core_bf16", "avx2", ...): the CPU's, or lower
     * where {@code DNNL_MAX_CPU_ISA} caps it.
     */
    public static String isaName() {
        if (ERROR != null) {
            return "none (" + ERROR + ")";
        }
        int[] isas = {dnnl_cpu_isa_avx512_core_amx, dnnl_cpu_isa_avx512_core_bf16, dnnl_cpu_isa_avx512_core_vnni,
                dnnl_cpu_isa_avx512_core, dnnl_cpu_isa_avx2_vnni, dnnl_cpu_isa_avx2, dnnl_cpu_isa_avx,
                dnnl_cpu_isa_sse41};
        String[] names = {"avx512_core_amx", "avx512_core_bf16", "avx512_core_vnni", "avx512_core", "avx2_vnni",
                "avx2", "avx", "sse41"};
        for (int i = 0; i < isas.length; i++) {
            if (has(isas[i])) {
                return names[i];
            }
        }
        return "generic";
    }

    private static String load() {
        try {
            org.bytedeco.javacpp.Loader.load(org.bytedeco.dnnl.global.dnnl.class);
            return null;
        } catch (Throwable t) { // no natives for this platform: UnsatisfiedLinkError, NoClassDefFoundError
            return "oneDNN's natives could not be loaded on " + org.bytedeco.javacpp.Loader.getPlatform() + " (" + t
                    + ")";
        }
    }

    private static int blockOf(int isa) {
        if ((isa & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core) {
            return 16;
        }
        return (isa & dnnl_cpu_isa_avx2) == dnnl_cpu_isa_avx2 ? 8 : 1;
    }

    /** oneDNN's name of the implementation a primitive descriptor chose ("jit:avx512_common", "ref:any", ...). */
    public static String implementation(dnnl_primitive_desc pd) {
        org.bytedeco.javacpp.PointerPointer<BytePointer> p = new org.bytedeco.javacpp.PointerPointer<>(1);
        if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, p) != dnnl_success) {
            return "";
        }
        BytePointer s = p.get(BytePointer.class, 0);
        return s == null || s.isNull() ? "" : s.getString();
    }

    /** Throws, naming {@code what}, unless {@code status} is success. */
    public static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed (" + what + "): status " + status);
        }
    }

    /** A new f32 memory descriptor with dimensions {@code dims} in layout {@code tag} (or {@code any}). */
    public static dnnl_memory_desc_t desc(long[] dims, int tag) {
        return desc(dims, tag, dnnl_f32);
    }

    /** A new memory descriptor of data type {@code type} ({@code dnnl_f32}, {@code dnnl_bf16}, {@code dnnl_u8}...). */
    public static dnnl_memory_desc_t desc(long[] dims, int tag, int type) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_tag(md, dims.length, dims, type, tag), "memory descriptor");
        return md;
    }

    /** The argument array of a primitive's execution from pairs of argument kind ({@code DNNL_ARG_*}) and memory. */
    public static dnnl_exec_arg_t args(Object... kindAndMemory) {
        int n = kindAndMemory.length / 2;
        dnnl_exec_arg_t a = new dnnl_exec_arg_t(n);
        for (int i = 0; i < n; i++) {
            a.position(i).arg((Integer) kindAndMemory[2 * i])
                    .memory((dnnl_memory) kindAndMemory[2 * i + 1]);
        }
        return a.position(0);
    }

    /**
     * The scratchpads of one owner's primitives (an inference engine, a layer's weight gradient), which run one after
     * another and never at once: every primitive descriptor is made with {@link #attr()} (or an attribute passed
     * through {@link #userMode}), so that its scratchpad is memory given at execution ({@link #withScratchpad}),
     * one buffer of the largest size for all ({@link #allocate}).
     *
     * <p>Why: in oneDNN's default (library) mode, as JavaCPP builds 2.5 (concurrent execution off), some
     * implementations share the creating thread's global scratchpad, and "executing primitives in a different thread
     * than the one they were created in will result in segmentation fault" (oneDNN's guide, "Primitive Attributes:
     * Scratchpad"). A network's layers run in whatever thread trains them: a new ParallelWrapper worker per fit, a
     * Spark task. Measured: conv1's backward-weights in plain layouts (oneDNN's {@code gemm:jit}, a 4.4 MB im2col
     * scratchpad) made in one thread and run in another crashed the JVM in im2col; in user mode it gives the
     * creating thread's result bit for bit.
     */
    public static final class Scratchpad {
        private final dnnl_engine engine;
        private final dnnl_primitive_attr attr = new dnnl_primitive_attr();
        private final List<dnnl_memory> memories = new ArrayList<>();
        private long bytes;
        private BytePointer buffer;

        /** Scratchpads on {@code engine} (created before any {@link #withScratchpad} call). */
        public Scratchpad(dnnl_engine engine) {
            this.engine = engine;
            check(dnnl_primitive_attr_create(attr), "attribute");
            userMode(attr);
        }

        /** Sets the user scratchpad mode on {@code attr} (for attributes with post-ops of their own). */
        public static dnnl_primitive_attr userMode(dnnl_primitive_attr attr) {
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user), "scratchpad mode");
            return attr;
        }

        /** A plain attribute in user scratchpad mode, for every primitive descriptor without post-ops. */
        public dnnl_primitive_attr attr() {
            return attr;
        }

        /**
         * The scratchpad memory of a primitive made from {@code pd}, or null when it needs none; its buffer is
         * attached by {@link #allocate}, which must come before the first execution.
         */
        private dnnl_memory memoryFor(dnnl_primitive_desc pd) {
            dnnl_memory_desc_t md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
            long size = md == null || md.isNull() ? 0 : dnnl_memory_desc_get_size(md);
            if (size == 0) {
                return null;
            }
            dnnl_memory m = new dnnl_memory();
            check(dnnl_memory_create(m, md, engine, (Pointer) null), "scratchpad memory");
            memories.add(m);
            bytes = Math.max(bytes, size);
            return m;
        }

        /** {@code kindAndMemory} (argument kinds and memories) with the scratchpad of {@code pd}'s primitive added. */
        public Object[] withScratchpad(dnnl_primitive_desc pd, Object... kindAndMemory) {
            dnnl_memory m = memoryFor(pd);
            if (m == null) {
                return kindAndMemory;
            }
            Object[] all = Arrays.copyOf(kindAndMemory, kindAndMemory.length + 2);
            all[kindAndMemory.length] = DNNL_ARG_SCRATCHPAD;
            all[kindAndMemory.length + 1] = m;
            return all;
        }

        /** Allocates the one buffer (the largest scratchpad asked for) and attaches it to every scratchpad memory. */
        public void allocate() {
            if (buffer != null) {
                throw new IllegalStateException("scratchpad already allocated");
            }
            buffer = new BytePointer(Math.max(1, bytes));
            for (dnnl_memory m : memories) {
                check(dnnl_memory_set_data_handle(m, buffer), "scratchpad memory");
            }
        }

        /** Destroys the scratchpad memories and the attribute and frees the buffer. */
        public void release() {
            for (dnnl_memory m : memories) {
                dnnl_memory_destroy(m);
            }
            memories.clear();
            if (!attr.isNull()) {
                dnnl_primitive_attr_destroy(attr);
                attr.setNull();
            }
            if (buffer != null) {
                buffer.close();
                buffer = null;
            }
        }
    }

    /**
     * Destroys what one user of oneDNN created, newest first (primitives, memories, primitive descriptors and
     * attributes through oneDNN; buffers and descriptors through JavaCPP), then its stream and engine.
     */
    public static void release(List<Pointer> owned, dnnl_stream stream,
                               dnnl_engine engine) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            Pointer p = owned.get(i);
            if (p instanceof dnnl_primitive prim) {
                dnnl_primitive_destroy(prim);
            } else if (p instanceof dnnl_memory m) {
                dnnl_memory_destroy(m);
            } else if (p instanceof dnnl_primitive_desc pd) {
                dnnl_primitive_desc_destroy(pd);
            } else if (p instanceof dnnl_primitive_attr attr) {
                dnnl_primitive_attr_destroy(attr);
            } else {
                p.close();
            }
        }
        owned.clear();
        if (!stream.isNull()) {
            dnnl_stream_destroy(stream);
        }
        if (!engine.isNull()) {
            dnnl_engine_destroy(engine);
        }
    }
}
