package org.alexnet4j.runtime;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A guard: Java code that reads or writes ND4J arrays' memory itself appears only in the reviewed places below, each
 * of which takes its device-safe twin unless {@link HostMemory#direct()}. A new raw access fails this test until it
 * is reviewed (guarded by {@code HostMemory.direct()}, or proven device-safe) and listed here.
 */
class HostMemoryGuardTest {
    /** What a raw access looks like: an ND4J buffer's address, a buffer over a raw pointer, or OffHeap's helpers. */
    private static final Pattern RAW = Pattern.compile(
            "addressPointer\\s*\\(|\\.data\\(\\)\\s*\\.pointer\\s*\\(|createBuffer\\s*\\(|asNio\\w*\\s*\\("
                    + "|OffHeap\\.(buffer|pointer|floatArray)\\s*\\(");

    /** File -> number of raw accesses reviewed there. */
    private static final Map<String, Integer> REVIEWED = Map.of(
            // the helpers themselves (two addresses, one buffer over JavaCPP memory); their callers decide
            "org/alexnet4j/util/OffHeap.java", 3,
            // conv1's space-to-depth: Java kernel on direct(), withOps() elsewhere
            "org/alexnet4j/model/layers/SpaceToDepth.java", 2,
            // ChannelLrn's kernel: geometry() is null unless direct(), then ND4J ops run
            "org/alexnet4j/model/layers/LrnKernel.java", 1,
            // the momentum update: MomentumKernel.applies() asks direct(), else ClassicalMomentum's ND4J ops
            "org/alexnet4j/train/MomentumKernel.java", 2,
            // the oneDNN engine reads its input in place: unsupported() refuses it unless direct()
            "org/alexnet4j/infer/OneDnnInference.java", 1,
            // conv1's weight gradient on oneDNN in place: available() asks direct(), else libnd4j's conv2d_bp
            "org/alexnet4j/model/layers/OneDnnWeightGradient.java", 4,
            // batch buffers: OffHeap on direct(), Java arrays copied in by Nd4j.create elsewhere
            "org/alexnet4j/data/ImageNetIterator.java", 4);

    private static Map<String, Integer> rawAccesses() throws IOException {
        Path root = Path.of("src/main/java");
        Map<String, Integer> found = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f).replaceAll("(?s)/\\*.*?\\*/", "").replaceAll("//[^\\n]*", "");
                Matcher m = RAW.matcher(text);
                int n = 0;
                while (m.find()) {
                    n++;
                }
                if (n > 0) {
                    found.put(root.relativize(f).toString().replace('\\', '/'), n);
                }
            }
        }
        return found;
    }

    @Test
    void rawAccessesToNd4jMemoryAreOnlyInTheReviewedPlaces() throws IOException {
        assertThat(rawAccesses())
                .as("raw accesses to ND4J memory per file; a new one must take HostMemory.direct() into account and "
                        + "be listed in HostMemoryGuardTest.REVIEWED")
                .isEqualTo(new TreeMap<>(REVIEWED));
    }

    @Test
    void everyReviewedPlaceAsksHostMemoryDirect() throws IOException {
        for (String f : REVIEWED.keySet()) {
            if (f.endsWith("OffHeap.java")) {
                continue;
            }
            assertThat(Files.readString(Path.of("src/main/java", f))).as(f).contains("HostMemory.direct()");
        }
    }

    @Test
    void thePatternCatchesTheKindsOfAccessItGuards() {
        for (String raw : List.of("a.data().addressPointer()", "x.data().pointer()", "OffHeap.buffer(a)",
                "Nd4j.createBuffer(floatPointer, DataType.FLOAT, n)", "b.asNioFloat()")) {
            assertThat(RAW.matcher(raw).find()).as(raw).isTrue();
        }
        assertThat(RAW.matcher("a.data().asFloat()").find()).isFalse();
    }
}
