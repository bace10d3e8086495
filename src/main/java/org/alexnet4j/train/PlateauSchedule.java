package org.alexnet4j.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Paper section 5: "divide the learning rate by 10 when the validation error rate stopped improving with the
 * current learning rate", reduced three times. After each validation, {@link #step} compares the error with the best
 * so far; after {@code patience} epochs without a new best the rate is multiplied by {@code factor} (0.1), at most
 * {@code maxReductions} times. Public fields: the state is saved in checkpoints as JSON.
 */
public class PlateauSchedule {
    public double lr;
    public double factor;
    public int patience;
    public int maxReductions;
    public double best = Double.POSITIVE_INFINITY;
    public int epochsSinceBest;
    /** Epochs (0-based) after whose validation the rate was divided. */
    public List<Integer> reductions = new ArrayList<>();

    /** For JSON. */
    public PlateauSchedule() {
    }

    public PlateauSchedule(double lr, double factor, int patience, int maxReductions) {
        this.lr = lr;
        this.factor = factor;
        this.patience = patience;
        this.maxReductions = maxReductions;
    }

    /** Records the validation error of {@code epoch}; returns true if the learning rate was just reduced. */
    public boolean step(int epoch, double error) {
        if (error < best) {
            best = error;
            epochsSinceBest = 0;
            return false;
        }
        epochsSinceBest++;
        if (epochsSinceBest >= patience && reductions.size() < maxReductions) {
            lr *= factor;
            reductions.add(epoch);
            epochsSinceBest = 0;
            return true;
        }
        return false;
    }
}
