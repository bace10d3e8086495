package org.alexnet4j.weights;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.StringStringEntryProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.model.Pooling;
import org.alexnet4j.util.AtomicFiles;
import org.nd4j.shade.protobuf.UnsafeByteOperations;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes an AlexNet as an ONNX model (inference graph, NCHW, float32), for ONNX Runtime, TensorRT, OpenVINO and any
 * other ONNX consumer. DL4J 1.0.0-M2.1 has no ONNX export; this one is written against the ONNX operator spec with
 * the protobuf classes that nd4j-api ships ({@code onnx.Onnx}).
 *
 * <ul>
 *   <li>Towers become {@code group=2} Conv nodes (PyTorch's grouped layout, as in the .npz interchange): conv2,
 *       conv4 and conv5 of the paper and caffe nets.</li>
 *   <li>The paper's per-tower LRN is {@code Split -> LRN, LRN -> Concat}; Caffe's runs across all channels. ONNX's
 *       LRN divides alpha by {@code size} (Caffe's semantics), so the paper's alpha 1e-4 on the plain sum is written
 *       as {@code alpha = 5e-4, size = 5, bias = k}.</li>
 *   <li>The paper net's 224 overhang is Conv padding {@code [0, 0, 3, 3]}; edge padding is a {@code Pad} node in
 *       {@code edge} mode; Caffe's rounded-up pooling is MaxPool padding at the bottom and right (what the ONNX model
 *       zoo's bvlcalexnet does).</li>
 *   <li>Dropout is left out (inference). Input {@code input [N, 3, S, S]} with a dynamic batch axis; outputs
 *       {@code logits} (fc8 before the softmax) and {@code probabilities}.</li>
 *   <li>Initializers keep the .npz names ({@code conv1.weight}; torchvision's {@code features.0.weight}, as
 *       {@code torch.onnx.export} names them); the model settings are stored in the metadata under
 *       {@value #SETTINGS_KEY}.</li>
 * </ul>
 */
public final class OnnxExport {
    /** The opset written unless asked otherwise. */
    public static final int DEFAULT_OPSET = 13;
    /** Opsets this exporter writes (ONNX Runtime 1.20 reads up to 21). */
    public static final int MIN_OPSET = 9;
    public static final int MAX_OPSET = 21;
    /** Metadata key of the model settings ({@link AlexNet#settings()} as JSON). */
    public static final String SETTINGS_KEY = "alexnet4j.settings";
    /** Metadata key of the arithmetic: "fp32", or "int8 QDQ; ..." with the calibration's method and data. */
    public static final String PRECISION_KEY = "alexnet4j.precision";
    public static final String INPUT = "input";
    public static final String LOGITS = "logits";
    public static final String PROBABILITIES = "probabilities";

    private OnnxExport() {
    }

    /** Writes {@code weights} (PyTorch layout, as {@link TorchLayout#export}) as an ONNX model, atomically. */
    public static void write(Path file, AlexNet net, Map<String, NpyArray> weights, int opset) throws IOException {
        write(file, net, weights, opset, null);
    }

    /**
     * Writes {@code weights} as an ONNX model, atomically; with {@code calibration}, as a QDQ int8 model ({@link
     * #model(AlexNet, Map, int, Calibration)}).
     */
    public static void write(Path file, AlexNet net, Map<String, NpyArray> weights, int opset,
                             Calibration calibration) throws IOException {
        ModelProto model = model(net, weights, opset, calibration);
        AtomicFiles.write(file, tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                model.writeTo(out);
            }
        });
    }

    /**
     * The ONNX model of {@code net}; {@code weights} null gives the graph with empty initializers (its structure
     * only, as {@link OnnxImport} compares files against).
     */
    public static ModelProto model(AlexNet net, Map<String, NpyArray> weights, int opset) {
        return model(net, weights, opset, null);
    }

    /**
     * The ONNX model of {@code net}; with {@code calibration}, the QDQ int8 model of what the int8 engine computes:
     * before every Conv and Gemm, its input through {@code QuantizeLinear -> DequantizeLinear} on the calibrated scale
     * (int8 for the image, uint8 for the rectified rest, zero point 0), its weights stored as int8 with one scale per
     * output channel and its biases as int32 on the products' scale ({@code DequantizeLinear}, axis 0), LRN, pooling
     * and the softmax in float: the format
     * ONNX Runtime's quantisation tools write and its QDQ fusion turns into integer kernels. Opset 13 or later
     * (per-axis dequantisation).
     */
    public static ModelProto model(AlexNet net, Map<String, NpyArray> weights, int opset, Calibration calibration) {
        if (opset < MIN_OPSET || opset > MAX_OPSET) {
            throw new IllegalArgumentException("--opset must be in " + MIN_OPSET + ".." + MAX_OPSET + ", got " + opset);
        }
        if (calibration != null) {
            if (opset < 13) {
                throw new IllegalArgumentException("an int8 (QDQ) model needs --opset 13 or later (per-channel "
                        + "DequantizeLinear), got " + opset);
            }
            if (weights == null) {
                throw new IllegalArgumentException("an int8 (QDQ) model needs the weights");
            }
            calibration.checkCovers(net);
        }
        if (weights != null) {
            TorchLayout.validate(net, weights);
        }
        Builder b = new Builder(net, weights, opset, calibration);
        GraphProto graph = b.graph();
        String settings;
        try {
            settings = new ObjectMapper().writeValueAsString(net.settings());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return ModelProto.newBuilder()
                .setIrVersion(irVersion(opset))
                .setProducerName("alexnet4j")
                .setProducerVersion(java.util.Objects.requireNonNullElse(
                        OnnxExport.class.getPackage().getImplementationVersion(), "dev"))
                .setDomain("org.alexnet4j")
                .setModelVersion(1)
                .setDocString("AlexNet (" + net.variant().id() + ") exported by alexnet4j: " + net.settings())
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey(SETTINGS_KEY).setValue(settings))
                .addMetadataProps(StringStringEntryProto.newBuilder().setKey(PRECISION_KEY).setValue(
                        calibration == null ? "fp32" : "int8 QDQ; activation ranges: " + calibration.method() + ", "
                                + calibration.images() + " images of " + calibration.data()))
                .setGraph(graph)
                .build();
    }

    /** The IR version that goes with an opset (the ONNX versioning table). */
    static int irVersion(int opset) {
        if (opset <= 9) {
            return 4;
        } else if (opset == 10) {
            return 5;
        } else if (opset == 11) {
            return 6;
        } else if (opset <= 14) {
            return 7;
        } else if (opset <= 17) {
            return 8;
        } else if (opset <= 19) {
            return 9;
        }
        return 10;
    }

    /** Builds the graph node by node; tensor names are unique per node. */
    private static final class Builder {
        private final AlexNet net;
        private final Map<String, NpyArray> weights;
        private final int opset;
        /** The activation ranges of a QDQ int8 model; null for float. */
        private final Calibration calibration;
        private final GraphProto.Builder g = GraphProto.newBuilder();
        private int counter;

        Builder(AlexNet net, Map<String, NpyArray> weights, int opset, Calibration calibration) {
            this.net = net;
            this.weights = weights;
            this.opset = opset;
            this.calibration = calibration;
        }

        GraphProto graph() {
            g.setName("alexnet_" + net.variant().id());
            int s = net.inputSize();
            g.addInput(value(INPUT, "N", 3, s, s));
            String x = INPUT;
            boolean edge = net.padding() == Padding.EDGE;
            int overhang = net.inputOverhang();
            if (overhang > 0 && edge) {
                x = pad(x, "pad0", new int[]{0, 0, overhang, overhang});
                overhang = 0;
            }
            boolean first = true;
            for (NetSpec.ConvBlock block : net.convBlocks()) {
                ParamLayer l = block.layer();
                String name = l.name();
                int p = block.pad();
                int[] pads = {p, p, p, p}; // top, left, bottom, right (ONNX: begins, then ends)
                if (first) {
                    pads[2] += overhang;
                    pads[3] += overhang;
                }
                if (edge && p > 0) {
                    x = pad(x, name + "_pad", pads);
                    pads = new int[4];
                }
                float[] ws = weightScales(l);
                x = node("Conv", name, List.of(quantized(x, l, first), weight(l, ws), bias(l, first, ws)),
                        ints("kernel_shape", l.kernel(), l.kernel()), ints("strides", block.stride(), block.stride()),
                        ints("pads", pads), ints("dilations", 1, 1), integer("group", l.groups()));
                x = node("Relu", "relu" + name.substring(4), List.of(x));
                String index = name.substring(4);
                if (block.lrnGroups() > 0) {
                    x = lrn(x, "lrn" + index, l.outChannels(), block.lrnGroups());
                }
                if (block.pool()) {
                    int w = net.poolWindow();
                    int e = block.poolPadding();
                    x = node(net.pooling() == Pooling.MAX ? "MaxPool" : "AveragePool", "pool" + index, List.of(x),
                            ints("kernel_shape", w, w), ints("strides", 2, 2), ints("pads", 0, 0, e, e));
                }
                first = false;
            }
            x = node("Flatten", "flatten", List.of(x), integer("axis", 1));
            List<ParamLayer> fcs = net.paramLayers().subList(5, 8);
            for (ParamLayer l : fcs) {
                float[] ws = weightScales(l);
                x = node("Gemm", l.name(), List.of(quantized(x, l, false), weight(l, ws), bias(l, false, ws)),
                        real("alpha", 1), real("beta", 1), integer("transB", 1));
                if (l != fcs.get(2)) {
                    x = node("Relu", "relu" + l.name().substring(2), List.of(x));
                }
            }
            rename(x, LOGITS);
            node("Softmax", "softmax", List.of(LOGITS), integer("axis", 1));
            rename(g.getNode(g.getNodeCount() - 1).getOutput(0), PROBABILITIES);
            g.addOutput(value(LOGITS, "N", net.numClasses()));
            g.addOutput(value(PROBABILITIES, "N", net.numClasses()));
            return g.build();
        }

        /** LRN over all channels, or per block of channels (the paper's towers) through Split and Concat. */
        private String lrn(String x, String name, int channels, int groups) {
            double size = AlexNet.LRN_N;
            AttributeProto[] attrs = {real("alpha", net.lrnAlpha() * size), real("beta", AlexNet.LRN_BETA),
                    real("bias", net.lrnK()), integer("size", (int) size)};
            if (groups == 1) {
                return node("LRN", name, List.of(x), attrs);
            }
            long[] split = new long[groups];
            java.util.Arrays.fill(split, channels / groups);
            NodeProto.Builder sp = NodeProto.newBuilder().setOpType("Split").setName(name + "_split").addInput(x);
            sp.addAttribute(integer("axis", 1));
            if (opset >= 13) {
                String splitName = name + "_split_sizes";
                g.addInitializer(TensorProto.newBuilder().setName(splitName).setDataType(TensorProto.DataType.INT64
                        .getNumber()).addDims(groups).addAllInt64Data(java.util.Arrays.stream(split).boxed().toList()));
                sp.addInput(splitName);
            } else {
                sp.addAttribute(ints("split", java.util.Arrays.stream(split).mapToInt(v -> (int) v).toArray()));
            }
            List<String> parts = new ArrayList<>();
            for (int t = 0; t < groups; t++) {
                String part = name + "_split_" + t;
                sp.addOutput(part);
                parts.add(part);
            }
            g.addNode(sp);
            List<String> normed = new ArrayList<>();
            for (int t = 0; t < groups; t++) {
                normed.add(node("LRN", name + (char) ('a' + t), List.of(parts.get(t)), attrs));
            }
            return node("Concat", name + "_concat", normed, integer("axis", 1));
        }

        /** A Pad node (edge mode) with {@code [top, left, bottom, right]}. */
        private String pad(String x, String name, int[] tlbr) {
            long[] pads = {0, 0, tlbr[0], tlbr[1], 0, 0, tlbr[2], tlbr[3]};
            if (opset < 11) {
                return node("Pad", name, List.of(x), string("mode", "edge"),
                        ints("pads", java.util.Arrays.stream(pads).mapToInt(v -> (int) v).toArray()));
            }
            String padsName = name + "_pads";
            g.addInitializer(TensorProto.newBuilder().setName(padsName)
                    .setDataType(TensorProto.DataType.INT64.getNumber()).addDims(8)
                    .addAllInt64Data(java.util.Arrays.stream(pads).boxed().toList()));
            return node("Pad", name, List.of(x, padsName), string("mode", "edge"));
        }

        private String node(String op, String name, List<String> inputs, AttributeProto... attrs) {
            String out = name + "_out" + (counter++);
            NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(out);
            for (AttributeProto a : attrs) {
                n.addAttribute(a);
            }
            g.addNode(n);
            return out;
        }

        /** Renames the output {@code from} of the last node that produced it (graph outputs have fixed names). */
        private void rename(String from, String to) {
            for (int i = g.getNodeCount() - 1; i >= 0; i--) {
                NodeProto n = g.getNode(i);
                if (n.getOutputCount() > 0 && n.getOutput(0).equals(from)) {
                    g.setNode(i, n.toBuilder().setOutput(0, to));
                    return;
                }
            }
            throw new IllegalStateException("no node produces " + from);
        }

        /**
         * {@code x} as layer {@code l} reads it: in a QDQ model through QuantizeLinear and DequantizeLinear on the
         * calibrated scale (int8 for the {@code signed} image, uint8 after a ReLU); else itself.
         */
        private String quantized(String x, ParamLayer l, boolean signed) {
            if (calibration == null) {
                return x;
            }
            String scale = l.name() + ".input_scale";
            String zero = l.name() + ".input_zero_point";
            g.addInitializer(TensorProto.newBuilder().setName(scale).setDataType(TensorProto.DataType.FLOAT
                    .getNumber()).addFloatData(1f / calibration.scale(l.name(), signed)));
            g.addInitializer(TensorProto.newBuilder().setName(zero).setDataType((signed ? TensorProto.DataType.INT8
                    : TensorProto.DataType.UINT8).getNumber()).addInt32Data(0));
            String q = node("QuantizeLinear", l.name() + "_quantize", List.of(x, scale, zero));
            return node("DequantizeLinear", l.name() + "_dequantize", List.of(q, scale, zero));
        }

        /** In a QDQ model, layer {@code l}'s weight scales ({@link Calibration#weightScales}, as the int8 engine's). */
        private float[] weightScales(ParamLayer l) {
            return calibration == null ? null : Calibration.weightScales(weights.get(TorchLayout.key(net, l)
                    + ".weight").data(), l.outChannels());
        }

        /**
         * Layer {@code l}'s weights: the float initializer, or in a QDQ model int8 values with a scale per output
         * channel ({@code scales}) through DequantizeLinear.
         */
        private String weight(ParamLayer l, float[] scales) {
            if (calibration == null) {
                return param(l, ".weight");
            }
            String key = TorchLayout.key(net, l) + ".weight";
            float[] w = weights.get(key).data();
            int oc = l.outChannels();
            byte[] q = new byte[w.length];
            int per = w.length / oc;
            for (int i = 0; i < w.length; i++) {
                q[i] = (byte) Math.max(-127, Math.min(127, Math.rint(w[i] * scales[i / per])));
            }
            TensorProto.Builder t = TensorProto.newBuilder().setName(key + "_quantized")
                    .setDataType(TensorProto.DataType.INT8.getNumber())
                    .setRawData(UnsafeByteOperations.unsafeWrap(q));
            for (long d : l.weightShape()) {
                t.addDims(d);
            }
            g.addInitializer(t);
            TensorProto.Builder s = TensorProto.newBuilder().setName(key + "_scale").addDims(oc)
                    .setDataType(TensorProto.DataType.FLOAT.getNumber());
            TensorProto.Builder z = TensorProto.newBuilder().setName(key + "_zero_point").addDims(oc)
                    .setDataType(TensorProto.DataType.INT8.getNumber())
                    .setRawData(UnsafeByteOperations.unsafeWrap(new byte[oc]));
            for (float f : scales) {
                s.addFloatData(1f / f);
            }
            g.addInitializer(s);
            g.addInitializer(z);
            return node("DequantizeLinear", l.name() + "_weight_dequantize", List.of(key + "_quantized", key
                    + "_scale", key + "_zero_point"), integer("axis", 0));
        }

        /**
         * Layer {@code l}'s bias: the float initializer, or in a QDQ model int32 values on the scale of the layer's
         * products ({@code s_in * s_w[c]}) through DequantizeLinear, the form ONNX Runtime fuses into QLinearConv and
         * QGemm (a float bias keeps its Conv in float between dequantised tensors: slower than fp32, measured).
         */
        private String bias(ParamLayer l, boolean signedInput, float[] ws) {
            if (calibration == null) {
                return param(l, ".bias");
            }
            String key = TorchLayout.key(net, l);
            float[] b = weights.get(key + ".bias").data();
            float in = calibration.scale(l.name(), signedInput);
            TensorProto.Builder q = TensorProto.newBuilder().setName(key + ".bias_quantized").addDims(b.length)
                    .setDataType(TensorProto.DataType.INT32.getNumber());
            TensorProto.Builder sc = TensorProto.newBuilder().setName(key + ".bias_scale").addDims(b.length)
                    .setDataType(TensorProto.DataType.FLOAT.getNumber());
            TensorProto.Builder z = TensorProto.newBuilder().setName(key + ".bias_zero_point").addDims(b.length)
                    .setDataType(TensorProto.DataType.INT32.getNumber());
            for (int c = 0; c < b.length; c++) {
                float scale = in * ws[c];
                q.addInt32Data((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE,
                        Math.rint((double) b[c] * scale))));
                sc.addFloatData(1f / scale);
                z.addInt32Data(0);
            }
            g.addInitializer(q);
            g.addInitializer(sc);
            g.addInitializer(z);
            return node("DequantizeLinear", l.name() + "_bias_dequantize", List.of(key + ".bias_quantized", key
                    + ".bias_scale", key + ".bias_zero_point"), integer("axis", 0));
        }

        /** Adds the initializer for {@code layer + suffix} and returns its name. */
        private String param(ParamLayer layer, String suffix) {
            String key = TorchLayout.key(net, layer) + suffix;
            long[] shape = suffix.equals(".bias") ? new long[]{layer.outChannels()} : layer.weightShape();
            TensorProto.Builder t = TensorProto.newBuilder().setName(key)
                    .setDataType(TensorProto.DataType.FLOAT.getNumber());
            for (long d : shape) {
                t.addDims(d);
            }
            if (weights != null) {
                float[] data = weights.get(key).data();
                ByteBuffer bytes = ByteBuffer.allocate(data.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(data);
                t.setRawData(UnsafeByteOperations.unsafeWrap(bytes.array()));
            }
            g.addInitializer(t);
            return key;
        }
    }

    private static ValueInfoProto value(String name, String batch, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape)))
                .build();
    }

    static AttributeProto ints(String name, int... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.INTS);
        for (int v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto real(String name, double value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT)
                .setF((float) value).build();
    }

    static AttributeProto string(String name, String value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING)
                .setS(org.nd4j.shade.protobuf.ByteString.copyFromUtf8(value)).build();
    }
}
