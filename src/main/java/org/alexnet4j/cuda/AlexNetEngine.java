package org.alexnet4j.cuda;

import org.alexnet4j.model.NetSpec;
import org.alexnet4j.model.ParamLayer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * AlexNet's training and inference on an {@link Ops} seam: the forward pass, the backward pass and the paper's
 * momentum update, planned once from a {@link NetSpec} for batches of up to {@code maxBatch} images. Parameters,
 * velocities, activations and gradients stay in the seam's memory (the GPU's, for {@link CudaOps}) across steps;
 * only images, labels, and what a caller asks for cross to the host.
 *
 * <p>The paper's two towers: conv2, conv4 and conv5 are grouped convolutions (2 groups; tower a the first half of the
 * channels, as DL4J's graph merges them), conv1 and conv3 read everything; the per-tower LRN runs on a tower's half of
 * the channels, which in NCHW is the same memory as a batch of {@code 2n} maps of half the channels. Caffe's LRN
 * spans all channels. Max pooling with Caffe's rounded-up sizes pools a map padded with zeros at the bottom and
 * right (exact: it pools ReLU outputs, which are >= 0). Dropout is inverted (scaled while training), after fc6 and fc7
 * (the paper, Caffe) or before them (torchvision). The loss is the mean softmax cross-entropy.
 *
 * <p>Parameters are in PyTorch's layout (see {@link Ops}); {@link #setParameters}, {@link #parameters},
 * {@link #gradients}, {@link #velocity} and {@link #setVelocity} move them by layer name ({@code conv1} ...
 * {@code fc8}). Not thread-safe: one engine is one stream of work.
 */
public final class AlexNetEngine implements AutoCloseable {

    /** The update of one step: the paper's rule with per-layer learning-rate multipliers and frozen layers. */
    public record Update(double learningRate, double momentum, double weightDecay, Map<String, double[]> multipliers,
                         Set<String> frozen) {
        public Update {
            multipliers = Map.copyOf(multipliers);
            frozen = Set.copyOf(frozen);
            if (!(learningRate >= 0) || !(momentum >= 0 && momentum < 1) || !(weightDecay >= 0)) {
                throw new IllegalArgumentException("bad update: lr " + learningRate + ", momentum " + momentum
                        + ", weight decay " + weightDecay);
            }
        }

        /** Every layer at the same learning rate, none frozen. */
        public static Update of(double learningRate, double momentum, double weightDecay) {
            return new Update(learningRate, momentum, weightDecay, Map.of(), Set.of());
        }

        public Update withLearningRate(double lr) {
            return new Update(lr, momentum, weightDecay, multipliers, frozen);
        }
    }

    /** One parameter layer's memory. */
    private static final class Param {
        final ParamLayer layer;
        final int weightCount;
        final int biasCount;
        final Ops.Buffer w, b, dw, db, vw, vb;

        Param(AlexNetEngine e, ParamLayer layer) {
            this.layer = layer;
            this.weightCount = Math.toIntExact(layer.weightCount());
            this.biasCount = layer.outChannels();
            String n = layer.name();
            w = e.alloc(weightCount, n + " weights");
            b = e.alloc(biasCount, n + " biases");
            dw = e.alloc(weightCount, n + " weight gradient");
            db = e.alloc(biasCount, n + " bias gradient");
            vw = e.alloc(weightCount, n + " weight velocity");
            vb = e.alloc(biasCount, n + " bias velocity");
        }
    }

    /** One convolution block's plan and activations (sized for maxBatch). */
    private static final class Block {
        Ops.Conv conv;
        Param param;
        int lrnGroups;
        boolean pool;
        int poolPadding;
        Ops.Buffer input, dInput;   // the block's input (the previous block's output), and its gradient
        Ops.Buffer y, dy;           // conv + ReLU output
        Ops.Buffer lrn, dLrn;       // LRN output
        Ops.Buffer padded, dPadded; // Caffe's pooling padding
        Ops.Buffer out, dOut;       // pooled output (or the last of the above)
        int outChannels, outSide;
    }

