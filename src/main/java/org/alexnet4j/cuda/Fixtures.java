package org.alexnet4j.cuda;

import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.ParamLayer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * What the CPU computed for a seeded net, small enough to travel in the GPU bundle: the net's description, the seed,
 * batch and update, the logits, the loss, and for every parameter its gradient and its value after one step as a
 * norm, a sum and a fixed sample of elements (the full net's weights are 244 MB; both sides generate them from the
 * seed with {@link SeededInit}). A plain text file, one record a line, so that the bundle needs no JSON library.
 */
public final class Fixtures {

    /** Elements sampled from each array. */
    public static final int SAMPLES = 64;

    /** One array's summary. */
    public record Summary(double norm, double sum, int[] index, float[] sample) {
        /** The summary of {@code a}, sampling the indices that {@code key} fixes. */
        public static Summary of(String key, float[] a) {
            double norm = 0, sum = 0;
            for (float v : a) {
                norm += (double) v * v;
                sum += v;
            }
            int[] index = indices(key, a.length);
            float[] sample = new float[index.length];
            for (int i = 0; i < index.length; i++) {
                sample[i] = a[index[i]];
            }
            return new Summary(Math.sqrt(norm), sum, index, sample);
        }
    }

    /** A net's fixture. */
    public record Net(String name, NetSpec spec, long seed, int batch, double lr, double momentum, double decay,
                      float[] logits, double loss, Map<String, Summary> gradients, Map<String, Summary> afterStep) {
    }

    private Fixtures() {
    }

