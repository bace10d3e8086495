package org.alexnet4j.serve;

import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.cuda.ReferenceOps;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;

/**
 * What both endpoints (REST and gRPC) call: finds the model, checks the request (one input, its name, datatype,
 * shape, size and values), decodes images on the decode pool (never on the batcher's thread), queues the inputs on
 * the model's {@link Batcher} and turns its logits into the outputs asked for. Every refusal is a
 * {@link ServeException} with a sentence.
 */
public final class InferenceService implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceService.class);

    private final Map<String, ServedModel> models = new LinkedHashMap<>();
    private final Map<String, Batcher> batchers = new LinkedHashMap<>();
    private final ServeMetrics metrics;
    private final ExecutorService decoders;
    private volatile boolean stopping;

    /**
     * @param models   the models, warmed ({@link ServedModel#warm})
     * @param decoders the pool that decodes and preprocesses images
     */
    public InferenceService(List<ServedModel> models, int maxBatch, long maxDelayNanos, int queue,
                            ExecutorService decoders) {
        for (ServedModel m : models) {
            if (this.models.put(m.name(), m) != null) {
                throw new IllegalArgumentException("two models are named " + m.name() + "; name each differently");
            }
        }
        this.metrics = new ServeMetrics(this.models.keySet(), name -> batchers.get(name).depth());
        for (ServedModel m : models) {
            batchers.put(m.name(), new Batcher(m, Math.min(maxBatch, m.maxBatch()), maxDelayNanos, queue, metrics));
        }
        this.decoders = decoders;
    }

    public ServeMetrics metrics() {
        return metrics;
    }

    public List<ServedModel> models() {
        return List.copyOf(models.values());
    }

    /** The model {@code name} at {@code version} (null or empty: its only version). */
    public ServedModel model(String name, String version) {
        ServedModel m = models.get(name);
        if (m == null) {
            throw new ServeException(ServeException.Status.NOT_FOUND, "no model named '" + name + "' (this server "
                    + "has " + String.join(", ", models.keySet()) + ")");
        }
        if (version != null && !version.isEmpty() && !version.equals(m.version())) {
            throw new ServeException(ServeException.Status.NOT_FOUND, "model " + name + " has no version '" + version
                    + "' (it has " + m.version() + ")");
        }
        return m;
    }

    /** Whether every model is ready and the server is not stopping. */
    public boolean ready() {
        return !stopping && models.values().stream().allMatch(ServedModel::ready);
    }

    /** The most images one request may hold for {@code m}. */
    public int maxImages(ServedModel m) {
        return Math.min(m.maxBatch(), batchers.get(m.name()).maxBatch());
    }

    /**
     * Runs one request; the future completes with the response, or exceptionally with a {@link ServeException}.
     * Checks that need no work (model, input) throw at once.
     */
    public CompletableFuture<InferResponse> infer(InferRequest r) {
        ServedModel m = model(r.model(), r.version());
        if (stopping || !m.ready()) {
            throw new ServeException(ServeException.Status.UNAVAILABLE, "model " + m.name() + " is not ready"
                    + (stopping ? " (the server is stopping)" : " (still compiling its engines)"));
        }
        if (r.inputs().size() != 1) {
            throw invalid("give exactly one input, '" + ServedModel.INPUT + "' (FP32 [N,3," + m.net().inputSize()
                    + "," + m.net().inputSize() + "], preprocessed) or '" + ServedModel.IMAGE
                    + "' (BYTES [N], encoded images); got " + r.inputs().size());
        }
        List<InferRequest.Output> outputs = outputs(m, r);
        Tensor in = r.inputs().get(0);
        long deadline = r.timeoutNanos() > 0 ? System.nanoTime() + r.timeoutNanos() : 0;
        Batcher batcher = batchers.get(m.name());
        CompletableFuture<float[]> x;
        int n;
        if (in.name().equals(ServedModel.INPUT)) {
            n = checkTensor(m, in);
            x = CompletableFuture.completedFuture(in.fp32());
        } else if (in.name().equals(ServedModel.IMAGE)) {
            n = checkImages(m, in);
            batcher.announce();
            x = CompletableFuture.supplyAsync(() -> decode(m, in.bytes()), decoders).whenComplete((v, e) -> {
                if (e != null) {
                    batcher.withdraw();
                }
            });
        } else {
            throw invalid("model " + m.name() + " has no input '" + in.name() + "'; its inputs are '"
                    + ServedModel.INPUT + "' and '" + ServedModel.IMAGE + "'");
        }
        int images = n;
        boolean announced = in.name().equals(ServedModel.IMAGE);
        return x.thenCompose(v -> batcher.submit(v, images, deadline, announced))
                .thenApply(res -> respond(m, r, outputs, res.logits(), images));
    }

    private int checkTensor(ServedModel m, Tensor in) {
        int s = m.net().inputSize();
        if (!Tensor.FP32.equals(in.datatype())) {
            throw invalid("input '" + ServedModel.INPUT + "' is FP32, got " + in.datatype());
        }
        long[] sh = in.shape();
        if (sh.length != 4 || sh[1] != 3 || sh[2] != s || sh[3] != s || sh[0] < 1) {
            throw invalid("input '" + ServedModel.INPUT + "' has shape [N,3," + s + "," + s + "] (N >= 1), got "
                    + java.util.Arrays.toString(sh));
        }
        checkCount(m, sh[0]);
        if (in.fp32() == null || in.fp32().length != Tensor.elements(sh)) {
            throw invalid("input '" + ServedModel.INPUT + "' of shape " + java.util.Arrays.toString(sh) + " needs "
                    + Tensor.elements(sh) + " values, got " + (in.fp32() == null ? 0 : in.fp32().length));
        }
        float[] v = in.fp32();
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw invalid("input '" + ServedModel.INPUT + "' holds " + v[i] + " at element " + i
                        + "; every value must be finite");
            }
        }
        return (int) sh[0];
    }

    private int checkImages(ServedModel m, Tensor in) {
        if (!Tensor.BYTES.equals(in.datatype())) {
            throw invalid("input '" + ServedModel.IMAGE + "' is BYTES (encoded image files), got " + in.datatype());
        }
        long[] sh = in.shape();
        if (!(sh.length == 1 || (sh.length == 2 && sh[1] == 1)) || sh[0] < 1) {
            throw invalid("input '" + ServedModel.IMAGE + "' has shape [N] or [N,1] (N >= 1), got "
                    + java.util.Arrays.toString(sh));
        }
        checkCount(m, sh[0]);
        if (in.bytes() == null || in.bytes().size() != sh[0]) {
            throw invalid("input '" + ServedModel.IMAGE + "' of shape " + java.util.Arrays.toString(sh) + " needs "
                    + sh[0] + " images, got " + (in.bytes() == null ? 0 : in.bytes().size()));
        }
        return (int) sh[0];
    }

    private void checkCount(ServedModel m, long n) {
        if (n > maxImages(m)) {
            throw invalid("a request holds at most " + maxImages(m) + " images (--max-batch), got " + n
                    + "; split it");
        }
    }

    private static float[] decode(ServedModel m, List<byte[]> images) {
        float[] x = new float[images.size() * m.inputLength()];
        for (int i = 0; i < images.size(); i++) {
            try {
                m.preprocess(images.get(i), x, i * m.inputLength());
            } catch (ImageCodec.DecodeException e) {
                throw new CompletionException(invalid("image " + i + " cannot be read: " + e.getMessage()));
            } catch (RuntimeException e) {
                log.warn("decoding image {} of a request failed", i, e);
                throw new CompletionException(invalid("image " + i + " cannot be read (" + e.getClass()
                        .getSimpleName() + ")"));
            }
        }
        return x;
    }

    /** The outputs asked for, checked; none asked: logits and probabilities, and top_k for images. */
    private static List<InferRequest.Output> outputs(ServedModel m, InferRequest r) {
        if (r.outputs().isEmpty()) {
            List<InferRequest.Output> d = new ArrayList<>();
            d.add(new InferRequest.Output(ServedModel.LOGITS, r.binaryOutputs(), 0));
            d.add(new InferRequest.Output(ServedModel.PROBABILITIES, r.binaryOutputs(), 0));
            if (r.inputs().size() == 1 && ServedModel.IMAGE.equals(r.inputs().get(0).name())) {
                d.add(new InferRequest.Output(ServedModel.TOP_K, r.binaryOutputs(), 0));
            }
            return d;
        }
        for (InferRequest.Output o : r.outputs()) {
            if (!List.of(ServedModel.LOGITS, ServedModel.PROBABILITIES, ServedModel.TOP_K).contains(o.name())) {
                throw invalid("model " + m.name() + " has no output '" + o.name() + "'; its outputs are "
                        + ServedModel.LOGITS + ", " + ServedModel.PROBABILITIES + " and " + ServedModel.TOP_K);
            }
            if (o.classification() < 0) {
                throw invalid("output " + o.name() + ": classification must be a positive count, got "
                        + o.classification());
            }
        }
        return r.outputs();
    }

    private static InferResponse respond(ServedModel m, InferRequest r, List<InferRequest.Output> outputs,
                                         float[] logits, int n) {
        int c = m.classes();
        float[] probs = new float[logits.length];
        for (int i = 0; i < n; i++) {
            ReferenceOps.softmax(logits, i * c, c, probs, i * c);
        }
        List<Tensor> out = new ArrayList<>();
        for (InferRequest.Output o : outputs) {
            float[] values = o.name().equals(ServedModel.LOGITS) ? logits : probs;
            int k = o.name().equals(ServedModel.TOP_K) ? (o.classification() > 0 ? o.classification() : m.top())
                    : o.classification();
            if (k > 0) {
                out.add(Tensor.bytes(o.name(), new long[]{n, Math.min(k, c)}, classify(m, values, n, k),
                        o.binary()));
            } else {
                out.add(Tensor.fp32(o.name(), new long[]{n, c}, values, o.binary()));
            }
        }
        return new InferResponse(m.name(), m.version(), r.id(), out);
    }

    /** Triton's classification strings, {@code "value:index:label"}, the top {@code k} of each row. */
    private static List<byte[]> classify(ServedModel m, float[] values, int n, int k) {
        List<byte[]> s = new ArrayList<>();
        int c = m.classes();
        for (int i = 0; i < n; i++) {
            for (org.alexnet4j.eval.Predictor.Ranked rk : org.alexnet4j.eval.Predictor.rank(values, i * c, c, k)) {
                s.add(String.format(Locale.ROOT, "%.6f:%d:%s", rk.probability(), rk.index(), m.label(rk.index()))
                        .getBytes(StandardCharsets.UTF_8));
            }
        }
        return s;
    }

    /** Refuses an input whose datatype no input of a served model has (before its contents are read). */
    static void checkDatatype(String input, String datatype) {
        if (!Tensor.FP32.equals(datatype) && !Tensor.BYTES.equals(datatype)) {
            throw invalid("input '" + input + "': datatype " + datatype + " is not served (FP32 for '"
                    + ServedModel.INPUT + "', BYTES for '" + ServedModel.IMAGE + "')");
        }
    }

    static ServeException invalid(String message) {
        return new ServeException(ServeException.Status.INVALID, message);
    }

    /** The failure behind a future's exception, as a ServeException (unexpected ones logged, INTERNAL). */
    public static ServeException unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof java.util.concurrent.ExecutionException)
                && c.getCause() != null) {
            c = c.getCause();
        }
        if (c instanceof ServeException s) {
            return s;
        }
        log.error("request failed", c);
        return new ServeException(ServeException.Status.INTERNAL, "the server failed on this request: " + c);
    }

    /** Not ready from now on; queued requests still run. */
    public void stopAccepting() {
        stopping = true;
    }

    @Override
    public void close() {
        stopping = true;
        batchers.values().forEach(b -> b.drain(60_000));
        models.values().forEach(ServedModel::close);
    }
}
