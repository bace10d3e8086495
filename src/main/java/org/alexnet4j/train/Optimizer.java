package org.alexnet4j.train;

import java.util.Arrays;

/** The recipe's optimiser. */
public enum Optimizer {
    /** The paper's classical momentum, weight decay through the momentum. */
    SGD("sgd"),
    /** DL4J's Adam (L2 added to the gradient), for short runs on small data. */
    ADAM("adam");

    private final String id;

    Optimizer(String id) {
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
        String[] ids = Arrays.stream(values()).map(Optimizer::id).toArray(String[]::new);
        return String.join(", ", Arrays.copyOf(ids, ids.length - 1)) + " or " + ids[ids.length - 1];
    }

    /** The value named {@code id}; anything else is refused with the names it could have been. */
    public static Optimizer fromId(String id) {
        for (Optimizer v : values()) {
            if (v.id.equals(id)) {
                return v;
            }
        }
        throw new IllegalArgumentException("--optimizer must be " + oneOf() + ", got " + id);
    }
}
