package org.alexnet4j.model;

import org.alexnet4j.model.layers.EdgePadding;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.alexnet4j.model.layers.ChannelLrn;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Per-layer description of a built AlexNet graph: name, operator, output shape (one example, in the graph's data
 * format), parameter count and multiply-adds. Everything is read from the DL4J configuration that
 * {@link AlexNet#configuration()} produces, so the summary shows what DL4J will build, not what we meant to build.
 */
public final class ModelSummary {

    /** One vertex of the graph, in topological order. */
    public record Row(String name, String type, String detail, long[] outputShape, long parameters, long macs) {
    }

    private final AlexNet net;
    private final List<Row> rows;

    private ModelSummary(AlexNet net, List<Row> rows) {
        this.net = net;
        this.rows = List.copyOf(rows);
    }

    /** Summarises {@code net} from its configuration (nothing is allocated). */
    public static ModelSummary of(AlexNet net) {
        ComputationGraphConfiguration conf = net.configuration();
        Map<String, InputType> types = conf.getLayerActivationTypes(net.inputType());
        List<Row> rows = new ArrayList<>();
        rows.add(new Row(AlexNet.INPUT, "Input", "", net.inputType().getShape(false), 0, 0));
        for (String name : topologicalOrder(conf)) {
            GraphVertex v = conf.getVertices().get(name);
            long[] shape = types.get(name).getShape(false);
            if (v instanceof LayerVertex) {
                NeuralNetConfiguration lc = ((LayerVertex) v).getLayerConf();
                Layer layer = lc.getLayer();
                long params = layer.initializer().numParams(lc);
                rows.add(new Row(name, typeOf(layer), detailOf(layer), shape, params, macsOf(layer, shape)));
            } else {
                rows.add(new Row(name, v instanceof MergeVertex ? "Concat" : v.getClass().getSimpleName(),
                        v instanceof MergeVertex ? "channels" : "", shape, v.numParams(true), 0));
            }
        }
        return new ModelSummary(net, rows);
    }

    public List<Row> rows() {
        return rows;
    }

    public AlexNet net() {
        return net;
    }

    public long totalParameters() {
        return rows.stream().mapToLong(Row::parameters).sum();
    }

    /** Multiply-adds of one forward pass of one example (convolutions and FC layers). */
    public long totalMacs() {
        return rows.stream().mapToLong(Row::macs).sum();
    }

    /** The summary as the JSON-ready map {@code alexnet4j summary --json} prints. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("model", net.variant().id());
        m.put("settings", net.settings());
        m.put("parameters", totalParameters());
        m.put("macs", totalMacs());
        List<Map<String, Object>> layers = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> l = new LinkedHashMap<>();
            l.put("name", r.name());
            l.put("type", r.type());
            l.put("detail", r.detail());
            l.put("outputShape", r.outputShape());
            l.put("parameters", r.parameters());
            l.put("macs", r.macs());
            layers.add(l);
        }
        m.put("layers", layers);
        return m;
    }

    /** A fixed-width table for people. */
    public String toTable() {
        StringBuilder sb = new StringBuilder();
        String fmt = "%-10s %-14s %-26s %-12s %13s %15s%n";
        sb.append(String.format(Locale.ROOT, fmt, "layer", "type", "detail", "output", "parameters", "mult-adds"));
        sb.append("-".repeat(95)).append('\n');
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, fmt, r.name(), r.type(), r.detail(), shape(r.outputShape()),
                    String.format(Locale.ROOT, "%,d", r.parameters()), String.format(Locale.ROOT, "%,d", r.macs())));
        }
        sb.append("-".repeat(95)).append('\n');
        sb.append(String.format(Locale.ROOT, "%-66s %13s %15s%n", "total (" + net.variant().id() + ", "
                        + net.dataFormat() + ")", String.format(Locale.ROOT, "%,d", totalParameters()),
                String.format(Locale.ROOT, "%,d", totalMacs())));
        return sb.toString();
    }

    private static String shape(long[] s) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < s.length; i++) {
            sb.append(i == 0 ? "" : "x").append(s[i]);
        }
        return sb.toString();
    }

    private static String typeOf(Layer layer) {
        if (layer instanceof ConvolutionLayer) {
            return "Conv2d+ReLU";
        } else if (layer instanceof SubsamplingLayer) {
            return ((SubsamplingLayer) layer).getPoolingType().name().equals("MAX") ? "MaxPool" : "AvgPool";
        } else if (layer instanceof LocalResponseNormalization || layer instanceof ChannelLrn) {
            return "LRN";
        } else if (layer instanceof OutputLayer) {
            return "Dense+Softmax";
        } else if (layer instanceof DenseLayer) {
            return "Dense+ReLU";
        } else if (layer instanceof DropoutLayer) {
            return "Dropout";
        } else if (layer instanceof ZeroPaddingLayer) {
            return "ZeroPad";
        } else if (layer instanceof EdgePadding) {
            return "EdgePad";
        }
        return layer.getClass().getSimpleName();
    }

    private static String detailOf(Layer layer) {
        if (layer instanceof ConvolutionLayer) {
            ConvolutionLayer c = (ConvolutionLayer) layer;
            return String.format(Locale.ROOT, "%dx%d/%d pad %d", c.getKernelSize()[0], c.getKernelSize()[1],
                    c.getStride()[0], c.getPadding()[0]);
        } else if (layer instanceof SubsamplingLayer) {
            SubsamplingLayer s = (SubsamplingLayer) layer;
            return String.format(Locale.ROOT, "%dx%d/%d", s.getKernelSize()[0], s.getKernelSize()[1], s.getStride()[0]);
        } else if (layer instanceof LocalResponseNormalization) {
            LocalResponseNormalization l = (LocalResponseNormalization) layer;
            return "n=" + plain(l.getN()) + " k=" + plain(l.getK()) + " a=" + plain(l.getAlpha()) + " b="
                    + plain(l.getBeta()) + " (dl4j)";
        } else if (layer instanceof ChannelLrn) {
            ChannelLrn l = (ChannelLrn) layer;
            return "n=" + l.getN() + " k=" + plain(l.getK()) + " a=" + plain(l.getAlpha()) + " b="
                    + plain(l.getBeta());
        } else if (layer instanceof DropoutLayer && layer.getIDropout() instanceof Dropout) {
            // DL4J stores the retain probability; show the drop rate, as the paper and PyTorch do
            return String.format(Locale.ROOT, "rate %.2f", 1.0 - ((Dropout) layer.getIDropout()).getP());
        } else if (layer instanceof ZeroPaddingLayer) {
            return "tblr " + Arrays.toString(((ZeroPaddingLayer) layer).getPadding());
        } else if (layer instanceof EdgePadding) {
            return "tblr " + Arrays.toString(((EdgePadding) layer).getPadding());
        }
        return "";
    }

    private static String plain(double x) {
        return new java.math.BigDecimal(Double.toString(x)).stripTrailingZeros().toPlainString();
    }

    private static long macsOf(Layer layer, long[] outShape) {
        if (layer instanceof ConvolutionLayer) {
            ConvolutionLayer c = (ConvolutionLayer) layer;
            long spatial = 1;
            for (long d : outShape) {
                spatial *= d;
            }
            spatial /= c.getNOut();
            return spatial * c.getNOut() * c.getNIn() * c.getKernelSize()[0] * c.getKernelSize()[1];
        } else if (layer instanceof DenseLayer || layer instanceof OutputLayer) {
            FeedForwardLayer f = (FeedForwardLayer) layer;
            return f.getNIn() * f.getNOut();
        }
        return 0;
    }

    /** Kahn's algorithm, ties broken by declaration order, so rows read in the order the builder declared them. */
    static List<String> topologicalOrder(ComputationGraphConfiguration conf) {
        Map<String, List<String>> inputs = conf.getVertexInputs();
        List<String> declared = new ArrayList<>(conf.getVertices().keySet());
        Map<String, Integer> pending = new HashMap<>();
        for (String v : declared) {
            int n = 0;
            for (String in : inputs.getOrDefault(v, List.of())) {
                if (conf.getVertices().containsKey(in)) {
                    n++;
                }
            }
            pending.put(v, n);
        }
        List<String> order = new ArrayList<>();
        Deque<String> ready = new ArrayDeque<>();
        for (String v : declared) {
            if (pending.get(v) == 0) {
                ready.add(v);
            }
        }
        while (!ready.isEmpty()) {
            String v = ready.poll();
            order.add(v);
            for (String w : declared) {
                if (inputs.getOrDefault(w, List.of()).contains(v) && pending.merge(w, -1, Integer::sum) == 0) {
                    ready.add(w);
                }
            }
        }
        return order;
    }
}
