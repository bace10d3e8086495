package org.alexnet4j.infer;

import java.util.Locale;

/**
 * The arithmetic of the oneDNN engine on the CPU: exact fp32, bf16 products with fp32 accumulation, or int8 products
 * (per-output-channel weight scales, per-tensor activation scales from a {@link Calibration}) with int32 accumulation.
 * LRN and the softmax always run in fp32 (bf16 keeps LRN in bf16 where oneDNN has a fast kernel for it).
 */
public enum CpuPrecision {
    /** IEEE fp32 throughout: the network's own results within float rounding. */
    FP32,
    /**
     * bf16 weights and activations (8-bit mantissa), fp32 accumulation inside every convolution and inner product,
     * fp32 logits: on CPUs with AVX512_BF16 (or AMX) about twice fp32's arithmetic rate; elsewhere oneDNN emulates it.
     */
    BF16,
    /**
     * u8/s8 activations and s8 weights with int32 accumulation (VNNI's dot products), fp32 around LRN and for the
     * logits; needs a calibration (activation ranges measured on real images).
     */
    INT8;

    /** The name in flags and JSON: fp32, bf16, int8. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String toString() {
        return id();
    }

    /** The precision named {@code id}, or null when it is none of fp32, bf16, int8. */
    public static CpuPrecision fromIdOrNull(String id) {
        for (CpuPrecision p : values()) {
            if (p.id().equalsIgnoreCase(id)) {
                return p;
            }
        }
        return null;
    }
}
