package org.alexnet4j.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.OnnxExport;
import org.alexnet4j.weights.TorchLayout;
import org.alexnet4j.model.LrnImplementation;
import org.alexnet4j.model.ParamLayer;
import org.alexnet4j.train.ClassicalMomentum;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Consumer;

/**
 * Timing of AlexNet training and inference steps on synthetic input, in the manner of soumith's convnet-benchmarks
 * (batch 128): per-batch milliseconds (median and spread) of the forward pass, of a whole training step
 * (forward + backward + update, DL4J's {@code fit}), backward+update as their difference, images/s, and peak memory
 * (JVM heap and the process's resident memory, which holds ND4J's off-heap arrays). The {@code zoo} model is DL4J's
 * own {@code org.deeplearning4j.zoo.model.AlexNet}, the in-run baseline.
 */
public final class ModelBench {
    private ModelBench() {
    }

    /**
     * A model under test: its label, one example's shape, class count, parameter count, a training step and a forward
     * pass ({@code output(input, train)}).
     */
    public record Subject(String name, long[] exampleShape, int classes, long parameters, Consumer<DataSet> fit,
                          BiFunction<INDArray, Boolean, INDArray> output, String precision) {
        /** A subject computing in fp32. */
        public Subject(String name, long[] exampleShape, int classes, long parameters, Consumer<DataSet> fit,
                       BiFunction<INDArray, Boolean, INDArray> output) {
            this(name, exampleShape, classes, parameters, fit, output, "fp32");
        }

        long[] inputShape(int batch) {
            return new long[]{batch, exampleShape[0], exampleShape[1], exampleShape[2]};
        }
    }

    /** The graph of an alexnet4j net as the benchmarks train it: the paper's updater and the given cache mode. */
    static ComputationGraph graph(AlexNet net, CacheMode cacheMode) {
        ComputationGraph g = new ComputationGraph(net.configuration(new NeuralNetConfiguration.Builder()
                .updater(new ClassicalMomentum(0.01, 0.9)).l2(0.0005)
                .cacheMode(cacheMode)));
        g.init();
        return g;
    }

    /** The paper or torchvision net, with the paper's updater and the given DL4J cache mode; DL4J's inference. */
    public static Subject alexnet4j(AlexNet net, CacheMode cacheMode) {
        return alexnet4j(net, cacheMode, org.alexnet4j.infer.InferenceEngine.Kind.DL4J);
    }

    /**
     * As {@link #alexnet4j(AlexNet, CacheMode)}, its inference on {@code engine} (as predict and eval run it): the
     * oneDNN engine is compiled from the graph's current parameters for each batch size, at its first forward pass
     * (a warm-up one unless --warmup 0).
     */
    public static Subject alexnet4j(AlexNet net, CacheMode cacheMode, org.alexnet4j.infer.InferenceEngine.Kind engine) {
        return alexnet4j(net, cacheMode, engine, org.alexnet4j.infer.InferenceEngine.Gpu.DEFAULT);
    }

    /** As above; the CUDA engine (--engine cuda, or auto where a usable GPU is found) runs on {@code gpu}. */
    public static Subject alexnet4j(AlexNet net, CacheMode cacheMode, org.alexnet4j.infer.InferenceEngine.Kind engine,
                                    org.alexnet4j.infer.InferenceEngine.Gpu gpu) {
        return alexnet4j(net, cacheMode, engine, gpu, org.alexnet4j.infer.CpuPrecision.FP32);
    }