    /** One fully connected stage: optional dropout on its input, the product (+ ReLU), optional dropout after. */
    private static final class Dense {
        Param param;
        boolean relu;
        Ops.Dropout dropBefore, dropAfter;
        Ops.Buffer input, dInput;      // what the layer multiplies (after dropBefore)
        Ops.Buffer rawInput, dRawInput; // before dropBefore (== input without it)
        Ops.Buffer y, dy;              // product (+ ReLU)
        Ops.Buffer out, dOut;          // after dropAfter (== y without it)
        int in, outWidth;
    }

    private final NetSpec spec;
    private final Ops ops;
    private final int maxBatch;
    private final int imageSide;
    private final Ops.Lrn lrn;
    private final Ops.Pool pool;
    private final Map<String, Param> params = new LinkedHashMap<>();
    private final List<Block> blocks = new ArrayList<>();
    private final List<Dense> dense = new ArrayList<>();
    private final Ops.Buffer[] images = new Ops.Buffer[2];
    private final Ops.Buffer paddedImage, onehot, probs, dLogits, scratch;
    private int slot;
    private boolean slotUsed;
    private java.util.function.Consumer<String> tracer;
    private long plannedBytes;
    private final int classes;
    private final float[] onehotHost;
    private long steps;

    /**
     * Plans the net for batches of up to {@code maxBatch} and allocates all memory. Dropout masks are drawn from
     * {@code seed}. Parameters start at zero: set them with {@link #setParameters} or {@link #initialise}.
     */
    public AlexNetEngine(NetSpec spec, Ops ops, int maxBatch, long seed) {
        if (spec == null || ops == null) {
            throw new IllegalArgumentException("a net description and an op seam are needed");
        }
        if (maxBatch < 1) {
            throw new IllegalArgumentException("maxBatch must be at least 1, got " + maxBatch);
        }
        if (spec.edgePadding()) {
            throw new IllegalArgumentException("the edge-padding ablation is not supported by the " + ops.name()
                    + " engine (cuDNN pads with zeros); train it on the CPU engine");
        }
        this.spec = spec;
        this.ops = ops;
        this.maxBatch = maxBatch;
        this.imageSide = spec.inputSize();
        this.lrn = new Ops.Lrn(spec.lrnSize(), spec.lrnK(), spec.lrnAlpha(), spec.lrnBeta());
        this.pool = new Ops.Pool(spec.poolWindow(), NetSpec.POOL_STRIDE, spec.maxPooling());
        int n = maxBatch;
        // two input buffers: the next batch is copied in while the previous step still runs
        images[0] = alloc((long) n * 3 * imageSide * imageSide, "input images");
        images[1] = alloc((long) n * 3 * imageSide * imageSide, "input images");
        int side = imageSide + spec.inputOverhang();
        paddedImage = spec.inputOverhang() > 0 ? alloc((long) n * 3 * side * side, "padded images") : null;
        Ops.Buffer current = paddedImage != null ? paddedImage : images[0];
        Ops.Buffer currentGrad = null;
        int channels = 3;
        boolean first = true;
        for (NetSpec.ConvBlock cb : spec.blocks()) {
            ParamLayer pl = cb.layer();
            Block b = new Block();
            int outSide = NetSpec.convolved(side, pl.kernel(), cb.stride(), cb.pad());
            b.conv = new Ops.Conv(pl.name(), channels, side, pl.outChannels(), outSide, pl.kernel(), cb.stride(),
                    cb.pad(), pl.groups());
            b.param = param(pl);
            b.lrnGroups = cb.lrnGroups();
            b.pool = cb.pool();
            b.poolPadding = cb.poolPadding();
            b.input = current;
            b.dInput = first ? null : currentGrad;
            long count = (long) n * pl.outChannels() * outSide * outSide;
            b.y = alloc(count, pl.name() + " output");
            b.dy = alloc(count, pl.name() + " output gradient");
            Ops.Buffer last = b.y, lastGrad = b.dy;
            if (cb.lrnGroups() > 0) {
                if (pl.outChannels() % cb.lrnGroups() != 0) {
                    throw new IllegalArgumentException(pl.name() + ": " + pl.outChannels()
                            + " channels do not split into " + cb.lrnGroups() + " LRN groups");
                }
                b.lrn = alloc(count, pl.name() + " LRN output");
                b.dLrn = alloc(count, pl.name() + " LRN gradient");
                last = b.lrn;
                lastGrad = b.dLrn;
            }
            side = outSide;
            if (cb.pool()) {
                if (cb.poolPadding() > 0) {
                    int ps = side + cb.poolPadding();
                    long pc = (long) n * pl.outChannels() * ps * ps;
                    b.padded = alloc(pc, pl.name() + " padded for pooling");
                    b.dPadded = alloc(pc, pl.name() + " padded gradient");
                }
                side = spec.pooled(side, cb.poolPadding());
                long oc = (long) n * pl.outChannels() * side * side;
                b.out = alloc(oc, pl.name() + " pooled");
                b.dOut = alloc(oc, pl.name() + " pooled gradient");
            } else {
                b.out = last;
                b.dOut = lastGrad;
            }
            b.outChannels = pl.outChannels();
            b.outSide = side;
            blocks.add(b);
            current = b.out;
            currentGrad = b.dOut;
            channels = pl.outChannels();
            first = false;
        }
        int features = channels * side * side;
        List<ParamLayer> fcs = spec.fullyConnected();
        int width = features;
        Ops.Buffer in = current, dIn = currentGrad;
        for (int i = 0; i < fcs.size(); i++) {
            ParamLayer pl = fcs.get(i);
            if (pl.inPerGroup() != width) {
                throw new IllegalArgumentException(pl.name() + " expects " + pl.inPerGroup() + " inputs, the net gives "
                        + width);
            }
            boolean hidden = i < fcs.size() - 1;
            Dense d = new Dense();
            d.param = param(pl);
            d.relu = hidden;
            d.in = width;
            d.outWidth = pl.outChannels();
            d.rawInput = in;
            d.dRawInput = dIn;
            boolean dropHere = hidden && spec.dropout() > 0;
            if (dropHere && spec.dropoutBeforeFc()) {
                d.dropBefore = ops.dropout((long) n * width, (float) spec.dropout(), seed * 31 + i);
                d.input = alloc((long) n * width, pl.name() + " dropped input");
                d.dInput = alloc((long) n * width, pl.name() + " dropped input gradient");
            } else {
                d.input = in;
                d.dInput = dIn;
            }
            d.y = alloc((long) n * d.outWidth, pl.name() + " output");
            d.dy = alloc((long) n * d.outWidth, pl.name() + " output gradient");
            if (dropHere && !spec.dropoutBeforeFc()) {
                d.dropAfter = ops.dropout((long) n * d.outWidth, (float) spec.dropout(), seed * 31 + i);
                d.out = alloc((long) n * d.outWidth, pl.name() + " dropped output");
                d.dOut = alloc((long) n * d.outWidth, pl.name() + " dropped output gradient");
            } else {
                d.out = d.y;
                d.dOut = d.dy;
            }
            dense.add(d);
            in = d.out;
            dIn = d.dOut;
            width = d.outWidth;
        }
        classes = width;
        onehot = alloc((long) n * classes, "labels");
        probs = alloc((long) n * classes, "probabilities");
        dLogits = alloc((long) n * classes, "logit gradient");
        scratch = alloc((long) n * classes, "loss scratch");
        onehotHost = new float[n * classes];
    }

