package org.alexnet4j.train;

/** The weight initialisation of a new run. */
public enum Init implements SettingValue {
    /** The paper's: N(0, 0.01), biases 1 in conv2/4/5 and fc6/7, 0 elsewhere. */
    PAPER,
    /** N(0, 2/fan_in), biases 0: for short runs on small data. */
    HE;

    @Override
    public String toString() {
        return id();
    }

    public static Init fromId(String id) {
        return SettingValue.parse(Init.class, "--init", id);
    }
}
