package org.alexnet4j.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.alexnet4j.util.Parallel;
import org.alexnet4j.util.ProgressBar;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.GradientPaint;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.AffineTransform;
import java.awt.geom.Area;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A generated dataset in exactly the ILSVRC2012 layout, the default data of the quickstart, the tests and the
 * benchmarks (ImageNet itself cannot be shipped).
 *
 * <p>Layout: {@code train/<wnid>/<wnid>_<n>.JPEG}; {@code val/ILSVRC2012_val_<8 digits>.JPEG} flat, with names taken
 * from the real validation list for the chosen classes so the shipped validation labels apply (at most 50 per class,
 * as in ILSVRC2012), or {@code val/<wnid>/} folders. Classes are real ILSVRC2012 wnids spread evenly over the 1000.
 * Images are real JPEGs (quality 75-95) of ImageNet's common sizes and aspect ratios (500x375, 375x500, 500x333,
 * 500x500, 640x480, some smaller than 256 so upscaling is exercised).
 *
 * <p>Each class is one combination of shape (6), fill texture (4) and hue, drawn at a random position, scale and
 * rotation with hue/brightness jitter, over a random gradient background with clutter (other shapes, some in front
 * of the object) and pixel noise: learnable, but not from any single pixel statistic.
 *
 * <p>With {@code oddFiles}, class 0 of the training set also gets a CMYK JPEG, a PNG named .JPEG and a grayscale
 * JPEG (all must decode to correct RGB), a truncated JPEG and an empty file (both must be skipped and reported).
 * {@code SYNTH.json} records the settings and lists the odd files with the expected outcome.
 */
public final class SyntheticImageNet {
    private static final Logger log = LoggerFactory.getLogger(SyntheticImageNet.class);

    /** ImageNet-like sizes (width, height) and how often each is drawn. */
    private static final int[][] SIZES = {
            {500, 375, 30}, {375, 500, 12}, {500, 333, 18}, {333, 500, 5}, {500, 500, 10}, {500, 400, 6},
            {400, 500, 4}, {640, 480, 5}, {500, 281, 4}, {300, 225, 4}, {200, 240, 2}};
    private static final int SHAPES = 6;
    private static final int TEXTURES = 4;

    /** Settings of a generated dataset. */
    public record Options(int classes, int trainPerClass, int valPerClass, long seed, boolean oddFiles,
                          boolean flatVal, int threads) {
        public Options {
            if (classes < 2 || classes > 1000) {
                throw new IllegalArgumentException("--classes must be in 2..1000, got " + classes);
            }
            if (trainPerClass < 1) {
                throw new IllegalArgumentException("--train-per-class must be at least 1, got " + trainPerClass);
            }
            if (valPerClass < 0) {
                throw new IllegalArgumentException("--val-per-class must be 0 or more, got " + valPerClass);
            }
            if (flatVal && valPerClass > 50) {
                throw new IllegalArgumentException("a flat val/ folder takes its names from ILSVRC2012's validation"
                        + " list, which has 50 images per class; use --val-per-class <= 50 or --val-layout folders");
            }
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
        }
    }

    /** What was written. */
    public record Result(Path root, List<String> wnids, int trainImages, int valImages, List<String> oddFiles) {
    }

    private SyntheticImageNet() {
    }

    /** The wnids of an N-class synthetic set: real ILSVRC2012 classes spread evenly, in sorted order. */
    public static List<String> classWnids(int classes) {
        List<String> all = ImageNetMeta.get().wnids();
        List<String> out = new ArrayList<>(classes);
        for (int i = 0; i < classes; i++) {
            out.add(all.get((int) ((long) i * all.size() / classes)));
        }
        return out;
    }

