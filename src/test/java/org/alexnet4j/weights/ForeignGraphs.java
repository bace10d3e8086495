package org.alexnet4j.weights;

import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.OperatorSetIdProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.TypeProto;
import onnx.Onnx.ValueInfoProto;
import org.nd4j.shade.protobuf.ByteString;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Map;

/**
 * ONNX graphs written the way other tools write AlexNet, independently of {@link OnnxExport}: the ONNX model zoo's
 * bvlcalexnet (Caffe -> Caffe2 -> ONNX: {@code data_0}, {@code conv1_w_0}, LRN nodes with Caffe's constants, Caffe2's
 * explicit end padding of the pooling, Dropout, a Reshape or Flatten before fc6, {@code prob_1}) and torchvision's
 * alexnet as {@code torch.onnx.export} writes it ({@code features.0.weight}, an identity AveragePool, Flatten, Gemm).
 */
final class ForeignGraphs {
    private ForeignGraphs() {
    }

    /**
     * bvlcalexnet as the ONNX model zoo ships it, from Caffe-layout weights ({@code conv1.weight} ... as
     * {@link TorchLayout} names them for the caffe net).
     *
     * @param opset        6 (Dropout is_test, Gemm broadcast), 9 or 12
     * @param convertedAt  the input size Caffe2's exporter computed the pooling padding for:
     *                     {@code pad_end = out * stride - pad_begin - 1 + kernel - in} with Caffe's rounded-up out
     * @param declaredSize the input size the graph declares
     * @param flatten      Flatten before fc6 instead of Reshape
     */
    static ModelProto bvlc(Map<String, NpyArray> w, int opset, int convertedAt, int declaredSize, boolean flatten) {
        G g = new G(opset);
        g.input("data_0", 1, 3, declaredSize, declaredSize);
        String x = "data_0";
        int side = (convertedAt - 11) / 4 + 1;
        String[][] convs = {{"conv1", "4", "0", "1"}, {"conv2", "1", "2", "2"}, {"conv3", "1", "1", "1"},
                {"conv4", "1", "1", "2"}, {"conv5", "1", "1", "2"}};
        for (String[] c : convs) {
            String n = c[0];
            int k = (int) w.get(n + ".weight").shape()[2];
            int stride = Integer.parseInt(c[1]), pad = Integer.parseInt(c[2]);
            g.weight(n + "_w_0", w.get(n + ".weight"));
            g.weight(n + "_b_0", w.get(n + ".bias"));
            g.node("Conv", List.of(x, n + "_w_0", n + "_b_0"), n + "_1", ints("kernel_shape", k, k),
                    ints("strides", stride, stride), ints("pads", pad, pad, pad, pad),
                    integer("group", Integer.parseInt(c[3])), ints("dilations", 1, 1));
            g.node("Relu", List.of(n + "_1"), n + "_2");
            x = n + "_2";
            if (stride == 4) {
                side = (convertedAt - k) / 4 + 1;
            }
            if (n.equals("conv1") || n.equals("conv2")) {
                String norm = "norm" + n.charAt(4) + "_1";
                g.node("LRN", List.of(x), norm, real("alpha", 1e-4), real("beta", 0.75), real("bias", 1),
                        integer("size", 5));
                x = norm;
            }
            if (n.equals("conv1") || n.equals("conv2") || n.equals("conv5")) {
                int out = (int) Math.ceil((side - 3) / 2.0) + 1; // Caffe's rounding
                int end = out * 2 - 0 - 1 + 3 - side;             // Caffe2's CAFFE_LEGACY_POOLING conversion
                String pool = "pool" + n.charAt(4) + "_1";
                g.node("MaxPool", List.of(x), pool, ints("kernel_shape", 3, 3), ints("strides", 2, 2),
                        ints("pads", 0, 0, end, end));
                x = pool;
                side = out;
            }
        }
        if (flatten) {
            g.node("Flatten", List.of(x), "OC2_DUMMY_0", integer("axis", 1));
        } else {
            TensorProto shape = TensorProto.newBuilder().setName("OC2_DUMMY_1").setDataType(
                    TensorProto.DataType.INT64.getNumber()).addDims(2).addInt64Data(-1).addInt64Data(
                    w.get("fc6.weight").shape()[1]).build();
            g.graph.addInitializer(shape);
            g.node("Reshape", List.of(x, "OC2_DUMMY_1"), "OC2_DUMMY_0");
        }
        x = "OC2_DUMMY_0";
        for (String n : new String[]{"fc6", "fc7", "fc8"}) {
            g.weight(n + "_w_0", w.get(n + ".weight"));
            g.weight(n + "_b_0", w.get(n + ".bias"));
            AttributeProto[] attrs = opset < 7
                    ? new AttributeProto[]{integer("transB", 1), integer("broadcast", 1)}
                    : new AttributeProto[]{integer("transB", 1)};
            g.node("Gemm", List.of(x, n + "_w_0", n + "_b_0"), n + "_1", attrs);
            x = n + "_1";
            if (!n.equals("fc8")) {
                g.node("Relu", List.of(x), n + "_2");
                AttributeProto[] drop = opset < 7
                        ? new AttributeProto[]{real("ratio", 0.5), integer("is_test", 1)}
                        : opset < 12 ? new AttributeProto[]{real("ratio", 0.5)} : new AttributeProto[0];
                g.node("Dropout", List.of(n + "_2"), n + "_3", drop);
                x = n + "_3";
            }
        }
        g.node("Softmax", List.of(x), "prob_1");
        g.output("prob_1", 1, w.get("fc8.bias").shape()[0]);
        return g.model();
    }

