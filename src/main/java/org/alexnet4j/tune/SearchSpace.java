package org.alexnet4j.tune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.alexnet4j.train.TrainConfig;
import org.apache.commons.math3.distribution.UniformRealDistribution;
import org.deeplearning4j.arbiter.optimize.api.AbstractParameterSpace;
import org.deeplearning4j.arbiter.optimize.api.ParameterSpace;
import org.deeplearning4j.arbiter.optimize.distribution.LogUniformDistribution;
import org.deeplearning4j.arbiter.optimize.parameter.continuous.ContinuousParameterSpace;
import org.deeplearning4j.arbiter.optimize.parameter.discrete.DiscreteParameterSpace;
import org.deeplearning4j.arbiter.optimize.parameter.integer.IntegerParameterSpace;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The hyperparameters a search varies, read from a JSON space file, as an Arbiter {@link ParameterSpace} over the
 * training recipe: a candidate is an ordered map from recipe field ({@link TrainConfig} names) to value.
 *
 * <pre>{@code
 * {
 *   "base": {"optimizer": "sgd", "init": "he"},              // fixed for every candidate (optional)
 *   "parameters": {
 *     "lr":          {"min": 1e-4, "max": 0.1, "scale": "log"},   // continuous, log-uniform
 *     "momentum":    {"min": 0.8, "max": 0.95},                   // continuous, uniform
 *     "weightDecay": [0, 0.0005, 0.005],                          // discrete choices
 *     "batch":       {"values": [32, 64, 128]},                   // the same, spelled out
 *     "lrPatience":  {"min": 1, "max": 4, "type": "int"},         // integers, uniform
 *     "dropout":     0.5                                          // fixed (same as in "base")
 *   }
 * }
 * }</pre>
 *
 * Each dimension is one of Arbiter's leaf spaces ({@link ContinuousParameterSpace} with a uniform or
 * {@link LogUniformDistribution}, {@link DiscreteParameterSpace}, {@link IntegerParameterSpace}), so Arbiter's random
 * and grid generators drive it: a grid takes {@code K} points of a continuous range, evenly spaced in its scale
 * (1e-4, 1e-3, 1e-2 for a log range with K = 3). Every range end and choice is checked against the recipe's own
 * validation when the file is read, so a bad space fails before the first candidate trains.
 */
public final class SearchSpace extends AbstractParameterSpace<LinkedHashMap<String, Object>> {
    /** Recipe fields a search may vary (the rest are data, budget and machine settings, not hyperparameters). */
    public static final Set<String> TUNABLE = Set.of("lr", "momentum", "weightDecay", "batch", "dropout", "width",
            "lighting", "optimizer", "init", "normalize", "lrFactor", "lrPatience", "lrMaxReductions");

    private static final Set<String> INTEGER = Set.of("batch", "lrPatience", "lrMaxReductions");

    /** One searched hyperparameter. */
    public record Dimension(String name, String kind, ParameterSpace<?> space, double min, double max,
                            List<Object> values) {
        /** Whether values are best shown on a log axis. */
        public boolean logScale() {
            return kind.equals("log");
        }

        /** Choices are plotted as categories (evenly spaced, labelled with their values). */
        public boolean categorical() {
            return values != null;
        }

        public String describe() {
            return switch (kind) {
                case "log" -> String.format(Locale.ROOT, "%s log-uniform in [%s, %s]", name, fmt(min), fmt(max));
                case "uniform" -> String.format(Locale.ROOT, "%s uniform in [%s, %s]", name, fmt(min), fmt(max));
                case "int" -> String.format(Locale.ROOT, "%s integer in [%d, %d]", name, (long) min, (long) max);
                default -> name + " one of " + values;
            };
        }
    }

    private final List<Dimension> dimensions;
    private final Map<String, Object> fixed;

    private SearchSpace(List<Dimension> dimensions, Map<String, Object> fixed) {
        this.dimensions = List.copyOf(dimensions);
        this.fixed = fixed;
    }

    public static SearchSpace read(Path file) throws IOException {
        return parse(new ObjectMapper().readTree(file.toFile()), file.toString());
    }

