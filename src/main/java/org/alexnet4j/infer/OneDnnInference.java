package org.alexnet4j.infer;

import org.alexnet4j.weights.Calibration;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.Padding;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.model.Pooling;
import org.alexnet4j.runtime.Dnnl;
import org.alexnet4j.runtime.HostMemory;
import org.alexnet4j.weights.NpyArray;
import org.alexnet4j.weights.TorchLayout;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_inner_product_desc_t;
import org.bytedeco.dnnl.dnnl_lrn_desc_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_pooling_v2_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_softmax_desc_t;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.alexnet4j.runtime.Dnnl.check;
import static org.bytedeco.dnnl.global.dnnl.*;

/**
 * AlexNet's inference compiled once into oneDNN primitives (oneDNN 2.5 through JavaCPP's presets), for a fixed batch
 * size: every convolution with its ReLU fused and its weights reordered once into the layout the kernel wants, LRN,
 * max pooling and the three inner products, run back to back on one stream. It computes the same function as the
 * network's {@code output} (the softmax probabilities; tested against it) from the same weights, without DL4J's
 * per-layer and per-op costs (30-90 us per ND4J op, workspaces, weights reordered on every call): what a batch of one
 * example pays for most.
 *
 * <p>Two-tower layers are grouped convolutions (groups = 2, as the ONNX export writes them); the paper's per-tower
 * LRN runs on the conv output viewed as {@code [2N, C/2, H, W]}, which is the same memory in NCHW and in the blocked
 * layouts when each tower's channels fill whole blocks (otherwise the output is reordered to NCHW first). Nets this
 * engine does not cover ({@link #unsupported}) stay on DL4J. It reads the input's memory directly, so it runs on the
 * CPU backend only ({@link HostMemory#direct()}).
 *
 * <p>It computes in fp32, bf16 or int8 ({@link CpuPrecision}; docs/precision.md): bf16 weights and activations with
 * fp32 sums; int8 with s8 weights scaled per output channel, the image as s8 and every rectified activation as u8 on
 * the scales of a {@link Calibration}, int32 sums scaled straight into the next layer's integers, LRN in fp32.
 */
public final class OneDnnInference implements AutoCloseable {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(OneDnnInference.class);
    private final AlexNet net;
    private final int batch;
    private final CpuPrecision precision;
    /** The activation ranges int8 quantises with (null for fp32 and bf16). */
    private final Calibration calibration;
    /** Each parameter layer's input as the engine holds it (fp32 only: what {@link #inputRanges} reads). */
    private final Map<String, Mem> layerInputs = new java.util.LinkedHashMap<>();
    private final dnnl_engine engine = new dnnl_engine();
    private final dnnl_stream stream = new dnnl_stream();
    /** The primitives in execution order, with their arguments. */
    private final List<Step> steps = new ArrayList<>();
    /** Steps up to fc8's output: the softmax after them is left out when only the logits are asked for. */
    private int logitSteps;
    /** The layers {@link #features} gives. */
    public static final List<String> FEATURE_LAYERS = List.of("pool5", "fc6", "fc7", "fc8");

    /**
     * A feature layer: the steps that compute it ({@code steps[0, upTo)}), the reorder (not in {@link #steps}) that
     * writes it as plain fp32 (null where it already is), and that buffer of {@code dims} floats per example.
     */
    private record Feature(int upTo, Step reorder, FloatPointer out, int dims) {
    }

    private final Map<String, Feature> features = new java.util.LinkedHashMap<>();
    /** Everything native this engine owns, released by {@link #close()}. */
    private final List<Pointer> owned = new ArrayList<>();
    /** The primitives' scratchpads, so that {@link #output} may run in any thread (see {@link Dnnl.Scratchpad}). */
    private final Dnnl.Scratchpad scratchpad;
    private final dnnl_memory input;
    private final FloatPointer probabilities;
    /** fc8's output before the softmax, plain {@code [batch, classes]}. */
    private final FloatPointer logits;
    private boolean closed;

    private record Step(dnnl_primitive primitive, dnnl_exec_arg_t args, int count) {
    }

    /** A memory object, the buffer behind it and its descriptor. */
    private record Mem(dnnl_memory memory, FloatPointer buffer, dnnl_memory_desc_t desc) {
        int type() {
            return desc.data_type();
        }
    }

    /**
     * Activations on their way between layers: the memory, and for u8/s8 data the scale that maps real values to its
     * integers ({@code q = round(x * scale)}); 1 for floating-point data.
     */
    private record Act(Mem mem, float scale) {
    }

    /** Why {@code net} cannot run on this engine, or null when it can. */
    public static String unsupported(AlexNet net) {
        if (net.dataType() != DataType.FLOAT) {
            return "it computes in " + net.dataType() + ", not float32";
        }
        if (net.dataFormat() != CNN2DFormat.NCHW) {
            return "its data format is " + net.dataFormat() + ", not NCHW";
        }
        if (net.padding() == Padding.EDGE) {
            return "it pads with edge values";
        }
        if (net.pooling() != Pooling.MAX) {
            return "it uses " + net.pooling() + " pooling";
        }
        if (!HostMemory.direct()) {
            return "it needs the CPU backend outside device-safe mode";
        }
        return Dnnl.ERROR;
    }

