package org.alexnet4j.train;

import java.util.Arrays;

/** The weight initialisation of a new run. */
public enum Init {
    /** The paper's: N(0, 0.01), biases 1 in conv2/4/5 and fc6/7, 0 elsewhere. */
    PAPER("paper"),
    /** N(0, 2/fan_in), biases 0: for short runs on small data. */
    HE("he");

    private final String id;

    Init(String id) {
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

    /** "a, b or c": the names. */
    static String oneOf() {
        String[] ids = Arrays.stream(values()).map(Init::id).toArray(String[]::new);
        return String.join(", ", Arrays.copyOf(ids, ids.length - 1)) + " or " + ids[ids.length - 1];
    }

    /** The value named {@code id}; anything else is refused with the names it could have been. */
    public static Init fromId(String id) {
        for (Init v : values()) {
            if (v.id.equals(id)) {
                return v;
            }
        }
        throw new IllegalArgumentException("--init must be " + oneOf() + ", got " + id);
    }
}