    /** Parses a space; {@code source} names it in error messages. */
    public static SearchSpace parse(JsonNode root, String source) {
        if (root == null || !root.isObject()) {
            throw new IllegalArgumentException(source + ": a search space is a JSON object with \"parameters\"");
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals("parameters") && !k.equals("base")) {
                throw new IllegalArgumentException(source + ": unknown key '" + k + "' (expected \"parameters\" and"
                        + " optionally \"base\")");
            }
        }
        Map<String, Object> fixed = new LinkedHashMap<>();
        ObjectMapper m = new ObjectMapper();
        if (root.has("base")) {
            if (!root.get("base").isObject()) {
                throw new IllegalArgumentException(source + ": \"base\" must be an object of recipe settings");
            }
            fixed.putAll(m.convertValue(root.get("base"), Map.class));
        }
        JsonNode params = root.get("parameters");
        if (params == null || !params.isObject() || params.isEmpty()) {
            throw new IllegalArgumentException(source + ": \"parameters\" must name at least one hyperparameter, "
                    + "e.g. {\"lr\": {\"min\": 1e-4, \"max\": 0.1, \"scale\": \"log\"}}");
        }
        List<Dimension> dims = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = params.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String name = e.getKey();
            String where = source + ": \"" + name + "\"";
            if (!TUNABLE.contains(name)) {
                throw new IllegalArgumentException(where + " is not a hyperparameter a search can vary; one of "
                        + new java.util.TreeSet<>(TUNABLE));
            }
            Dimension d = dimension(name, e.getValue(), where, m);
            if (d == null) { // a single value: fixed
                JsonNode v = e.getValue();
                fixed.put(name, m.convertValue(v.isObject() ? v.get("values").get(0) : v.isArray() ? v.get(0) : v,
                        Object.class));
            } else {
                dims.add(d);
            }
        }
        if (dims.isEmpty()) {
            throw new IllegalArgumentException(source + ": every parameter has a single value: nothing to search");
        }
        SearchSpace space = new SearchSpace(dims, fixed);
        space.check(source);
        return space;
    }

    private static Dimension dimension(String name, JsonNode n, String where, ObjectMapper m) {
        List<Object> values = null;
        if (n.isArray()) {
            values = m.convertValue(n, List.class);
        } else if (n.isObject()) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!Set.of("min", "max", "scale", "type", "values").contains(k)) {
                    throw new IllegalArgumentException(where + ": unknown key '" + k + "' (min, max, scale, type or "
                            + "values)");
                }
            }
            if (n.has("values")) {
                if (n.has("min") || n.has("max")) {
                    throw new IllegalArgumentException(where + ": give either values or min/max");
                }
                if (!n.get("values").isArray()) {
                    throw new IllegalArgumentException(where + ": values must be a list");
                }
                values = m.convertValue(n.get("values"), List.class);
            }
        } else if (n.isValueNode()) {
            return null;
        } else {
            throw new IllegalArgumentException(where + ": expected a number, a list of values or {min, max}");
        }
        if (values != null) {
            if (values.isEmpty()) {
                throw new IllegalArgumentException(where + ": no values");
            }
            if (values.stream().distinct().count() != values.size()) {
                throw new IllegalArgumentException(where + ": values repeat: " + values);
            }
            if (values.size() == 1) {
                return null; // a one-value grid axis would also break Arbiter's grid indexing
            }
            return new Dimension(name, "choice", new DiscreteParameterSpace<>(values), Double.NaN, Double.NaN,
                    List.copyOf(values));
        }
        if (!n.has("min") || !n.has("max") || !n.get("min").isNumber() || !n.get("max").isNumber()) {
            throw new IllegalArgumentException(where + ": a range needs numeric min and max");
        }
        double min = n.get("min").asDouble();
        double max = n.get("max").asDouble();
        if (!(min < max)) {
            throw new IllegalArgumentException(where + ": min must be below max, got [" + fmt(min) + ", " + fmt(max)
                    + "]");
        }
        String scale = n.has("scale") ? n.get("scale").asText() : "linear";
        String type = n.has("type") ? n.get("type").asText() : "float";
        if (!scale.equals("linear") && !scale.equals("log")) {
            throw new IllegalArgumentException(where + ": scale must be linear or log, got " + scale);
        }
        if (!type.equals("float") && !type.equals("int")) {
            throw new IllegalArgumentException(where + ": type must be float or int, got " + type);
        }
        if (INTEGER.contains(name) && !type.equals("int")) {
            throw new IllegalArgumentException(where + ": " + name + " is an integer: add \"type\": \"int\" or list "
                    + "values");
        }
        if (type.equals("int")) {
            if (scale.equals("log")) {
                throw new IllegalArgumentException(where + ": integer ranges are uniform; list log-spaced values "
                        + "instead, e.g. [32, 64, 128]");
            }
            if (min != Math.rint(min) || max != Math.rint(max)) {
                throw new IllegalArgumentException(where + ": an integer range needs integer min and max");
            }
            return new Dimension(name, "int", new IntegerParameterSpace((int) min, (int) max), min, max, null);
        }
        if (scale.equals("log")) {
            if (min <= 0) {
                throw new IllegalArgumentException(where + ": a log scale needs min > 0, got " + fmt(min));
            }
            return new Dimension(name, "log", new ContinuousParameterSpace(new LogUniformDistribution(min, max)), min,
                    max, null);
        }
        return new Dimension(name, "uniform", new ContinuousParameterSpace(new UniformRealDistribution(min, max)),
                min, max, null);
    }

    /** Every range end and choice must make a valid recipe with the fixed settings. */
    private void check(String source) {
        Map<String, Object> probe = new LinkedHashMap<>();
        for (Dimension d : dimensions) {
            probe.put(d.name(), d.values() != null ? d.values().get(0) : d.min());
        }
        for (Dimension d : dimensions) {
            List<Object> tries = d.values() != null ? d.values() : List.of(d.min(), d.max());
            for (Object v : tries) {
                Map<String, Object> p = new LinkedHashMap<>(probe);
                p.put(d.name(), v);
                try {
                    apply(new TrainConfig(), fixed, p).validate();
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(source + ": \"" + d.name() + "\" = " + v + " is not a valid "
                            + "recipe: " + e.getMessage());
                }
            }
        }
    }

    /** The recipe of a candidate: {@code base}, then the space's fixed settings, then the candidate's values. */
    public TrainConfig recipe(TrainConfig base, Map<String, ?> candidate) {
        return apply(base, fixed, candidate);
    }

    private static TrainConfig apply(TrainConfig base, Map<String, ?> fixed, Map<String, ?> candidate) {
        Map<String, Object> m = base.toMap();
        m.putAll(fixed);
        m.putAll(candidate);
        return TrainConfig.fromMap(m);
    }

    public List<Dimension> dimensions() {
        return dimensions;
    }

    /** Settings every candidate shares ("base" and single-valued parameters). */
    public Map<String, Object> fixed() {
        return fixed;
    }

    /** The space as a JSON object that {@link #parse} reads back (for the search's own record). */
    public ObjectNode toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        root.set("base", m.valueToTree(fixed));
        ObjectNode p = root.putObject("parameters");
        for (Dimension d : dimensions) {
            switch (d.kind()) {
                case "choice" -> p.set(d.name(), m.valueToTree(d.values()));
                case "int" -> p.putObject(d.name()).put("min", (long) d.min()).put("max", (long) d.max())
                        .put("type", "int");
                default -> p.putObject(d.name()).put("min", d.min()).put("max", d.max())
                        .put("scale", d.kind().equals("log") ? "log" : "linear");
            }
        }
        return root;
    }

    /** Candidates in a full grid of {@code points} per continuous range. */
    public long gridSize(int points) {
        long n = 1;
        for (Dimension d : dimensions) {
            n *= switch (d.kind()) {
                case "choice" -> d.values().size();
                case "int" -> Math.min((long) (d.max() - d.min()) + 1, points);
                default -> points;
            };
        }
        return n;
    }

    // --- Arbiter's ParameterSpace: the dimensions are the leaves, in file order ---

    @Override
    public LinkedHashMap<String, Object> getValue(double[] parameterValues) {
        LinkedHashMap<String, Object> v = new LinkedHashMap<>();
        for (Dimension d : dimensions) {
            v.put(d.name(), d.space().getValue(parameterValues));
        }
        return v;
    }

    @Override
    public int numParameters() {
        return dimensions.size();
    }

    @Override
    public List<ParameterSpace> collectLeaves() {
        List<ParameterSpace> leaves = new ArrayList<>();
        for (Dimension d : dimensions) {
            leaves.add(d.space());
        }
        return leaves;
    }

    @Override
    public Map<String, ParameterSpace> getNestedSpaces() {
        Map<String, ParameterSpace> m = new LinkedHashMap<>();
        for (Dimension d : dimensions) {
            m.put(d.name(), d.space());
        }
        return m;
    }

    @Override
    public boolean isLeaf() {
        return false;
    }

    @Override
    public void setIndices(int... indices) {
        throw new UnsupportedOperationException("SearchSpace is not a leaf space");
    }

    /** A short form of a value: integers as such, others to 4 significant digits (0.0005, 1.234E-7). */
    static String fmt(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e6) {
            return String.valueOf((long) v);
        }
        if (!Double.isFinite(v)) {
            return String.valueOf(v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toString();
    }
}
