package org.alexnet4j.weights;

import onnx.Onnx.AttributeProto;
import onnx.Onnx.GraphProto;
import onnx.Onnx.ModelProto;
import onnx.Onnx.NodeProto;
import onnx.Onnx.TensorProto;
import onnx.Onnx.TensorShapeProto;
import onnx.Onnx.ValueInfoProto;
import org.alexnet4j.model.AlexNet;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An ONNX graph read as AlexNet's stages (Conv, ReLU, LRN, pooling, padding, flatten, fully connected) with their
 * attributes made explicit, what was wrong on the way, and the declared input size. {@link OnnxImport} reads a file's
 * this way and compares it with the structure of the graph {@link OnnxExport} writes for the chosen net.
 */
final class OnnxStructure {
    final List<OnnxStage> stages = new ArrayList<>();
    final List<String> problems = new ArrayList<>();
    int declaredSize;
    /** Record weight shapes only (the expected side: an exported graph without weights). */
    private boolean shapesOnly;

    List<OnnxStage> weighted() {
        return stages.stream().filter(OnnxStage::weighted).toList();
    }

    int opset(ModelProto m) {
        return m.getOpsetImportList().stream().filter(o -> o.getDomain().isEmpty() || o.getDomain()
                .equals("ai.onnx")).mapToInt(o -> (int) o.getVersion()).findFirst().orElse(0);
    }

    /** A map's channels and spatial size, or a flat vector ({@code h == 0}). */
    private record Shape(long c, long h, long w) {
        long flat() {
            return h == 0 ? c : c * h * w;
        }
    }

    /** A part of a channel Split, and the LRN (attributes) applied to it so far. */
    private record Part(String parent, int index, int count, OnnxStage lrn) {
    }

    static OnnxStructure of(GraphProto g, int inputSize, String file, boolean shapesOnly) {
        OnnxStructure st = new OnnxStructure();
        st.shapesOnly = shapesOnly;
        st.read(g, inputSize, file);
        return st;
    }

