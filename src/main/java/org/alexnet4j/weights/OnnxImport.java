package org.alexnet4j.weights;

import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ParamLayer;
import org.nd4j.shade.protobuf.CodedInputStream;
import org.nd4j.shade.protobuf.InvalidProtocolBufferException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads AlexNet weights from an ONNX model into PyTorch's layout ({@link TorchLayout}), for the net the caller chose.
 *
 * <p>The file is matched by graph structure and shapes, not by names: its nodes are reduced to a sequence of stages
 * (convolution, ReLU, LRN, pooling, padding, flatten, fully connected), with every attribute that changes the
 * function made explicit (defaults filled in, {@code auto_pad} resolved, a zero {@code Pad} folded into the next Conv,
 * pooling reduced to its windows: kernel, stride, leading padding and output size at the net's input size), and
 * compared with the same reduction of the graph {@link OnnxExport} writes for that net. So the ONNX model zoo's
 * bvlcalexnet (Caffe2-converted: {@code conv1_w_0} names, Dropout nodes, pooling padded at the end to reproduce
 * Caffe's rounded-up sizes, a Reshape before fc6, opsets 6-12), torchvision's alexnet as {@code torch.onnx.export}
 * writes it (an identity AveragePool, Flatten) and this project's own export all load into the variant they fit.
 * A file that does not fit is refused with every mismatch named and nothing loaded.
 */
public final class OnnxImport {
    private static final Logger log = LoggerFactory.getLogger(OnnxImport.class);

    private OnnxImport() {
    }

    /** True if {@code file} is named like an ONNX model ({@code .onnx}, any case). */
    public static boolean isOnnx(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".onnx");
    }

    /**
     * The weights of {@code file} in PyTorch layout for {@code net}.
     *
     * @throws IllegalArgumentException if the file is not a readable ONNX model, or does not fit {@code net} (the
     *                                  message names every mismatch)
     */
    public static Map<String, NpyArray> read(Path file, AlexNet net) throws IOException {
        long start = System.nanoTime();
        ModelProto model = parse(file);
        GraphProto graph = model.getGraph();
        OnnxStructure found = OnnxStructure.of(graph, net.inputSize(), file.toString(), false);
        List<String> problems = check(found, net);
        if (!problems.isEmpty() && found.declaredSize > 0 && found.declaredSize != net.inputSize()) {
            // A graph laid out for its declared input (the model zoo's bvlcalexnet pads its pooling for 224) holds
            // the same parameters as the net at the other size: accept it if it fits the net at the declared size.
            AlexNet declared = withInputSize(net, found.declaredSize);
            OnnxStructure atDeclared = declared == null ? null
                    : OnnxStructure.of(graph, declared.inputSize(), file.toString(), false);
            if (atDeclared != null && check(atDeclared, declared).isEmpty()) {
                log.info("{} is laid out for its declared {}x{} input: its weights fit the {} net at {}x{} too; "
                                + "use --input-size {} to compute exactly what the file computes", file,
                        found.declaredSize, found.declaredSize, net.variant().id(), net.inputSize(),
                        net.inputSize(), found.declaredSize);
                found = atDeclared;
                problems = List.of();
            }
        }
        if (!problems.isEmpty()) {
            String hint = settingsHint(model);
            if (found.declaredSize > 0 && found.declaredSize != net.inputSize()) {
                hint += "\n  (the file declares a " + found.declaredSize + "x" + found.declaredSize + " input; the net "
                        + "was built for " + net.inputSize() + ")";
            }
            throw new IllegalArgumentException(file + " does not fit the " + net.variant().id() + " net "
                    + net.settings() + "; nothing was loaded:\n  " + String.join("\n  ", problems) + hint);
        }
        Map<String, NpyArray> out = new LinkedHashMap<>();
        List<OnnxStage> weighted = found.weighted();
        List<ParamLayer> layers = net.paramLayers();
        for (int i = 0; i < layers.size(); i++) {
            ParamLayer l = layers.get(i);
            OnnxStage s = weighted.get(i);
            String key = TorchLayout.key(net, l);
            out.put(key + ".weight", s.weight);
            out.put(key + ".bias", s.bias != null ? s.bias
                    : NpyArray.float32(new long[]{l.outChannels()}, new float[l.outChannels()]));
        }
        TorchLayout.validate(net, out);
        log.info("read {} (opset {}, producer '{}'): {} parameters in {} ms", file, found.opset(model),
                model.getProducerName(), net.parameterCount(), (System.nanoTime() - start) / 1_000_000);
        return out;
    }

    /**
     * As {@link #read}, for a net that may differ from the file in its class count only (fine-tuning from
     * ImageNet weights to other classes): the file is read for {@code net} with the file's own fc8 width.
     */
    public static Map<String, NpyArray> readAnyClasses(Path file, AlexNet net) throws IOException {
        try {
            return read(file, net);
        } catch (IllegalArgumentException first) {
            ModelProto model = parse(file);
            List<OnnxStage> weighted = OnnxStructure.of(model.getGraph(), net.inputSize(), file.toString(), false)
                    .weighted();
            if (weighted.isEmpty() || weighted.get(weighted.size() - 1).weight == null) {
                throw first;
            }
            int classes = (int) weighted.get(weighted.size() - 1).weight.shape()[0];
            Map<String, Object> settings = new LinkedHashMap<>(net.settings());
            settings.put("numClasses", classes);
            AlexNet asFile;
            try {
                asFile = AlexNet.fromSettings(settings);
            } catch (IllegalArgumentException e) {
                throw first;
            }
            if (asFile.numClasses() == net.numClasses()) {
                throw first;
            }
            return read(file, asFile);
        }
    }

    /** Parses an ONNX file (memory-mapped; weights stay views of the mapping until converted). */
    static ModelProto parse(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "no such ONNX file");
        }
        ModelProto model;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            if (ch.size() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(file + " is over 2 GiB; ONNX files that large keep their weights "
                        + "as external data, which alexnet4j does not read");
            }
            MappedByteBuffer buf = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
            CodedInputStream in = CodedInputStream.newInstance(buf);
            in.enableAliasing(true);
            in.setSizeLimit(Integer.MAX_VALUE);
            model = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException(file + " is not a readable ONNX model (truncated, or another format): "
                    + e.getMessage());
        }
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new IllegalArgumentException(file + " is not an ONNX model: it has no graph (is it another "
                    + "format, or empty?)");
        }
        return model;
    }

    /** What is wrong with {@code found} for {@code net} (empty if it fits). */
    private static List<String> check(OnnxStructure found, AlexNet net) {
        OnnxStructure expected = OnnxStructure.of(OnnxExport.model(net, null, OnnxExport.DEFAULT_OPSET).getGraph(),
                net.inputSize(), "(expected)", true);
        List<String> problems = new ArrayList<>(found.problems);
        problems.addAll(compare(expected, found));
        return problems;
    }

    /** {@code net} with another input size, or null where the variant does not allow that size. */
    private static AlexNet withInputSize(AlexNet net, int size) {
        Map<String, Object> settings = new LinkedHashMap<>(net.settings());
        settings.put("inputSize", size);
        try {
            return AlexNet.fromSettings(settings);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** When the file was written by alexnet4j: the settings it was exported from. */
    private static String settingsHint(ModelProto model) {
        for (var p : model.getMetadataPropsList()) {
            if (p.getKey().equals(OnnxExport.SETTINGS_KEY)) {
                return "\n  (the file was exported by alexnet4j from " + p.getValue() + ")";
            }
        }
        return "";
    }

    // ------------------------------------------------------------------------------------------------------------
    // Comparison
    // ------------------------------------------------------------------------------------------------------------

    private static List<String> compare(OnnxStructure expected, OnnxStructure found) {
        List<String> problems = new ArrayList<>();
        List<String> ek = expected.stages.stream().map(s -> s.kind).toList();
        List<String> fk = found.stages.stream().map(s -> s.kind).toList();
        if (!ek.equals(fk)) {
            problems.add("the layers differ: expected " + String.join(" ", ek) + "; the file has "
                    + String.join(" ", fk));
            // still compare the weighted layers position by position, so that their shapes are named too
            List<OnnxStage> ew = expected.weighted(), fw = found.weighted();
            for (int i = 0; i < Math.min(ew.size(), fw.size()); i++) {
                compareStage(ew.get(i), fw.get(i), problems);
            }
            if (ew.size() != fw.size()) {
                problems.add("expected " + ew.size() + " weighted layers (5 Conv, 3 fully connected), the file has "
                        + fw.size());
            }
            return problems;
        }
        for (int i = 0; i < ek.size(); i++) {
            compareStage(expected.stages.get(i), found.stages.get(i), problems);
        }
        return problems;
    }

    private static void compareStage(OnnxStage e, OnnxStage f, List<String> problems) {
        String where = f.kind + " node '" + f.node + "' (" + e.node + ")";
        if (!e.kind.equals(f.kind)) {
            problems.add(where + ": expected " + e.kind);
            return;
        }
        for (Map.Entry<String, String> a : e.attrs.entrySet()) {
            String v = f.attrs.get(a.getKey());
            if (!a.getValue().equals(v)) {
                problems.add(where + ": " + a.getKey() + " " + v + ", expected " + a.getValue());
            }
        }
        if (e.weightShape != null) {
            if (f.weight == null) {
                problems.add(where + ": its weights are not an initializer in the file (missing)");
            } else if (!Arrays.equals(e.weightShape, f.weight.shape())) {
                problems.add(where + ": weights '" + f.weightName + "' have shape " + Arrays.toString(f.weight.shape())
                        + (f.transposed ? " (as PyTorch's [out, in])" : "") + ", expected "
                        + Arrays.toString(e.weightShape));
            }
            long[] biasShape = {e.weightShape[0]};
            if (f.bias != null && !Arrays.equals(f.bias.shape(), biasShape)) {
                problems.add(where + ": bias '" + f.biasName + "' has shape " + Arrays.toString(f.bias.shape())
                        + ", expected " + Arrays.toString(biasShape));
            }
        }
    }
}
