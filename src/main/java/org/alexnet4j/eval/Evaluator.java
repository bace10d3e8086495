package org.alexnet4j.eval;

import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Preset;
import org.alexnet4j.data.transforms.TenCrop;
import org.alexnet4j.util.ProgressBar;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

import java.util.List;

/**
 * Top-1/top-5 error of a network on a split: one centre view, or the paper's ten views (section 4.1) whose softmax
 * outputs are averaged per image before ranking.
 */
public final class Evaluator {
    private Evaluator() {
    }

    /**
     * @param limitBatches evaluate at most this many batches (0: all)
     */
    public static TopK evaluate(ComputationGraph graph, ImageSource source, Preset preset, int batch, int threads,
                                int limitBatches, boolean progress) {
        return evaluate(org.alexnet4j.infer.InferenceEngine.dl4j(graph), source, preset, batch, threads, limitBatches,
                progress);
    }

    /** As {@link #evaluate(ComputationGraph, ImageSource, Preset, int, int, int, boolean)}, on {@code engine}. */
    public static TopK evaluate(org.alexnet4j.infer.InferenceEngine engine, ImageSource source, Preset preset,
                                int batch, int threads, int limitBatches, boolean progress) {
        return compare(engine, null, source, preset, batch, threads, limitBatches, progress).result();
    }

    /**
     * The result of a reduced-precision engine beside its fp32 reference on the same views: each one's top-k, and how
     * often they agree per image ({@link #top1Agreement}: the same best class; {@link #top5Agreement}: the same five
     * best classes, in any order).
     */
    public record Comparison(TopK result, TopK reference, long top1Same, long top5Same) {
        public double top1Agreement() {
            return (double) top1Same / Math.max(1, result.examples());
        }

        public double top5Agreement() {
            return (double) top5Same / Math.max(1, result.examples());
        }
    }

    /**
     * {@link #evaluate} of {@code engine}, and with {@code reference} (or null) of the same batches by the reference
     * engine too, counting agreements.
     */
    public static Comparison compare(org.alexnet4j.infer.InferenceEngine engine,
                                     org.alexnet4j.infer.InferenceEngine reference, ImageSource source, Preset preset,
                                     int batch, int threads, int limitBatches, boolean progress) {
        int classes = source.wnids().size();
        TopK topk = new TopK(classes);
        TopK refTopk = reference == null ? null : new TopK(classes);
        long top1Same = 0, top5Same = 0;
        boolean ten = preset.mode() == Preset.Mode.TEN_CROP;
        try (ImageNetIterator it = new ImageNetIterator(source, preset,
                ImageNetIterator.Options.evaluation(batch, threads));
             ProgressBar bar = progress ? new ProgressBar("eval " + (ten ? "10-crop" : "centre")
                     + (reference != null ? " " + engine.precision() : ""),
                     limitBatches > 0 ? Math.min(source.size(), (long) limitBatches * batch) : source.size(), "img")
                     : null) {
            int b = 0;
            while (it.hasNext() && (limitBatches == 0 || b < limitBatches)) {
                DataSet ds = it.next();
                b++;
                if (ds.getFeatures().size(0) == 0) {
                    continue;
                }
                INDArray probs = engine.output(ds.getFeatures());
                INDArray refProbs = reference == null ? null : reference.output(ds.getFeatures());
                INDArray labelsOneHot = ds.getLabels();
                if (ten) {
                    probs = TenCrop.average(probs);
                    refProbs = refProbs == null ? null : TenCrop.average(refProbs);
                    labelsOneHot = labelsOneHot.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0,
                            TenCrop.VIEWS, labelsOneHot.size(0)));
                }
                int[] labels = labelsOneHot.argMax(1).toIntVector();
                topk.add(probs, labels);
                if (refProbs != null) {
                    refTopk.add(refProbs, labels);
                    for (int r = 0; r < labels.length; r++) {
                        int[] a = best(probs.getRow(r).toFloatVector(), 5);
                        int[] c = best(refProbs.getRow(r).toFloatVector(), 5);
                        top1Same += a[0] == c[0] ? 1 : 0;
                        top5Same += java.util.Arrays.equals(sorted(a), sorted(c)) ? 1 : 0;
                    }
                }
                if (bar != null) {
                    bar.step(labels.length);
                }
            }
        }
        return new Comparison(topk, refTopk, top1Same, top5Same);
    }

    /** The indices of the {@code k} largest scores, best first. */
    static int[] best(float[] scores, int k) {
        return Predictor.rank(scores, 0, scores.length, k).stream().mapToInt(Predictor.Ranked::index).toArray();
    }

    private static int[] sorted(int[] a) {
        int[] c = a.clone();
        java.util.Arrays.sort(c);
        return c;
    }

    public static void writePerClass(java.nio.file.Path file, List<String> wnids, TopK center, TopK ten)
            throws java.io.IOException {
        StringBuilder sb = new StringBuilder("index,class,name,images,center_top1_acc,center_top5_acc,ten_top1_acc,"
                + "ten_top5_acc\n");
        TopK any = center != null ? center : ten;
        long[] total = any.perClassTotal();
        for (int c = 0; c < wnids.size(); c++) {
            sb.append(c).append(',').append(wnids.get(c)).append(",\"")
                    .append(org.alexnet4j.data.ImageNetMeta.get().name(wnids.get(c)).replace("\"", "'"))
                    .append("\",").append(total[c]);
            for (TopK k : new TopK[]{center, ten}) {
                if (k == null || total[c] == 0) {
                    sb.append(",,");
                } else {
                    sb.append(String.format(java.util.Locale.ROOT, ",%.4f,%.4f",
                            k.perClassTop1()[c] / (double) total[c], k.perClassTop5()[c] / (double) total[c]));
                }
            }
            sb.append('\n');
        }
        byte[] bytes = sb.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        org.alexnet4j.util.AtomicFiles.write(file, tmp -> java.nio.file.Files.write(tmp, bytes));
    }
}
