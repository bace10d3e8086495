package org.alexnet4j.runtime;

import org.bytedeco.dnnl.dnnl_memory_desc_t;

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

    /** Throws, naming {@code what}, unless {@code status} is success. */
    public static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN failed (" + what + "): status " + status);
        }
    }

    /** A new f32 memory descriptor with dimensions {@code dims} in layout {@code tag} (or {@code any}). */
    public static dnnl_memory_desc_t desc(long[] dims, int tag) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_tag(md, dims.length, dims, dnnl_f32, tag), "memory descriptor");
        return md;
    }

    /** The argument array of a primitive's execution from pairs of argument kind ({@code DNNL_ARG_*}) and memory. */
    public static org.bytedeco.dnnl.dnnl_exec_arg_t args(Object... kindAndMemory) {
        int n = kindAndMemory.length / 2;
        org.bytedeco.dnnl.dnnl_exec_arg_t a = new org.bytedeco.dnnl.dnnl_exec_arg_t(n);
        for (int i = 0; i < n; i++) {
            a.position(i).arg((Integer) kindAndMemory[2 * i])
                    .memory((org.bytedeco.dnnl.dnnl_memory) kindAndMemory[2 * i + 1]);
        }
        return a.position(0);
    }

    /**
     * Destroys what one user of oneDNN created, newest first (primitives, memories, primitive descriptors and
     * attributes through oneDNN; buffers and descriptors through JavaCPP), then its stream and engine.
     */
    public static void release(java.util.List<org.bytedeco.javacpp.Pointer> owned, org.bytedeco.dnnl.dnnl_stream stream,
                               org.bytedeco.dnnl.dnnl_engine engine) {
        for (int i = owned.size() - 1; i >= 0; i--) {
            org.bytedeco.javacpp.Pointer p = owned.get(i);
            if (p instanceof org.bytedeco.dnnl.dnnl_primitive prim) {
                dnnl_primitive_destroy(prim);
            } else if (p instanceof org.bytedeco.dnnl.dnnl_memory m) {
                dnnl_memory_destroy(m);
            } else if (p instanceof org.bytedeco.dnnl.dnnl_primitive_desc pd) {
                dnnl_primitive_desc_destroy(pd);
            } else if (p instanceof org.bytedeco.dnnl.dnnl_primitive_attr attr) {
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