    /**
     * As above, inference in {@code precision}: bf16 and int8 on the oneDNN engine only, inference only (their
     * training is not timed here). int8's activation ranges are measured on the fp32 engine on the timed batch
     * itself: the benchmark's inputs are random, and the ranges decide no cost.
     */
    public static Subject alexnet4j(AlexNet net, CacheMode cacheMode, org.alexnet4j.infer.InferenceEngine.Kind engine,
                                    org.alexnet4j.infer.InferenceEngine.Gpu gpu,
                                    org.alexnet4j.infer.CpuPrecision precision) {
        if (precision != org.alexnet4j.infer.CpuPrecision.FP32) {
            return reducedPrecision(net, engine, org.alexnet4j.infer.OneDnnInference.available(precision));
        }
        if (org.alexnet4j.infer.InferenceEngine.usesCuda(engine, net)) {
            return cuda(net, gpu);
        }
        ComputationGraph g = graph(net, cacheMode);
        boolean onednn = org.alexnet4j.infer.InferenceEngine.usesOneDnn(engine, net);
        List<String> notes = new ArrayList<>();
        if (net.dataFormat() == CNN2DFormat.NHWC) {
            notes.add("NHWC");
        }
        if (net.lrn() && net.lrnImplementation() == LrnImplementation.DL4J) {
            notes.add("DL4J LRN");
        }
        if (cacheMode != CacheMode.NONE) {
            notes.add("cache " + cacheMode.name().toLowerCase(java.util.Locale.ROOT));
        }
        if (onednn) {
            notes.add("oneDNN inference");
        }
        String label = "alexnet4j " + net.variant().id() + (notes.isEmpty() ? "" : " (" + String.join(", ", notes)
                + ")");
        if (!onednn) {
            return new Subject(label, net.exampleShape(), net.numClasses(), g.numParams(), g::fit,
                    (x, train) -> g.outputSingle(train, x));
        }
        org.alexnet4j.infer.OneDnnInference[] compiled = new org.alexnet4j.infer.OneDnnInference[1];
        return new Subject(label, net.exampleShape(), net.numClasses(), g.numParams(), g::fit, (x, train) -> {
            if (train) {
                return g.outputSingle(true, x);
            }
            if (compiled[0] == null || compiled[0].batch() != x.size(0)) {
                if (compiled[0] != null) {
                    compiled[0].close();
                }
                compiled[0] = org.alexnet4j.infer.OneDnnInference.compile(net, g, (int) x.size(0));
            }
            return compiled[0].output(x);
        });
    }

    private static Subject reducedPrecision(AlexNet net, org.alexnet4j.infer.InferenceEngine.Kind engine,
                                           org.alexnet4j.infer.CpuPrecision precision) {
        ComputationGraph g = graph(net, CacheMode.NONE);
        org.alexnet4j.weights.Calibration any = org.alexnet4j.weights.Calibration.uniform(net, 1);
        org.alexnet4j.infer.InferenceEngine.open(engine, net, g, null, precision, any).close(); // its refusals
        org.alexnet4j.infer.OneDnnInference[] compiled = new org.alexnet4j.infer.OneDnnInference[1];
        String label = "alexnet4j " + net.variant().id() + " (oneDNN inference, " + precision + ")";
        return new Subject(label, net.exampleShape(), net.numClasses(), g.numParams(), null, (x, train) -> {
            if (compiled[0] == null || compiled[0].batch() != x.size(0)) {
                if (compiled[0] != null) {
                    compiled[0].close();
                }
                org.alexnet4j.weights.Calibration c = precision == org.alexnet4j.infer.CpuPrecision.INT8
                        ? org.alexnet4j.infer.OneDnnInference.calibrationOn(net, g, x, "the benchmark's batch") : null;
                compiled[0] = org.alexnet4j.infer.OneDnnInference.compile(net, g, (int) x.size(0), precision, c);
            }
            return compiled[0].output(x);
        }, precision.id());
    }

