package org.alexnet4j.util;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A line or scatter chart written as PNG, drawn by XChart (a maintained charting library: "nice" axis ticks, log
 * axes, legends): training curves, search results and benchmark sweeps people would rather look at. This class is
 * only the small builder the project's plots share. Axes may be logarithmic; the x axis may be categorical (labels
 * at 0, 1, ...). Points that are not finite (a missing validation loss) are left out of their series.
 */
public final class LinePlot {
    static {
        ImageIO.setUseCache(false); // see write()
    }

    private record Series(String name, double[] x, double[] y, boolean line) {
    }

    private final String title;
    private final String xLabel;
    private final String yLabel;
    private final List<Series> series = new ArrayList<>();
    private final List<String> hLineNames = new ArrayList<>();
    private final List<Double> hLines = new ArrayList<>();
    private boolean logY;
    private boolean logX;
    private List<String> categories;

    public LinePlot(String title, String xLabel, String yLabel) {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
    }

    /** A series drawn as a line with markers. */
    public LinePlot add(String name, double[] x, double[] y) {
        return series(name, x, y, true);
    }

    /** A series drawn as points only (a scatter plot). */
    public LinePlot points(String name, double[] x, double[] y) {
        return series(name, x, y, false);
    }

    private LinePlot series(String name, double[] x, double[] y, boolean line) {
        if (x.length != y.length) {
            throw new IllegalArgumentException("x and y differ in length");
        }
        series.add(new Series(name, x.clone(), y.clone(), line));
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
        hLineNames.add(name);
        hLines.add(y);
        return this;
    }

    /** The chart as XChart builds it (for the notebooks, which show it inline). */
    public XYChart chart() {
        // many series: their names in a column on the right (a row below the plot runs off its edges)
        boolean column = series.size() + hLines.size() > 3;
        XYChart chart = new XYChartBuilder().width(column ? 960 : 760).height(460).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        Styler st = chart.getStyler();
        st.setLegendPosition(column ? Styler.LegendPosition.OutsideE : Styler.LegendPosition.OutsideS);
        st.setLegendLayout(column ? Styler.LegendLayout.Vertical : Styler.LegendLayout.Horizontal);
        st.setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisLogarithmic(logX);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setPlotGridLinesVisible(true);
        double xMin = Double.POSITIVE_INFINITY, xMax = Double.NEGATIVE_INFINITY;
        int drawn = 0;
        for (Series s : series) {
            List<Double> xs = new ArrayList<>(), ys = new ArrayList<>();
            for (int i = 0; i < s.x.length; i++) {
                boolean ok = Double.isFinite(s.x[i]) && Double.isFinite(s.y[i]) && (!logX || s.x[i] > 0)
                        && (!logY || s.y[i] > 0);
                if (ok) {
                    // categorical: at the category itself (XChart puts a tick at every distinct x and hangs labelling
                    // jittered positions with a custom formatter, 3.8.8)
                    xs.add(categories != null ? (double) Math.round(s.x[i]) : s.x[i]);
                    ys.add(s.y[i]);
                    xMin = Math.min(xMin, s.x[i]);
                    xMax = Math.max(xMax, s.x[i]);
                }
            }
            if (xs.isEmpty()) {
                continue;
            }
            XYSeries xy = chart.addSeries(s.name, xs, ys);
            xy.setMarker(SeriesMarkers.CIRCLE);
            if (!s.line) {
                xy.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
            }
            drawn++;
        }
        if (drawn == 0) {
            // XChart needs a series to lay out axes: an invisible point says "nothing to show" through the title
            chart.setTitle(title + " (no data)");
            chart.addSeries(" ", new double[]{1}, new double[]{1}).setMarker(SeriesMarkers.NONE)
                    .setShowInLegend(false);
            xMin = xMax = 1;
        }
        for (int i = 0; i < hLines.size(); i++) {
            double lo = xMin == xMax ? xMin - 0.5 : xMin, hi = xMin == xMax ? xMax + 0.5 : xMax;
            XYSeries h = chart.addSeries(hLineNames.get(i), new double[]{lo, hi},
                    new double[]{hLines.get(i), hLines.get(i)});
            h.setMarker(SeriesMarkers.NONE);
            h.setLineStyle(SeriesLines.DASH_DASH);
            h.setLineColor(java.awt.Color.GRAY);
        }
        if (categories != null) {
            List<String> labels = categories;
            chart.setCustomXAxisTickLabelsFormatter(v -> {
                long i = Math.round(v);
                return i >= 0 && i < labels.size() ? labels.get((int) i) : "";
            });
        }
        return chart;
    }

    /**
     * Writes the chart to {@code file} (PNG), atomically. The PNG is encoded in memory with ImageIO's disk cache off:
     * with it on, ImageIO writes through a cache file that a JDK shutdown hook closes, so a chart drawn while Ctrl-C
     * or SIGTERM ends the JVM failed with "IOException: closed" and ended the run as a failed write.
     */
    public void write(Path file) throws IOException {
        XYChart chart = chart();
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream(64 << 10);
        if (!ImageIO.write(BitmapEncoder.getBufferedImage(chart), "png", png)) {
            throw new IllegalStateException("this JVM has no PNG writer for the chart " + file);
        }
        byte[] bytes = png.toByteArray();
        AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
    }
}
