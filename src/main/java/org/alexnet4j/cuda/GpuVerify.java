package org.alexnet4j.cuda;

import org.alexnet4j.model.NetSpec;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The GPU bundle's program ({@code run.sh}): checks the CUDA engine on the GPU it finds and measures it, needing only
 * a JRE, JavaCPP and the CUDA presets. (a) every op of {@link CudaOps} against {@link ReferenceOps} on the same
 * inputs; (b) forward, gradients and one step of the fixtures' nets (the paper net at full width, a caffe net) in
 * exact fp32 against what DL4J computed on a CPU; (c) 50 training steps on generated data with the loss going down;
 * (d) training and inference images/s at batch 128 and 256 in fp32 and tf32, and batch-1 latency; (e) the same
 * two-tower net in PyTorch when a {@code python3} with torch is present, and the ratios. Writes
 * {@code gpu-report.json} and {@code gpu-report.txt} to the output folder.
 *
 * <p>{@code --ops reference} runs the same program through the CPU reference (the bundle's self-test where no GPU
 * is present; with {@code --quick}, on small nets).
 */
public final class GpuVerify {

    private final Map<String, Object> report = new LinkedHashMap<>();
    private final List<String> text = new ArrayList<>();
    private final boolean cuda;
    private final boolean quick;
    private final Path out;
    private int failures;

    private GpuVerify(boolean cuda, boolean quick, Path out) {
        this.cuda = cuda;
        this.quick = quick;
        this.out = out;
    }