    /**
     * The net on the CUDA engine (training steps and inference), with the graph's initial weights (the same seed as
     * the other subjects). A batch passed again is not copied again: after its first step it stays on the GPU, as
     * PyTorch benchmarks keep their input on the device. The engine is planned anew for each batch size.
     */
    public static Subject cuda(AlexNet net, org.alexnet4j.infer.InferenceEngine.Gpu gpu) {
        return onEngine(net, () -> org.alexnet4j.cuda.CudaRuntime.open(gpu.device(), gpu.precision(), m -> { }),
                "alexnet4j " + net.variant().id() + " (CUDA engine, " + gpu.precision().id() + ", device "
                        + gpu.device() + ")", gpu.precision().id());
    }

    /**
     * The net's training steps (and inference) on the oneDNN training engine ({@code train --engine onednn}) in
     * {@code precision} (fp32 or bf16), with the graph's initial weights, as {@link #cuda} times the CUDA engine.
     */
    public static Subject oneDnnTraining(AlexNet net, String asked) {
        boolean bf16 = asked.equals("bf16") && org.alexnet4j.cpu.OneDnnOps.bf16Available(); // else fp32, as train does
        String precision = bf16 ? "bf16" : "fp32";
        return onEngine(net, () -> new org.alexnet4j.cpu.OneDnnOps(bf16),
                "alexnet4j " + net.variant().id() + " (oneDNN training engine, " + precision + ")", precision);
    }

    /**
     * The net on {@link org.alexnet4j.cuda.AlexNetEngine} over the op seam {@code ops} makes, planned anew for each
     * batch size. A batch passed again is not copied again: it stays in the seam's memory, as PyTorch benchmarks keep
     * their input on the device.
     */
    private static Subject onEngine(AlexNet net, java.util.function.Supplier<org.alexnet4j.cuda.Ops> ops,
                                    String label, String precision) {
        ComputationGraph g = graph(net, CacheMode.NONE);
        org.alexnet4j.cuda.AlexNetEngine[] engine = new org.alexnet4j.cuda.AlexNetEngine[1];
        Object[] last = new Object[1];
        java.util.function.IntFunction<org.alexnet4j.cuda.AlexNetEngine> at = n -> {
            if (engine[0] == null || engine[0].maxBatch() != n) {
                if (engine[0] != null) {
                    engine[0].close();
                }
                engine[0] = new org.alexnet4j.cuda.AlexNetEngine(net.spec(), ops.get(), n, net.seed());
                org.alexnet4j.weights.EngineWeights.toEngine(g, net, engine[0]);
                last[0] = null;
            }
            return engine[0];
        };
        org.alexnet4j.cuda.AlexNetEngine.Update update = org.alexnet4j.cuda.AlexNetEngine.Update.of(0.01, 0.9, 5e-4);
        return new Subject(label, net.exampleShape(), net.numClasses(), g.numParams(), ds -> {
            int n = (int) ds.getFeatures().size(0);
            org.alexnet4j.cuda.AlexNetEngine e = at.apply(n);
            float[] x = last[0] == ds.getFeatures() ? null : org.alexnet4j.infer.InferenceEngine.nchwFloats(
                    ds.getFeatures(), net);
            last[0] = ds.getFeatures();
            e.step(x, org.alexnet4j.train.EngineTraining.labels(ds.getLabels()), n, update, false);
            e.synchronize();
        }, (x, train) -> {
            int n = (int) x.size(0);
            org.alexnet4j.cuda.AlexNetEngine e = at.apply(n);
            float[] in = last[0] == x ? null : org.alexnet4j.infer.InferenceEngine.nchwFloats(x, net);
            last[0] = x;
            e.forwardOnly(in, n);
            e.synchronize();
            return null; // timed only
        }, precision);
    }

    /**
     * ONNX Runtime (CPU, {@code threads} intra-op threads, all graph optimisations) on the same net and weights: the
     * net's graph as {@link #alexnet4j} builds it (the same seed, so the same initial weights), exported by
     * {@link OnnxExport}. Inference only (no {@code fit}). The input tensor is made once per input array, so the
     * timing is ORT's run alone, like the other subjects' forward passes.
     */
    public static Subject onnxRuntime(AlexNet net, int threads) {
        return onnxRuntime(net, threads, false);
    }