    /**
     * {@code asked} where this CPU runs it on oneDNN's fast kernels, else what it falls back to, with a log line:
     * bf16 needs AVX-512 (natively AVX512_BF16 or AMX; on plain AVX-512 oneDNN emulates its products, still faster than
     * fp32), else fp32; int8 runs everywhere oneDNN does (fastest with VNNI's 8-bit dot products).
     */
    public static CpuPrecision available(CpuPrecision asked) {
        String isa = Dnnl.isaName();
        if (asked == CpuPrecision.BF16 && !Dnnl.has(dnnl_cpu_isa_avx512_core)) {
            log.warn("bf16 needs AVX-512 (oneDNN dispatches to {} here): computing in fp32", isa);
            return CpuPrecision.FP32;
        }
        if (asked == CpuPrecision.BF16 && !Dnnl.has(dnnl_cpu_isa_avx512_core_bf16)) {
            log.info("bf16 on {}: no AVX512_BF16, oneDNN emulates bf16 products (less gain than on CPUs with it)",
                    isa);
        }
        if (asked == CpuPrecision.INT8 && !Dnnl.has(dnnl_cpu_isa_avx512_core_vnni)
                && !Dnnl.has(dnnl_cpu_isa_avx2_vnni)) {
            log.info("int8 on {}: no VNNI, less gain than on CPUs with its 8-bit dot products", isa);
        }
        return asked;
    }

    /** Refuses, with a sentence, int8 inference of {@code net} without a calibration of its layers. */
    static void requireCalibration(Calibration calibration, AlexNet net) {
        if (calibration == null) {
            throw new IllegalArgumentException("int8 inference needs the ranges of the activations, measured on "
                    + "real images: run `alexnet4j calibrate` (it writes a calibration file beside the weights) "
                    + "or add --calibrate CACHE (a prepared cache) to this command");
        }
        calibration.checkCovers(net);
    }

    /**
     * The calibration of {@code net} with {@code graph}'s weights measured on the one batch {@code x} (random inputs
     * of a benchmark or a test; real images go through {@code eval.Calibrator}), recorded as coming from {@code data}.
     */
    public static Calibration calibrationOn(AlexNet net, ComputationGraph graph, INDArray x, String data) {
        Calibration.Ranges r = new Calibration.Ranges();
        try (OneDnnInference fp32 = compile(net, graph, (int) x.size(0))) {
            r.add(fp32.inputRanges(x), x.size(0));
        }
        return r.toCalibration(data);
    }

    /** Compiles {@code net} with the parameters of {@code graph} for batches of {@code batch} examples, in fp32. */
    public static OneDnnInference compile(AlexNet net, ComputationGraph graph, int batch) {
        return new OneDnnInference(net, TorchLayout.export(graph, net), batch);
    }

    /**
     * Compiles {@code net} with the parameters of {@code graph} for batches of {@code batch} examples in {@code
     * precision}; int8 quantises activations with {@code calibration}'s ranges (required for int8, else ignored).
     */
    public static OneDnnInference compile(AlexNet net, ComputationGraph graph, int batch, CpuPrecision precision,
                                          Calibration calibration) {
        return new OneDnnInference(net, TorchLayout.export(graph, net), batch, precision, calibration);
    }

    /** {@link #OneDnnInference(AlexNet, Map, int, CpuPrecision, Calibration)} in fp32. */
    public OneDnnInference(AlexNet net, Map<String, NpyArray> weights, int batch) {
        this(net, weights, batch, CpuPrecision.FP32, null);
    }

