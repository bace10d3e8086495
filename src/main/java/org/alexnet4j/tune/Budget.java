package org.alexnet4j.tune;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long each candidate trains: whole epochs ({@code 3e}), iterations ({@code 200it}) or wall-clock time
 * ({@code 90s}, {@code 10m}, {@code 1h}). Epoch budgets end at a validation; iteration and time budgets may end
 * inside an epoch, and the candidate's last checkpoint is then validated once more for its score.
 */
public record Budget(Kind kind, long amount) {
    public enum Kind { EPOCHS, ITERATIONS, SECONDS }

    private static final Pattern FORM = Pattern.compile(
            "(\\d+)\\s*(e|epochs?|it|iters?|iterations?|s|sec|m|min|h)");

    public Budget {
        if (amount < 1) {
            throw new IllegalArgumentException("a budget must be at least 1, got " + amount);
        }
    }

    public static Budget parse(String text) {
        Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException("--budget must be epochs (3e), iterations (200it) or time (90s, 10m, "
                    + "1h), got '" + text + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2);
        return switch (unit.charAt(0)) {
            case 'e' -> new Budget(Kind.EPOCHS, n);
            case 'i' -> new Budget(Kind.ITERATIONS, n);
            case 's' -> new Budget(Kind.SECONDS, n);
            case 'm' -> new Budget(Kind.SECONDS, n * 60);
            default -> new Budget(Kind.SECONDS, n * 3600);
        };
    }

    /** The form {@link #parse} reads. */
    @Override
    public String toString() {
        return switch (kind) {
            case EPOCHS -> amount + "e";
            case ITERATIONS -> amount + "it";
            case SECONDS -> amount + "s";
        };
    }

    public String describe() {
        return switch (kind) {
            case EPOCHS -> amount + (amount == 1 ? " epoch" : " epochs");
            case ITERATIONS -> amount + " iterations";
            case SECONDS -> org.alexnet4j.util.ProgressBar.time(amount) + " of training";
        };
    }
}