    /** Allocates on the seam, counting what the plan takes; out of memory says how much the plan had before. */
    private Ops.Buffer alloc(long count, String what) {
        try {
            Ops.Buffer b = ops.alloc(count, what);
            plannedBytes += count * 4;
            return b;
        } catch (CudaException e) {
            throw new CudaException(String.format(java.util.Locale.ROOT, "the engine for batches of %d does not fit:"
                    + " %.0f MiB were allocated before %s; %s", maxBatch, plannedBytes / 1048576.0, what,
                    e.getMessage()), e);
        }
    }

    /** Bytes of device memory the plan holds (parameters, momentum, activations, gradients; not the workspace). */
    public long plannedBytes() {
        return plannedBytes;
    }

    private Param param(ParamLayer pl) {
        Param p = new Param(this, pl);
        params.put(pl.name(), p);
        return p;
    }

    /** The description this engine was planned from. */
    public NetSpec spec() {
        return spec;
    }

    /** The op seam's name ("cuda" or "reference"). */
    public String opsName() {
        return ops.name();
    }

    public int maxBatch() {
        return maxBatch;
    }

    public int numClasses() {
        return classes;
    }

    /** Parameter layer names in order: conv1 ... fc8. */
    public List<String> layerNames() {
        return Collections.unmodifiableList(new ArrayList<>(params.keySet()));
    }

