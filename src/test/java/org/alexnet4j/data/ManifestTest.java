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
        Fixtures.copyTree(data, copy);
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
        Files.createDirectories(flat.resolve("train/n01443537"));
        Files.createDirectories(flat.resolve("val"));
        Files.copy(data.resolve("train/n01440764/n01440764_1.JPEG"), flat.resolve("train/n01440764/a.JPEG"));
        Files.copy(data.resolve("train/n01440764/n01440764_1.JPEG"), flat.resolve("train/n01443537/b.JPEG"));
        Files.copy(data.resolve("train/n01440764/n01440764_2.JPEG"), flat.resolve("val/x.JPEG"));
        Files.copy(data.resolve("train/n01440764/n01440764_3.JPEG"), flat.resolve("val/unlabelled.JPEG"));
        Files.writeString(tmp.resolve("labels.txt"), "x.JPEG\tn01440764\n");
        Manifest c = Manifest.build(flat, Manifest.readValLabels(tmp.resolve("labels.txt")), 1);
        assertThat(c.split("val")).extracting(Manifest.Entry::path).containsExactly("val/x.JPEG");
    }

    @Test
    void anyClassFoldersAreADatasetInTorchvisionsImageFolderOrder() throws Exception {
        Path own = tmp.resolve("own");
        RgbImage img = RgbImage.blank(300, 200);
        byte[] jpg = ImageCodec.encodeJpeg(img, 90);
        Files.createDirectories(own.resolve("train/cats/sub"));
        Files.createDirectories(own.resolve("train/dogs, small"));
        Files.createDirectories(own.resolve("train/cats/.thumbs"));
        Files.createDirectories(own.resolve("val/cats"));
        Files.createDirectories(own.resolve("val/dogs, small"));
        Files.write(own.resolve("train/cats/a.jpg"), jpg);
        Files.write(own.resolve("train/cats/sub/b.JPEG"), jpg);
        Files.write(own.resolve("train/cats/.hidden.jpg"), jpg);
        Files.write(own.resolve("train/cats/.thumbs/t.jpg"), jpg);
        Files.write(own.resolve("train/cats/notes.txt"), new byte[]{1});
        Files.write(own.resolve("train/dogs, small/c.PNG"), ImageCodec.encodePng(img));
        Files.write(own.resolve("train/dogs, small/d.bmp"), ImageCodec.encodeBmp(img));
        Files.createSymbolicLink(own.resolve("train/dogs, small/link.jpg"), own.resolve("train/cats/a.jpg"));
        Files.write(own.resolve("val/cats/e.jpg"), jpg);
        Files.write(own.resolve("val/dogs, small/f.jpeg"), jpg);
        Manifest m = Manifest.build(own, null, 2);
        assertThat(m.wnids()).containsExactly("cats", "dogs, small");
        assertThat(m.split("train")).extracting(Manifest.Entry::path).containsExactly("train/cats/a.jpg",
                "train/cats/sub/b.JPEG", "train/dogs, small/c.PNG", "train/dogs, small/d.bmp",
                "train/dogs, small/link.jpg");
        assertThat(m.split("train")).extracting(Manifest.Entry::label).containsExactly(0, 0, 1, 1, 1);
        assertThat(m.split("train")).allSatisfy(e -> assertThat(e.width()).isEqualTo(300));
        assertThat(m.split("val")).extracting(Manifest.Entry::label).containsExactly(0, 1);
        // the names (with their comma) survive the manifest file
        m.write(tmp.resolve("own.tsv"));
        assertThat(Manifest.read(tmp.resolve("own.tsv")).wnids()).containsExactly("cats", "dogs, small");
        // a BMP decodes like the other formats
        RgbImage d = Resize.CENTER.decode(Files.readAllBytes(own.resolve("train/dogs, small/d.bmp")),
                (int) Files.size(own.resolve("train/dogs, small/d.bmp")), 64);
        assertThat(d.width()).isEqualTo(64);

        // the same as a label list
        Files.writeString(tmp.resolve("labels.tsv"), "# path\tclass\ntrain/cats/a.jpg\tcat\n"
                + "train/dogs, small/c.PNG\tdog\nval/cats/e.jpg\tcat\n");
        Manifest l = Manifest.fromLabels(own, tmp.resolve("labels.tsv"), 1);
        assertThat(l.wnids()).containsExactly("cat", "dog");
        assertThat(l.split("val")).extracting(Manifest.Entry::label).containsExactly(0);

        // what is refused before any work starts
        Path empty = tmp.resolve("empty");
        Files.createDirectories(empty.resolve("train/birds"));
        Files.createDirectories(empty.resolve("train/cats"));
        Files.write(empty.resolve("train/cats/a.jpg"), jpg);
        assertThatThrownBy(() -> Manifest.build(empty, null, 1)).hasMessageContaining("train/birds has no images");
        Path one = tmp.resolve("one");
        Files.createDirectories(one.resolve("train/cats"));
        Files.write(one.resolve("train/cats/a.jpg"), jpg);
        assertThatThrownBy(() -> Manifest.build(one, null, 1)).hasMessageContaining("one class folder (cats)")
                .hasMessageContaining("at least 2 classes");
        Path differ = tmp.resolve("differ");
        for (String f : new String[]{"train/cats", "train/dogs", "val/cats", "val/owls"}) {
            Files.createDirectories(differ.resolve(f));
            Files.write(differ.resolve(f).resolve("x.jpg"), jpg);
        }
        assertThatThrownBy(() -> Manifest.build(differ, null, 1)).hasMessageContaining("different classes")
                .hasMessageContaining("only in train/: [dogs]").hasMessageContaining("only in val/: [owls]");
        Files.writeString(tmp.resolve("bad-labels.tsv"), "train/cats/a.jpg cat\n");
        assertThatThrownBy(() -> Manifest.fromLabels(own, tmp.resolve("bad-labels.tsv"), 1))
                .hasMessageContaining("bad-labels.tsv:1: expected 'train/PATH<TAB>class'");
        Files.writeString(tmp.resolve("gone.tsv"), "train/cats/zz.jpg\tcat\ntrain/cats/a.jpg\tdog\n");
        assertThatThrownBy(() -> Manifest.fromLabels(own, tmp.resolve("gone.tsv"), 1))
                .hasMessageContaining("lists files that are not under").hasMessageContaining("train/cats/zz.jpg");
    }

    @Test
    void wrongLayoutsGetAnErrorThatSaysWhatWasExpected() throws Exception {
        Path noSplits = tmp.resolve("bad1");
        Files.createDirectories(noSplits.resolve("images"));
        assertThatThrownBy(() -> Manifest.build(noSplits, null, 1)).hasMessageContaining("no train/ or val/")
                .hasMessageContaining("train/<class>/");
        Path flatTrain = tmp.resolve("bad2");
        Files.createDirectories(flatTrain.resolve("train"));
        Files.write(flatTrain.resolve("train/a.JPEG"), new byte[]{1});
        assertThatThrownBy(() -> Manifest.build(flatTrain, null, 1)).hasMessageContaining("directly in train/");
        Path notWnid = tmp.resolve("bad3");
        Files.createDirectories(notWnid.resolve("train/cats"));
        assertThatThrownBy(() -> Manifest.build(notWnid, null, 1))
                .hasMessageContaining("class folder " + notWnid.resolve("train/cats") + " has no images");
        Path mixed = tmp.resolve("bad4");
        Files.createDirectories(mixed.resolve("val/n01440764"));
        Files.write(mixed.resolve("val/ILSVRC2012_val_00000001.JPEG"), new byte[]{1});
        assertThatThrownBy(() -> Manifest.build(mixed, null, 1)).hasMessageContaining("mixes image files and folders");
        assertThatThrownBy(() -> Manifest.build(tmp.resolve("nope"), null, 1)).hasMessageContaining("no such dir");
        Path bad = tmp.resolve("bad.tsv");
        Files.writeString(bad, "# classes\tn01440764\ntrain\tx.JPEG\t0\n");
        assertThatThrownBy(() -> Manifest.read(bad)).hasMessageContaining("expected 7 tab-separated columns");
    }


}
