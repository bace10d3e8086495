package org.alexnet4j.train;

/** What computes the training steps; checkpoints are the same for all, so a run resumes on another. */
public enum TrainingEngine implements SettingValue {
    /** cuda where a usable GPU is found and the recipe runs there; else onednn where it is faster; else dl4j. */
    AUTO,
    /** DL4J's graph on ND4J's backend. */
    DL4J,
    /** The project's CUDA 13 / cuDNN 9 engine (org.alexnet4j.cuda). */
    CUDA,
    /** The CUDA engine's orchestration on its CPU reference ops: slow, for checks. */
    REFERENCE,
    /** The same orchestration on oneDNN's primitives on the CPU (org.alexnet4j.cpu.OneDnnOps): fp32 or bf16. */
    ONEDNN;

    @Override
    public String toString() {
        return id();
    }

    /** The project's own engine (CUDA, its CPU reference, or oneDNN), not DL4J's. */
    public boolean ownEngine() {
        return this == CUDA || this == REFERENCE || this == ONEDNN;
    }

    public static TrainingEngine fromId(String id) {
        return SettingValue.parse(TrainingEngine.class, "--engine", id);
    }
}