    /** The number of floats in a layer's weights and biases. */
    public int[] parameterCounts(String layer) {
        Param p = param(layer);
        return new int[]{p.weightCount, p.biasCount};
    }

    /** Sets a layer's weights ({@code [out, in/groups, k, k]} or {@code [out, in]}) and biases. */
    public void setParameters(String layer, float[] weights, float[] biases) {
        Param p = param(layer);
        check(layer + " weights", weights, p.weightCount);
        check(layer + " biases", biases, p.biasCount);
        ops.upload(weights, p.weightCount, p.w);
        ops.upload(biases, p.biasCount, p.b);
    }

    /** A layer's weights and biases: {@code {weights, biases}}. */
    public float[][] parameters(String layer) {
        Param p = param(layer);
        return read(p, p.w, p.b);
    }

    /** A layer's gradients from the last backward pass (of {@link #gradients(float[], int[], int)} or a step). */
    public float[][] gradients(String layer) {
        Param p = param(layer);
        return read(p, p.dw, p.db);
    }

    /** A layer's momentum velocities {@code {weights, biases}} (the update's state, for checkpoints). */
    public float[][] velocity(String layer) {
        Param p = param(layer);
        return read(p, p.vw, p.vb);
    }

    /** Sets a layer's velocities (resuming from a checkpoint). */
    public void setVelocity(String layer, float[] weights, float[] biases) {
        Param p = param(layer);
        check(layer + " weight velocity", weights, p.weightCount);
        check(layer + " bias velocity", biases, p.biasCount);
        ops.upload(weights, p.weightCount, p.vw);
        ops.upload(biases, p.biasCount, p.vb);
    }

    /**
     * Initialises every layer from {@code seed} ({@link SeededInit}): the spec's initialisation, or He-scaled weights
     * with {@code he}.
     */
    public void initialise(long seed, boolean he) {
        for (Param p : params.values()) {
            float[][] wb = SeededInit.layer(spec, p.layer, seed, he);
            setParameters(p.layer.name(), wb[0], wb[1]);
        }
    }

    /** Steps taken by {@link #step}. */
    public long steps() {
        return steps;
    }

    /**
     * Logits {@code [n, classes]} of {@code n} images ({@code [n, 3, S, S]}, NCHW, normalised as the model expects),
     * inference mode (no dropout).
     */
    public float[] logits(float[] images, int n) {
        forward(images, n, false);
        float[] out = new float[n * classes];
        ops.download(dense.get(dense.size() - 1).y, n * classes, out);
        return out;
    }

    /** The layers {@link #features} reads: the pooled map fc6 reads, fc6 and fc7 (after ReLU), fc8 (logits). */
    public static final List<String> FEATURE_LAYERS = List.of("pool5", "fc6", "fc7", "fc8");