    public static Result generate(Path out, Options o) throws IOException {
        if (Files.exists(out.resolve("train")) || Files.exists(out.resolve("val"))) {
            throw new IllegalArgumentException(out + " already holds a train/ or val/ folder; choose an empty --out");
        }
        List<String> wnids = classWnids(o.classes());
        List<Job> jobs = new ArrayList<>();
        for (int c = 0; c < wnids.size(); c++) {
            String wnid = wnids.get(c);
            for (int k = 0; k < o.trainPerClass(); k++) {
                jobs.add(new Job(out.resolve("train").resolve(wnid).resolve(wnid + "_" + (k + 1) + ".JPEG"), c, 0, k));
            }
        }
        int val = 0;
        if (o.valPerClass() > 0) {
            Map<String, Integer> taken = new LinkedHashMap<>();
            Map<String, Integer> classOf = new LinkedHashMap<>();
            for (int c = 0; c < wnids.size(); c++) {
                classOf.put(wnids.get(c), c);
            }
            if (o.flatVal()) {
                for (Map.Entry<String, String> e : ImageNetMeta.get().valLabels().entrySet()) {
                    Integer c = classOf.get(e.getValue());
                    if (c != null && taken.merge(e.getValue(), 1, Integer::sum) <= o.valPerClass()) {
                        jobs.add(new Job(out.resolve("val").resolve(e.getKey()), c, 1, taken.get(e.getValue())));
                        val++;
                    }
                }
            } else {
                for (int c = 0; c < wnids.size(); c++) {
                    for (int k = 0; k < o.valPerClass(); k++) {
                        String name = String.format("ILSVRC2012_val_%08d.JPEG", c * o.valPerClass() + k + 1);
                        jobs.add(new Job(out.resolve("val").resolve(wnids.get(c)).resolve(name), c, 1, k));
                        val++;
                    }
                }
            }
        }
        for (Job j : jobs) {
            Files.createDirectories(j.path.getParent());
        }
        try (ProgressBar bar = new ProgressBar("synth", jobs.size(), "img")) {
            Parallel.forEach(jobs, o.threads(), j -> {
                SplittableRandom rng = new SplittableRandom(Seeds.mix(o.seed(), j.split, j.cls, j.index));
                RgbImage img = render(j.cls, rng);
                int quality = 75 + rng.nextInt(21);
                try {
                    Files.write(j.path, ImageCodec.encodeJpeg(img, quality));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                bar.step(1);
            });
        }
        List<String> odd = new ArrayList<>();
        List<Map<String, String>> oddInfo = new ArrayList<>();
        if (o.oddFiles()) {
            String wnid = wnids.get(0);
            Path dir = out.resolve("train").resolve(wnid);
            SplittableRandom rng = new SplittableRandom(Seeds.mix(o.seed(), 7, 7));
            RgbImage img = render(0, rng);
            byte[] jpeg = ImageCodec.encodeJpeg(img, 90);
            writeOdd(dir, wnid + "_900001.JPEG", OddImages.cmykJpeg(img), "CMYK JPEG (Adobe)", "decodes", odd, oddInfo);
            writeOdd(dir, wnid + "_900002.JPEG", ImageCodec.encodePng(img), "PNG named .JPEG", "decodes", odd,
                    oddInfo);
            writeOdd(dir, wnid + "_900003.JPEG", OddImages.grayJpeg(img, 90), "grayscale JPEG", "decodes", odd,
                    oddInfo);
            writeOdd(dir, wnid + "_900004.JPEG", OddImages.truncated(jpeg, 0.6), "truncated JPEG (60%)", "skipped",
                    odd, oddInfo);
            writeOdd(dir, wnid + "_900005.JPEG", new byte[0], "empty file", "skipped", odd, oddInfo);
        }
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("generator", "alexnet4j synth");
        meta.put("classes", o.classes());
        meta.put("trainPerClass", o.trainPerClass());
        meta.put("valPerClass", o.valPerClass());
        meta.put("valLayout", o.flatVal() ? "flat" : "folders");
        meta.put("seed", o.seed());
        meta.put("wnids", wnids);
        meta.put("oddFiles", oddInfo);
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("SYNTH.json").toFile(),
                meta);
        int train = wnids.size() * o.trainPerClass() + odd.size();
        log.info("synth: {} classes, {} train + {} val images in {}", o.classes(), train, val, out);
        return new Result(out, wnids, train, val, odd);
    }

