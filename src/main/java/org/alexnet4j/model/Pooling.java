package org.alexnet4j.model;

/** The pooling operator of pool1, pool2 and pool5 (an ablation; the paper uses max pooling). */
public enum Pooling {
    MAX,
    AVG
}
