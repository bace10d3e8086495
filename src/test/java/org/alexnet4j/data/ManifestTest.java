package org.alexnet4j.data;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The synthetic dataset's layout, manifests of both val layouts, verification, and layout errors. */
class ManifestTest {
    @TempDir
    static Path tmp;
    static Path data;
    static SyntheticImageNet.Result synth;

    @BeforeAll
    static void generate() throws Exception {
        data = tmp.resolve("synth");
        synth = SyntheticImageNet.generate(data, new SyntheticImageNet.Options(3, 4, 2, 11, true, true, 2));
    }

    @Test
    void synthWritesTheIlsvrcLayoutWithRealWnidsAndValidationNames() throws Exception {
        assertThat(synth.wnids()).containsExactly("n01440764", "n02342885", "n03786901");
        assertThat(synth.wnids()).isSorted();
        assertThat(Files.list(data.resolve("train")).count()).isEqualTo(3);
        assertThat(synth.trainImages()).isEqualTo(3 * 4 + 5);
        assertThat(synth.valImages()).isEqualTo(6);
        Map<String, String> val = ImageNetMeta.get().valLabels();
        try (var files = Files.list(data.resolve("val"))) {
            for (Path f : files.toList()) {
                assertThat(val).containsKey(f.getFileName().toString());
                assertThat(synth.wnids()).contains(val.get(f.getFileName().toString()));
            }
        }
        ImageHeader h = ImageHeader.read(data.resolve("train/n02342885/n02342885_1.JPEG"));
        assertThat(h.format()).isEqualTo(ImageHeader.Format.JPEG);
        assertThat(h.ok()).isTrue();
        assertThat(Math.max(h.width(), h.height())).isBetween(240, 640);
        assertThat(Files.readString(data.resolve("SYNTH.json"))).contains("CMYK JPEG", "truncated", "empty file");
        assertThatThrownBy(() -> new SyntheticImageNet.Options(3, 4, 51, 1, false, true, 1))
                .hasMessageContaining("50 images per class");
        assertThatThrownBy(() -> SyntheticImageNet.generate(data, new SyntheticImageNet.Options(3, 1, 1, 1, false,
                true, 1))).hasMessageContaining("already holds");
    }

    @Test
    void manifestIndexesBothSplitsWithSortedWnidLabelsAndRoundTrips() throws Exception {
        Manifest m = Manifest.build(data, null, 2);
        assertThat(m.wnids()).isEqualTo(synth.wnids());
        assertThat(m.split("train")).hasSize(17);
        assertThat(m.split("val")).hasSize(6);
        for (Manifest.Entry e : m.entries()) {
            assertThat(m.wnids().get(e.label())).isEqualTo(e.wnid());
            if (e.split().equals("val")) {
                assertThat(ImageNetMeta.get().valLabels().get(e.path().substring(4))).isEqualTo(e.wnid());
            } else {
                assertThat(e.path()).startsWith("train/" + e.wnid() + "/");
            }
            assertThat(e.bytes()).isEqualTo(Files.size(data.resolve(e.path())));
        }
        Manifest.Entry first = m.split("train").get(5);
        assertThat(first.width()).isPositive();
        Path file = tmp.resolve("m.tsv");
        m.write(file);
        Manifest back = Manifest.read(file);
        assertThat(back.wnids()).isEqualTo(m.wnids());
        assertThat(back.entries()).isEqualTo(m.entries());
    }

    @Test
    void verifyReportsUnreadableMissingExtraAndChangedFiles() throws Exception {
        Path copy = tmp.resolve("verify");
        copyTree(data, copy);
        Manifest m = Manifest.build(copy, null, 2);
        ManifestVerifier.Report clean = ManifestVerifier.verify(copy, m, true, null, 2);
        assertThat(clean.imagesPerSplit()).containsEntry("train", 17).containsEntry("val", 6);
        assertThat(clean.unreadable()).extracting(ManifestVerifier.Problem::path).containsExactly(
                "train/n01440764/n01440764_900004.JPEG", "train/n01440764/n01440764_900005.JPEG");
        assertThat(clean.unreadable().get(0).reason()).contains("truncated");
        assertThat(clean.unreadable().get(1).reason()).contains("empty");
        assertThat(clean.missing()).isEmpty();
        assertThat(clean.ok()).isFalse();

        Files.delete(copy.resolve("train/n02342885/n02342885_2.JPEG"));
        Files.copy(copy.resolve("train/n02342885/n02342885_1.JPEG"), copy.resolve("train/n02342885/extra.JPEG"));
        Files.write(copy.resolve("train/n03786901/n03786901_1.JPEG"), new byte[]{1, 2, 3},
                java.nio.file.StandardOpenOption.APPEND);
        ManifestVerifier.Report r = ManifestVerifier.verify(copy, m, false, tmp.resolve("no-archives"), 2);
        assertThat(r.missing()).containsExactly("train/n02342885/n02342885_2.JPEG");
        assertThat(r.extra()).containsExactly("train/n02342885/extra.JPEG");
        assertThat(r.changed()).extracting(ManifestVerifier.Problem::path)
                .containsExactly("train/n03786901/n03786901_1.JPEG");
        assertThat(r.archives()).containsEntry("ILSVRC2012_img_val.tar", "not present");
    }

