package org.alexnet4j.train;

/** The recipe's optimiser. */
public enum Optimizer implements SettingValue {
    /** The paper's classical momentum, weight decay through the momentum. */
    SGD,
    /** DL4J's Adam (L2 added to the gradient), for short runs on small data. */
    ADAM;

    @Override
    public String toString() {
        return id();
    }

    public static Optimizer fromId(String id) {
        return SettingValue.parse(Optimizer.class, "--optimizer", id);
    }
}
