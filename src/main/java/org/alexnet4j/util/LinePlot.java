package org.alexnet4j.util;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A small line or scatter chart written as PNG (Java2D, no dependencies): training curves and search results people
 * would rather look at. Axes may be logarithmic; the x axis may be categorical (labels at 0, 1, ...).
 */
public final class LinePlot {
    private static final Color[] COLORS = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189)};

    private record Series(String name, double[] x, double[] y, boolean line) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private boolean logY;
    private boolean logX;
    private List<String> categories;
    private final List<double[]> hLines = new ArrayList<>();
    private final List<String> hLineNames = new ArrayList<>();

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    public LinePlot add(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("x and y differ in length");
        }
        series.add(new Series(name, x.clone(), y.clone(), true));
        return this;
    }

    /** A series drawn as points only (a scatter plot). */
    public LinePlot points(String name, double[] x, double[] y) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("x and y differ in length");
        }
        series.add(new Series(name, x.clone(), y.clone(), false));
        return this;
    }

    public LinePlot logX(boolean log) {
        this.logX = log;
        return this;
    }

    /** A categorical x axis: x values are indices into {@code labels}, which label the ticks. */
    public LinePlot xCategories(List<String> labels) {
        this.categories = List.copyOf(labels);
        return this;
    }

    public LinePlot logY(boolean log) {
        this.logY = log;
        return this;
    }

    /** A dashed horizontal reference line (e.g. chance level). */
    public LinePlot horizontal(String name, double y) {
        hLines.add(new double[]{y});
        hLineNames.add(name);
        return this;
    }

    private double ty(double y) {
        return logY ? Math.log10(Math.max(y, 1e-12)) : y;
    }

    private double tx(double x) {
        return logX ? Math.log10(Math.max(x, 1e-300)) : x;
    }

    public void write(Path file) throws IOException {
        int w = 720;
        int h = 440;
        int left = 80;
        int right = 20;
        int top = 40;
        int bottom = 60;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        double xmin = Double.POSITIVE_INFINITY;
        double xmax = Double.NEGATIVE_INFINITY;
        double ymin = Double.POSITIVE_INFINITY;
        double ymax = Double.NEGATIVE_INFINITY;
        for (Series s : series) {
            for (int i = 0; i < s.x.length; i++) {
                if (Double.isFinite(s.y[i])) {
                    xmin = Math.min(xmin, tx(s.x[i]));
                    xmax = Math.max(xmax, tx(s.x[i]));
                    ymin = Math.min(ymin, ty(s.y[i]));
                    ymax = Math.max(ymax, ty(s.y[i]));
                }
            }
        }
        for (double[] l : hLines) {
            ymin = Math.min(ymin, ty(l[0]));
            ymax = Math.max(ymax, ty(l[0]));
        }
        if (!Double.isFinite(xmin)) {
            xmin = 0;
            xmax = 1;
            ymin = 0;
            ymax = 1;
        }
        if (categories != null) {
            xmin = -0.5;
            xmax = categories.size() - 0.5;
        } else if (xmax == xmin) {
            xmin -= 0.5;
            xmax += 0.5;
        } else if (logX || series.stream().anyMatch(s -> !s.line)) {
            double xpad = (xmax - xmin) * 0.05; // points at the edges stay visible
            xmin -= xpad;
            xmax += xpad;
        }
        if (ymax == ymin) {
            ymax = ymin + 1;
        }
        double pad = (ymax - ymin) * 0.05;
        ymin -= pad;
        ymax += series.stream().anyMatch(s -> !s.line) ? 4 * pad : pad; // room for the legend above the points
        int pw = w - left - right;
        int ph = h - top - bottom;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        g.setColor(new Color(230, 230, 230));
        for (int i = 0; i <= 5; i++) {
            int yy = top + ph - i * ph / 5;
            g.drawLine(left, yy, left + pw, yy);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 5; i++) {
            double v = ymin + (ymax - ymin) * i / 5;
            String label = logY ? String.format(Locale.ROOT, "%.0e", Math.pow(10, v)) : format(v);
            int yy = top + ph - i * ph / 5;
            g.drawString(label, left - 6 - fm.stringWidth(label), yy + 4);
            if (categories == null) {
                double xv = xmin + (xmax - xmin) * i / 5;
                String xl = logX ? String.format(Locale.ROOT, "%.1e", Math.pow(10, xv)) : format(xv);
                int xx = left + i * pw / 5;
                g.drawLine(xx, top + ph, xx, top + ph + 4);
                g.drawString(xl, xx - fm.stringWidth(xl) / 2, top + ph + 18);
            }
        }
        for (int i = 0; categories != null && i < categories.size(); i++) {
            String xl = categories.get(i);
            int xx = (int) Math.round(left + (i - xmin) / (xmax - xmin) * pw);
            g.drawLine(xx, top + ph, xx, top + ph + 4);
            g.drawString(xl, xx - fm.stringWidth(xl) / 2, top + ph + 18);
        }
        g.drawString(xLabel, left + pw / 2 - fm.stringWidth(xLabel) / 2, h - 18);
        Graphics2D gr = (Graphics2D) g.create();
        gr.rotate(-Math.PI / 2);
        gr.drawString(yLabel, -(top + ph / 2) - fm.stringWidth(yLabel) / 2, 18);
        gr.dispose();
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, left, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        final double x0 = xmin;
        final double x1 = xmax;
        final double y0 = ymin;
        final double y1 = ymax;
        int legendY = top + 16;
        for (int k = 0; k < hLines.size(); k++) {
            int yy = (int) Math.round(top + ph - (ty(hLines.get(k)[0]) - y0) / (y1 - y0) * ph);
            g.setColor(Color.GRAY);
            g.setStroke(new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[]{6, 4}, 0));
            g.drawLine(left, yy, left + pw, yy);
            g.drawString(hLineNames.get(k), left + pw - 8 - fm.stringWidth(hLineNames.get(k)), yy - 4);
        }
        for (int k = 0; k < series.size(); k++) {
            Series s = series.get(k);
            Color c = COLORS[k % COLORS.length];
            g.setColor(c);
            g.setStroke(new BasicStroke(2f));
            Path2D path = new Path2D.Double();
            boolean started = false;
            for (int i = 0; i < s.x.length; i++) {
                if (!Double.isFinite(s.y[i])) {
                    continue;
                }
                double px = left + (tx(s.x[i]) - x0) / (x1 - x0) * pw;
                double py = top + ph - (ty(s.y[i]) - y0) / (y1 - y0) * ph;
                if (!started) {
                    path.moveTo(px, py);
                    started = true;
                } else {
                    path.lineTo(px, py);
                }
                if (!s.line) {
                    g.fillOval((int) px - 4, (int) py - 4, 8, 8);
                } else if (s.x.length <= 60) {
                    g.fillOval((int) px - 3, (int) py - 3, 6, 6);
                }
            }
            if (s.line) {
                g.draw(path);
            }
            g.fillRect(left + 10, legendY - 8, 14, 4);
            g.setColor(Color.BLACK);
            g.drawString(s.name, left + 30, legendY - 3);
            legendY += 16;
        }
        g.dispose();
        AtomicFiles.write(file, tmp -> ImageIO.write(img, "png", tmp.toFile()));
    }

    private static String format(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a < 0.01 || a >= 1e5)) {
            return String.format(Locale.ROOT, "%.1e", v);
        }
        return a >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
