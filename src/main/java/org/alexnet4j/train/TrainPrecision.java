package org.alexnet4j.train;

import org.alexnet4j.cuda.Precision;

/**
 * The arithmetic of training steps: fp32 (every engine), the CUDA engine's fp32-fast and tf32, or bf16 on the CPU's
 * oneDNN training engine (bf16 products with fp32 sums, fp32 master weights, momentum and update).
 */
public enum TrainPrecision implements SettingValue {
    FP32,
    FP32_FAST,
    TF32,
    BF16;

    @Override
    public String toString() {
        return id();
    }

    /** The CUDA engine's precision of the same name; bf16 is not one (the CUDA engine has no bf16 training). */
    public Precision cuda() {
        if (this == BF16) {
            throw new IllegalArgumentException("--precision bf16 trains on the CPU's oneDNN engine (--engine onednn); "
                    + "the CUDA engine trains in fp32, fp32-fast or tf32");
        }
        return Precision.fromId(id());
    }

    public static TrainPrecision fromId(String id) {
        return SettingValue.parse(TrainPrecision.class, "--precision", id);
    }
}