    private static void writeOdd(Path dir, String name, byte[] bytes, String kind, String expect, List<String> odd,
                                 List<Map<String, String>> info) throws IOException {
        Files.write(dir.resolve(name), bytes);
        odd.add("train/" + dir.getFileName() + "/" + name);
        info.add(Map.of("path", "train/" + dir.getFileName() + "/" + name, "kind", kind, "expected", expect));
    }

    private record Job(Path path, int cls, int split, int index) {
    }

    /** Renders one image of class {@code cls}. */
    public static RgbImage render(int cls, SplittableRandom rng) {
        int[] size = pickSize(rng);
        int w = size[0];
        int h = size[1];
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setPaint(new GradientPaint(rng.nextInt(w), rng.nextInt(h), randomColor(rng), rng.nextInt(w),
                rng.nextInt(h), randomColor(rng)));
        g.fillRect(0, 0, w, h);
        int shorter = Math.min(w, h);
        int clutter = 3 + rng.nextInt(6);
        int inFront = rng.nextInt(3);
        for (int i = 0; i < clutter - inFront; i++) {
            drawClutter(g, w, h, shorter, rng);
        }
        // the class object
        int shape = cls % SHAPES;
        int texture = (cls / SHAPES) % TEXTURES;
        float hue = (float) ((0.13 + cls * 0.6180339887) % 1.0 + rng.nextDouble(-0.03, 0.03));
        Color color = Color.getHSBColor(hue, (float) rng.nextDouble(0.55, 1.0), (float) rng.nextDouble(0.55, 1.0));
        double scale = shorter * rng.nextDouble(0.30, 0.65);
        double cx = rng.nextDouble(0.25, 0.75) * w;
        double cy = rng.nextDouble(0.25, 0.75) * h;
        Shape s = place(shape(shape), cx, cy, scale, rng.nextDouble(0, 2 * Math.PI));
        fillTextured(g, s, color, texture, scale, rng);
        for (int i = 0; i < inFront; i++) {
            drawClutter(g, w, h, shorter, rng);
        }
        g.dispose();
        return withNoise(img, rng.nextDouble(0.75, 1.25), 4 + rng.nextInt(10), rng);
    }

    private static int[] pickSize(SplittableRandom rng) {
        int total = 0;
        for (int[] s : SIZES) {
            total += s[2];
        }
        int r = rng.nextInt(total);
        for (int[] s : SIZES) {
            r -= s[2];
            if (r < 0) {
                return s;
            }
        }
        return SIZES[0];
    }