    /**
     * A layer's activations {@code [n, D]} for any number {@code n} of images (run in pieces of {@link #maxBatch}),
     * inference mode: {@code pool5} (the map fc6 reads, flattened in NCHW order), {@code fc6} and {@code fc7} (after
     * ReLU), {@code fc8} (logits).
     */
    public float[] features(String layer, float[] images, int n) {
        Ops.Buffer source;
        int width;
        switch (layer) {
            case "pool5" -> {
                Block b = blocks.get(blocks.size() - 1);
                source = b.out;
                width = b.outChannels * b.outSide * b.outSide;
            }
            case "fc6", "fc7", "fc8" -> {
                Dense d = dense.get(Integer.parseInt(layer.substring(2)) - 6);
                source = d.y;
                width = d.outWidth;
            }
            default -> throw new IllegalArgumentException("the " + ops.name() + " engine gives the features of "
                    + FEATURE_LAYERS + ", not '" + layer + "'");
        }
        int per = 3 * imageSide * imageSide;
        float[] out = new float[n * width];
        float[] piece = n <= maxBatch ? out : new float[maxBatch * width];
        for (int from = 0; from < n; from += maxBatch) {
            int len = Math.min(maxBatch, n - from);
            forward(len == n ? images : java.util.Arrays.copyOfRange(images, from * per, (from + len) * per), len,
                    false);
            ops.download(source, len * width, piece);
            if (piece != out) {
                System.arraycopy(piece, 0, out, from * width, len * width);
            }
        }
        return out;
    }

    /**
     * Runs the forward pass and leaves the logits on the device (timing without a copy back); {@code null} images
     * run the batch already on the device again. {@link #step} takes {@code null} images the same way.
     */
    public void forwardOnly(float[] images, int n) {
        forward(images, n, false);
    }

    /**
     * Forward and backward passes in training mode, without an update: afterwards {@link #gradients(String)} holds
     * each layer's gradient of the mean cross-entropy. Returns the loss.
     */
    public double gradients(float[] images, int[] labels, int n) {
        forward(images, n, true);
        loss(labels, n);
        backward(n);
        return ops.crossEntropy(n, classes, dense.get(dense.size() - 1).y, onehot, scratch);
    }

    /**
     * One training step: forward, backward and the update. Returns the batch's loss when {@code withLoss} (which waits
     * for the step to finish), else NaN (the step may still be running on the device).
     */
    public double step(float[] images, int[] labels, int n, Update update, boolean withLoss) {
        forward(images, n, true);
        loss(labels, n);
        double l = withLoss ? ops.crossEntropy(n, classes, dense.get(dense.size() - 1).y, onehot, scratch)
                : Double.NaN;
        backward(n);
        applyUpdate(update);
        steps++;
        return l;
    }

    /**
     * Restarts every dropout site's masks from {@code seed} (site {@code i} from {@code seed * 31 + i}): called with a
     * seed of the step about to run, a resumed run draws an uninterrupted one's masks where the seam can restart its
     * generator ({@link Ops.Dropout#reseed}).
     */
    public void reseedDropout(long seed) {
        for (int i = 0; i < dense.size(); i++) {
            Dense d = dense.get(i);
            for (Ops.Dropout drop : new Ops.Dropout[]{d.dropBefore, d.dropAfter}) {
                if (drop != null) {
                    drop.reseed(seed * 31 + i);
                }
            }
        }
    }

    /** Applies the update to every layer from the gradients of the last backward pass. */
    public void applyUpdate(Update u) {
        for (Param p : params.values()) {
            String name = p.layer.name();
            if (u.frozen().contains(name)) {
                continue;
            }
            double[] m = u.multipliers().getOrDefault(name, new double[]{1, 1});
            ops.momentumUpdate(p.weightCount, p.w, p.dw, p.vw, (float) (u.learningRate() * m[0]),
                    (float) u.momentum(), (float) u.weightDecay());
            ops.momentumUpdate(p.biasCount, p.b, p.db, p.vb, (float) (u.learningRate() * m[1]),
                    (float) u.momentum(), 0f);
        }
        mark("update");
    }

