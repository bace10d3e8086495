package org.alexnet4j.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The CUDA engine's arithmetic: exact fp32, fp32 with cuDNN's fastest fp32 algorithms, or fp32 storage with TF32
 * tensor-core products.
 */
public enum Precision {
    /**
     * IEEE fp32 products summed directly (cuDNN FMA math, GEMM-like deterministic algorithms, no Winograd or FFT;
     * cuBLAS pedantic): equal to the CPU within 1e-4, and the same algorithms from run to run.
     */
    FP32,
    /**
     * fp32 arithmetic with any fp32 algorithm cuDNN's search finds fastest, Winograd and FFT ones included (what
     * PyTorch's fp32 does with cudnn.benchmark): within about 1e-3 of the CPU.
     */
    FP32_FAST,
    /** fp32 storage, products on TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation), as PyTorch allows. */
    TF32;

    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** True when products use fp32 arithmetic (not tensor-core TF32). */
    public boolean fp32Arithmetic() {
        return this != TF32;
    }

    /** The name in flags and config.json. */
    @Override
    public String toString() {
        return id();
    }

    public static Precision fromId(String id) {
        for (Precision p : values()) {
            if (p.id().equalsIgnoreCase(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + id + "' (the cuda engine has "
                + Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", "))
                + "; bf16 and int8 run on the CPU's oneDNN engine)");
    }
}
