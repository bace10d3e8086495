package org.alexnet4j.examples;

import org.alexnet4j.data.ClassList;
import org.alexnet4j.data.ImageNetMeta;
import org.alexnet4j.eval.Predictor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.runtime.Backend;
import org.alexnet4j.weights.ModelFiles;
import org.alexnet4j.weights.WeightFiles;

import java.nio.file.Path;
import java.util.List;

/**
 * The README's Java example, compiled and run by {@code ReadmeExampleTest}: the code between the README markers is
 * what the README shows, character for character.
 */
public final class ClassifyPhoto {
    private ClassifyPhoto() {
    }

    public static void main(String[] args) throws Exception {
        classify(Path.of(args[0]), Path.of(args[1]));
    }

    static void classify(Path weights, Path photo) throws Exception {
        // README-begin
        Backend.init();                                              // ND4J with oneDNN, as the CLI runs it
        AlexNet net = AlexNet.builder(Variant.CAFFE).build();        // bvlc_alexnet, layer for layer
        ModelFiles.Loaded model = WeightFiles.load(weights, net);    // .onnx or .npz (ModelFiles.load for a .zip)
        Preprocessing.Input input = Preprocessing.input(net, null, null, null, false, Predictor.SOURCE_SIZE);
        List<String> classes = ClassList.forNet(null, net.numClasses());   // ILSVRC2012's wnids
        try (InferenceEngine engine = InferenceEngine.open(InferenceEngine.Kind.AUTO, net, model.graph())) {
            Predictor predictor = new Predictor(engine, net, input.normalization(), false, 5);
            predictor.predictFiles(List.of(photo), 1, 1, result -> {
                for (Predictor.Ranked r : result.ranked()) {
                    System.out.printf("%.4f  %s%n", r.probability(), ImageNetMeta.get().label(classes.get(r.index())));
                }
            });
        }
        // README-end
    }
}
