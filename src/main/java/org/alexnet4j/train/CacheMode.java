package org.alexnet4j.train;

/** DL4J's cache mode for training. */
public enum CacheMode implements SettingValue {
    /** Keep a DL4J conv layer's pre-activation for its backward pass (faster with --conv-impl dl4j, more memory). */
    DEVICE,
    /** Recompute it in the backward pass. */
    NONE;

    @Override
    public String toString() {
        return id();
    }

    /** DL4J's value. */
    public org.deeplearning4j.nn.conf.CacheMode dl4j() {
        return this == DEVICE ? org.deeplearning4j.nn.conf.CacheMode.DEVICE : org.deeplearning4j.nn.conf.CacheMode.NONE;
    }

    public static CacheMode fromId(String id) {
        return SettingValue.parse(CacheMode.class, "--cache-mode", id);
    }
}