    private static Color randomColor(SplittableRandom rng) {
        return new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256));
    }

    private static void drawClutter(Graphics2D g, int w, int h, int shorter, SplittableRandom rng) {
        Shape s = place(shape(rng.nextInt(SHAPES + 2)), rng.nextDouble() * w, rng.nextDouble() * h,
                shorter * rng.nextDouble(0.08, 0.25), rng.nextDouble(0, 2 * Math.PI));
        fillTextured(g, s, randomColor(rng), rng.nextInt(TEXTURES), shorter * 0.2, rng);
    }

    /** Unit-size shapes centred at the origin; indices past the class shapes are clutter-only shapes. */
    private static Shape shape(int kind) {
        switch (kind) {
            case 0:
                return new Ellipse2D.Double(-0.5, -0.5, 1, 1);
            case 1:
                return new Rectangle2D.Double(-0.42, -0.42, 0.84, 0.84);
            case 2:
                return polygon(new double[]{0, 0.5, -0.5}, new double[]{-0.5, 0.4, 0.4});
            case 3: {
                Area ring = new Area(new Ellipse2D.Double(-0.5, -0.5, 1, 1));
                ring.subtract(new Area(new Ellipse2D.Double(-0.28, -0.28, 0.56, 0.56)));
                return ring;
            }
            case 4: {
                Area cross = new Area(new Rectangle2D.Double(-0.5, -0.15, 1, 0.3));
                cross.add(new Area(new Rectangle2D.Double(-0.15, -0.5, 0.3, 1)));
                return cross;
            }
            case 5: {
                double[] xs = new double[10];
                double[] ys = new double[10];
                for (int i = 0; i < 10; i++) {
                    double r = (i % 2 == 0) ? 0.5 : 0.2;
                    double a = Math.PI * i / 5 - Math.PI / 2;
                    xs[i] = r * Math.cos(a);
                    ys[i] = r * Math.sin(a);
                }
                return polygon(xs, ys);
            }
            case 6:
                return new Ellipse2D.Double(-0.5, -0.2, 1, 0.4);
            default:
                return new Rectangle2D.Double(-0.5, -0.1, 1, 0.2);
        }
    }

    private static Shape polygon(double[] xs, double[] ys) {
        Polygon p = new Polygon();
        for (int i = 0; i < xs.length; i++) {
            p.addPoint((int) Math.round(xs[i] * 1000), (int) Math.round(ys[i] * 1000));
        }
        return AffineTransform.getScaleInstance(0.001, 0.001).createTransformedShape(p);
    }

    private static Shape place(Shape unit, double cx, double cy, double scale, double angle) {
        AffineTransform t = new AffineTransform();
        t.translate(cx, cy);
        t.rotate(angle);
        t.scale(scale, scale);
        return t.createTransformedShape(unit);
    }

    private static void fillTextured(Graphics2D g, Shape s, Color color, int texture, double scale,
                                     SplittableRandom rng) {
        g.setColor(color);
        g.fill(s);
        if (texture == 0) {
            return;
        }
        Color dark = color.darker().darker();
        java.awt.Shape clip = g.getClip();
        g.clip(s);
        g.setColor(dark);
        Rectangle2D b = s.getBounds2D();
        double step = Math.max(4, scale / 6);
        if (texture == 1) { // stripes at a random angle
            AffineTransform saved = g.getTransform();
            g.rotate(rng.nextDouble(0, Math.PI), b.getCenterX(), b.getCenterY());
            g.setStroke(new BasicStroke((float) (step / 2.5)));
            double d = Math.hypot(b.getWidth(), b.getHeight());
            for (double x = b.getCenterX() - d; x < b.getCenterX() + d; x += step) {
                g.draw(new java.awt.geom.Line2D.Double(x, b.getCenterY() - d, x, b.getCenterY() + d));
            }
            g.setTransform(saved);
        } else if (texture == 2) { // dots
            double r = step / 3;
            for (double y = b.getMinY(); y < b.getMaxY(); y += step) {
                for (double x = b.getMinX(); x < b.getMaxX(); x += step) {
                    g.fill(new Ellipse2D.Double(x, y, r * 2, r * 2));
                }
            }
        } else { // checker
            int i = 0;
            for (double y = b.getMinY(); y < b.getMaxY(); y += step, i++) {
                int j = i;
                for (double x = b.getMinX(); x < b.getMaxX(); x += step, j++) {
                    if ((j & 1) == 0) {
                        g.fill(new Rectangle2D.Double(x, y, step, step));
                    }
                }
            }
        }
        g.setClip(clip);
    }

    /** Brightness scale and additive noise (approximately Gaussian, std {@code sigma} levels). */
    private static RgbImage withNoise(BufferedImage img, double gain, int sigma, SplittableRandom rng) {
        int w = img.getWidth();
        int h = img.getHeight();
        int[] argb = img.getRGB(0, 0, w, h, null, 0, w);
        byte[] px = new byte[w * h * 3];
        for (int i = 0; i < argb.length; i++) {
            int v = argb[i];
            for (int c = 0; c < 3; c++) {
                int ch = (v >> (16 - 8 * c)) & 0xFF;
                // sum of 3 uniforms on [-1,1] has std 1: cheap near-Gaussian noise
                double n = (rng.nextDouble() + rng.nextDouble() + rng.nextDouble() - 1.5) * 2;
                int out = (int) Math.round(ch * gain + n * sigma);
                px[3 * i + c] = (byte) Math.max(0, Math.min(255, out));
            }
        }
        return new RgbImage(w, h, px);
    }
}