    @Test
    void archiveChecksumsAreCheckedAgainstThePublishedMd5() throws Exception {
        Path dir = tmp.resolve("archives");
        Files.createDirectories(dir);
        Files.write(dir.resolve("ILSVRC2012_devkit_t12.tar.gz"), new byte[]{1, 2, 3});
        Manifest m = Manifest.build(data, null, 1);
        ManifestVerifier.Report r = ManifestVerifier.verify(data, m, false, dir, 1);
        assertThat(r.archives().get("ILSVRC2012_devkit_t12.tar.gz")).startsWith("MISMATCH: md5 "
                + "5289df737df57326fcdd22597afb1fac").contains("fa75699e90414af021442c21a62c3abf");
        assertThat(ManifestVerifier.md5(dir.resolve("ILSVRC2012_devkit_t12.tar.gz")))
                .isEqualTo("5289df737df57326fcdd22597afb1fac");
    }

    @Test
    void valFoldersLayoutAndLabelsFileAreAccepted() throws Exception {
        Path d = tmp.resolve("folders");
        SyntheticImageNet.generate(d, new SyntheticImageNet.Options(2, 2, 3, 5, false, false, 2));
        Manifest m = Manifest.build(d, null, 2);
        assertThat(m.split("val")).hasSize(6);
        assertThat(m.split("val")).allSatisfy(e -> assertThat(e.path()).startsWith("val/" + e.wnid() + "/"));
        // a flat val/ with a custom labels file
        Path flat = tmp.resolve("flat-custom");
        Files.createDirectories(flat.resolve("train/n01440764"));
        Files.createDirectories(flat.resolve("val"));
        Files.copy(data.resolve("train/n01440764/n01440764_1.JPEG"), flat.resolve("train/n01440764/a.JPEG"));
        Files.copy(data.resolve("train/n01440764/n01440764_2.JPEG"), flat.resolve("val/x.JPEG"));
        Files.copy(data.resolve("train/n01440764/n01440764_3.JPEG"), flat.resolve("val/unlabelled.JPEG"));
        Files.writeString(tmp.resolve("labels.txt"), "x.JPEG\tn01440764\n");
        Manifest c = Manifest.build(flat, Manifest.readValLabels(tmp.resolve("labels.txt")), 1);
        assertThat(c.split("val")).extracting(Manifest.Entry::path).containsExactly("val/x.JPEG");
    }

    @Test
    void wrongLayoutsGetAnErrorThatSaysWhatWasExpected() throws Exception {
        Path noSplits = tmp.resolve("bad1");
        Files.createDirectories(noSplits.resolve("images"));
        assertThatThrownBy(() -> Manifest.build(noSplits, null, 1)).hasMessageContaining("no train/ or val/")
                .hasMessageContaining("train/<wnid>/*.JPEG");
        Path flatTrain = tmp.resolve("bad2");
        Files.createDirectories(flatTrain.resolve("train"));
        Files.write(flatTrain.resolve("train/a.JPEG"), new byte[]{1});
        assertThatThrownBy(() -> Manifest.build(flatTrain, null, 1)).hasMessageContaining("directly in train/");
        Path notWnid = tmp.resolve("bad3");
        Files.createDirectories(notWnid.resolve("train/cats"));
        assertThatThrownBy(() -> Manifest.build(notWnid, null, 1)).hasMessageContaining("train/cats is not a wnid");
        Path mixed = tmp.resolve("bad4");
        Files.createDirectories(mixed.resolve("val/n01440764"));
        Files.write(mixed.resolve("val/ILSVRC2012_val_00000001.JPEG"), new byte[]{1});
        assertThatThrownBy(() -> Manifest.build(mixed, null, 1)).hasMessageContaining("mixes image files and folders");
        assertThatThrownBy(() -> Manifest.build(tmp.resolve("nope"), null, 1)).hasMessageContaining("no such dir");
        Path bad = tmp.resolve("bad.tsv");
        Files.writeString(bad, "# classes\tn01440764\ntrain\tx.JPEG\t0\n");
        assertThatThrownBy(() -> Manifest.read(bad)).hasMessageContaining("expected 7 tab-separated columns");
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }

}
