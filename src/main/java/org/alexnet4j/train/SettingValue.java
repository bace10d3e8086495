package org.alexnet4j.train;

import java.util.Arrays;
import java.util.Locale;

/**
 * A value of a typed training setting (an enum): its name in flags and config.json is the constant's name in lower
 * case with dashes ({@code TrainingEngine.DL4J} is {@code dl4j}), and anything else is refused with the names it could
 * have been.
 */
public interface SettingValue {
    /** The name in flags and config.json. */
    default String id() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant of {@code type} named {@code id}, or "FLAG must be a, b or c, got ID". */
    static <E extends Enum<E> & SettingValue> E parse(Class<E> type, String flag, String id) {
        E[] values = type.getEnumConstants();
        for (E v : values) {
            if (v.id().equals(id)) {
                return v;
            }
        }
        String[] ids = Arrays.stream(values).map(SettingValue::id).toArray(String[]::new);
        throw new IllegalArgumentException(flag + " must be " + String.join(", ", Arrays.copyOf(ids, ids.length - 1))
                + " or " + ids[ids.length - 1] + ", got " + id);
    }
}
