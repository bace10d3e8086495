package org.alexnet4j.cli;

import org.alexnet4j.data.Datasets;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.ManifestVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "manifest", mixinStandardHelpOptions = true,
        description = "Index an ILSVRC2012-layout dataset (build) and check it (verify).",
        subcommands = {ManifestCommand.Build.class, ManifestCommand.Verify.class})
class ManifestCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(name = "build", mixinStandardHelpOptions = true,
            description = {"Write a manifest (split, relative path, class index, class, bytes, width, height) of DIR: "
                    + "ILSVRC2012's train/<wnid>/*.JPEG and val/ flat (labels from the shipped validation labels or "
                    + "--val-labels) or val/<wnid>/; or any class folders train/<class>/ and val/<class>/ (.jpg .jpeg "
                    + ".png .bmp in any case, nested folders included, links followed, hidden files left out); or "
                    + "--labels FILE. Class index = position in the sorted class names of train/."})
    static class Build implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "DIR", description = "Dataset root.")
        Path data;

        @Option(names = "--out", paramLabel = "FILE", description = "Manifest file (default: DIR/manifest.tsv).")
        Path out;

        @Option(names = "--val-labels", paramLabel = "FILE",
                description = "Labels for a flat val/ ('file<TAB>wnid' lines) instead of ILSVRC2012's.")
        Path valLabels;

        @Option(names = "--labels", paramLabel = "FILE", description = "A label list instead of class folders: "
                + "'train/PATH<TAB>class' and 'val/PATH<TAB>class' lines, paths relative to DIR.")
        Path labels;

        @picocli.CommandLine.Mixin

        ThreadsOption threads;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Manifest m = labels != null ? Manifest.fromLabels(data, labels, threads.count())
                    : Manifest.build(data, valLabels == null ? null : Manifest.readValLabels(valLabels),
                    threads.count());
            Path file = out != null ? out : data.resolve(Datasets.MANIFEST_FILE);
            m.write(file);
            Map<String, Integer> perSplit = new LinkedHashMap<>();
            m.entries().forEach(e -> perSplit.merge(e.split(), 1, Integer::sum));
            spec.commandLine().getOut().printf("wrote %s: %d classes, %s%n", file, m.wnids().size(), perSplit);
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check DIR against its manifest: images per split and class, missing, extra, changed and "
                    + "unreadable files (header check; --decode decodes every file), and, with --archives, the md5 "
                    + "of the ILSVRC2012 tar files. Exit code 1 when anything is missing, unreadable or wrong."})
    static class Verify implements Callable<Integer> {
        @Option(names = "--data", required = true, paramLabel = "DIR", description = "Dataset root.")
        Path data;

        @Option(names = "--manifest", paramLabel = "FILE", description = "Manifest (default: DIR/manifest.tsv).")
        Path manifest;

        @Option(names = "--decode", description = "Fully decode every image (slower; catches corrupt data).")
        boolean decode;

        @Option(names = "--archives", paramLabel = "DIR",
                description = "Directory with ILSVRC2012_img_train.tar, ILSVRC2012_img_val.tar, "
                        + "ILSVRC2012_devkit_t12.tar.gz: check their md5 against the published values.")
        Path archives;

        @picocli.CommandLine.Mixin

        ThreadsOption threads;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Path file = manifest != null ? manifest : data.resolve(Datasets.MANIFEST_FILE);
            if (!java.nio.file.Files.exists(file)) {
                throw new IllegalArgumentException("no manifest at " + file + "; run 'alexnet4j manifest build "
                        + "--data " + data + "' first or give --manifest");
            }
            ManifestVerifier.Report r = ManifestVerifier.verify(data, Manifest.read(file), decode, archives,
                    threads.count());
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(Json.pretty(r));
            } else {
                out.printf("images: %s; %d classes, %d..%d training images per class%n", r.imagesPerSplit(),
                        r.classes(), r.minPerClass(), r.maxPerClass());
                out.printf("missing: %d, extra: %d, changed: %d, unreadable: %d%n", r.missing().size(),
                        r.extra().size(), r.changed().size(), r.unreadable().size());
                list(out, "missing", r.missing());
                list(out, "extra (not in the manifest)", r.extra());
                list(out, "changed", r.changed().stream().map(p -> p.path() + ": " + p.reason()).toList());
                list(out, "unreadable", r.unreadable().stream().map(p -> p.path() + ": " + p.reason()).toList());
                r.archives().forEach((k, v) -> out.printf("archive %s: %s%n", k, v));
                out.println(r.ok() ? "OK" : "PROBLEMS FOUND");
            }
            out.flush();
            return r.ok() ? 0 : 1;
        }

        private static void list(PrintWriter out, String what, List<String> items) {
            int shown = Math.min(20, items.size());
            for (int i = 0; i < shown; i++) {
                out.printf("  %s: %s%n", what, items.get(i));
            }
            if (items.size() > shown) {
                out.printf("  ... and %d more %s%n", items.size() - shown, what);
            }
        }
    }
}