    /**
     * As {@link #onnxRuntime(AlexNet, int)}; {@code int8}: the QDQ int8 export ({@code export-onnx --precision int8},
     * which ONNX Runtime's graph optimisation turns into its integer kernels), calibrated on a batch drawn as the timed
     * ones are: the int8 peer of the int8 engine.
     */
    public static Subject onnxRuntime(AlexNet net, int threads, boolean int8) {
        ComputationGraph g = graph(net, CacheMode.NONE);
        org.alexnet4j.weights.Calibration calibration = !int8 ? null : org.alexnet4j.infer.OneDnnInference
                .calibrationOn(net, g, Nd4j.rand(DataType.FLOAT, 8, 3, net.inputSize(), net.inputSize()).subi(0.5)
                        .muli(100), "random inputs");
        byte[] model = OnnxExport.model(net, TorchLayout.export(g, net), OnnxExport.DEFAULT_OPSET, calibration)
                .toByteArray();
        try {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            OrtSession.SessionOptions o = new OrtSession.SessionOptions();
            o.setIntraOpNumThreads(threads);
            o.setInterOpNumThreads(1);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OrtSession session = env.createSession(model, o);
            INDArray[] lastInput = new INDArray[1];
            OnnxTensor[] tensor = new OnnxTensor[1];
            return new Subject("onnxruntime " + net.variant().id() + (int8 ? " (int8 QDQ)" : ""),
                    net.exampleShape(), net.numClasses(), g.numParams(), null, (x, train) -> {
                try {
                    if (lastInput[0] != x) {
                        if (tensor[0] != null) {
                            tensor[0].close();
                        }
                        java.nio.FloatBuffer buf = java.nio.ByteBuffer.allocateDirect((int) x.length() * 4)
                                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer();
                        buf.put(org.alexnet4j.runtime.HostMemory.read(x)).flip();
                        tensor[0] = OnnxTensor.createTensor(env, buf, x.shape());
                        lastInput[0] = x;
                    }
                    try (OrtSession.Result r = session.run(Map.of(OnnxExport.INPUT, tensor[0]),
                            java.util.Set.of(OnnxExport.PROBABILITIES))) {
                        return null; // timed only
                    }
                } catch (OrtException e) {
                    throw new IllegalStateException("ONNX Runtime failed: " + e.getMessage(), e);
                }
            }, int8 ? "int8" : "fp32");
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime could not load the exported net: " + e.getMessage(), e);
        }
    }

    /** DL4J's zoo AlexNet (one tower, 224 input, its own recipe: Nesterov, L2), as shipped. */
    public static Subject zoo(int classes) {
        MultiLayerNetwork m = org.deeplearning4j.zoo.model.AlexNet.builder().numClasses(classes).build().init();
        return new Subject("dl4j zoo AlexNet", new long[]{3, 224, 224}, classes, m.numParams(), m::fit,
                (x, train) -> m.output(x, train));
    }