    /**
     * Called with a name after each op of the forward pass, the backward pass and the update is enqueued (null: none),
     * for per-layer timing with events on the GPU.
     */
    public void trace(java.util.function.Consumer<String> tracer) {
        this.tracer = tracer;
    }

    private void mark(String what) {
        if (tracer != null) {
            tracer.accept(what);
        }
    }

    /** Waits for the device. */
    public void synchronize() {
        ops.synchronize();
    }

    @Override
    public void close() {
        ops.close();
    }

    // ------------------------------------------------------------------------------------------------------------

    private void forward(float[] input, int n, boolean training) {
        checkBatch(n);
        long imageCount = (long) n * 3 * imageSide * imageSide;
        if (input == null) {
            // the batch already on the device again (timing without the host's copy, as PyTorch benchmarks do)
            if (!slotUsed) {
                throw new IllegalStateException("no batch has been uploaded yet");
            }
        } else if (input.length < imageCount) {
            throw new IllegalArgumentException("images hold " + input.length + " floats, " + n + " images of 3x"
                    + imageSide + "x" + imageSide + " need " + imageCount);
        }
        if (input != null) {
            if (slotUsed) {
                // everything that reads the previous batch has been enqueued: its buffer may be refilled after that
                ops.release(images[slot]);
                slot = 1 - slot;
            }
            slotUsed = true;
            ops.uploadInput(input, (int) imageCount, images[slot]);
        }
        Ops.Buffer image = images[slot];
        if (paddedImage != null) {
            ops.padBottomRight(new Ops.Shape(n, 3, imageSide, imageSide), spec.inputOverhang(), image, paddedImage);
        } else {
            blocks.get(0).input = image;
        }
        for (Block b : blocks) {
            Ops.Conv c = b.conv;
            if (b == blocks.get(0)) {
                mark("input");
            }
            ops.convForward(c, n, b.input, b.param.w, b.param.b, b.y);
            mark(c.name() + " forward");
            Ops.Buffer x = b.y;
            int side = c.outSide();
            if (b.lrn != null) {
                ops.lrnForward(lrnShape(b, n), lrn, b.y, b.lrn);
                mark(c.name() + " LRN forward");
                x = b.lrn;
            }
            if (b.pool) {
                Ops.Shape s = new Ops.Shape(n, c.outChannels(), side, side);
                if (b.padded != null) {
                    ops.padBottomRight(s, b.poolPadding, x, b.padded);
                    x = b.padded;
                    s = new Ops.Shape(n, c.outChannels(), side + b.poolPadding, side + b.poolPadding);
                }
                ops.poolForward(s, pool, x, b.out);
                mark(c.name() + " pool forward");
            }
        }
        Ops.Buffer x = blocks.get(blocks.size() - 1).out;
        for (Dense d : dense) {
            Ops.Buffer in = x;
            if (d.dropBefore != null && training) {
                d.dropBefore.forward((long) n * d.in, x, d.input);
                in = d.input;
            }
            ops.linearForward(n, d.in, d.outWidth, in, d.param.w, d.param.b, d.y, d.relu);
            mark(d.param.layer.name() + " forward");
            x = d.y;
            if (d.dropAfter != null && training) {
                // inverted dropout: scaled while training, the identity at test time
                d.dropAfter.forward((long) n * d.outWidth, d.y, d.out);
                x = d.out;
            }
        }
    }

