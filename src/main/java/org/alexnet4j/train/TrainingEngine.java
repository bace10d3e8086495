package org.alexnet4j.train;

import java.util.Arrays;

/** What computes the training steps; checkpoints are the same for all, so a run resumes on another. */
public enum TrainingEngine {
    /** cuda where a usable GPU is found and the recipe runs there, else dl4j. */
    AUTO("auto"),
    /** DL4J's graph on ND4J's backend. */
    DL4J("dl4j"),
    /** The project's CUDA 13 / cuDNN 9 engine (org.alexnet4j.cuda). */
    CUDA("cuda"),
    /** The CUDA engine's orchestration on its CPU reference ops: slow, for checks. */
    REFERENCE("reference");

    private final String id;

    TrainingEngine(String id) {
        this.id = id;
    }

    /** The name in flags and config.json. */
    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id;
    }

    /** The project's own engine (CUDA or its CPU reference), not DL4J's. */
    public boolean ownEngine() {
        return this == CUDA || this == REFERENCE;
    }

    /** "a, b or c": the names. */
    static String oneOf() {
        String[] ids = Arrays.stream(values()).map(TrainingEngine::id).toArray(String[]::new);
        return String.join(", ", Arrays.copyOf(ids, ids.length - 1)) + " or " + ids[ids.length - 1];
    }

    /** The value named {@code id}; anything else is refused with the names it could have been. */
    public static TrainingEngine fromId(String id) {
        for (TrainingEngine v : values()) {
            if (v.id.equals(id)) {
                return v;
            }
        }
        throw new IllegalArgumentException("--engine must be " + oneOf() + ", got " + id);
    }
}
