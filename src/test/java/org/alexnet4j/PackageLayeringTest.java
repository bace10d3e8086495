package org.alexnet4j;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The layering docs/architecture.md describes: no import cycles between packages, and a pure model package. */
class PackageLayeringTest {
    private static final Pattern REF = Pattern.compile("^import (?:static )?org\\.alexnet4j\\.(\\w+)|[^*\\w.]org\\.alexnet4j\\.([a-z]\\w*)\\.[A-Z]", Pattern.MULTILINE);

    /** Each top-level package's uses of the others (imports and qualified names in code, not in comments). */
    static Map<String, Set<String>> uses() throws Exception {
        Map<String, Set<String>> deps = new TreeMap<>();
        Path root = Path.of("src/main/java/org/alexnet4j");
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f).getName(0).toString();
                String code = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\n]*", "");
                Set<String> d = deps.computeIfAbsent(pkg, k -> new TreeSet<>());
                Matcher m = REF.matcher(code);
                while (m.find()) {
                    String q = m.group(1) != null ? m.group(1) : m.group(2);
                    if (!q.equals(pkg)) {
                        d.add(q);
                    }
                }
            }
        }
        return deps;
    }

    @Test
    void packagesHaveNoImportCycles() throws Exception {
        Map<String, Set<String>> deps = uses();
        for (String a : deps.keySet()) {
            for (String b : deps.get(a)) {
                assertThat(reaches(deps, b, a, new TreeSet<>())).as("%s uses %s and %s reaches back to %s", a, b,
                        b, a).isFalse();
            }
        }
    }

    @Test
    void theModelKnowsNoDataRecipeOrFileFormat() throws Exception {
        assertThat(uses().get("model")).doesNotContain("data", "train", "eval", "weights", "cli", "serve", "tune",
                "bench", "infer");
    }

    private static boolean reaches(Map<String, Set<String>> deps, String from, String to, Set<String> seen) {
        if (from.equals(to)) {
            return true;
        }
        if (!seen.add(from)) {
            return false;
        }
        for (String n : deps.getOrDefault(from, Set.of())) {
            if (reaches(deps, n, to, seen)) {
                return true;
            }
        }
        return false;
    }
}