    private void loss(int[] labels, int n) {
        if (labels.length < n) {
            throw new IllegalArgumentException(labels.length + " labels for a batch of " + n);
        }
        java.util.Arrays.fill(onehotHost, 0, n * classes, 0f);
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of example " + i + " is outside 0.."
                        + (classes - 1));
            }
            onehotHost[i * classes + labels[i]] = 1f;
        }
        ops.upload(onehotHost, n * classes, onehot);
        ops.softmaxCrossEntropy(n, classes, dense.get(dense.size() - 1).y, onehot, probs, dLogits);
        mark("softmax cross-entropy");
    }

    private void backward(int n) {
        Ops.Buffer grad = dLogits;
        for (int i = dense.size() - 1; i >= 0; i--) {
            Dense d = dense.get(i);
            Ops.Buffer dy = grad;
            if (d.dropAfter != null) {
                d.dropAfter.backward((long) n * d.outWidth, grad, d.dy);
                dy = d.dy;
            }
            if (d.relu) {
                ops.reluBackward((long) n * d.outWidth, d.y, dy);
            }
            Ops.Buffer x = d.dropBefore != null ? d.input : d.rawInput;
            ops.linearBackwardWeights(n, d.in, d.outWidth, x, dy, d.param.dw, d.param.db);
            Ops.Buffer dx = d.dropBefore != null ? d.dInput : d.dRawInput;
            ops.linearBackwardData(n, d.in, d.outWidth, d.param.w, dy, dx);
            mark(d.param.layer.name() + " backward");
            if (d.dropBefore != null) {
                d.dropBefore.backward((long) n * d.in, d.dInput, d.dRawInput);
            }
            grad = d.dRawInput;
        }
        for (int i = blocks.size() - 1; i >= 0; i--) {
            Block b = blocks.get(i);
            Ops.Conv c = b.conv;
            int side = c.outSide();
            Ops.Shape s = new Ops.Shape(n, c.outChannels(), side, side);
            Ops.Buffer beforePool = b.lrn != null ? b.lrn : b.y;
            Ops.Buffer dBeforePool = b.lrn != null ? b.dLrn : b.dy;
            if (b.pool) {
                if (b.padded != null) {
                    Ops.Shape ps = new Ops.Shape(n, c.outChannels(), side + b.poolPadding, side + b.poolPadding);
                    ops.poolBackward(ps, pool, b.padded, b.out, b.dOut, b.dPadded);
                    ops.cropBottomRight(s, b.poolPadding, b.dPadded, dBeforePool);
                } else {
                    ops.poolBackward(s, pool, beforePool, b.out, b.dOut, dBeforePool);
                }
            }
            if (b.lrn != null) {
                ops.lrnBackward(lrnShape(b, n), lrn, b.y, b.lrn, b.dLrn, b.dy);
            }
            mark(c.name() + " pool/LRN backward");
            ops.reluBackward(s.count(), b.y, b.dy);
            ops.convBackwardFilter(c, n, b.input, b.dy, b.param.dw, b.param.db);
            mark(c.name() + " backward filter");
            if (b.dInput != null) {
                ops.convBackwardData(c, n, b.param.w, b.dy, b.dInput);
                mark(c.name() + " backward data");
            }
        }
    }

    /** LRN's shape: the channel blocks normalised apart folded into the batch (same memory in NCHW). */
    private static Ops.Shape lrnShape(Block b, int n) {
        int side = b.conv.outSide();
        return new Ops.Shape(n * b.lrnGroups, b.conv.outChannels() / b.lrnGroups, side, side);
    }

    private void checkBatch(int n) {
        if (n < 1 || n > maxBatch) {
            throw new IllegalArgumentException("batch of " + n + " images; this engine was planned for 1.."
                    + maxBatch);
        }
    }

    private Param param(String layer) {
        Param p = params.get(layer);
        if (p == null) {
            throw new IllegalArgumentException("no layer '" + layer + "'; the net has " + params.keySet());
        }
        return p;
    }

    private float[][] read(Param p, Ops.Buffer w, Ops.Buffer b) {
        float[] wh = new float[p.weightCount];
        float[] bh = new float[p.biasCount];
        ops.download(w, p.weightCount, wh);
        ops.download(b, p.biasCount, bh);
        return new float[][]{wh, bh};
    }

    private static void check(String what, float[] a, int count) {
        if (a == null || a.length != count) {
            throw new IllegalArgumentException(what + ": expected " + count + " floats, got "
                    + (a == null ? "none" : a.length));
        }
    }
}