    /** The sample positions of an array of {@code length} named {@code key} (the same on every machine). */
    public static int[] indices(String key, int length) {
        SplittableRandom r = new SplittableRandom(key.hashCode() * 0x9E3779B97F4A7C15L);
        int n = Math.min(SAMPLES, length);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = r.nextInt(length);
        }
        return out;
    }

    /** Writes nets to one file. */
    public static void write(Path file, List<Net> nets) throws IOException {
        StringBuilder b = new StringBuilder("# alexnet4j GPU fixtures v1: computed on the CPU by DL4J's graph\n");
        for (Net n : nets) {
            b.append("net ").append(n.name()).append('\n');
            writeSpec(b, n.spec());
            b.append(String.format(Locale.ROOT, "run %d %d %s %s %s%n", n.seed(), n.batch(), n.lr(), n.momentum(),
                    n.decay()));
            b.append("loss ").append(n.loss()).append('\n');
            b.append("logits").append(floats(n.logits())).append('\n');
            summaries(b, "grad", n.gradients());
            summaries(b, "step", n.afterStep());
            b.append("end\n");
        }
        Files.writeString(file, b.toString(), StandardCharsets.UTF_8);
    }

    /** Reads what {@link #write} wrote. */
    public static List<Net> read(Path file) throws IOException {
        List<Net> nets = new ArrayList<>();
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i++);
            if (line.startsWith("#") || line.isBlank()) {
                continue;
            }
            if (!line.startsWith("net ")) {
                throw new IOException(file + " line " + i + ": expected 'net NAME', got '" + cut(line) + "'");
            }
            String name = line.substring(4);
            List<String> specLines = new ArrayList<>();
            long seed = 0;
            int batch = 0;
            double lr = 0, momentum = 0, decay = 0, loss = 0;
            float[] logits = null;
            Map<String, Summary> grads = new LinkedHashMap<>(), steps = new LinkedHashMap<>();
            while (i < lines.size() && !(line = lines.get(i++)).equals("end")) {
                String[] f = line.split(" ");
                switch (f[0]) {
                    case "spec", "block", "fc", "init" -> specLines.add(line);
                    case "run" -> {
                        seed = Long.parseLong(f[1]);
                        batch = Integer.parseInt(f[2]);
                        lr = Double.parseDouble(f[3]);
                        momentum = Double.parseDouble(f[4]);
                        decay = Double.parseDouble(f[5]);
                    }
                    case "loss" -> loss = Double.parseDouble(f[1]);
                    case "logits" -> logits = parseFloats(f, 1);
                    case "grad", "step" -> {
                        int count = Integer.parseInt(f[4]);
                        int[] idx = new int[count];
                        float[] val = new float[count];
                        for (int k = 0; k < count; k++) {
                            String[] iv = f[5 + k].split(":");
                            idx[k] = Integer.parseInt(iv[0]);
                            val[k] = Float.parseFloat(iv[1]);
                        }
                        (f[0].equals("grad") ? grads : steps).put(f[1], new Summary(Double.parseDouble(f[2]),
                                Double.parseDouble(f[3]), idx, val));
                    }
                    default -> throw new IOException(file + " line " + i + ": unknown record '" + cut(line) + "'");
                }
            }
            nets.add(new Net(name, readSpec(specLines), seed, batch, lr, momentum, decay, logits, loss, grads,
                    steps));
        }
        return nets;
    }

    /** The description as text lines ({@code spec}, {@code block}, {@code fc}, {@code init} records). */
    static void writeSpec(StringBuilder b, NetSpec s) {
        b.append(String.format(Locale.ROOT, "spec %s %d %d %b %d %b %s %d %s %s %s %b%n", s.variant(), s.inputSize(),
                s.inputOverhang(), s.edgePadding(), s.poolWindow(), s.maxPooling(), s.lrnK(), s.lrnSize(),
                s.lrnAlpha(), s.lrnBeta(), s.dropout(), s.dropoutBeforeFc()));
        for (NetSpec.ConvBlock c : s.blocks()) {
            ParamLayer l = c.layer();
            b.append(String.format(Locale.ROOT, "block %s %d %d %d %d %d %d %d %b %d%n", l.name(), l.outChannels(),
                    l.inPerGroup(), l.kernel(), l.groups(), c.stride(), c.pad(), c.lrnGroups(), c.pool(),
                    c.poolPadding()));
        }
        for (ParamLayer l : s.fullyConnected()) {
            b.append(String.format(Locale.ROOT, "fc %s %d %d%n", l.name(), l.outChannels(), l.inPerGroup()));
        }
        for (Map.Entry<String, NetSpec.Init> e : new java.util.TreeMap<>(s.init()).entrySet()) {
            b.append(String.format(Locale.ROOT, "init %s %s %s%n", e.getKey(), e.getValue().weightStd(),
                    e.getValue().bias()));
        }
    }

    static NetSpec readSpec(List<String> lines) {
        String[] s = null;
        List<NetSpec.ConvBlock> blocks = new ArrayList<>();
        List<ParamLayer> fcs = new ArrayList<>();
        Map<String, NetSpec.Init> init = new LinkedHashMap<>();
        for (String line : lines) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "spec" -> s = f;
                case "block" -> blocks.add(new NetSpec.ConvBlock(new ParamLayer(f[1], true, i(f[2]), i(f[3]), i(f[4]),
                        i(f[5]), List.of(f[1]), null), i(f[6]), i(f[7]), i(f[8]), Boolean.parseBoolean(f[9]),
                        i(f[10])));
                case "fc" -> fcs.add(new ParamLayer(f[1], false, i(f[2]), i(f[3]), 0, 1, List.of(f[1]), null));
                case "init" -> init.put(f[1], new NetSpec.Init(Double.parseDouble(f[2]), Double.parseDouble(f[3])));
                default -> throw new IllegalArgumentException("not a net description record: " + cut(line));
            }
        }
        if (s == null) {
            throw new IllegalArgumentException("a net description needs its 'spec' record");
        }
        return new NetSpec(s[1], i(s[2]), i(s[3]), Boolean.parseBoolean(s[4]), blocks, fcs, i(s[5]),
                Boolean.parseBoolean(s[6]), Double.parseDouble(s[7]), i(s[8]), Double.parseDouble(s[9]),
                Double.parseDouble(s[10]), Double.parseDouble(s[11]), Boolean.parseBoolean(s[12]), init);
    }

    /** A net description as text (for the bundle's throughput nets). */
    public static String specText(NetSpec s) {
        StringBuilder b = new StringBuilder();
        writeSpec(b, s);
        return b.toString();
    }

    /** Reads {@link #specText}. */
    public static NetSpec parseSpec(String text) {
        return readSpec(text.lines().filter(l -> !l.isBlank()).toList());
    }

    private static void summaries(StringBuilder b, String kind, Map<String, Summary> m) {
        for (Map.Entry<String, Summary> e : m.entrySet()) {
            Summary s = e.getValue();
            b.append(kind).append(' ').append(e.getKey()).append(' ').append(s.norm()).append(' ').append(s.sum())
                    .append(' ').append(s.index().length);
            for (int k = 0; k < s.index().length; k++) {
                b.append(' ').append(s.index()[k]).append(':').append(s.sample()[k]);
            }
            b.append('\n');
        }
    }

    private static String floats(float[] a) {
        StringBuilder b = new StringBuilder();
        for (float v : a) {
            b.append(' ').append(v);
        }
        return b.toString();
    }

    private static float[] parseFloats(String[] f, int from) {
        float[] a = new float[f.length - from];
        for (int k = 0; k < a.length; k++) {
            a[k] = Float.parseFloat(f[from + k]);
        }
        return a;
    }

    private static int i(String s) {
        return Integer.parseInt(s);
    }

    private static String cut(String s) {
        return s.length() > 80 ? s.substring(0, 80) + "..." : s;
    }
}
