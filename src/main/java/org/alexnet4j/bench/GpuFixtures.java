package org.alexnet4j.bench;

import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.cuda.Fixtures;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Computes the GPU bundle's fixtures on the CPU with DL4J's graph ({@link Dl4jReference}): the paper net at full
 * width and the caffe net (batch 4, 1000 classes), and a small paper net for the bundle's CPU self-test.
 * {@code scripts/gpu-bundle.sh} runs it as {@code java ... org.alexnet4j.bench.GpuFixtures OUT_FILE}.
 */
public final class GpuFixtures {

    /** The update the fixtures' one step uses. */
    public static final AlexNetEngine.Update UPDATE = AlexNetEngine.Update.of(0.01, 0.9, 5e-4);
    public static final long SEED = 2012;

    private GpuFixtures() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: GpuFixtures OUT_FILE");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        if (out.getParent() != null) {
            Files.createDirectories(out.getParent());
        }
        Fixtures.write(out, compute(true));
        System.out.println("wrote " + out + " (" + Files.size(out) + " bytes)");
    }

    /** The fixtures: with {@code full}, the full-width paper and caffe nets too (a minute of CPU). */
    public static List<Fixtures.Net> compute(boolean full) {
        Map<String, AlexNet> nets = new LinkedHashMap<>();
        if (full) {
            nets.put("paper", AlexNet.builder(Variant.PAPER).dropout(0).build());
            nets.put("caffe", AlexNet.builder(Variant.CAFFE).dropout(0).build());
        }
        nets.put("quick-paper", AlexNet.builder(Variant.PAPER).width(0.125).numClasses(10).dropout(0).build());
        List<Fixtures.Net> out = new ArrayList<>();
        for (Map.Entry<String, AlexNet> e : nets.entrySet()) {
            int batch = 4;
            Dl4jReference.Result r = Dl4jReference.compute(e.getValue(), SEED, batch, 1, UPDATE);
            Map<String, Fixtures.Summary> grads = new LinkedHashMap<>(), steps = new LinkedHashMap<>();
            r.gradients().forEach((layer, wb) -> {
                grads.put(layer + ".weight", Fixtures.Summary.of(layer + ".weight", wb[0]));
                grads.put(layer + ".bias", Fixtures.Summary.of(layer + ".bias", wb[1]));
            });
            r.stepParams().get(0).forEach((layer, wb) -> {
                steps.put(layer + ".weight", Fixtures.Summary.of(layer + ".weight", wb[0]));
                steps.put(layer + ".bias", Fixtures.Summary.of(layer + ".bias", wb[1]));
            });
            out.add(new Fixtures.Net(e.getKey(), e.getValue().spec(), SEED, batch, UPDATE.learningRate(),
                    UPDATE.momentum(), UPDATE.weightDecay(), r.logits(), r.loss(), grads, steps));
        }
        return out;
    }
}
