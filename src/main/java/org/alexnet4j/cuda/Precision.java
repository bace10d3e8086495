package org.alexnet4j.cuda;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The CUDA engine's arithmetic: exact fp32, or fp32 storage with TF32 tensor-core products. */
public enum Precision {
    /** IEEE fp32 products (cuDNN FMA math, deterministic algorithms; cuBLAS pedantic): equal to the CPU within 1e-4. */
    FP32,
    /** fp32 storage, products on TF32 tensor cores (10-bit mantissa inputs, fp32 accumulation), as PyTorch allows. */
    TF32;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Precision fromId(String id) {
        for (Precision p : values()) {
            if (p.id().equalsIgnoreCase(id)) {
                return p;
            }
        }
        throw new IllegalArgumentException("unknown precision '" + id + "' (the cuda engine has "
                + Arrays.stream(values()).map(Precision::id).collect(Collectors.joining(", "))
                + "; bf16 is not built yet)");
    }
}