    public static void main(String[] args) throws Exception {
        Path fixtures = null, out = Path.of("gpu-report"), torchScript = null;
        boolean cuda = true, quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--fixtures" -> fixtures = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--ops" -> cuda = args[++i].equals("cuda");
                case "--quick" -> quick = true;
                case "--torch-script" -> torchScript = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: GpuVerify --fixtures FILE [--out DIR] [--ops cuda|reference] [--quick]"
                            + " [--torch-script FILE]");
                    System.exit(2);
                }
            }
        }
        if (fixtures == null) {
            System.err.println("--fixtures FILE is required");
            System.exit(2);
        }
        System.exit(verify(fixtures, out, torchScript, cuda, quick));
    }

    /**
     * Runs the checks and measurements on {@code fixtures}, writing the reports to {@code out}; returns 0 when every
     * check passed, 1 when one failed or the GPU could not be used. {@code cuda} false: through the CPU reference
     * ({@code quick}: the fixtures' small nets).
     */
    public static int verify(Path fixtures, Path out, Path torchScript, boolean cuda, boolean quick)
            throws IOException {
        Files.createDirectories(out);
        return new GpuVerify(cuda, quick, out).run(fixtures, torchScript);
    }

    private int run(Path fixturesFile, Path torchScript) throws IOException {
        long start = System.nanoTime();
        report.put("ops", cuda ? "cuda" : "reference");
        report.put("java", System.getProperty("java.version"));
        report.put("LD_LIBRARY_PATH", String.valueOf(System.getenv("LD_LIBRARY_PATH")));
        try {
            if (cuda) {
                CudaRuntime.Info info = CudaRuntime.probe(0);
                report.put("environment", info.asMap());
                say("GPU: " + info.gpuName() + " (compute " + info.major() + "." + info.minor() + ", "
                        + info.memoryBytes() / 1048576 + " MiB, " + info.multiprocessors() + " SMs); driver CUDA "
                        + CudaRuntime.version(info.driverVersion()) + ", runtime " + CudaRuntime.version(
                        info.runtimeVersion()) + ", " + info.asMap().get("cudnn") + " cuDNN, cuBLAS "
                        + info.asMap().get("cublas"));
            }
            checkOps();
            List<Fixtures.Net> nets = Fixtures.read(fixturesFile);
            checkFixtures(nets);
            train(nets);
            speed(nets, torchScript);
        } catch (CudaException e) {
            failures++;
            report.put("error", e.getMessage());
            say("FAILED: " + e.getMessage());
        } catch (RuntimeException e) {
            failures++;
            report.put("error", e.toString());
            say("FAILED: " + e);
            e.printStackTrace();
        }
        report.put("failures", failures);
        report.put("seconds", (System.nanoTime() - start) / 1e9);
        say(String.format(Locale.ROOT, "%s after %.0f s: %d failed check(s)", failures == 0 ? "PASSED" : "FAILED",
                (System.nanoTime() - start) / 1e9, failures));
        Files.writeString(out.resolve("gpu-report.json"), Json.write(report) + "\n", StandardCharsets.UTF_8);
        Files.writeString(out.resolve("gpu-report.txt"), String.join("\n", text) + "\n", StandardCharsets.UTF_8);
        return failures == 0 ? 0 : 1;
    }

    private Ops open(Precision precision) {
        return cuda ? CudaRuntime.open(0, precision, this::note) : new ReferenceOps();
    }

    private void note(String line) {
        System.out.println("  " + line);
    }

    private void say(String line) {
        System.out.println(line);
        text.add(line);
    }

    private boolean verdict(Map<String, Object> into, String what, double err, double tol) {
        boolean ok = err <= tol;
        into.put(what, Map.of("relErr", err, "tolerance", tol, "ok", ok));
        if (!ok) {
            failures++;
            say(String.format(Locale.ROOT, "  FAIL %s: relative error %.3g > %.0e", what, err, tol));
        }
        return ok;
    }

    // ------------------------------------------------------------------------------------------------ (a) ops

    private void checkOps() {
        Map<String, Object> r = new LinkedHashMap<>();
        report.put("opChecks", r);
        int before = failures;
        SplittableRandom rnd = new SplittableRandom(7);
        try (Ops a = open(Precision.FP32); Ops ref = new ReferenceOps()) {
            Ops[] both = {a, ref};
            double tol = cuda ? 1e-5 : 0;
            // exact fp32 takes only directly summing algorithms (no Winograd or FFT), but their sums run in another
            // order than the reference's
            double convTol = cuda ? 1e-4 : 0;
            for (Ops.Conv c : List.of(new Ops.Conv("conv s4", 3, 35, 8, 7, 11, 4, 0, 1),
                    new Ops.Conv("conv g2", 8, 9, 12, 9, 5, 1, 2, 2),
                    new Ops.Conv("conv 3x3", 6, 7, 4, 7, 3, 1, 1, 1))) {
                int n = 3;
                float[] x = gauss(rnd, c.input(n).count()), w = gauss(rnd, c.weightCount()),
                        b = gauss(rnd, c.outChannels()), dy = gauss(rnd, c.output(n).count());
                compare(r, c.name() + " forward", convTol, both, new float[][]{x, w, b},
                        new long[]{c.output(n).count()},
                        (o, bufs) -> o.convForward(c, n, bufs[0], bufs[1], bufs[2], bufs[3]));
                compare(r, c.name() + " backward data", convTol, both, new float[][]{w, dy},
                        new long[]{c.input(n).count()},
                        (o, bufs) -> o.convBackwardData(c, n, bufs[0], bufs[1], bufs[2]));
                compare(r, c.name() + " backward filter", convTol, both, new float[][]{x, dy},
                        new long[]{c.weightCount(), c.outChannels()},
                        (o, bufs) -> o.convBackwardFilter(c, n, bufs[0], bufs[1], bufs[2], bufs[3]));
            }
            Ops.Shape s = new Ops.Shape(2, 12, 6, 6);
            float[] x = relu(gauss(rnd, s.count())), dy = gauss(rnd, s.count());
            for (Ops.Lrn l : List.of(new Ops.Lrn(5, 2, 1e-4 * 50, 0.75), new Ops.Lrn(5, 1, 2e-5 * 50, 0.75))) {
                float[] y = new float[(int) s.count()];
                ReferenceOps host = new ReferenceOps();
                Ops.Buffer hx = host.alloc(s.count(), "x"), hy = host.alloc(s.count(), "y");
                host.upload(x, x.length, hx);
                host.lrnForward(s, l, hx, hy);
                host.download(hy, y.length, y);
                compare(r, "lrn k=" + l.k() + " forward", tol, both, new float[][]{x}, new long[]{s.count()},
                        (o, bufs) -> o.lrnForward(s, l, bufs[0], bufs[1]));
                compare(r, "lrn k=" + l.k() + " backward", tol * 10, both, new float[][]{x, y, dy},
                        new long[]{s.count()}, (o, bufs) -> o.lrnBackward(s, l, bufs[0], bufs[1], bufs[2], bufs[3]));
            }
            for (Ops.Pool p : List.of(new Ops.Pool(3, 2, true), new Ops.Pool(2, 2, false))) {
                Ops.Shape in = new Ops.Shape(2, 3, 9, 9);
                int o = p.out(9);
                float[] px = gauss(rnd, in.count());
                float[] py = new float[2 * 3 * o * o];
                ReferenceOps host = new ReferenceOps();
                Ops.Buffer hx = host.alloc(in.count(), "x"), hy = host.alloc(py.length, "y");
                host.upload(px, px.length, hx);
                host.poolForward(in, p, hx, hy);
                host.download(hy, py.length, py);
                String name = (p.max() ? "max" : "avg") + " pool " + p.window() + "/" + p.stride();
                compare(r, name + " forward", tol, both, new float[][]{px}, new long[]{py.length},
                        (op, bufs) -> op.poolForward(in, p, bufs[0], bufs[1]));
                compare(r, name + " backward", tol, both, new float[][]{px, py, gauss(rnd, py.length)},
                        new long[]{in.count()},
                        (op, bufs) -> op.poolBackward(in, p, bufs[0], bufs[1], bufs[2], bufs[3]));
            }
            Ops.Shape ps = new Ops.Shape(2, 3, 5, 5);
            compare(r, "pad bottom/right", 0, both, new float[][]{gauss(rnd, ps.count())},
                    new long[]{2 * 3 * 8 * 8}, (o, bufs) -> o.padBottomRight(ps, 3, bufs[0], bufs[1]));
            compare(r, "crop bottom/right", 0, both, new float[][]{gauss(rnd, 2 * 3 * 8 * 8)},
                    new long[]{ps.count()}, (o, bufs) -> o.cropBottomRight(ps, 3, bufs[0], bufs[1]));
            int n = 5, in = 37, outW = 11;
            float[] lx = gauss(rnd, n * in), lw = gauss(rnd, outW * in), lb = gauss(rnd, outW), ldy = gauss(rnd,
                    n * outW);
            compare(r, "linear forward + ReLU", tol, both, new float[][]{lx, lw, lb}, new long[]{n * outW},
                    (o, bufs) -> o.linearForward(n, in, outW, bufs[0], bufs[1], bufs[2], bufs[3], true));
            compare(r, "linear backward data", tol, both, new float[][]{lw, ldy}, new long[]{n * in},
                    (o, bufs) -> o.linearBackwardData(n, in, outW, bufs[0], bufs[1], bufs[2]));
            compare(r, "linear backward weights", tol, both, new float[][]{lx, ldy}, new long[]{outW * in, outW},
                    (o, bufs) -> o.linearBackwardWeights(n, in, outW, bufs[0], bufs[1], bufs[2], bufs[3]));
            float[] onehot = new float[n * outW];
            for (int i = 0; i < n; i++) {
                onehot[i * outW + rnd.nextInt(outW)] = 1;
            }
            compare(r, "softmax cross-entropy", tol, both, new float[][]{ldy, onehot}, new long[]{n * outW, n * outW},
                    (o, bufs) -> o.softmaxCrossEntropy(n, outW, bufs[0], bufs[1], bufs[2], bufs[3]));
            double[] losses = new double[2];
            for (int k = 0; k < 2; k++) {
                Ops o = both[k];
                Ops.Buffer l = o.alloc(n * outW, "l"), y = o.alloc(n * outW, "y"), t = o.alloc(n * outW, "t");
                o.upload(ldy, ldy.length, l);
                o.upload(onehot, onehot.length, y);
                losses[k] = o.crossEntropy(n, outW, l, y, t);
            }
            verdict(r, "cross-entropy loss", Math.abs(losses[0] - losses[1]) / Math.abs(losses[1]), cuda ? 1e-5 : 0);
            float[] uw = gauss(rnd, 1000), ug = gauss(rnd, 1000), uv = gauss(rnd, 1000);
            compare(r, "momentum update", tol, both, new float[][]{uw, ug, uv}, new long[]{},
                    (o, bufs) -> o.momentumUpdate(1000, bufs[0], bufs[1], bufs[2], 0.01f, 0.9f, 5e-4f));
            compare(r, "ReLU backward", 0, both, new float[][]{gauss(rnd, 1000), gauss(rnd, 1000)}, new long[]{},
                    (o, bufs) -> o.reluBackward(1000, bufs[0], bufs[1]));
            // dropout: a fraction of about 1 - rate kept, kept values scaled by 1 / (1 - rate), backward the same mask
            int count = 200_000;
            Ops.Dropout d = a.dropout(count, 0.5f, 3);
            float[] ones = new float[count];
            Arrays.fill(ones, 1f);
            Ops.Buffer dx = a.alloc(count, "x"), dyb = a.alloc(count, "y"), back = a.alloc(count, "back");
            a.upload(ones, count, dx);
            d.forward(count, dx, dyb);
            d.backward(count, dx, back);
            float[] fy = new float[count], fb = new float[count];
            a.download(dyb, count, fy);
            a.download(back, count, fb);
            int kept = 0;
            boolean scaled = true;
            for (int i = 0; i < count; i++) {
                if (fy[i] != 0) {
                    kept++;
                    scaled &= Math.abs(fy[i] - 2f) < 1e-6;
                }
                scaled &= fy[i] == fb[i];
            }
            double frac = kept / (double) count;
            boolean ok = Math.abs(frac - 0.5) < 0.01 && scaled;
            r.put("dropout 0.5", Map.of("keptFraction", frac, "scaledAndSameMask", scaled, "ok", ok));
            if (!ok) {
                failures++;
                say("  FAIL dropout: kept " + frac + ", scaled and same mask " + scaled);
            }
        }
        say(String.format(Locale.ROOT, "(a) %d op checks against the CPU reference: %s", r.size(),
                failures == before ? "all within tolerance" : (failures - before) + " failed"));
    }

    private void compare(Map<String, Object> r, String name, double tol, Ops[] both, float[][] inputs, long[] outs,
                         BiConsumer<Ops, Ops.Buffer[]> op) {
        List<float[]> results = new ArrayList<>();
        for (Ops o : both) {
            Ops.Buffer[] bufs = new Ops.Buffer[inputs.length + outs.length];
            for (int i = 0; i < inputs.length; i++) {
                bufs[i] = o.alloc(inputs[i].length, name + " input " + i);
                o.upload(inputs[i], inputs[i].length, bufs[i]);
            }
            for (int i = 0; i < outs.length; i++) {
                bufs[inputs.length + i] = o.alloc(outs[i], name + " output " + i);
            }
            op.accept(o, bufs);
            // outputs, or (for in-place ops) the inputs they change
            if (outs.length == 0) {
                for (int i = 0; i < inputs.length; i++) {
                    float[] h = new float[inputs[i].length];
                    o.download(bufs[i], h.length, h);
                    results.add(h);
                }
            } else {
                for (int i = 0; i < outs.length; i++) {
                    float[] h = new float[(int) outs[i]];
                    o.download(bufs[inputs.length + i], h.length, h);
                    results.add(h);
                }
            }
        }
        int half = results.size() / 2;
        double worst = 0;
        for (int i = 0; i < half; i++) {
            worst = Math.max(worst, relErr(results.get(i), results.get(half + i)));
        }
        verdict(r, name, worst, tol);
    }

    // ------------------------------------------------------------------------------------------------ (b) fixtures

    private void checkFixtures(List<Fixtures.Net> nets) {
        Map<String, Object> r = new LinkedHashMap<>();
        report.put("fixtureChecks", r);
        for (Fixtures.Net f : nets) {
            if (quick != f.name().startsWith("quick")) {
                continue;
            }
            int before = failures;
            Map<String, Object> nr = new LinkedHashMap<>();
            r.put(f.name(), nr);
            try (Ops ops = open(Precision.FP32);
                 AlexNetEngine e = new AlexNetEngine(f.spec(), ops, f.batch(), f.seed())) {
                e.initialise(f.seed(), true);
                float[] images = SeededInit.images(f.spec(), f.batch(), f.seed());
                int[] labels = SeededInit.labels(e.numClasses(), f.batch(), f.seed());
                verdict(nr, "logits", relErr(e.logits(images, f.batch()), f.logits()), 1e-4);
                double loss = e.gradients(images, labels, f.batch());
                verdict(nr, "loss", Math.abs(loss - f.loss()) / Math.max(1e-12, Math.abs(f.loss())), 1e-4);
                for (String layer : e.layerNames()) {
                    float[][] g = e.gradients(layer);
                    summary(nr, layer + " gradient", f.gradients(), layer, g);
                }
                e.applyUpdate(AlexNetEngine.Update.of(f.lr(), f.momentum(), f.decay()));
                for (String layer : e.layerNames()) {
                    summary(nr, layer + " after one step", f.afterStep(), layer, e.parameters(layer));
                }
            }
            say(String.format(Locale.ROOT, "(b) %s (%s net, batch %d) against DL4J on the CPU: %s", f.name(),
                    f.spec().variant(), f.batch(), failures == before ? "logits, loss, gradients and one step within"
                            + " tolerance" : (failures - before) + " checks failed"));
        }
    }

    private void summary(Map<String, Object> r, String what, Map<String, Fixtures.Summary> expected, String layer,
                         float[][] actual) {
        String[] kinds = {".weight", ".bias"};
        for (int k = 0; k < 2; k++) {
            Fixtures.Summary e = expected.get(layer + kinds[k]);
            if (e == null) {
                failures++;
                say("  FAIL " + what + ": no fixture for " + layer + kinds[k]);
                continue;
            }
            Fixtures.Summary a = Fixtures.Summary.of(layer + kinds[k], actual[k]);
            verdict(r, what + kinds[k] + " norm", Math.abs(a.norm() - e.norm()) / Math.max(1e-30, e.norm()), 1e-4);
            verdict(r, what + kinds[k] + " sample", relErr(a.sample(), e.sample()), 1e-3);
        }
    }

    // ------------------------------------------------------------------------------------------------ (c) training

    private void train(List<Fixtures.Net> nets) {
        NetSpec spec = nets.stream().filter(n -> n.name().startsWith(quick ? "quick" : "paper")).findFirst()
                .orElseThrow(() -> new IllegalStateException("the fixtures hold no paper net")).spec();
        int batch = quick ? 8 : 64, classes = Math.min(8, spec.numClasses()), steps = quick ? 12 : 50, s =
                spec.inputSize();
        SplittableRandom rnd = new SplittableRandom(5);
        int batches = 4;
        float[][] images = new float[batches][];
        int[][] labels = new int[batches][];
        for (int b = 0; b < batches; b++) {
            images[b] = gauss(rnd, (long) batch * 3 * s * s);
            labels[b] = new int[batch];
            for (int i = 0; i < batch; i++) {
                int c = rnd.nextInt(classes);
                labels[b][i] = c;
                // the class as a colour cast (channel c % 3) of strength by class, under noise
                int ch = c % 3;
                float shift = 0.5f + 0.5f * (c / 3);
                for (int p = 0; p < s * s; p++) {
                    images[b][((i * 3) + ch) * s * s + p] += shift;
                }
            }
        }
        List<Double> losses = new ArrayList<>();
        long t0 = System.nanoTime();
        try (Ops ops = open(Precision.FP32); AlexNetEngine e = new AlexNetEngine(spec, ops, batch, 3)) {
            e.initialise(3, true);
            AlexNetEngine.Update u = AlexNetEngine.Update.of(0.005, 0.9, 5e-4);
            for (int i = 0; i < steps; i++) {
                losses.add(e.step(images[i % batches], labels[i % batches], batch, u, true));
            }
        }
        double first = losses.subList(0, 4).stream().mapToDouble(Double::doubleValue).average().orElse(0);
        double last = losses.subList(steps - 4, steps).stream().mapToDouble(Double::doubleValue).average().orElse(0);
        boolean ok = last < 0.7 * first && Double.isFinite(last);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("steps", steps);
        r.put("batch", batch);
        r.put("losses", losses);
        r.put("firstFourMean", first);
        r.put("lastFourMean", last);
        r.put("seconds", (System.nanoTime() - t0) / 1e9);
        r.put("ok", ok);
        report.put("training", r);
        if (!ok) {
            failures++;
        }
        say(String.format(Locale.ROOT, "(c) %d training steps (batch %d, %d generated classes): loss %.3f -> %.3f %s",
                steps, batch, classes, first, last, ok ? "(down by more than 30 %: ok)" : "FAIL: not down by 30 %"));
    }

    // ------------------------------------------------------------------------------------------------ (d, e) speed

    private void speed(List<Fixtures.Net> nets, Path torchScript) {
        if (!cuda || quick) {
            say("(d) speed: skipped " + (cuda ? "with --quick" : "on the CPU reference"));
            return;
        }
        NetSpec paper = nets.stream().filter(n -> n.name().equals("paper")).findFirst()
                .orElseThrow(() -> new IllegalStateException("the fixtures hold no paper net")).spec();
        // the paper's recipe as timed: dropout 0.5 after fc6 and fc7
        NetSpec base = new NetSpec(paper.variant(), paper.inputSize(), paper.inputOverhang(), paper.edgePadding(),
                paper.blocks(), paper.fullyConnected(), paper.poolWindow(), paper.maxPooling(), paper.lrnK(),
                paper.lrnSize(), paper.lrnAlpha(), paper.lrnBeta(), 0.5, paper.dropoutBeforeFc(), paper.init());
        Map<String, Object> r = new LinkedHashMap<>();
        report.put("speed", r);
        for (Precision p : Precision.values()) {
            for (int batch : new int[]{128, 256}) {
                r.put(p.id() + " b" + batch, timeBatch(base, p, batch));
            }
            r.put(p.id() + " b1 latency", latency(base, p));
        }
        for (Map.Entry<String, Object> e : r.entrySet()) {
            say("(d) " + e.getKey() + ": " + e.getValue());
        }
        Map<String, Object> prof = new LinkedHashMap<>();
        report.put("profile", prof);
        prof.put("fp32 b128", profile(base, Precision.FP32, 128, true));
        prof.put("fp32-fast b128", profile(base, Precision.FP32_FAST, 128, true));
        prof.put("tf32 b128", profile(base, Precision.TF32, 128, true));

        for (Map.Entry<String, Object> e : prof.entrySet()) {
            say("(d) per-op ms, " + e.getKey() + ": " + e.getValue());
        }
        if (torchScript != null) {
            torch(torchScript, r);
        }
    }

    private Map<String, Object> timeBatch(NetSpec spec, Precision p, int batch) {
        Map<String, Object> m = new LinkedHashMap<>();
        try (CudaOps ops = CudaRuntime.open(0, p, this::note); AlexNetEngine e = new AlexNetEngine(spec, ops, batch,
                1)) {
            Batch w = warmUp(e, spec, batch);
            float[] images = w.images();
            int[] labels = w.labels();
            AlexNetEngine.Update u = WARM_UPDATE;
            int iters = 15;
            var a = ops.timingEvent();
            var b = ops.timingEvent();
            ops.record(a);
            for (int i = 0; i < iters; i++) {
                e.step(null, labels, batch, u, false);
            }
            ops.record(b);
            double ms = ops.elapsedMs(a, b) / iters;
            m.put("trainStepMs", round(ms));
            m.put("trainImagesPerSec", round(batch * 1000 / ms));
            // with the host's copy of each batch (pinned staging, copy stream)
            long t0 = System.nanoTime();
            for (int i = 0; i < 5; i++) {
                e.step(images, labels, batch, u, false);
            }
            e.synchronize();
            m.put("trainImagesPerSecWithUpload", round(batch * 5 / ((System.nanoTime() - t0) / 1e9)));
            for (int i = 0; i < 3; i++) {
                e.forwardOnly(null, batch);
            }
            ops.record(a);
            for (int i = 0; i < iters * 2; i++) {
                e.forwardOnly(null, batch);
            }
            ops.record(b);
            double fms = ops.elapsedMs(a, b) / (iters * 2);
            m.put("inferenceMs", round(fms));
            m.put("inferenceImagesPerSec", round(batch * 1000 / fms));
            m.put("algorithms", ops.chosenAlgorithms());
        }
        return m;
    }

    private static final AlexNetEngine.Update WARM_UPDATE = AlexNetEngine.Update.of(0.01, 0.9, 5e-4);

    private record Batch(float[] images, int[] labels) {
    }

    /** Seeded weights and a seeded batch on the device, and four untimed steps (algorithm search, first calls). */
    private static Batch warmUp(AlexNetEngine e, NetSpec spec, int batch) {
        e.initialise(1, false);
        Batch b = new Batch(SeededInit.images(spec, batch, 1), SeededInit.labels(spec.numClasses(), batch, 1));
        e.step(b.images(), b.labels(), batch, WARM_UPDATE, true);
        for (int i = 0; i < 3; i++) {
            e.step(null, b.labels(), batch, WARM_UPDATE, false);
        }
        return b;
    }

    /** One training step's time per op (CUDA events between ops, the mean of 5 steps after warm-up). */
    private Map<String, Object> profile(NetSpec spec, Precision p, int batch, boolean fused) {
        Map<String, Object> m = new LinkedHashMap<>();
        try (CudaOps ops = CudaRuntime.open(0, p, this::note); AlexNetEngine e = new AlexNetEngine(spec, ops, batch,
                1)) {
            ops.fused(fused);
            Batch w = warmUp(e, spec, batch);
            float[] images = w.images();
            int[] labels = w.labels();
            AlexNetEngine.Update u = WARM_UPDATE;
            Map<String, Double> sum = new LinkedHashMap<>();
            int steps = 5;
            for (int i = 0; i < steps; i++) {
                List<String> names = new ArrayList<>();
                List<org.bytedeco.cuda.cudart.CUevent_st> events = new ArrayList<>();
                var start = ops.timingEvent();
                ops.record(start);
                e.trace(name -> {
                    var ev = ops.timingEvent();
                    ops.record(ev);
                    names.add(name);
                    events.add(ev);
                });
                e.step(null, labels, batch, u, false);
                e.trace(null);
                var prev = start;
                for (int k = 0; k < events.size(); k++) {
                    sum.merge(names.get(k), (double) ops.elapsedMs(prev, events.get(k)), Double::sum);
                    prev = events.get(k);
                }
            }
            double total = 0;
            for (Map.Entry<String, Double> x : sum.entrySet()) {
                m.put(x.getKey(), round(x.getValue() / steps));
                total += x.getValue() / steps;
            }
            m.put("total", round(total));
        }
        return m;
    }

    private Map<String, Object> latency(NetSpec spec, Precision p) {
        Map<String, Object> m = new LinkedHashMap<>();
        try (CudaOps ops = CudaRuntime.open(0, p, this::note); AlexNetEngine e = new AlexNetEngine(spec, ops, 1, 1)) {
            e.initialise(1, false);
            float[] image = SeededInit.images(spec, 1, 1);
            for (int i = 0; i < 20; i++) {
                e.logits(image, 1);
            }
            int n = 300;
            double[] ms = new double[n];
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                e.logits(image, 1);
                ms[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(ms);
            m.put("p50Ms", round(ms[n / 2]));
            m.put("p99Ms", round(ms[(int) (n * 0.99)]));
            m.put("what", "host image in, logits back on the host");
        }
        return m;
    }

    private void torch(Path script, Map<String, Object> ours) {
        Map<String, Object> r = new LinkedHashMap<>();
        report.put("pytorch", r);
        try {
            Path json = out.resolve("pytorch.json");
            ProcessBuilder pb = new ProcessBuilder("python3", script.toString(), "--out", json.toString())
                    .redirectErrorStream(true).redirectOutput(out.resolve("pytorch.log").toFile());
            Process proc = pb.start();
            if (!proc.waitFor(240, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                r.put("error", "timed out after 240 s");
                say("(e) PyTorch: timed out");
                return;
            }
            if (proc.exitValue() != 0 || !Files.exists(json)) {
                String log = Files.readString(out.resolve("pytorch.log"));
                r.put("error", "exit " + proc.exitValue() + ": " + log.substring(Math.max(0, log.length() - 400)));
                say("(e) PyTorch: not run (" + r.get("error") + ")");
                return;
            }
            String j = Files.readString(json);
            r.put("raw", j.trim());
            for (Precision p : Precision.values()) {
                for (int b : new int[]{128, 256}) {
                    String key = p.id() + " b" + b;
                    String torchKey = (p == Precision.TF32 ? "tf32" : "fp32") + " b" + b; // PyTorch's fp32 is one
                    @SuppressWarnings("unchecked")
                    Map<String, Object> o = (Map<String, Object>) ours.get(key);
                    double tTrain = number(j, torchKey, "trainImagesPerSec"), tInf = number(j, torchKey,
                            "inferenceImagesPerSec");
                    Map<String, Object> ratio = new LinkedHashMap<>();
                    ratio.put("pytorchTrainImagesPerSec", tTrain);
                    ratio.put("pytorchInferenceImagesPerSec", tInf);
                    ratio.put("trainRatio", round((Double) o.get("trainImagesPerSec") / tTrain));
                    ratio.put("inferenceRatio", round((Double) o.get("inferenceImagesPerSec") / tInf));
                    r.put(key, ratio);
                    say("(e) " + key + " vs PyTorch: " + ratio);
                }
                String key = p.id() + " b1 latency";
                @SuppressWarnings("unchecked")
                Map<String, Object> o = (Map<String, Object>) ours.get(key);
                double tp50 = number(j, (p == Precision.TF32 ? "tf32" : "fp32") + " b1 latency", "p50Ms");
                r.put(key, Map.of("pytorchP50Ms", tp50, "p50Ratio", round((Double) o.get("p50Ms") / tp50)));
                say("(e) " + key + " vs PyTorch: ours " + o.get("p50Ms") + " ms, PyTorch " + tp50 + " ms");
            }
        } catch (IOException | InterruptedException | RuntimeException e) {
            r.put("error", e.toString());
            say("(e) PyTorch comparison failed: " + e);
        }
    }

    /** A number from the PyTorch script's flat JSON: {"KEY": {"FIELD": NUMBER, ...}, ...}. */
    static double number(String json, String key, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\{[^}]*\"" + Pattern.quote(field)
                + "\"\\s*:\\s*([-0-9.eE+]+)").matcher(json);
        if (!m.find()) {
            throw new IllegalArgumentException("PyTorch's result has no " + key + "/" + field);
        }
        return Double.parseDouble(m.group(1));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    private static float[] gauss(SplittableRandom r, long n) {
        float[] a = new float[Math.toIntExact(n)];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    private static float[] relu(float[] a) {
        for (int i = 0; i < a.length; i++) {
            a[i] = Math.max(0, a[i]);
        }
        return a;
    }

    static double relErr(float[] actual, float[] expected) {
        if (actual.length != expected.length) {
            return Double.POSITIVE_INFINITY;
        }
        double diff = 0, norm = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = (double) actual[i] - expected[i];
            diff += d * d;
            norm += (double) expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
}