    /** torchvision's alexnet as torch.onnx.export (opset 13/14) writes it, from torchvision-named weights. */
    static ModelProto torchvision(Map<String, NpyArray> w, int opset) {
        G g = new G(opset);
        g.input("input.1", -1, 3, 224, 224);
        String x = "input.1";
        int[][] convs = {{0, 4, 2, 1}, {3, 1, 2, 1}, {6, 1, 1, 0}, {8, 1, 1, 0}, {10, 1, 1, 1}};
        int id = 0;
        for (int[] c : convs) {
            String n = "features." + c[0];
            int k = (int) w.get(n + ".weight").shape()[2];
            g.weight(n + ".weight", w.get(n + ".weight"));
            g.weight(n + ".bias", w.get(n + ".bias"));
            g.node("Conv", List.of(x, n + ".weight", n + ".bias"), "/features/features." + c[0] + "/Conv_output_0",
                    ints("dilations", 1, 1), integer("group", 1), ints("kernel_shape", k, k),
                    ints("pads", c[2], c[2], c[2], c[2]), ints("strides", c[1], c[1]));
            x = "/features/features." + c[0] + "/Conv_output_0";
            g.node("Relu", List.of(x), "onnx::Relu_" + (id++));
            x = "onnx::Relu_" + (id - 1);
            if (c[3] == 1) {
                g.node("MaxPool", List.of(x), "onnx::MaxPool_" + id, integer("ceil_mode", 0),
                        ints("kernel_shape", 3, 3), ints("pads", 0, 0, 0, 0), ints("strides", 2, 2));
                x = "onnx::MaxPool_" + (id++);
            }
        }
        // AdaptiveAvgPool2d((6, 6)) of a 6x6 map
        g.node("AveragePool", List.of(x), "/avgpool/AveragePool_output_0", ints("kernel_shape", 1, 1),
                ints("strides", 1, 1));
        g.node("Flatten", List.of("/avgpool/AveragePool_output_0"), "/Flatten_output_0", integer("axis", 1));
        x = "/Flatten_output_0";
        for (int i : new int[]{1, 4, 6}) {
            String n = "classifier." + i;
            g.weight(n + ".weight", w.get(n + ".weight"));
            g.weight(n + ".bias", w.get(n + ".bias"));
            g.node("Gemm", List.of(x, n + ".weight", n + ".bias"), "/classifier/" + n + "/Gemm_output_0",
                    real("alpha", 1), real("beta", 1), integer("transB", 1));
            x = "/classifier/" + n + "/Gemm_output_0";
            if (i != 6) {
                g.node("Relu", List.of(x), "/classifier/" + n + "/Relu_output_0");
                x = "/classifier/" + n + "/Relu_output_0";
            }
        }
        g.rename(x, "output");
        g.output("output", -1, w.get("classifier.6.bias").shape()[0]);
        return g.model();
    }

    /** A small graph-writing helper. */
    static final class G {
        final GraphProto.Builder graph = GraphProto.newBuilder().setName("g");
        final int opset;

        G(int opset) {
            this.opset = opset;
        }

        void input(String name, long... dims) {
            graph.addInput(value(name, dims));
        }

        void output(String name, long... dims) {
            graph.addOutput(value(name, dims));
        }

        void weight(String name, NpyArray a) {
            TensorProto.Builder t = TensorProto.newBuilder().setName(name)
                    .setDataType(TensorProto.DataType.FLOAT.getNumber());
            for (long d : a.shape()) {
                t.addDims(d);
            }
            ByteBuffer b = ByteBuffer.allocate(a.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(a.data());
            graph.addInitializer(t.setRawData(ByteString.copyFrom(b.array())));
        }

        void node(String op, List<String> inputs, String output, AttributeProto... attrs) {
            NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs)
                    .addOutput(output);
            for (AttributeProto a : attrs) {
                n.addAttribute(a);
            }
            graph.addNode(n);
        }

        void rename(String from, String to) {
            int last = graph.getNodeCount() - 1;
            NodeProto n = graph.getNode(last);
            if (!n.getOutput(0).equals(from)) {
                throw new IllegalStateException();
            }
            graph.setNode(last, n.toBuilder().setOutput(0, to));
        }

        ModelProto model() {
            return ModelProto.newBuilder().setIrVersion(opset <= 8 ? 3 : opset <= 9 ? 4 : 7)
                    .setProducerName("test").addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(opset))
                    .setGraph(graph).build();
        }

        private static ValueInfoProto value(String name, long... dims) {
            TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
            for (long d : dims) {
                s.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                        : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
            }
            return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                    TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
        }
    }

    static AttributeProto ints(String name, int... v) {
        return OnnxExport.ints(name, v);
    }

    static AttributeProto integer(String name, long v) {
        return OnnxExport.integer(name, v);
    }

    static AttributeProto real(String name, double v) {
        return OnnxExport.real(name, v);
    }
}
