package org.alexnet4j.notebook;

import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.display.DisplayData;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * What a notebook cell shows besides text: images (embedded as PNG outputs), image grids with captions, bar charts
 * and HTML tables. Outside a notebook (no kernel running) each call prints a one-line description instead, so code
 * written for a notebook also runs in a plain JVM.
 */
public final class Show {
    private Show() {
    }

    /** Displays an image, enlarged {@code scale} times with nearest-neighbour pixels. */
    public static void image(BufferedImage img, int scale) {
        BufferedImage out = img;
        if (scale > 1) {
            out = new BufferedImage(img.getWidth() * scale, img.getHeight() * scale, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = out.createGraphics();
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.drawImage(img, 0, 0, out.getWidth(), out.getHeight(), null);
            g.dispose();
        }
        DisplayData d = new DisplayData(String.format(Locale.ROOT, "[image %dx%d]", out.getWidth(),
                out.getHeight()));
        d.putData("image/png", Base64.getEncoder().encodeToString(png(out)));
        display(d);
    }

    public static void image(BufferedImage img) {
        image(img, 1);
    }

    /** The image resized by {@code factor} (bilinear): smaller pictures keep notebooks small. */
    public static BufferedImage scaled(BufferedImage img, double factor) {
        int w = Math.max(1, (int) Math.round(img.getWidth() * factor));
        int h = Math.max(1, (int) Math.round(img.getHeight() * factor));
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setRenderingHint(RenderingHints.KEY_RENDERING, RenderingHints.VALUE_RENDER_QUALITY);
        g.drawImage(img, 0, 0, w, h, null);
        g.dispose();
        return out;
    }

    /** Displays a PNG file (a run's plots, say). */
    public static void png(Path file) {
        try {
            DisplayData d = new DisplayData("[" + file.getFileName() + "]");
            d.putData("image/png", Base64.getEncoder().encodeToString(Files.readAllBytes(file)));
            display(d);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Images side by side in rows of {@code columns}, each captioned, every image drawn at {@code scale}; cells are
     * as large as the largest image.
     */
    public static BufferedImage grid(List<BufferedImage> images, List<String> captions, int columns, int scale) {
        if (images.isEmpty() || columns < 1 || (captions != null && captions.size() != images.size())) {
            throw new IllegalArgumentException("grid: images, one caption each (or none), at least one column");
        }
        int cw = 0;
        int ch = 0;
        for (BufferedImage i : images) {
            cw = Math.max(cw, i.getWidth() * scale);
            ch = Math.max(ch, i.getHeight() * scale);
        }
        int gap = 6;
        int text = captions == null ? 0 : 18;
        int rows = (images.size() + columns - 1) / columns;
        int n = Math.min(columns, images.size());
        BufferedImage out = new BufferedImage(n * (cw + gap) + gap, rows * (ch + text + gap) + gap,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (int k = 0; k < images.size(); k++) {
            BufferedImage i = images.get(k);
            int x = gap + (k % columns) * (cw + gap);
            int y = gap + (k / columns) * (ch + text + gap);
            g.drawImage(i, x, y, i.getWidth() * scale, i.getHeight() * scale, null);
            if (captions != null) {
                g.setColor(Color.BLACK);
                String c = captions.get(k);
                g.drawString(c, x + Math.max(0, (i.getWidth() * scale - fm.stringWidth(c)) / 2), y + ch + 14);
            }
        }
        g.dispose();
        return out;
    }

    /** A horizontal bar chart of {@code values}, one labelled bar each, with the value printed at its end. */
    public static BufferedImage bars(String title, List<String> labels, double[] values, String unit) {
        if (labels.size() != values.length || values.length == 0) {
            throw new IllegalArgumentException("bars: one label per value");
        }
        double max = 0;
        for (double v : values) {
            max = Math.max(max, v);
        }
        int left = 90;
        int barW = 460;
        int rowH = 22;
        BufferedImage out = new BufferedImage(left + barW + 140, 40 + rowH * values.length + 10,
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, 10, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        FontMetrics fm = g.getFontMetrics();
        for (int i = 0; i < values.length; i++) {
            int y = 40 + i * rowH;
            int w = max == 0 ? 0 : (int) Math.round(values[i] / max * barW);
            g.setColor(new Color(31, 119, 180));
            g.fillRect(left, y, Math.max(w, 1), rowH - 6);
            g.setColor(Color.BLACK);
            g.drawString(labels.get(i), left - 8 - fm.stringWidth(labels.get(i)), y + 12);
            g.drawString(number(values[i]) + (unit.isEmpty() ? "" : " " + unit), left + w + 6, y + 12);
        }
        g.dispose();
        return out;
    }

    /** Displays a table as HTML (and as aligned text for plain-text viewers). */
    public static void table(List<String> header, List<List<?>> rows) {
        StringBuilder html = new StringBuilder("<table><thead><tr>");
        header.forEach(h -> html.append("<th>").append(escape(h)).append("</th>"));
        html.append("</tr></thead><tbody>");
        int[] width = new int[header.size()];
        for (int c = 0; c < header.size(); c++) {
            width[c] = header.get(c).length();
        }
        for (List<?> r : rows) {
            if (r.size() != header.size()) {
                throw new IllegalArgumentException("table: a row has " + r.size() + " cells, the header "
                        + header.size());
            }
            html.append("<tr>");
            for (int c = 0; c < r.size(); c++) {
                String v = cell(r.get(c));
                width[c] = Math.max(width[c], v.length());
                html.append(r.get(c) instanceof Number ? "<td style=\"text-align:right\">" : "<td>")
                        .append(escape(v)).append("</td>");
            }
            html.append("</tr>");
        }
        html.append("</tbody></table>");
        StringBuilder text = new StringBuilder();
        appendRow(text, header, width);
        for (List<?> r : rows) {
            appendRow(text, r, width);
        }
        DisplayData d = new DisplayData(text.toString());
        d.putData("text/html", html.toString());
        display(d);
    }

    /** Displays Markdown (rendered by the notebook; shown as text elsewhere). */
    public static void markdown(String md) {
        DisplayData d = new DisplayData(md);
        d.putData("text/markdown", md);
        display(d);
    }

    /** A number as people read it: thousands separated, two decimals below 100. */
    public static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return String.format(Locale.ROOT, "%,d", (long) v);
        }
        if (Math.abs(v) >= 100 || !Double.isFinite(v)) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        return new java.math.BigDecimal(v).round(new java.math.MathContext(4)).stripTrailingZeros().toPlainString();
    }

    private static String cell(Object o) {
        if (o instanceof Double || o instanceof Float) {
            return number(((Number) o).doubleValue());
        }
        if (o instanceof Long || o instanceof Integer) {
            return number(((Number) o).longValue());
        }
        return String.valueOf(o);
    }

    private static void appendRow(StringBuilder sb, List<?> cells, int[] width) {
        for (int c = 0; c < cells.size(); c++) {
            String v = cell(cells.get(c));
            sb.append(c == 0 ? "" : "  ").append(v).append(" ".repeat(width[c] - v.length()));
        }
        sb.append('\n');
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    static byte[] png(BufferedImage img) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ImageIO.write(img, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void display(DisplayData d) {
        BaseKernel kernel;
        try {
            kernel = BaseKernel.notebookKernel();
        } catch (NullPointerException notInANotebook) {
            System.out.println(d.getData(org.dflib.jjava.jupyter.kernel.display.mime.MIMEType.TEXT_PLAIN));
            return;
        }
        kernel.display(d);
    }
}
