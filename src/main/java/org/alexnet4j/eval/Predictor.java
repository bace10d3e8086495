package org.alexnet4j.eval;

import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.Resize;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.data.transforms.TenCrop;
import org.alexnet4j.data.transforms.ViewWriter;
import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * Classifies decoded images with a trained net: each image is brought to 256x256 the variant's way, cut into its
 * view(s) (centre, or the paper's ten crops averaged), normalised and run in inference mode; the result is the top-k
 * classes with their probabilities.
 */
public final class Predictor {
    /** One ranked class: its index and softmax probability. */
    public record Ranked(int index, float probability) {
    }

    private final org.alexnet4j.infer.InferenceEngine engine;
    private final AlexNet net;
    private final Resize resize;
    private final Preset preset;
    private final int top;

    /**
     * @param tenCrop the paper's ten views averaged, instead of the centre crop
     * @param top     how many classes to rank (at most the class count)
     */
    public Predictor(ComputationGraph graph, AlexNet net, Normalization norm, boolean tenCrop, int top) {
        this(org.alexnet4j.infer.InferenceEngine.dl4j(graph), net, norm, tenCrop, top);
    }

    /** As above, computing the probabilities on {@code engine}. */
    public Predictor(org.alexnet4j.infer.InferenceEngine engine, AlexNet net, Normalization norm, boolean tenCrop,
                     int top) {
        if (top < 1) {
            throw new IllegalArgumentException("--top must be at least 1, got " + top);
        }
        this.engine = engine;
        this.net = net;
        this.resize = Preprocessing.resize(net);
        this.preset = tenCrop ? Preset.tenCrop(net.inputSize(), norm) : Preset.center(net.inputSize(), norm);
        this.top = Math.min(top, net.numClasses());
    }

    /** Decodes an image file's bytes into the 256x256 square this net's preprocessing starts from. */
    public RgbImage square(byte[] data) throws ImageCodec.DecodeException {
        return resize.decode(data, data.length, SOURCE_SIZE);
    }

    /** Side of the squares the views are cut from (the paper's and Caffe's 256). */
    public static final int SOURCE_SIZE = 256;

    /** The ranked classes of each image (squares from {@link #square}), in one forward pass. */
    public List<List<Ranked>> predict(List<RgbImage> squares) {
        if (squares.isEmpty()) {
            return List.of();
        }
        int views = preset.viewsPerImage();
        int s = net.inputSize();
        int per = 3 * s * s;
        float[] x = new float[squares.size() * views * per];
        for (int i = 0; i < squares.size(); i++) {
            writeViews(squares.get(i), x, i * views * per);
        }
        INDArray in = Nd4j.create(x, new long[]{(long) squares.size() * views, 3, s, s}, 'c');
        if (net.dataFormat() == CNN2DFormat.NHWC) {
            in = in.permute(0, 2, 3, 1).dup('c');
        }
        INDArray probs = engine.output(in);
        if (views > 1) {
            probs = TenCrop.average(probs);
        }
        List<List<Ranked>> out = new ArrayList<>();
        for (int i = 0; i < squares.size(); i++) {
            out.add(rank(probs.getRow(i).toFloatVector()));
        }
        return out;
    }

    /**
     * Writes the views of one square (from {@link #square}) as the net's NCHW input, normalised, into {@code x} from
     * {@code offset}: {@link #viewsPerImage()} blocks of {@code 3 x size x size} floats.
     */
    public void writeViews(RgbImage square, float[] x, int offset) {
        int s = net.inputSize();
        int k = 0;
        for (Preset.View v : preset.views(square.width(), new Random(0))) {
            ViewWriter.write(square, v.crop(), v.lighting(), preset.normalization(), x, offset + k * 3 * s * s);
            k++;
        }
    }

    /** One file's outcome: its ranked classes, or why it could not be read ({@code ranked} null). */
    public record FileResult(Path file, List<Ranked> ranked, String error) {
    }

    /**
     * Classifies image files, {@code batch} to a forward pass, decoding each batch's files on {@code threads} threads;
     * hands every file's outcome to {@code sink} in the order given. A file that cannot be read or decoded comes back
     * with the reason and the others go on.
     *
     * @return how many files were skipped as unreadable
     */
    public int predictFiles(List<Path> files, int batch, int threads, Consumer<FileResult> sink) {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        ExecutorService decoders = Executors.newFixedThreadPool(Math.max(1, threads),
                org.alexnet4j.util.Parallel.daemonThreads("predict-decode"));
        int skipped = 0;
        try {
            for (int from = 0; from < files.size(); from += batch) {
                List<Path> chunk = files.subList(from, Math.min(files.size(), from + batch));
                List<Future<Object>> decoded = new ArrayList<>();
                for (Path f : chunk) {
                    decoded.add(decoders.submit(() -> decode(f)));
                }
                List<RgbImage> squares = new ArrayList<>();
                Object[] outcome = new Object[chunk.size()];
                for (int i = 0; i < chunk.size(); i++) {
                    outcome[i] = decoded.get(i).get();
                    if (outcome[i] instanceof RgbImage img) {
                        squares.add(img);
                    }
                }
                List<List<Ranked>> ranked = predict(squares);
                for (int i = 0, k = 0; i < chunk.size(); i++) {
                    if (outcome[i] instanceof RgbImage) {
                        sink.accept(new FileResult(chunk.get(i), ranked.get(k++), null));
                    } else {
                        skipped++;
                        sink.accept(new FileResult(chunk.get(i), null, (String) outcome[i]));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while decoding images", e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("decoding failed: " + e.getCause(), e.getCause());
        } finally {
            decoders.shutdownNow();
        }
        return skipped;
    }

    /** The decoded square, or why the file cannot be read. */
    private Object decode(Path f) {
        try {
            return square(Files.readAllBytes(f));
        } catch (ImageCodec.DecodeException e) {
            return e.getMessage();
        } catch (IOException e) {
            return "cannot read the file (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")";
        }
    }

    /** The image files named, folders expanded (searched recursively, sorted); a missing path is an error. */
    public static List<Path> imageFiles(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path p : inputs) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.walk(p)) {
                    s.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().startsWith("."))
                            .filter(f -> IMAGE_EXTENSIONS.contains(extension(f))).sorted().forEach(files::add);
                }
            } else if (Files.exists(p)) {
                files.add(p);
            } else {
                throw new IllegalArgumentException(p + " does not exist (give image files or folders of images)");
            }
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException("no image files (.jpg .jpeg .png .bmp) in " + inputs);
        }
        return files;
    }

    private static final Set<String> IMAGE_EXTENSIONS = Set.of("jpg", "jpeg", "png", "bmp");

    private static String extension(Path f) {
        String name = f.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(dot + 1).toLowerCase(Locale.ROOT);
    }

    /** Views per image: 1 (centre) or 10. */
    public int viewsPerImage() {
        return preset.viewsPerImage();
    }

    private List<Ranked> rank(float[] p) {
        return rank(p, 0, p.length, top);
    }

    /** The {@code top} largest of {@code p[from .. from + length)} by index (relative to {@code from}) and value. */
    public static List<Ranked> rank(float[] p, int from, int length, int top) {
        List<Ranked> r = new ArrayList<>();
        boolean[] taken = new boolean[length];
        for (int n = 0; n < Math.min(top, length); n++) {
            int best = -1;
            for (int c = 0; c < length; c++) {
                if (!taken[c] && (best < 0 || p[from + c] > p[from + best])) {
                    best = c;
                }
            }
            taken[best] = true;
            r.add(new Ranked(best, p[from + best]));
        }
        return r;
    }
}
