package org.alexnet4j.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The in-place zip append against java.util.zip's readers (ZipFile: central directory; ZipInputStream: local headers). */
class ZipAppendTest {
    @TempDir
    Path tmp;

    private Path zip(String comment) throws Exception {
        Path z = tmp.resolve("a" + (comment == null ? "" : "c") + ".zip");
        byte[] big = new byte[300_000];
        new Random(1).nextBytes(big);
        try (OutputStream os = Files.newOutputStream(z); ZipOutputStream out = new ZipOutputStream(os)) {
            out.putNextEntry(new ZipEntry("configuration.json"));
            out.write("{\"a\": 1}".getBytes());
            out.closeEntry();
            out.putNextEntry(new ZipEntry("coefficients.bin"));
            out.write(big);
            out.closeEntry();
            if (comment != null) {
                out.setComment(comment);
            }
        }
        return z;
    }

    @Test
    void anAppendedEntryReadsBackWithBothReadersAndTheOldEntriesStay() throws Exception {
        Path z = zip(null);
        long before = Files.size(z);
        byte[] data = "settings \u00e9".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        assertThat(ZipAppend.append(z, "objects/alexnet4j-model.json", data)).isTrue();
        assertThat(Files.size(z)).isLessThan(before + 200);
        try (ZipFile f = new ZipFile(z.toFile())) {
            assertThat(f.size()).isEqualTo(3);
            assertThat(f.getInputStream(f.getEntry("objects/alexnet4j-model.json")).readAllBytes()).isEqualTo(data);
            assertThat(f.getInputStream(f.getEntry("coefficients.bin")).readAllBytes()).hasSize(300_000);
        }
        List<String> names = new ArrayList<>();
        try (ZipInputStream in = new ZipInputStream(Files.newInputStream(z))) {
            for (ZipEntry e; (e = in.getNextEntry()) != null; ) {
                names.add(e.getName());
                in.readAllBytes();
            }
        }
        assertThat(names).containsExactly("configuration.json", "coefficients.bin", "objects/alexnet4j-model.json");
    }

    @Test
    void aZipWithACommentOrNoZipIsLeftAlone() throws Exception {
        Path z = zip("a comment");
        byte[] before = Files.readAllBytes(z);
        assertThat(ZipAppend.append(z, "x", new byte[3])).isFalse();
        assertThat(Files.readAllBytes(z)).isEqualTo(before);
        Path text = tmp.resolve("t.zip");
        Files.writeString(text, "not a zip at all, just some text");
        assertThat(ZipAppend.append(text, "x", new byte[3])).isFalse();
    }
}