    /**
     * Compiles {@code net} with weights in PyTorch layout ({@link TorchLayout}: {@code conv1.weight} ... {@code
     * fc8.bias}) for batches of {@code batch} examples.
     */
    public OneDnnInference(AlexNet net, Map<String, NpyArray> weights, int batch, CpuPrecision precision,
                           Calibration calibration) {
        String why = unsupported(net);
        if (why != null) {
            throw new IllegalArgumentException("the oneDNN engine cannot run this net: " + why);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        }
        TorchLayout.validate(net, weights);
        precision = available(precision);
        if (precision == CpuPrecision.INT8) {
            requireCalibration(calibration, net);
        }
        this.net = net;
        this.batch = batch;
        this.precision = precision;
        this.calibration = precision == CpuPrecision.INT8 ? calibration : null;
        check(dnnl_engine_create(engine, dnnl_cpu, 0), "engine");
        check(dnnl_stream_create(stream, engine, dnnl_stream_default_flags), "stream");
        scratchpad = new Dnnl.Scratchpad(engine);
        try {
            int s = net.inputSize();
            dnnl_memory_desc_t inMd = desc(new long[]{batch, 3, s, s}, dnnl_nchw);
            input = new dnnl_memory();
            check(dnnl_memory_create(input, inMd, engine, (Pointer) null), "input memory");
            owned.add(input);
            Act cur = new Act(new Mem(input, null, inMd), 1f);
            int channels = 3;
            int spatial = s;
            boolean first = true;
            List<ParamLayer> params = net.paramLayers();
            int index = 0;
            for (NetSpec.ConvBlock block : net.convBlocks()) {
                ParamLayer l = block.layer();
                int k = l.kernel(), stride = block.stride(), pad = block.pad();
                int padR = pad + (first ? net.inputOverhang() : 0);
                int out = (spatial + pad + padR - k) / stride + 1;
                // int8: LRN runs in fp32, so a convolution before it writes floats; else the next layer's integers
                ParamLayer next = block.lrnGroups() > 0 ? null : params.get(index + 1);
                cur = conv(cur, first, l, weights, channels, out, stride, pad, padR, next);
                channels = l.outChannels();
                spatial = out;
                if (block.lrnGroups() > 0) {
                    cur = new Act(lrn(cur.mem(), channels, spatial, block.lrnGroups()), 1f);
                }
                if (block.pool()) {
                    int w = net.poolWindow(), e = block.poolPadding();
                    int pooled = (spatial + e - w) / 2 + 1;
                    cur = new Act(pool(cur.mem(), channels, pooled, w, e), cur.scale()); // max keeps the scale
                    spatial = pooled;
                }
                first = false;
                index++;
            }
            features.put("pool5", feature(cur, steps.size()));
            List<ParamLayer> fcs = params.subList(5, 8);
            for (int i = 0; i < fcs.size(); i++) {
                ParamLayer l = fcs.get(i);
                long[] wDims = i == 0 ? new long[]{l.outChannels(), channels, spatial, spatial}
                        : new long[]{l.outChannels(), l.inPerGroup()};
                cur = innerProduct(cur, l, weights, wDims, i < 2, i < 2 ? fcs.get(i + 1) : null);
                features.put(FEATURE_LAYERS.get(i + 1), feature(cur, steps.size()));
            }
            logits = cur.mem().buffer();
            logitSteps = steps.size();
            Mem probs = softmax(cur.mem());
            probabilities = probs.buffer();
            scratchpad.allocate();
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    /** The batch size this engine was compiled for. */
    public int batch() {
        return batch;
    }

    /** The net it computes. */
    public AlexNet net() {
        return net;
    }

    /** The arithmetic it computes in. */
    public CpuPrecision precision() {
        return precision;
    }

    /**
     * Runs {@code x} (as {@link #output}) and gives the largest |value| of each parameter layer's input ({@code
     * conv1}: the image; {@code fc6}: pool5's output ...): what {@link Calibration} measures. fp32 engines only.
     */
    public synchronized Map<String, Float> inputRanges(INDArray x) {
        if (precision != CpuPrecision.FP32) {
            throw new IllegalStateException("activation ranges are measured on the fp32 engine, not " + precision);
        }
        run(x, true);
        Map<String, Float> ranges = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Mem> e : layerInputs.entrySet()) {
            Mem m = e.getValue();
            float max;
            if (m.buffer() == null) { // the caller's input itself
                max = x.amaxNumber().floatValue();
            } else {
                int n = (int) (dnnl_memory_desc_get_size(m.desc()) / 4);
                float[] v = new float[n];
                m.buffer().position(0).get(v, 0, n);
                max = 0;
                for (float f : v) {
                    max = Math.max(max, Math.abs(f));
                }
            }
            ranges.put(e.getKey(), max);
        }
        return ranges;
    }

    /**
     * The softmax probabilities {@code [batch, classes]} of the input {@code x} ({@code [batch, 3, size, size]},
     * float, NCHW), as the network's {@code output(x)}.
     */
    public synchronized INDArray output(INDArray x) {
        return Nd4j.create(run(x, false), new long[]{batch, net.numClasses()}, 'c');
    }

    /**
     * The probabilities ({@code logits} false) or fc8's outputs before the softmax ({@code logits} true) of the input
     * {@code x}, {@code [batch, classes]} row-major.
     */
    public synchronized float[] run(INDArray x, boolean logits) {
        INDArray in = checkedInput(x);
        execute(logits ? steps.subList(0, logitSteps) : steps);
        float[] p = new float[batch * net.numClasses()];
        (logits ? this.logits : probabilities).position(0).get(p);
        java.lang.ref.Reference.reachabilityFence(in); // its memory was read by the primitives above
        return p;
    }

    /** {@code x} as the input memory reads it (float, dense, row-major), after checking its shape. */
    private INDArray checkedInput(INDArray x) {
        if (closed) {
            throw new IllegalStateException("this oneDNN engine is closed");
        }
        long s = net.inputSize();
        if (x.rank() != 4 || x.size(0) != batch || x.size(1) != 3 || x.size(2) != s || x.size(3) != s) {
            throw new IllegalArgumentException("input must be [" + batch + ", 3, " + s + ", " + s + "], got "
                    + java.util.Arrays.toString(x.shape()));
        }
        INDArray in = x.dataType() == DataType.FLOAT && x.ordering() == 'c' && !x.isView() ? x
                : x.castTo(DataType.FLOAT).dup('c');
        check(dnnl_memory_set_data_handle(input, in.data().addressPointer()), "input");
        return in;
    }

    /** Runs {@code list} on the stream and waits for it. */
    private void execute(List<Step> list) {
        for (Step st : list) {
            check(dnnl_primitive_execute(st.primitive(), stream, st.count(), st.args()), "execute");
        }
        check(dnnl_stream_wait(stream), "wait");
    }

    /**
     * A convolution with its ReLU: in the engine's precision, its input converted (and for int8 quantised with this
     * layer's calibrated scale) where it arrives in another type; its output as floats, or for int8 with {@code next}
     * given, as u8 on {@code next}'s input scale.
     */
    private Act conv(Act src, boolean first, ParamLayer l, Map<String, NpyArray> weights, int inChannels, int out,
                     int stride, int pad, int padR, ParamLayer next) {
        int g = l.groups(), oc = l.outChannels(), k = l.kernel();
        long[] srcDims = {batch, inChannels, dims(src.mem().desc())[2], dims(src.mem().desc())[3]};
        long[] wDims = g == 1 ? new long[]{oc, inChannels, k, k} : new long[]{g, oc / g, inChannels / g, k, k};
        int srcType = srcType(first);
        float srcScale = inputScale(l, src, srcType);
        Out o = out(next, oc, true);
        String key = TorchLayout.key(net, l);
        float[] wScales = weightScales(weights.get(key + ".weight").data(), oc);
        float[] outScales = outputScales(wScales, srcScale, o.scale());
        boolean chooseSrc = first || src.mem().type() != srcType;
        dnnl_primitive_desc pd = convDesc(chooseSrc ? desc(srcDims, dnnl_format_tag_any, srcType)
                : src.mem().desc(), wDims, oc, out, o.tag(), o.type(), stride, pad, padR, l.name(), outScales);
        if (implementation(pd).startsWith("ref")) {
            // no fast kernel for the previous layer's layout or the blocked output here (seen: width 0.25, conv2's
            // towers of 12 channels on a plain NCHW input: oneDNN's reference convolution, 7 s a batch of 64; bf16
            // towers of 32 channels into 16-channel blocks): the convolution chooses its input and output layouts,
            // and the input is reordered into it
            pd = convDesc(desc(srcDims, dnnl_format_tag_any, srcType), wDims, oc, out, dnnl_format_tag_any, o.type(),
                    stride, pad, padR, l.name(), outScales);
            chooseSrc = true;
        }
        Mem in = chooseSrc ? reorderInto(src.mem(), query(pd, dnnl_query_src_md), srcScale / src.scale())
                : src.mem();
        if (precision == CpuPrecision.FP32) {
            layerInputs.put(l.name(), in);
        }
        Mem w = constant(weights.get(key + ".weight").data(), desc(wDims, g == 1 ? dnnl_oihw : dnnl_goihw),
                query(pd, dnnl_query_weights_md), wScales, g == 1 ? 1 : 3);
        Mem b = constant(bias(weights.get(key + ".bias").data(), wScales, srcScale), desc(new long[]{oc}, dnnl_x),
                null, null, 0);
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, l.name(), DNNL_ARG_SRC, in, DNNL_ARG_WEIGHTS, w, DNNL_ARG_BIAS, b, DNNL_ARG_DST, dst);
        return new Act(dst, o.scale());
    }

