package org.alexnet4j.weights;

import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.model.Variant;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Moves AlexNet weights between a DL4J graph and PyTorch's {@code state_dict} layout (as float32 NumPy arrays).
 *
 * <ul>
 *   <li>Names: {@code conv1.weight} ... {@code fc8.bias} for the paper net; torchvision's own
 *       ({@code features.0.weight} ... {@code classifier.6.bias}) for the torchvision net.</li>
 *   <li>Convolutions: {@code [out, in/groups, kH, kW]}. The paper's tower pairs are one PyTorch layer: tower a holds
 *       the first half of the output channels; for {@code groups=2} layers it reads the first half of the input
 *       channels (PyTorch's grouped layout), for conv1 and conv3 both towers read everything.</li>
 *   <li>Fully connected: {@code [out, in]} (DL4J stores {@code [in, out]}). fc6's columns follow PyTorch's flatten of
 *       an NCHW map, index {@code c*H*W + h*W + w}, whatever data format the graph runs in.</li>
 * </ul>
 * Loading checks every array (present, float32, exact shape, nothing unexpected) before it assigns any, so a bad file
 * changes nothing.
 */
public final class TorchLayout {
    private static final Map<String, String> TORCHVISION_KEYS = Map.of(
            "conv1", "features.0", "conv2", "features.3", "conv3", "features.6", "conv4", "features.8",
            "conv5", "features.10", "fc6", "classifier.1", "fc7", "classifier.4", "fc8", "classifier.6");

    private TorchLayout() {
    }

    /** The PyTorch module name of a logical layer ({@code conv2} or {@code features.3}). */
    public static String key(AlexNet net, ParamLayer layer) {
        return net.variant() == Variant.TORCHVISION ? TORCHVISION_KEYS.get(layer.name()) : layer.name();
    }

    /** Expected array names and shapes, in state_dict order. */
    public static Map<String, long[]> expectedShapes(AlexNet net) {
        Map<String, long[]> m = new LinkedHashMap<>();
        for (ParamLayer l : net.paramLayers()) {
            m.put(key(net, l) + ".weight", l.weightShape());
            m.put(key(net, l) + ".bias", new long[]{l.outChannels()});
        }
        return m;
    }

    /** The graph's parameters as float32 arrays in PyTorch layout. */
    public static Map<String, NpyArray> export(ComputationGraph graph, AlexNet net) {
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (ParamLayer l : net.paramLayers()) {
            String k = key(net, l);
            INDArray w;
            if (l.convolution()) {
                List<INDArray> parts = new ArrayList<>();
                for (String p : l.parts()) {
                    parts.add(param(graph, p, "W"));
                }
                w = parts.size() == 1 ? parts.get(0) : Nd4j.concat(0, parts.toArray(new INDArray[0]));
            } else {
                w = dl4jDenseToTorch(param(graph, l.parts().get(0), "W"), l, net.dataFormat());
            }
            List<INDArray> biases = new ArrayList<>();
            for (String p : l.parts()) {
                biases.add(param(graph, p, "b").reshape(-1));
            }
            INDArray b = biases.size() == 1 ? biases.get(0) : Nd4j.concat(0, biases.toArray(new INDArray[0]));
            out.put(k + ".weight", NpyArray.of(w));
            out.put(k + ".bias", NpyArray.of(b));
        }
        return out;
    }

    /**
     * Loads PyTorch-layout arrays into the graph. Every problem (missing, unexpected, wrong dtype, wrong shape) is
     * collected and reported at once, naming the arrays, before anything is assigned.
     *
     * @throws IllegalArgumentException if the arrays do not fit this net exactly
     */
    public static void load(ComputationGraph graph, AlexNet net, Map<String, NpyArray> arrays) {
        validate(net, arrays);
        assign(graph, net, arrays);
    }

    /**
     * Checks that {@code arrays} fit {@code net} exactly (names, float32, shapes, nothing extra), without a graph.
     *
     * @throws IllegalArgumentException naming every offending array
     */
    public static void validate(AlexNet net, Map<String, NpyArray> arrays) {
        Map<String, long[]> expected = expectedShapes(net);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            NpyArray a = arrays.get(e.getKey());
            if (a == null) {
                problems.add("missing array '" + e.getKey() + "' " + Arrays.toString(e.getValue()));
            } else if (!a.isFloat32()) {
                problems.add("array '" + e.getKey() + "' has dtype " + a.dtype() + ", expected float32 (<f4)");
            } else if (!Arrays.equals(a.shape(), e.getValue())) {
                problems.add("array '" + e.getKey() + "' has shape " + Arrays.toString(a.shape()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        for (String name : arrays.keySet()) {
            if (!expected.containsKey(name)) {
                problems.add("unexpected array '" + name + "' (not a parameter of the " + net.variant().id()
                        + " net)");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Weights do not fit the " + net.variant().id() + " net "
                    + net.settings() + "; nothing was loaded:\n  " + String.join("\n  ", problems));
        }
    }

    /**
     * Loads only the named logical layers ({@code conv1} ... {@code fc8}) from PyTorch-layout arrays, which must hold
     * those layers with the net's exact shapes (fine-tuning: the rest of the graph keeps its parameters).
     */
    public static void loadLayers(ComputationGraph graph, AlexNet net, Map<String, NpyArray> arrays,
                                  java.util.Set<String> layers) {
        assign(graph, net, arrays, layers);
    }

    private static void assign(ComputationGraph graph, AlexNet net, Map<String, NpyArray> arrays) {
        assign(graph, net, arrays, null);
    }

    private static void assign(ComputationGraph graph, AlexNet net, Map<String, NpyArray> arrays,
                               java.util.Set<String> only) {
        // Check the graph side too before assigning (a graph built from another configuration).
        List<Runnable> assignments = new ArrayList<>();
        for (ParamLayer l : net.paramLayers()) {
            if (only != null && !only.contains(l.name())) {
                continue;
            }
            String k = key(net, l);
            INDArray w = arrays.get(k + ".weight").toINDArray();
            INDArray b = arrays.get(k + ".bias").toINDArray();
            if (!l.convolution()) {
                w = torchDenseToDl4j(w, l, net.dataFormat());
            }
            long offset = 0;
            for (String p : l.parts()) {
                INDArray target = param(graph, p, "W");
                INDArray targetBias = param(graph, p, "b");
                long n = l.convolution() ? target.size(0) : target.size(1);
                INDArray slice = l.convolution()
                        ? w.get(NDArrayIndex.interval(offset, offset + n), NDArrayIndex.all(), NDArrayIndex.all(),
                        NDArrayIndex.all())
                        : w;
                INDArray biasSlice = b.get(NDArrayIndex.interval(offset, offset + n));
                if (!Arrays.equals(slice.shape(), target.shape()) || biasSlice.length() != targetBias.length()) {
                    throw new IllegalArgumentException("graph layer '" + p + "' has weights "
                            + Arrays.toString(target.shape()) + ", which do not match " + k
                            + "; was the graph built from the same model settings? Nothing was loaded.");
                }
                INDArray s = slice, bs = biasSlice;
                assignments.add(() -> {
                    target.assign(s.castTo(target.dataType()));
                    targetBias.assign(bs.reshape(targetBias.shape()).castTo(targetBias.dataType()));
                });
                offset += n;
            }
        }
        assignments.forEach(Runnable::run);
    }

    /** DL4J {@code [in, out]} to PyTorch {@code [out, in]}, reordering fc6's inputs to the NCHW flatten. */
    private static INDArray dl4jDenseToTorch(INDArray w, ParamLayer l, CNN2DFormat format) {
        int[] map = l.inputMap();
        if (map != null && format == CNN2DFormat.NHWC) {
            long c = map[0], hw = (long) map[1] * map[2], out = w.size(1);
            // DL4J flattens NHWC maps as (h, w, c): rows are [hw][c]; PyTorch wants [c][hw]
            w = w.reshape('c', hw, c, out).permute(1, 0, 2).dup('c').reshape('c', c * hw, out);
        }
        return w.transpose();
    }

    private static INDArray torchDenseToDl4j(INDArray w, ParamLayer l, CNN2DFormat format) {
        INDArray t = w.transpose().dup('c');
        int[] map = l.inputMap();
        if (map != null && format == CNN2DFormat.NHWC) {
            long c = map[0], hw = (long) map[1] * map[2], out = t.size(1);
            t = t.reshape('c', c, hw, out).permute(1, 0, 2).dup('c').reshape('c', hw * c, out);
        }
        return t;
    }

    private static INDArray param(ComputationGraph graph, String layer, String param) {
        Layer l = graph.getLayer(layer);
        if (l == null) {
            throw new IllegalArgumentException("the graph has no layer '" + layer + "'");
        }
        INDArray p = l.getParam(param);
        if (p == null) {
            throw new IllegalArgumentException("graph layer '" + layer + "' has no parameter '" + param + "'");
        }
        return p;
    }

}
