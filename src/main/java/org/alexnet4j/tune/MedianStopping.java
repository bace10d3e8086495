package org.alexnet4j.tune;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Early termination of hopeless candidates by the median stopping rule (Golovin et al., "Google Vizier", KDD 2017,
 * section 3.2.2): after its {@code e}-th validation (e &gt;= grace), a candidate stops when its best validation top-1
 * error so far is worse than the median, over the earlier candidates that reached e validations, of their mean error
 * over their first e validations. Ties continue, except at chance level: a candidate no better than chance and no
 * better than that median is stopped too (otherwise, once most candidates are dead at chance, the median is chance
 * and nothing at chance is "worse"). The rule needs at least {@code minPeers} such candidates; before that every
 * candidate runs its whole budget. Arbiter's termination conditions end a whole search, not one candidate, so this
 * rule is ours.
 */
public record MedianStopping(int grace, int minPeers) {
    public static final int DEFAULT_MIN_PEERS = 3;
    /** How every stop reason of this rule begins. */
    public static final String PREFIX = "stopped early";

    public MedianStopping {
        if (grace < 1) {
            throw new IllegalArgumentException("--grace must be at least 1 validation, got " + grace);
        }
        if (minPeers < 1) {
            throw new IllegalArgumentException("minPeers must be at least 1, got " + minPeers);
        }
    }

    /**
     * Why the candidate with validation errors {@code own} (one per validation so far) should stop, or null to let it
     * go on; {@code peers} are the error curves of earlier candidates, {@code chance} the top-1 error of guessing.
     */
    public String check(List<Double> own, List<List<Double>> peers, double chance) {
        int e = own.size();
        if (e < grace) {
            return null;
        }
        List<Double> means = new ArrayList<>();
        for (List<Double> p : peers) {
            if (p.size() >= e) {
                double sum = 0;
                for (int i = 0; i < e; i++) {
                    sum += p.get(i);
                }
                means.add(sum / e);
            }
        }
        if (means.size() < minPeers) {
            return null;
        }
        double best = Collections.min(own);
        double median = median(means);
        if (best > median || (best >= median && best >= chance)) {
            return String.format(Locale.ROOT, PREFIX + ": best top-1 error %.4f after %d validation(s) is %s the "
                            + "median %.4f of %d earlier candidates", best, e, best > median ? "worse than"
                            : "at chance (" + String.format(Locale.ROOT, "%.4f", chance) + ") and no better than",
                    median, means.size());
        }
        return null;
    }

    static double median(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        int n = v.size();
        return n % 2 == 1 ? v.get(n / 2) : (v.get(n / 2 - 1) + v.get(n / 2)) / 2;
    }
}