    /** A layer's output: its data type, layout and (integers) scale. */
    private record Out(int type, int tag, float scale) {
    }

    /**
     * The output of a layer followed by {@code next} (null: by LRN, or the logits): fp32 in fp32; bf16 in bf16 (the
     * logits fp32); in int8, u8 on {@code next}'s input scale, or fp32 before LRN and for the logits.
     */
    private Out out(ParamLayer next, int channels, boolean conv) {
        int tag = conv ? activationTag(channels) : dnnl_format_tag_any;
        return switch (precision) {
            case FP32 -> new Out(dnnl_f32, tag, 1f);
            case BF16 -> next == null && !conv ? new Out(dnnl_f32, dnnl_nc, 1f) : new Out(dnnl_bf16, tag, 1f);
            // int8 kernels want channels last (a blocked f32 output had only the reference kernel): left to choose
            case INT8 -> next == null ? new Out(dnnl_f32, conv ? dnnl_format_tag_any : dnnl_nc, 1f)
                    : new Out(dnnl_u8, dnnl_format_tag_any, calibration.scale(next.name(), false));
        };
    }

    /** The data type a layer reads: f32, bf16, or s8 for the (signed) image and u8 for the (rectified) rest. */
    private int srcType(boolean first) {
        return switch (precision) {
            case FP32 -> dnnl_f32;
            case BF16 -> dnnl_bf16;
            case INT8 -> first ? dnnl_s8 : dnnl_u8;
        };
    }

    /** int8: the scale of layer {@code l}'s input (the calibrated one; what the previous layer wrote with); else 1. */
    private float inputScale(ParamLayer l, Act src, int srcType) {
        if (precision != CpuPrecision.INT8) {
            return 1f;
        }
        return src.mem().type() == srcType ? src.scale() : calibration.scale(l.name(), srcType == dnnl_s8);
    }

    /**
     * int8: per output channel, 127 over the channel's largest |weight| (symmetric s8); else null. (Without VNNI
     * oneDNN halves the weights of s8-input layers itself; keeping u8-input layers' weights to 7 bits as well, as its
     * guide suggests against 16-bit saturation, measured worse on AVX2: logits 8 % off the QDQ model's instead of 3 %,
     * and past the tests' 6 % from fp32.)
     */
    private float[] weightScales(float[] w, int outChannels) {
        return precision == CpuPrecision.INT8 ? Calibration.weightScales(w, outChannels) : null;
    }

    /**
     * int8: what turns a channel's int32 sum into the output ({@code dst = scale * (sum + bias)}): the output's scale
     * over the input's times the channel's weight scale; else null.
     */
    private static float[] outputScales(float[] wScales, float srcScale, float dstScale) {
        if (wScales == null) {
            return null;
        }
        float[] s = new float[wScales.length];
        for (int o = 0; o < s.length; o++) {
            s[o] = dstScale / (srcScale * wScales[o]);
        }
        return s;
    }