    private void read(GraphProto g, int inputSize, String file) {
        Map<String, TensorProto> init = new HashMap<>();
        for (TensorProto t : g.getInitializerList()) {
            init.put(t.getName(), t);
        }
        Map<String, TensorProto> constants = new HashMap<>();
        Set<String> used = new HashSet<>();
        ValueInfoProto input = g.getInputList().stream().filter(v -> !init.containsKey(v.getName())).findFirst()
                .orElse(null);
        if (input == null) {
            problems.add("the graph has no data input");
            return;
        }
        checkInput(input);
        Map<String, Shape> shapes = new HashMap<>();
        Map<String, Part> parts = new HashMap<>();
        shapes.put(input.getName(), new Shape(3, inputSize, inputSize));
        OnnxStage pendingPad = null; // a zero Pad waiting to be folded into the next Conv
        OnnxStage pendingFc = null;  // a MatMul waiting for its Add
        String softmaxOf = null;
        for (NodeProto n : g.getNodeList()) {
            String op = n.getOpType();
            String name = n.getName().isEmpty() ? (n.getOutputCount() > 0 ? n.getOutput(0) : op) : n.getName();
            if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
                problems.add("node '" + name + "' is " + op + " of domain '" + n.getDomain()
                        + "', not a standard ONNX operator");
                continue;
            }
            if (op.equals("Constant")) {
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.getName().equals("value")) {
                        constants.put(n.getOutput(0), a.getT());
                    }
                }
                continue;
            }
            String in = n.getInputCount() > 0 ? n.getInput(0) : "";
            if (softmaxOf != null) {
                problems.add("node '" + name + "' (" + op + ") follows the Softmax; the softmax must be last");
            }
            Part part = parts.get(in);
            if (part != null) {
                readOnPart(n, op, name, part, parts, shapes);
                continue;
            }
            Shape x = shapes.get(in);
            if (x == null) {
                problems.add("node '" + name + "' (" + op + ") reads '" + in + "', which no earlier node or "
                        + "input produces (a branch alexnet4j does not know)");
                continue;
            }
            String out = n.getOutputCount() > 0 ? n.getOutput(0) : "";
            if (pendingPad != null && !op.equals("Conv")) {
                stages.add(pendingPad);
                pendingPad = null;
            }
            switch (op) {
                case "Conv" -> {
                    OnnxStage s = new OnnxStage("conv", name);
                    int[] k = ints(n, "kernel_shape", null);
                    TensorProto w = tensor(n, 1, init, constants, used);
                    long[] wShape = w != null ? dims(w) : null;
                    if (k == null && wShape != null && wShape.length == 4) {
                        k = new int[]{(int) wShape[2], (int) wShape[3]};
                    }
                    if (k == null || k.length != 2) {
                        problems.add("Conv node '" + name + "' has no 2-d kernel");
                        continue;
                    }
                    int[] strides = ints(n, "strides", new int[]{1, 1});
                    int[] pads = pads(n, x, k, strides, new int[]{1, 1}, false);
                    if (pendingPad != null) {
                        int[] extra = parseInts(pendingPad.attrs.get("pads"));
                        for (int i = 0; i < 4; i++) {
                            pads[i] += extra[i];
                        }
                        pendingPad = null;
                    }
                    s.attrs.put("kernel", k[0] + "x" + k[1]);
                    s.attrs.put("strides", strides[0] + "," + strides[1]);
                    s.attrs.put("pads", join(pads));
                    s.attrs.put("dilations", join(ints(n, "dilations", new int[]{1, 1})));
                    long group = integer(n, "group", 1);
                    s.attrs.put("group", String.valueOf(group));
                    weights(s, n, w, tensor(n, 2, init, constants, used), false, file);
                    long outC = wShape != null && wShape.length > 0 ? wShape[0] : 0;
                    stages.add(s);
                    shapes.put(out, new Shape(outC, (x.h + pads[0] + pads[2] - k[0]) / strides[0] + 1,
                            (x.w + pads[1] + pads[3] - k[1]) / strides[1] + 1));
                }
                case "Relu" -> {
                    stages.add(new OnnxStage("relu", name));
                    shapes.put(out, x);
                }
                case "LRN" -> {
                    stages.add(lrn(n, name, 1));
                    shapes.put(out, x);
                }
                case "MaxPool", "AveragePool" -> {
                    int[] k = ints(n, "kernel_shape", null);
                    if (k == null || k.length != 2) {
                        problems.add(op + " node '" + name + "' has no 2-d kernel");
                        continue;
                    }
                    int[] strides = ints(n, "strides", new int[]{1, 1});
                    boolean ceil = integer(n, "ceil_mode", 0) == 1;
                    int[] dil = ints(n, "dilations", new int[]{1, 1});
                    int[] pads = pads(n, x, k, strides, dil, ceil);
                    long h = pooled(x.h, k[0], strides[0], pads[0], pads[2], ceil);
                    long w = pooled(x.w, k[1], strides[1], pads[1], pads[3], ceil);
                    boolean avg = op.equals("AveragePool");
                    if (avg && k[0] == 1 && k[1] == 1 && strides[0] == 1 && strides[1] == 1 && sum(pads) == 0) {
                        shapes.put(out, x); // an identity (torchvision's adaptive 6x6 pooling of a 6x6 map)
                        continue;
                    }
                    OnnxStage s = new OnnxStage(avg ? "avgpool" : "maxpool", name);
                    s.attrs.put("kernel", k[0] + "x" + k[1]);
                    s.attrs.put("strides", strides[0] + "," + strides[1]);
                    s.attrs.put("dilations", join(dil));
                    s.attrs.put("leading pads", pads[0] + "," + pads[1]);
                    s.attrs.put("output", h + "x" + w);
                    if (avg && sum(pads) > 0) {
                        s.attrs.put("count_include_pad", String.valueOf(integer(n, "count_include_pad", 0)));
                    }
                    stages.add(s);
                    shapes.put(out, new Shape(x.c, h, w));
                }
                case "Pad" -> {
                    OnnxStage s = padStage(n, name, init, constants, used);
                    if (s == null) {
                        continue;
                    }
                    int[] p = parseInts(s.attrs.get("pads"));
                    shapes.put(out, new Shape(x.c, x.h + p[0] + p[2], x.w + p[1] + p[3]));
                    if (s.attrs.get("mode").equals("constant") && s.attrs.get("value").equals("0.0")) {
                        pendingPad = s;
                    } else {
                        stages.add(s);
                    }
                }
                case "Flatten" -> {
                    long axis = integer(n, "axis", 1);
                    if (axis != 1) {
                        problems.add("Flatten node '" + name + "' flattens from axis " + axis + ", expected 1");
                    }
                    stages.add(new OnnxStage("flatten", name));
                    shapes.put(out, new Shape(x.flat(), 0, 0));
                }
                case "Reshape" -> {
                    TensorProto shape = n.getInputCount() > 1 ? tensor(n, 1, init, constants, used) : null;
                    long[] target = shape != null ? longs(shape) : ints64(n, "shape");
                    boolean flatten = target != null && target.length == 2 && (target[1] == -1
                            || target[1] == x.flat());
                    if (!flatten) {
                        problems.add("Reshape node '" + name + "' reshapes to " + Arrays.toString(target)
                                + ", not a flatten to [N, " + x.flat() + "]");
                    }
                    stages.add(new OnnxStage("flatten", name));
                    shapes.put(out, new Shape(x.flat(), 0, 0));
                }
                case "Gemm" -> {
                    OnnxStage s = new OnnxStage("fc", name);
                    if (integer(n, "transA", 0) != 0) {
                        problems.add("Gemm node '" + name + "' transposes its input (transA 1)");
                    }
                    double alpha = real(n, "alpha", 1), beta = real(n, "beta", 1);
                    if (alpha != 1 || beta != 1 && n.getInputCount() > 2) {
                        problems.add("Gemm node '" + name + "' scales by alpha " + alpha + ", beta " + beta
                                + " (expected 1, 1)");
                    }
                    boolean transB = integer(n, "transB", 0) == 1;
                    TensorProto w = tensor(n, 1, init, constants, used);
                    weights(s, n, w, n.getInputCount() > 2 ? tensor(n, 2, init, constants, used) : null,
                            !transB, file);
                    stages.add(s);
                    shapes.put(out, new Shape(outputs(s), 0, 0));
                }
                case "MatMul" -> {
                    OnnxStage s = new OnnxStage("fc", name);
                    weights(s, n, tensor(n, 1, init, constants, used), null, true, file);
                    stages.add(s);
                    pendingFc = s;
                    shapes.put(out, new Shape(outputs(s), 0, 0));
                    continue;
                }
                case "Add" -> {
                    TensorProto b = tensor(n, 1, init, constants, used);
                    if (pendingFc == null || b == null) {
                        problems.add("Add node '" + name + "' is not the bias of a MatMul");
                        continue;
                    }
                    pendingFc.bias = floats(b, file);
                    pendingFc.biasName = b.getName();
                    shapes.put(out, x);
                }
                case "Dropout", "Identity" -> shapes.put(out, x);
                case "Softmax" -> {
                    softmaxOf = in;
                    shapes.put(out, x);
                }
                case "Split" -> readSplit(n, name, x, parts, init, constants, used);
                default -> problems.add("node '" + name + "' is " + op + ", which an AlexNet does not have");
            }
            pendingFc = null;
        }
        if (pendingPad != null) {
            stages.add(pendingPad);
        }
        for (TensorProto t : g.getInitializerList()) {
            if (!used.contains(t.getName()) && t.getDataType() == TensorProto.DataType.FLOAT.getNumber()) {
                problems.add("unused initializer '" + t.getName() + "' " + Arrays.toString(dims(t))
                        + " (no layer of the net reads it)");
            }
        }
    }

    private static long outputs(OnnxStage s) {
        return s.weight != null ? s.weight.shape()[0] : s.weightShape != null ? s.weightShape[0] : 0;
    }

    private void checkInput(ValueInfoProto input) {
        if (!input.hasType() || !input.getType().hasTensorType()) {
            return;
        }
        var tt = input.getType().getTensorType();
        if (tt.getElemType() != 0 && tt.getElemType() != TensorProto.DataType.FLOAT.getNumber()) {
            problems.add("input '" + input.getName() + "' has element type " + tt.getElemType()
                    + ", expected float32 (1)");
        }
        List<TensorShapeProto.Dimension> d = tt.getShape().getDimList();
        if (d.isEmpty()) {
            return;
        }
        if (d.size() != 4) {
            problems.add("input '" + input.getName() + "' has " + d.size() + " dimensions, expected NCHW");
            return;
        }
        if (d.get(1).hasDimValue() && d.get(1).getDimValue() != 3) {
            problems.add("input '" + input.getName() + "' has " + d.get(1).getDimValue()
                    + " channels, expected 3 (NCHW)");
        }
        if (d.get(2).hasDimValue() && d.get(3).hasDimValue() && d.get(2).getDimValue() == d.get(3).getDimValue()) {
            declaredSize = (int) d.get(2).getDimValue();
        }
    }

    private void readSplit(NodeProto n, String name, Shape x, Map<String, Part> parts,
                           Map<String, TensorProto> init, Map<String, TensorProto> constants, Set<String> used) {
        long axis = integer(n, "axis", 0);
        int count = n.getOutputCount();
        long[] sizes = n.getInputCount() > 1 && !n.getInput(1).isEmpty()
                ? longs(tensor(n, 1, init, constants, used)) : ints64(n, "split");
        boolean equal = sizes == null || Arrays.stream(sizes).allMatch(v -> v * count == x.c);
        if (axis != 1 || !equal || count < 2) {
            problems.add("Split node '" + name + "' is not a split of the channels into equal parts");
            return;
        }
        for (int i = 0; i < count; i++) {
            parts.put(n.getOutput(i), new Part(n.getInput(0), i, count, null));
        }
    }

    /** A node on a Split's part: LRN per part, then the Concat that joins them (the paper's towers). */
    private void readOnPart(NodeProto n, String op, String name, Part part, Map<String, Part> parts,
                            Map<String, Shape> shapes) {
        if (op.equals("LRN") && part.lrn == null) {
            parts.put(n.getOutput(0), new Part(part.parent, part.index, part.count, lrn(n, name, part.count)));
            return;
        }
        if (op.equals("Concat") && integer(n, "axis", 0) == 1 && n.getInputCount() == part.count) {
            OnnxStage first = null;
            boolean ok = true;
            for (int i = 0; i < n.getInputCount(); i++) {
                Part p = parts.get(n.getInput(i));
                ok &= p != null && p.index == i && p.parent.equals(part.parent) && p.lrn != null
                        && (first == null || p.lrn.attrs.equals(first.attrs));
                if (p != null && first == null) {
                    first = p.lrn;
                }
            }
            if (ok) {
                stages.add(first);
                shapes.put(n.getOutput(0), shapes.get(part.parent));
                return;
            }
        }
        problems.add("node '" + name + "' (" + op + ") works on a channel Split in a way alexnet4j does not know "
                + "(it knows Split -> LRN per part -> Concat, the paper's per-tower LRN)");
    }

    private OnnxStage lrn(NodeProto n, String name, int groups) {
        OnnxStage s = new OnnxStage("lrn", name);
        long size = integer(n, "size", 0);
        s.attrs.put("size", String.valueOf(size));
        // ONNX (and Caffe) divide alpha by size: compare the per-term alpha, the function itself
        s.attrs.put("alpha/size", fmt(real(n, "alpha", 1e-4) / Math.max(1, size)));
        s.attrs.put("beta", fmt(real(n, "beta", 0.75)));
        s.attrs.put("bias (k)", fmt(real(n, "bias", 1)));
        s.attrs.put("channel groups", String.valueOf(groups));
        return s;
    }

    private OnnxStage padStage(NodeProto n, String name, Map<String, TensorProto> init,
                           Map<String, TensorProto> constants, Set<String> used) {
        long[] p = n.getInputCount() > 1 ? longs(tensor(n, 1, init, constants, used)) : ints64(n, "pads");
        if (p == null || p.length != 8 || p[0] != 0 || p[1] != 0 || p[4] != 0 || p[5] != 0) {
            problems.add("Pad node '" + name + "' pads " + Arrays.toString(p) + ", not only height and width");
            return null;
        }
        OnnxStage s = new OnnxStage("pad", name);
        s.attrs.put("pads", p[2] + "," + p[3] + "," + p[6] + "," + p[7]);
        s.attrs.put("mode", string(n, "mode", "constant"));
        float value = 0;
        if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
            TensorProto v = tensor(n, 2, init, constants, used);
            value = v != null && v.getFloatDataCount() > 0 ? v.getFloatData(0) : v != null && !v.getRawData()
                    .isEmpty() ? v.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).getFloat()
                    : 0;
        } else {
            value = (float) real(n, "value", 0);
        }
        s.attrs.put("value", String.valueOf(value));
        return s;
    }

    /** Explicit {@code [top, left, bottom, right]} padding of a Conv or pooling node, auto_pad resolved. */
    private int[] pads(NodeProto n, Shape x, int[] k, int[] s, int[] d, boolean ceil) {
        String auto = string(n, "auto_pad", "NOTSET");
        int[] pads = ints(n, "pads", new int[4]);
        if (pads.length != 4) {
            problems.add("node '" + n.getName() + "' has pads " + Arrays.toString(pads) + ", expected 4 values");
            return new int[4];
        }
        if (auto.equals("VALID")) {
            return new int[4];
        }
        if (auto.equals("SAME_UPPER") || auto.equals("SAME_LOWER")) {
            long[] size = {x.h, x.w};
            int[] out = new int[4];
            for (int i = 0; i < 2; i++) {
                long o = (size[i] + s[i] - 1) / s[i];
                int total = (int) Math.max(0, (o - 1) * s[i] + (long) (k[i] - 1) * d[i] + 1 - size[i]);
                int small = total / 2;
                out[i] = auto.equals("SAME_UPPER") ? small : total - small;
                out[i + 2] = total - out[i];
            }
            return out;
        }
        return pads;
    }

    private static long pooled(long in, int k, int s, int begin, int end, boolean ceil) {
        long span = in + begin + end - k;
        long out = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (out - 1) * s >= in + begin) {
            out--; // ONNX Runtime and PyTorch drop a last window that starts in the padding
        }
        return out;
    }

    /** Records a weighted stage's tensors in PyTorch layout ({@code transpose}: the file has {@code [in, out]}). */
    private void weights(OnnxStage s, NodeProto n, TensorProto w, TensorProto b, boolean transpose, String file) {
        if (w == null) {
            problems.add(n.getOpType() + " node '" + s.node + "' reads its weights from '"
                    + (n.getInputCount() > 1 ? n.getInput(1) : "") + "', which is not an initializer (missing)");
            return;
        }
        s.weightName = w.getName();
        if (shapesOnly) {
            long[] d = dims(w);
            s.weightShape = transpose && d.length == 2 ? new long[]{d[1], d[0]} : d;
            return;
        }
        NpyArray a = floats(w, file);
        if (a == null) {
            return;
        }
        if (transpose && a.shape().length == 2) {
            a = transpose(a);
            s.transposed = true;
        }
        s.weight = a;
        if (b != null) {
            s.biasName = b.getName();
            s.bias = floats(b, file);
        }
    }

    /** A float32 copy of an initializer (raw little-endian data, float_data or double_data). */
    private NpyArray floats(TensorProto t, String file) {
        long[] shape = dims(t);
        int count = (int) NpyArray.count(shape);
        float[] data = new float[count];
        if (t.getDataLocationValue() == TensorProto.DataLocation.EXTERNAL_VALUE || t.getExternalDataCount() > 0) {
            problems.add("initializer '" + t.getName() + "' is stored in an external file, which alexnet4j does "
                    + "not read (save the model with its weights inside: onnx.save(model, path, "
                    + "save_as_external_data=False))");
            return null;
        }
        int type = t.getDataType();
        if (type == TensorProto.DataType.FLOAT.getNumber()) {
            if (!t.getRawData().isEmpty()) {
                if (t.getRawData().size() != 4L * count) {
                    problems.add("initializer '" + t.getName() + "' has " + t.getRawData().size() + " bytes for "
                            + Arrays.toString(shape) + " (" + 4L * count + " expected): " + file
                            + " is damaged");
                    return null;
                }
                t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
            } else if (t.getFloatDataCount() == count) {
                for (int i = 0; i < count; i++) {
                    data[i] = t.getFloatData(i);
                }
            } else {
                problems.add("initializer '" + t.getName() + "' holds " + t.getFloatDataCount() + " values for "
                        + Arrays.toString(shape));
                return null;
            }
        } else if (type == TensorProto.DataType.DOUBLE.getNumber()) {
            var buf = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer();
            for (int i = 0; i < count; i++) {
                data[i] = (float) (t.getRawData().isEmpty() ? t.getDoubleData(i) : buf.get(i));
            }
        } else {
            problems.add("initializer '" + t.getName() + "' has data type " + TensorProto.DataType.forNumber(type)
                    + "; alexnet4j reads float32 (or float64) weights");
            return null;
        }
        return NpyArray.float32(shape, data);
    }

    private static NpyArray transpose(NpyArray a) {
        int rows = (int) a.shape()[0], cols = (int) a.shape()[1];
        float[] src = a.data(), dst = new float[src.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                dst[c * rows + r] = src[r * cols + c];
            }
        }
        return NpyArray.float32(new long[]{cols, rows}, dst);
    }

    private static TensorProto tensor(NodeProto n, int i, Map<String, TensorProto> init,
                                      Map<String, TensorProto> constants, Set<String> used) {
        if (n.getInputCount() <= i || n.getInput(i).isEmpty()) {
            return null;
        }
        String name = n.getInput(i);
        TensorProto t = init.containsKey(name) ? init.get(name) : constants.get(name);
        if (t != null) {
            used.add(name);
        }
        return t;
    }

    private static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    private static long[] longs(TensorProto t) {
        if (t == null) {
            return null;
        }
        if (t.getInt64DataCount() > 0) {
            return t.getInt64DataList().stream().mapToLong(Long::longValue).toArray();
        }
        if (t.getInt32DataCount() > 0) {
            return t.getInt32DataList().stream().mapToLong(Integer::longValue).toArray();
        }
        var buf = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        boolean int32 = t.getDataType() == TensorProto.DataType.INT32.getNumber();
        long[] v = new long[buf.remaining() / (int32 ? 4 : 8)];
        for (int i = 0; i < v.length; i++) {
            v[i] = int32 ? buf.getInt() : buf.getLong();
        }
        return v;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Attributes
    // ------------------------------------------------------------------------------------------------------------

    static AttributeProto attr(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    static int[] ints(NodeProto n, String name, int[] fallback) {
        AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getIntsList().stream().mapToInt(Long::intValue).toArray();
    }

    static long[] ints64(NodeProto n, String name) {
        AttributeProto a = attr(n, name);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    static long integer(NodeProto n, String name, long fallback) {
        AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getI();
    }

    static double real(NodeProto n, String name, double fallback) {
        AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getF();
    }

    static String string(NodeProto n, String name, String fallback) {
        AttributeProto a = attr(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    static String join(int[] v) {
        return Arrays.stream(v).mapToObj(String::valueOf).collect(Collectors.joining(","));
    }

    static int[] parseInts(String s) {
        return Arrays.stream(s.split(",")).mapToInt(Integer::parseInt).toArray();
    }

    static int sum(int[] v) {
        return Arrays.stream(v).sum();
    }

    /** Float attributes as ONNX stores them (float32), printed with 6 significant digits. */
    static String fmt(double v) {
        return String.format(Locale.ROOT, "%.6g", (double) (float) v);
    }
}