    /** One-hot labels {@code i % classes} for a batch: every class in turn. */
    public static INDArray oneHot(long batch, int classes) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        return y;
    }

    /** Timings of one subject. */
    public record Result(String model, long parameters, int batch, double[] stepMs, double[] forwardMs,
                         double[] inferMs, long peakHeapBytes, long peakResidentBytes, String precision) {
        /** Training images/s at the median step (NaN when training was not timed). */
        public double trainImagesPerSecond() {
            return batch * 1000.0 / median(stepMs);
        }

        /** Inference images/s at the median batch (NaN when inference was not timed). */
        public double inferImagesPerSecond() {
            return batch * 1000.0 / median(inferMs);
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("model", model);
            m.put("precision", precision);
            m.put("parameters", parameters);
            m.put("batch", batch);
            if (stepMs.length > 0) {
                m.put("trainStepMs", stats(stepMs));
                m.put("forwardTrainMs", stats(forwardMs));
                m.put("backwardUpdateMs", round(median(stepMs) - median(forwardMs)));
                m.put("trainImagesPerSecond", round(trainImagesPerSecond()));
            }
            if (inferMs.length > 0) {
                m.put("inferMs", stats(inferMs));
                m.put("inferImagesPerSecond", round(inferImagesPerSecond()));
            }
            m.put("peakHeapMiB", peakHeapBytes >> 20);
            m.put("peakResidentMiB", peakResidentBytes >> 20);
            return m;
        }
    }

    static Map<String, Object> stats(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("median", round(median(v)));
        m.put("min", round(s[0]));
        m.put("max", round(s[s.length - 1]));
        m.put("p50", round(percentile(v, 50)));
        m.put("p90", round(percentile(v, 90)));
        m.put("p99", round(percentile(v, 99)));
        m.put("n", s.length);
        return m;
    }

    public static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The nearest-rank {@code p}-th percentile (p in 0..100]; NaN for no values. */
    public static double percentile(double[] v, double p) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int rank = (int) Math.ceil(p / 100.0 * s.length);
        return s[Math.max(0, Math.min(s.length - 1, rank - 1))];
    }

    public static double round(double x) {
        return Math.round(x * 10) / 10.0;
    }

    /**
     * Runs {@code warmup} untimed and {@code iters} timed repetitions of each measured operation.
     */
    public static Result run(Subject s, int batch, boolean train, boolean infer, int warmup, int iters) {
        INDArray x = Nd4j.rand(DataType.FLOAT, s.inputShape(batch)).subi(0.5).muli(100);
        DataSet ds = new DataSet(x, oneHot(batch, s.classes()));
        MemorySampler mem = new MemorySampler();
        mem.start();
        try {
            train &= s.fit() != null; // inference-only subjects (ONNX Runtime)
            double[] step = new double[train ? iters : 0];
            double[] fwd = new double[train ? iters : 0];
            double[] inf = new double[infer ? iters : 0];
            if (train) {
                for (int i = 0; i < warmup; i++) {
                    s.fit().accept(ds);
                }
                for (int i = 0; i < iters; i++) {
                    long t0 = System.nanoTime();
                    s.fit().accept(ds);
                    step[i] = (System.nanoTime() - t0) / 1e6;
                }
                for (int i = 0; i < warmup; i++) {
                    s.output().apply(x, true);
                }
                for (int i = 0; i < iters; i++) {
                    long t0 = System.nanoTime();
                    s.output().apply(x, true);
                    fwd[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            if (infer) {
                for (int i = 0; i < warmup; i++) {
                    s.output().apply(x, false);
                }
                for (int i = 0; i < iters; i++) {
                    long t0 = System.nanoTime();
                    s.output().apply(x, false);
                    inf[i] = (System.nanoTime() - t0) / 1e6;
                }
            }
            mem.sample();
            return new Result(s.name(), s.parameters(), batch, step, fwd, inf, mem.peakHeap, mem.peakResident,
                    s.precision());
        } finally {
            mem.stop();
        }
    }

    /** Training speed with {@code devices} data-parallel replicas (1: one network, no ParallelWrapper). */
    public record Scaling(int devices, int batch, double[] stepMs) {
        /** Images per second of all replicas together. */
        public double imagesPerSecond() {
            return devices * batch * 1000.0 / median(stepMs);
        }

        /** Images/s relative to {@code devices} times the one-device rate. */
        public double efficiency(Scaling single) {
            return imagesPerSecond() / (devices * single.imagesPerSecond());
        }
    }

    /**
     * Times training steps of {@code net} on 1 or more replicas (ParallelWrapper, averaging every step, as
     * {@code train --devices N}): {@code warmup} untimed and {@code iters} timed steps of {@code batch} images per
     * replica, on in-memory batches (one per replica, reused), so the numbers are compute and averaging only.
     */
    public static Scaling scaling(AlexNet net, CacheMode cacheMode, int batch, int devices, int warmup, int iters) {
        ComputationGraph g = graph(net, cacheMode);
        List<DataSet> distinct = new ArrayList<>();
        for (int d = 0; d < devices; d++) {
            distinct.add(new DataSet(Nd4j.rand(DataType.FLOAT, batch, net.exampleShape()[0], net.exampleShape()[1],
                    net.exampleShape()[2]).subi(0.5).muli(100), oneHot(batch, net.numClasses())));
        }
        int steps = warmup + iters;
        List<DataSet> feed = new ArrayList<>();
        for (int i = 0; i < steps * devices; i++) {
            feed.add(distinct.get(i % devices));
        }
        List<Double> times = new ArrayList<>();
        long[] last = {System.nanoTime()};
        org.alexnet4j.train.StepEngine.StepListener timer = step -> {
            long now = System.nanoTime();
            times.add((now - last[0]) / 1e6);
            last[0] = now;
            return true;
        };
        try (org.alexnet4j.train.StepEngine engine = devices == 1
                ? new org.alexnet4j.train.SingleDevice(g, 1, () -> 0, 0.0005)
                : new org.alexnet4j.train.DataParallel(g, devices, org.alexnet4j.train.DataParallel.Mode.AVERAGING, 1,
                0.0005)) {
            last[0] = System.nanoTime();
            engine.train(new org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator<>(feed, 1),
                    feed.size(), timer);
        }
        double[] ms = times.subList(warmup, times.size()).stream().mapToDouble(Double::doubleValue).toArray();
        return new Scaling(devices, batch, ms);
    }

    /** Per-layer forward and backward milliseconds of a graph (median over {@code iters}, after one warm-up). */
    public record LayerTime(String layer, double forwardMs, double backwardMs) {
    }

    /**
     * Runs the graph vertex by vertex in topological order, timing each vertex's forward pass (training mode) and
     * then its backward pass (epsilons summed where a vertex feeds several others, as DL4J does). Every repetition
     * runs in one ND4J workspace that learns its size in the warm-up, so memory is reused as in {@code fit} (fresh
     * memory costs ~2.9 ms/MB on some VMs and would swamp the layers' own cost). The sum over layers is close to a
     * training step without the update.
     */
    public static List<LayerTime> perLayer(AlexNet net, CacheMode cacheMode, int batch, int iters) {
        ComputationGraph g = graph(net, cacheMode);
        long[] e = net.exampleShape();
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, e[0], e[1], e[2]).subi(0.5).muli(100);
        return perLayer(g, new INDArray[]{x}, oneHot(batch, net.numClasses()), iters);
    }

    /** {@link #perLayer(AlexNet, CacheMode, int, int)} for any single-output graph and its inputs. */
    static List<LayerTime> perLayer(ComputationGraph g, INDArray[] x, INDArray y, int iters) {
        g.initGradientsView(); // backward passes write into the gradient views
        g.setInputs(x); // preprocessors ask the graph for the batch size
        g.setLabels(y);
        GraphVertex[] vertices = g.getVertices();
        int[] order = g.topologicalSortOrder();
        Map<String, List<Double>> fwd = new LinkedHashMap<>();
        Map<String, List<Double>> bwd = new LinkedHashMap<>();
        WorkspaceConfiguration wsConf = WorkspaceConfiguration.builder()
                .policyLearning(LearningPolicy.FIRST_LOOP)
                .policyAllocation(AllocationPolicy.OVERALLOCATE).overallocationLimit(0.05)
                .policySpill(SpillPolicy.REALLOCATE)
                .build();
        String wsId = "alexnet4j-per-layer";
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.builder().defaultWorkspace(wsId, wsConf).build();
        for (int rep = 0; rep <= iters; rep++) {
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().getAndActivateWorkspace(wsConf, wsId)) {
                passes(vertices, order, x, y, mgr, rep > 0 ? fwd : null, rep > 0 ? bwd : null);
            }
        }
        Nd4j.getWorkspaceManager().destroyWorkspace(Nd4j.getWorkspaceManager().getWorkspaceForCurrentThread(wsId));
        List<LayerTime> out = new ArrayList<>();
        for (Map.Entry<String, List<Double>> e : fwd.entrySet()) {
            double f = median(e.getValue().stream().mapToDouble(Double::doubleValue).toArray());
            List<Double> b = bwd.getOrDefault(e.getKey(), List.of());
            double bb = b.isEmpty() ? 0 : median(b.stream().mapToDouble(Double::doubleValue).toArray());
            out.add(new LayerTime(e.getKey(), round(f), round(bb)));
        }
        return out;
    }

    /** One forward and backward pass, vertex by vertex; times go into {@code fwd}/{@code bwd} unless null. */
    private static void passes(GraphVertex[] vertices, int[] order, INDArray[] x, INDArray y, LayerWorkspaceMgr mgr,
                               Map<String, List<Double>> fwd, Map<String, List<Double>> bwd) {
        {
            INDArray[] acts = new INDArray[vertices.length];
            for (int idx : order) {
                GraphVertex v = vertices[idx];
                if (v.isInputVertex()) {
                    acts[idx] = x[v.getVertexIndex()]; // input vertices come first, in input order
                    continue;
                }
                VertexIndices[] in = v.getInputVertices();
                for (int i = 0; i < in.length; i++) {
                    v.setInput(i, acts[in[i].getVertexIndex()], mgr);
                }
                if (v.hasLayer() && v.getLayer() instanceof IOutputLayer out) {
                    out.setLabels(y);
                }
                long t0 = System.nanoTime();
                acts[idx] = v.doForward(true, mgr);
                double ms = (System.nanoTime() - t0) / 1e6;
                if (fwd != null) {
                    fwd.computeIfAbsent(v.getVertexName(), k -> new ArrayList<>()).add(ms);
                }
            }
            INDArray[] eps = new INDArray[vertices.length];
            for (int k = order.length - 1; k >= 0; k--) {
                int idx = order[k];
                GraphVertex v = vertices[idx];
                if (v.isInputVertex()) {
                    continue;
                }
                if (!v.isOutputVertex()) {
                    if (eps[idx] == null) {
                        continue;
                    }
                    v.setEpsilon(eps[idx]);
                }
                long t0 = System.nanoTime();
                INDArray[] back = v.doBackward(false, mgr).getSecond();
                double ms = (System.nanoTime() - t0) / 1e6;
                if (bwd != null) {
                    bwd.computeIfAbsent(v.getVertexName(), kk -> new ArrayList<>()).add(ms);
                }
                VertexIndices[] in = v.getInputVertices();
                for (int i = 0; i < in.length; i++) {
                    int src = in[i].getVertexIndex();
                    if (back[i] == null) {
                        continue;
                    }
                    eps[src] = eps[src] == null ? back[i].dup() : eps[src].addi(back[i]);
                }
            }
        }
    }

    /** Forward+backward milliseconds of a two-tower convolution block and of one layer doing the same work. */
    public record TowerCost(String block, double towersMs, double singleMs) {
        public double ratio() {
            return towersMs / singleMs;
        }
    }

    /**
     * The price of the towers: for each grouped layer of {@code net} (the paper's conv2, conv4, conv5), the
     * forward+backward time of the two tower convolutions ({@code C_in/2 -> C_out/2} each) against one ungrouped
     * convolution of the same arithmetic ({@code C_in/2 -> C_out}), same batch, maps, kernel and padding, timed as
     * {@link #perLayer}. Empty for a net without towers.
     */
    public static List<TowerCost> towerCost(AlexNet net, CacheMode cacheMode, int batch, int iters) {
        ComputationGraphConfiguration conf = net.configuration();
        Map<String, InputType> types = conf.getLayerActivationTypes(net.inputType());
        List<TowerCost> out = new ArrayList<>();
        for (ParamLayer l : net.paramLayers()) {
            if (!l.convolution() || l.groups() != 2) {
                continue;
            }
            String towerA = l.parts().get(0);
            var layer = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer)
                    ((LayerVertex) conf.getVertices().get(towerA)).getLayerConf().getLayer();
            var inType = (InputType.InputTypeConvolutional) types.get(conf.getVertexInputs().get(towerA).get(0));
            int in = l.inPerGroup(), outPerTower = l.outChannels() / 2, size = (int) inType.getHeight();
            int k = l.kernel(), pad = layer.getPadding()[0];
            INDArray xa = Nd4j.rand(DataType.FLOAT, batch, in, size, size);
            INDArray xb = Nd4j.rand(DataType.FLOAT, batch, in, size, size);
            INDArray y = oneHot(batch, 10);
            ComputationGraph towers = convGraph(cacheMode, in, size, k, pad, outPerTower, 2);
            ComputationGraph single = convGraph(cacheMode, in, size, k, pad, 2 * outPerTower, 1);
            double t = convMs(perLayer(towers, new INDArray[]{xa, xb}, y, iters));
            double s = convMs(perLayer(single, new INDArray[]{xa}, y, iters));
            out.add(new TowerCost(l.name(), round(t), round(s)));
        }
        return out;
    }

    private static double convMs(List<LayerTime> times) {
        return times.stream().filter(t -> t.layer().startsWith("conv"))
                .mapToDouble(t -> t.forwardMs() + t.backwardMs()).sum();
    }

    /** {@code branches} inputs, each into its own ReLU convolution, merged, averaged over space, 10-way softmax. */
    private static ComputationGraph convGraph(CacheMode cacheMode, int in, int size, int k, int pad, int out,
                                              int branches) {
        var g = new NeuralNetConfiguration.Builder().updater(new ClassicalMomentum(0.01, 0.9)).cacheMode(cacheMode)
                .graphBuilder();
        String[] inputs = new String[branches], convs = new String[branches];
        InputType[] types = new InputType[branches];
        for (int i = 0; i < branches; i++) {
            inputs[i] = "in" + i;
            convs[i] = "conv" + i;
            types[i] = InputType.convolutional(size, size, in);
        }
        g.addInputs(inputs).setInputTypes(types);
        for (int i = 0; i < branches; i++) {
            g.addLayer(convs[i], new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(k, k)
                    .padding(pad, pad).nOut(out).activation(Activation.RELU).build(), inputs[i]);
        }
        String last = convs[0];
        if (branches > 1) {
            g.addVertex("merge", new MergeVertex(), convs);
            last = "merge";
        }
        g.addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), last);
        g.addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                .activation(Activation.SOFTMAX).build(), "gap");
        g.setOutputs("out");
        ComputationGraph graph = new ComputationGraph(g.build());
        graph.init();
        return graph;
    }

    /** Samples JVM heap use and resident memory (JavaCPP's physicalBytes) every 20 ms; keeps the peaks. */
    static final class MemorySampler {
        volatile long peakHeap;
        volatile long peakResident;
        private volatile boolean running = true;
        private final Thread thread = new Thread(() -> {
            while (running) {
                sample();
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "alexnet4j-memory-sampler");

        void start() {
            thread.setDaemon(true);
            thread.start();
        }

        synchronized void sample() {
            Runtime rt = Runtime.getRuntime();
            peakHeap = Math.max(peakHeap, rt.totalMemory() - rt.freeMemory());
            peakResident = Math.max(peakResident, Pointer.physicalBytes());
        }

        void stop() {
            running = false;
            thread.interrupt();
        }
    }
}
