package org.alexnet4j.train;

import java.util.Arrays;

/** DL4J's cache mode for training. */
public enum CacheMode {
    /** Keep a DL4J conv layer's pre-activation for its backward pass (faster with --conv-impl dl4j, more memory). */
    DEVICE("device"),
    /** Recompute a DL4J conv layer's pre-activation in its backward pass. */
    NONE("none");

    private final String id;

    CacheMode(String id) {
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

    /** DL4J's value. */
    public org.deeplearning4j.nn.conf.CacheMode dl4j() {
        return this == DEVICE ? org.deeplearning4j.nn.conf.CacheMode.DEVICE : org.deeplearning4j.nn.conf.CacheMode.NONE;
    }

    /** "a, b or c": the names. */
    static String oneOf() {
        String[] ids = Arrays.stream(values()).map(CacheMode::id).toArray(String[]::new);
        return String.join(", ", Arrays.copyOf(ids, ids.length - 1)) + " or " + ids[ids.length - 1];
    }

    /** The value named {@code id}; anything else is refused with the names it could have been. */
    public static CacheMode fromId(String id) {
        for (CacheMode v : values()) {
            if (v.id.equals(id)) {
                return v;
            }
        }
        throw new IllegalArgumentException("--cache-mode must be " + oneOf() + ", got " + id);
    }
}