    /** The bias as the int32 sums see it (times the input's and the channel's weight scale) in int8; else as given. */
    private static float[] bias(float[] b, float[] wScales, float srcScale) {
        if (wScales == null) {
            return b;
        }
        float[] q = new float[b.length];
        for (int o = 0; o < b.length; o++) {
            q[o] = b[o] * srcScale * wScales[o];
        }
        return q;
    }

    private dnnl_primitive_desc convDesc(dnnl_memory_desc_t srcMd, long[] wDims, int oc, int out, int dstTag,
                                         int dstType, int stride, int pad, int padR, String name, float[] scales) {
        dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
        owned.add(cd);
        check(dnnl_convolution_forward_desc_init(cd, dnnl_forward_inference, dnnl_convolution_direct, srcMd,
                desc(wDims, dnnl_format_tag_any, weightType()), desc(new long[]{oc}, dnnl_x),
                desc(new long[]{batch, oc, out, out}, dstTag, dstType), new long[]{stride, stride},
                new long[]{pad, pad}, new long[]{padR, padR}), name);
        return primitiveDesc(cd, attr(true, scales), name);
    }

    /** The weights' data type: f32, bf16 or s8. */
    private int weightType() {
        return switch (precision) {
            case FP32 -> dnnl_f32;
            case BF16 -> dnnl_bf16;
            case INT8 -> dnnl_s8;
        };
    }

    /** oneDNN's name of the implementation a primitive descriptor chose ({@link Dnnl#implementation}). */
    static String implementation(dnnl_primitive_desc pd) {
        return Dnnl.implementation(pd);
    }

