package org.alexnet4j.examples;

import org.alexnet4j.bench.ServeBench;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.weights.Npz;
import org.alexnet4j.weights.TorchLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The README's Java example is this module's {@link ClassifyPhoto}, and it compiles, runs and classifies. */
class ReadmeExampleTest {
    @TempDir
    Path tmp;

    /** The lines between the markers, without the method body's indentation. */
    static String exampleCode() throws Exception {
        String src = Files.readString(Path.of("src/test/java/org/alexnet4j/examples/ClassifyPhoto.java"));
        String body = src.substring(src.indexOf("// README-begin\n") + "// README-begin\n".length(),
                src.indexOf("        // README-end"));
        return Arrays.stream(body.split("\n")).map(l -> l.length() >= 8 ? l.substring(8) : l.strip())
                .reduce((a, b) -> a + "\n" + b).orElseThrow() + "\n";
    }

    @Test
    void theReadmeShowsTheExampleAsCompiledHere() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        assertThat(readme).as("README.md's Java example must be ClassifyPhoto.classify's body, character for "
                + "character").contains(exampleCode());
        assertThat(readme.indexOf(exampleCode())).isGreaterThan(readme.indexOf("```java"));
    }

    @Test
    void theExampleClassifiesAPhotoWithWeightsFromAFile() throws Exception {
        AlexNet net = AlexNet.builder(Variant.CAFFE).build();
        Path weights = tmp.resolve("caffe.npz");
        Npz.write(weights, TorchLayout.export(net.newGraph(), net));
        Path photo = tmp.resolve("photo.jpg");
        Files.write(photo, ServeBench.generatedJpegs(1).get(0));
        PrintStream old = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            ClassifyPhoto.classify(weights, photo);
        } finally {
            System.setOut(old);
        }
        List<String> lines = captured.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(5);
        assertThat(lines).allMatch(l -> l.matches("0\\.\\d{4}  n\\d{8} .+"), "probability, wnid and name");
    }
}
