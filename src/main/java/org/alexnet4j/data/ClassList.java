package org.alexnet4j.data;

import org.alexnet4j.util.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code classes.tsv}: a dataset's classes in index order, as {@code index<TAB>class<TAB>name} lines under a header.
 * The class is an ILSVRC2012 wnid (its name then from the synsets) or the user's class folder name (the name is the
 * same). Written into prepared caches and run directories, so that results can show the classes by name.
 */
public final class ClassList {
    public static final String FILE = "classes.tsv";

    private ClassList() {
    }

    public static void write(Path file, List<String> classes) throws IOException {
        StringBuilder sb = new StringBuilder("index\tclass\tname\n");
        for (int i = 0; i < classes.size(); i++) {
            sb.append(i).append('\t').append(classes.get(i)).append('\t').append(name(classes.get(i))).append('\n');
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
    }

    /** The classes of a {@code classes.tsv}, in index order. */
    public static List<String> read(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.startsWith("index\t") || line.isBlank()) {
                continue;
            }
            String[] p = line.split("\t");
            if (p.length < 2) {
                throw new IllegalArgumentException(file + ": expected 'index<TAB>class<TAB>name' lines, got: " + line);
            }
            out.add(p[1]);
        }
        return List.copyOf(out);
    }

    /**
     * A net's class names by index: {@code known} (a run's or a dataset's) when it has the net's count, else
     * ILSVRC2012's wnids for a 1000-class net, else "class N".
     */
    public static List<String> forNet(List<String> known, int classes) {
        if (known != null && known.size() == classes) {
            return known;
        }
        if (classes == ImageNetMeta.get().wnids().size()) {
            return ImageNetMeta.get().wnids();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < classes; i++) {
            names.add("class " + i);
        }
        return List.copyOf(names);
    }

    /** A class's human-readable name: the synset's for an ILSVRC2012 wnid, else the class itself. */
    public static String name(String cls) {
        return ImageNetMeta.get().name(cls);
    }
}