    /** LRN across channels, in {@code groups} separate blocks of channels (the paper's towers: 2). */
    private Mem lrn(Mem src, int channels, int spatial, int groups) {
        Mem in = src;
        dnnl_memory_desc_t view = src.desc();
        int tag = dnnl_nchw;
        if (groups > 1) {
            tag = tagOf(src.desc(), channels, spatial, channels / groups);
            if (tag < 0 && activationTag(channels / groups) != dnnl_format_tag_any) {
                // another layout (int8's convolutions write channels-last), towers of whole blocks: blocked, as the
                // fp32 engine's (int8 at b128: 12 ms of reorder to NCHW and 21 ms of AVX2 LRN before)
                tag = activationTag(channels / groups);
                in = reorderInto(src, desc(new long[]{batch, channels, spatial, spatial}, tag, src.type()), 1f);
            }
            if (tag < 0) { // each tower's channels do not fill whole blocks
                return towerLrnInNchw(src, channels, spatial, groups, src.type());
            }
            view = desc(new long[]{(long) batch * groups, channels / groups, spatial, spatial}, tag, src.type());
        }
        Mem viewIn = alias(in, view);
        dnnl_primitive_desc pd = lrnDesc(view);
        if (implementation(pd).contains("ref") && (groups == 1 || src.type() != dnnl_f32)) {
            // no fast LRN for the layout the convolution chose (seen: the caffe net at width 0.25 after conv2), or
            // for bf16 towers (width 0.25): in NCHW, in fp32 where bf16 has no fast kernel there either
            return towerLrnInNchw(src, channels, spatial, groups, src.type());
        }
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "lrn", DNNL_ARG_SRC, viewIn, DNNL_ARG_DST, dst);
        return groups > 1 ? alias(dst, desc(new long[]{batch, channels, spatial, spatial}, tag, src.type())) : dst;
    }

    /**
     * LRN per tower when a tower's channels do not fill whole channel blocks (width 0.25: towers of 12 and 32 channels
     * after conv1 and conv2): the towers as {@code [groups * N, C/groups, H, W]} in NCHW (the same memory as the map in
     * NCHW). Where a tower's channels are not a multiple of the vector width they are copied into the first channels
     * of a zeroed NCHW buffer of {@code [groups * N, P, H, W]}, P the tower's channels rounded up to
     * the vector width, where oneDNN's jit LRN runs; the result's first channels are copied back. The extra channels
     * stay zero and add nothing to a window's sum of squares, so every real channel's value is exact. (On the towers
     * as they are oneDNN has only its reference LRN: 110 of 320 ms of a width-0.25 batch of 256, which made this
     * engine slower than DL4J's there; now 10 ms plus two 3 ms copies.)
     */
    private Mem towerLrnInNchw(Mem src, int channels, int spatial, int groups, int preferred) {
        int perTower = channels / groups;
        int width = Math.max(8, Dnnl.BLOCK);
        long[] towers = {(long) batch * groups, perTower, spatial, spatial};
        long[] padded = {(long) batch * groups, (long) (perTower + width - 1) / width * width, spatial, spatial};
        int type = preferred;
        if (type != dnnl_f32 && implementation(lrnDesc(desc(padded, dnnl_nchw, type))).contains("ref")) {
            type = dnnl_f32; // bf16 LRN on these towers only has the reference kernel
        }
        Mem nchw = reorderInto(src, desc(new long[]{batch, channels, spatial, spatial}, dnnl_nchw, type), 1f);
        Mem towersNchw = alias(nchw, desc(towers, dnnl_nchw, type));
        boolean pad = padded[1] != perTower;
        Mem in = pad ? allocate(desc(padded, dnnl_nchw, type)) : towersNchw;
        if (pad) {
            in.buffer().zero();
            copy(towersNchw, alias(in, submemory(in.desc(), towers)), 1f);
        }
        dnnl_primitive_desc pd = lrnDesc(in.desc());
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "lrn", DNNL_ARG_SRC, in, DNNL_ARG_DST, dst);
        Mem out = dst;
        if (pad) {
            out = allocate(desc(towers, dnnl_nchw, type));
            copy(alias(dst, submemory(dst.desc(), towers)), out, 1f);
        }
        return alias(out, desc(new long[]{batch, channels, spatial, spatial}, dnnl_nchw, type));
    }

    /** The net's LRN (its constants, across channels) on memory laid out as {@code src}. */
    private dnnl_primitive_desc lrnDesc(dnnl_memory_desc_t src) {
        dnnl_lrn_desc_t ld = new dnnl_lrn_desc_t();
        owned.add(ld);
        check(dnnl_lrn_forward_desc_init(ld, dnnl_forward_inference, dnnl_lrn_across_channels, src,
                (long) AlexNet.LRN_N, (float) (net.lrnAlpha() * AlexNet.LRN_N), (float) AlexNet.LRN_BETA,
                (float) net.lrnK()), "lrn");
        return primitiveDesc(ld, null, "lrn");
    }

    /** The part {@code dims} (from the origin) of memory laid out as {@code parent}. */
    private dnnl_memory_desc_t submemory(dnnl_memory_desc_t parent, long[] dims) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        owned.add(md);
        check(dnnl_memory_desc_init_submemory(md, parent, dims, new long[dims.length]), "submemory");
        return md;
    }

    /**
     * A reorder step from {@code src} into {@code dst} (both existing memories), multiplying by {@code scale} (1: a
     * plain copy or type conversion; int8: quantisation, rounding to nearest and saturating).
     */
    private void copy(Mem src, Mem dst, float scale) {
        steps.add(reorderStep(src, dst, scale));
    }

    /** {@link #copy}'s step, not added to the steps. */
    private Step reorderStep(Mem src, Mem dst, float scale) {
        dnnl_primitive_attr attr = scratchpad.attr();
        if (scale != 1f) {
            attr = new dnnl_primitive_attr();
            check(dnnl_primitive_attr_create(attr), "attr");
            owned.add(attr);
            check(dnnl_primitive_attr_set_output_scales(attr, 1, 0, new float[]{scale}), "reorder scale");
            Dnnl.Scratchpad.userMode(attr);
        }
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, src.desc(), engine, dst.desc(), engine, attr), "reorder");
        owned.add(pd);
        return makeStep(pd, "reorder", DNNL_ARG_FROM, src, DNNL_ARG_TO, dst);
    }

    /**
     * The feature layer whose activations are {@code act} after {@code upTo} steps, as plain fp32 ({@code [N, C, H,
     * W]} or {@code [N, C]}): the memory itself where it is that already, else a reorder (int8: dequantised).
     */
    private Feature feature(Act act, int upTo) {
        long[] d = dims(act.mem().desc());
        dnnl_memory_desc_t plain = desc(d, d.length == 4 ? dnnl_nchw : dnnl_nc);
        int dims = (int) (java.util.Arrays.stream(d).reduce(1, (a, b) -> a * b) / batch);
        if (act.scale() == 1f && dnnl_memory_desc_equal(act.mem().desc(), plain) == 1) {
            return new Feature(upTo, null, act.mem().buffer(), dims);
        }
        Mem out = allocate(plain);
        return new Feature(upTo, reorderStep(act.mem(), out, 1f / act.scale()), out.buffer(), dims);
    }

    /** The number of features per example of {@code layer} ({@link #FEATURE_LAYERS}). */
    public int featureDims(String layer) {
        Feature f = features.get(layer);
        if (f == null) {
            throw new IllegalArgumentException("the oneDNN engine gives the features of " + FEATURE_LAYERS + ", not '"
                    + layer + "'");
        }
        return f.dims();
    }

    /**
     * The activations of {@code layer} ({@link #FEATURE_LAYERS}: pool5 as fc6 reads it, fc6 and fc7 after their ReLU,
     * fc8's logits) for the input {@code x}, {@code [batch, featureDims]} row-major, pool5 in NCHW order, as fp32
     * (int8's integers dequantised).
     */
    public synchronized float[] features(String layer, INDArray x) {
        int dims = featureDims(layer);
        Feature f = features.get(layer);
        INDArray in = checkedInput(x);
        execute(steps.subList(0, f.upTo()));
        if (f.reorder() != null) {
            execute(List.of(f.reorder()));
        }
        float[] out = new float[batch * dims];
        f.out().position(0).get(out);
        java.lang.ref.Reference.reachabilityFence(in);
        return out;
    }

    private Mem pool(Mem src, int channels, int out, int window, int extra) {
        dnnl_pooling_v2_desc_t d = new dnnl_pooling_v2_desc_t();
        owned.add(d);
        check(dnnl_pooling_v2_forward_desc_init(d, dnnl_forward_inference, dnnl_pooling_max, src.desc(),
                desc(new long[]{batch, channels, out, out}, dnnl_format_tag_any, src.type()), new long[]{2, 2},
                new long[]{window, window}, new long[]{0, 0}, new long[]{0, 0}, new long[]{extra, extra}), "pool");
        dnnl_primitive_desc pd = primitiveDesc(d, null, "pool");
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, "pool", DNNL_ARG_SRC, src, DNNL_ARG_DST, dst);
        return dst;
    }

    /** An inner product (with ReLU where {@code relu}), in the engine's precision as {@link #conv}. */
    private Act innerProduct(Act src, ParamLayer l, Map<String, NpyArray> weights, long[] wDims, boolean relu,
                             ParamLayer next) {
        int oc = l.outChannels();
        int srcType = srcType(false);
        float srcScale = inputScale(l, src, srcType);
        Mem in = src.mem();
        if (in.type() != srcType) {
            long[] d = dims(in.desc());
            in = reorderInto(in, desc(d, d.length == 4 ? dnnl_nchw : dnnl_nc, srcType), srcScale / src.scale());
        }
        if (precision == CpuPrecision.FP32) {
            layerInputs.put(l.name(), in);
        }
        Out o = out(next, oc, false);
        String key = TorchLayout.key(net, l);
        float[] wScales = weightScales(weights.get(key + ".weight").data(), oc);
        dnnl_inner_product_desc_t d = new dnnl_inner_product_desc_t();
        owned.add(d);
        check(dnnl_inner_product_forward_desc_init(d, dnnl_forward_inference, in.desc(),
                desc(wDims, dnnl_format_tag_any, weightType()), desc(new long[]{oc}, dnnl_x),
                desc(new long[]{batch, oc}, relu ? dnnl_format_tag_any : dnnl_nc, o.type())), l.name());
        dnnl_primitive_desc pd = primitiveDesc(d, attr(relu, outputScales(wScales, srcScale, o.scale())), l.name());
        Mem w = constant(weights.get(key + ".weight").data(), desc(wDims, wDims.length == 4 ? dnnl_oihw : dnnl_oi),
                query(pd, dnnl_query_weights_md), wScales, 1);
        Mem b = constant(bias(weights.get(key + ".bias").data(), wScales, srcScale), desc(new long[]{oc}, dnnl_x),
                null, null, 0);
        Mem dst = allocate(query(pd, dnnl_query_dst_md));
        step(pd, l.name(), DNNL_ARG_SRC, in, DNNL_ARG_WEIGHTS, w, DNNL_ARG_BIAS, b, DNNL_ARG_DST, dst);
        return new Act(dst, o.scale());
    }

    private Mem softmax(Mem logits) {
        dnnl_softmax_desc_t d = new dnnl_softmax_desc_t();
        owned.add(d);
        check(dnnl_softmax_forward_desc_init(d, dnnl_forward_inference, logits.desc(), 1), "softmax");
        dnnl_primitive_desc pd = primitiveDesc(d, null, "softmax");
        Mem dst = allocate(desc(new long[]{batch, net.numClasses()}, dnnl_nc));
        step(pd, "softmax", DNNL_ARG_SRC, logits, DNNL_ARG_DST, dst);
        return dst;
    }

    /**
     * The layout of the activations: channel blocks of the vector width where they fill the channels (16 floats with
     * AVX-512, 8 with AVX2), the layout oneDNN's direct convolutions, LRN and pooling run fastest on and in which
     * a tower's channels are one run of blocks; else whatever the convolution prefers. (Left to choose, oneDNN 2.5
     * picks NHWC for conv1 on AVX-512, and every later layer then fell to slower GEMM-based kernels.)
     */
    private static int activationTag(int channels) {
        int block = Dnnl.BLOCK;
        return block > 1 && channels % block == 0 ? (block == 16 ? dnnl_nChw16c : dnnl_nChw8c) : dnnl_format_tag_any;
    }

    /**
     * The attribute of a convolution or inner product: ReLU as post-op where {@code relu}, int8's per-channel output
     * scales where given (mask 2: the output's channel dimension), user scratchpad; null when it needs neither.
     */
    private dnnl_primitive_attr attr(boolean relu, float[] outputScales) {
        if (!relu && outputScales == null) {
            return null;
        }
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(dnnl_primitive_attr_create(attr), "attr");
        owned.add(attr);
        if (relu) {
            dnnl_post_ops ops = new dnnl_post_ops();
            check(dnnl_post_ops_create(ops), "post-ops");
            check(dnnl_post_ops_append_eltwise(ops, 1f, dnnl_eltwise_relu, 0f, 0f), "relu");
            check(dnnl_primitive_attr_set_post_ops(attr, ops), "attr");
            dnnl_post_ops_destroy(ops);
        }
        if (outputScales != null) {
            check(dnnl_primitive_attr_set_output_scales(attr, outputScales.length, 1 << 1, outputScales),
                    "output scales");
        }
        Dnnl.Scratchpad.userMode(attr);
        return attr;
    }

    private dnnl_primitive_desc primitiveDesc(Pointer opDesc, dnnl_primitive_attr attr, String what) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(opDesc), attr != null ? attr
                : scratchpad.attr(), engine, null), what);
        owned.add(pd);
        return pd;
    }

    private static dnnl_memory_desc_t query(dnnl_primitive_desc pd, int what) {
        return dnnl_primitive_desc_query_md(pd, what, 0);
    }

    /** {@link Dnnl#desc}, owned by this engine. */
    private dnnl_memory_desc_t desc(long[] dims, int tag) {
        return desc(dims, tag, dnnl_f32);
    }

    /** A descriptor of data type {@code type}, owned by this engine. */
    private dnnl_memory_desc_t desc(long[] dims, int tag, int type) {
        dnnl_memory_desc_t md = Dnnl.desc(dims, tag, type);
        owned.add(md);
        return md;
    }

    private static long[] dims(dnnl_memory_desc_t md) {
        long[] d = new long[md.ndims()];
        for (int i = 0; i < d.length; i++) {
            d[i] = md.dims().get(i);
        }
        return d;
    }

    /**
     * The format tag of {@code md} ({@code [N, C, H, W]}) if viewing it as {@code [N * C/perGroup, perGroup, H, W]}
     * with the same tag is the same memory: NCHW, or a channel-blocked layout whose block divides {@code perGroup};
     * else -1.
     */
    private int tagOf(dnnl_memory_desc_t md, int channels, int spatial, int perGroup) {
        long[] d = {batch, channels, spatial, spatial};
        int[][] candidates = {{dnnl_nchw, 1}, {dnnl_nChw16c, 16}, {dnnl_nChw8c, 8}};
        for (int[] c : candidates) {
            if (dnnl_memory_desc_equal(md, desc(d, c[0], md.data_type())) == 1) {
                return perGroup % c[1] == 0 ? c[0] : -1;
            }
        }
        return -1;
    }

    private Mem allocate(dnnl_memory_desc_t md) {
        FloatPointer buf = new FloatPointer((dnnl_memory_desc_get_size(md) + 3) / 4);
        owned.add(buf);
        return wrap(md, buf);
    }

    /** A memory object over {@code buf} with descriptor {@code md}. */
    private Mem wrap(dnnl_memory_desc_t md, FloatPointer buf) {
        dnnl_memory m = new dnnl_memory();
        check(dnnl_memory_create(m, md, engine, buf), "memory");
        owned.add(m);
        return new Mem(m, buf, md);
    }

    /** The same buffer under another descriptor (a reinterpreting view). */
    private Mem alias(Mem m, dnnl_memory_desc_t md) {
        return wrap(md, m.buffer());
    }

    /** {@code src} in layout and type {@code md} times {@code scale}: itself, or a new memory a reorder fills. */
    private Mem reorderInto(Mem src, dnnl_memory_desc_t md, float scale) {
        if (scale == 1f && dnnl_memory_desc_equal(src.desc(), md) == 1) {
            return src;
        }
        Mem dst = allocate(md);
        copy(src, dst, scale);
        return dst;
    }

    /**
     * Constant data (weights, biases) given in {@code userMd} (f32), reordered once into {@code md} (null: as given),
     * times {@code scales} along the dimensions of {@code mask} where given (int8 weights: per output channel).
     */
    private Mem constant(float[] data, dnnl_memory_desc_t userMd, dnnl_memory_desc_t md, float[] scales, int mask) {
        FloatPointer buf = new FloatPointer(data);
        owned.add(buf);
        Mem user = wrap(userMd, buf);
        if (md == null || dnnl_memory_desc_equal(userMd, md) == 1) {
            return user;
        }
        Mem dst = allocate(md);
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        dnnl_primitive_attr attr = null;
        if (scales != null) {
            attr = new dnnl_primitive_attr();
            check(dnnl_primitive_attr_create(attr), "attr");
            check(dnnl_primitive_attr_set_output_scales(attr, scales.length, mask, scales), "weight scales");
        }
        check(dnnl_reorder_primitive_desc_create(pd, userMd, engine, md, engine, attr), "weights reorder");
        if (attr != null) {
            dnnl_primitive_attr_destroy(attr);
        }
        // the user-layout copy is freed once reordered (fc6's alone is 151 MB)
        owned.remove(user.memory());
        owned.remove(buf);
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), "weights reorder");
        dnnl_exec_arg_t args = args(DNNL_ARG_FROM, user, DNNL_ARG_TO, dst);
        check(dnnl_primitive_execute(p, stream, 2, args), "weights reorder");
        check(dnnl_stream_wait(stream), "weights reorder");
        dnnl_primitive_destroy(p);
        dnnl_primitive_desc_destroy(pd);
        args.close();
        dnnl_memory_destroy(user.memory());
        buf.close();
        return dst;
    }

    private final java.util.List<String> implementations = new java.util.ArrayList<>();

    /** Each step's name and oneDNN's implementation, in order ("conv2: brgconv:avx512_core", ...). */
    public java.util.List<String> implementations() {
        return java.util.Collections.unmodifiableList(implementations);
    }

    private void step(dnnl_primitive_desc pd, String what, Object... kindAndMem) {
        implementations.add(what + ": " + implementation(pd));
        steps.add(makeStep(pd, what, kindAndMem));
    }

    /** The primitive of {@code pd} with its arguments (and scratchpad). */
    private Step makeStep(dnnl_primitive_desc pd, String what, Object... kindAndMem) {
        dnnl_primitive p = new dnnl_primitive();
        check(dnnl_primitive_create(p, pd), what);
        owned.add(p);
        Object[] all = scratchpad.withScratchpad(pd, kindAndMem);
        dnnl_exec_arg_t a = args(all);
        owned.add(a);
        return new Step(p, a, all.length / 2);
    }

    /** {@link Dnnl#args} of pairs of argument kind and {@link Mem}. */
    private static dnnl_exec_arg_t args(Object... kindAndMem) {
        Object[] pairs = kindAndMem.clone();
        for (int i = 1; i < pairs.length; i += 2) {
            pairs[i] = pairs[i] instanceof Mem m ? m.memory() : pairs[i];
        }
        return Dnnl.args(pairs);
    }

    /** Releases the primitives, memories and buffers (the engine cannot be used afterwards). */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (scratchpad != null) {
            scratchpad.release();
        }
        Dnnl.release(owned, stream, engine);
    }
}
