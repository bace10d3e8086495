package org.alexnet4j.eval;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Top-k error bookkeeping (the ILSVRC metric): an example counts as correct at k when its label is among the k
 * highest-scoring classes. Ties are broken towards the lower class index, so the count is deterministic. Also sums
 * the cross-entropy and per-class counts.
 */
public final class TopK {
    private final int classes;
    private long examples;
    private long top1;
    private long top5;
    private double lossSum;
    private final long[] perClassTotal;
    private final long[] perClassTop1;
    private final long[] perClassTop5;

    public TopK(int classes) {
        if (classes < 1) {
            throw new IllegalArgumentException("classes must be >= 1");
        }
        this.classes = classes;
        perClassTotal = new long[classes];
        perClassTop1 = new long[classes];
        perClassTop5 = new long[classes];
    }

    public int classes() {
        return classes;
    }

    /** Rank of {@code label} in {@code scores} (0 = highest), ties to the lower index. */
    public static int rank(float[] scores, int label) {
        float s = scores[label];
        int rank = 0;
        for (int c = 0; c < scores.length; c++) {
            if (scores[c] > s || (scores[c] == s && c < label)) {
                rank++;
            }
        }
        return rank;
    }

    /** Adds predictions {@code probs [n, classes]} (probabilities) for labels {@code labels[n]}. */
    public void add(INDArray probs, int[] labels) {
        if (probs.rank() != 2 || probs.size(1) != classes || probs.size(0) != labels.length) {
            throw new IllegalArgumentException("expected [" + labels.length + ", " + classes + "] predictions, got "
                    + java.util.Arrays.toString(probs.shape()));
        }
        float[][] p = probs.toFloatMatrix();
        for (int i = 0; i < labels.length; i++) {
            add(p[i], labels[i]);
        }
    }

    public void add(float[] probs, int label) {
        if (label < 0 || label >= classes) {
            throw new IllegalArgumentException("label " + label + " out of range 0.." + (classes - 1));
        }
        int r = rank(probs, label);
        examples++;
        perClassTotal[label]++;
        if (r < 1) {
            top1++;
            perClassTop1[label]++;
        }
        if (r < 5) {
            top5++;
            perClassTop5[label]++;
        }
        lossSum += -Math.log(Math.max(probs[label], 1e-12f));
    }

    public long examples() {
        return examples;
    }

    public double top1Error() {
        return examples == 0 ? Double.NaN : 1 - (double) top1 / examples;
    }

    public double top5Error() {
        return examples == 0 ? Double.NaN : 1 - (double) top5 / examples;
    }

    /** Mean cross-entropy of the (possibly averaged) probabilities. */
    public double loss() {
        return examples == 0 ? Double.NaN : lossSum / examples;
    }

    public long[] perClassTotal() {
        return perClassTotal.clone();
    }

    public long[] perClassTop1() {
        return perClassTop1.clone();
    }

    public long[] perClassTop5() {
        return perClassTop5.clone();
    }
}
