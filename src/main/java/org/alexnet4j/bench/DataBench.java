package org.alexnet4j.bench;

import org.alexnet4j.data.DatasetStats;
import org.alexnet4j.data.ImageHeader;
import org.alexnet4j.data.Manifest;
import org.alexnet4j.data.ImageNetIterator;
import org.alexnet4j.data.ImageSource;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.data.transforms.PcaLighting;
import org.alexnet4j.data.transforms.Preset;
import org.datavec.api.io.labels.ParentPathLabelGenerator;
import org.datavec.api.split.CollectionInputSplit;
import org.datavec.image.recordreader.ImageRecordReader;
import org.datavec.image.transform.FlipImageTransform;
import org.datavec.image.transform.MultiImageTransform;
import org.datavec.image.transform.RandomCropTransform;
import org.datavec.image.transform.ResizeImageTransform;
import org.deeplearning4j.datasets.datavec.RecordReaderDataSetIterator;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

/**
 * Input-pipeline throughput: images per second delivered as training batches (decode, crop, flip, lighting,
 * normalization, NCHW float32), from original JPEGs or from a prepared cache, per thread count; and, as the in-run
 * baseline, DataVec's stock {@code ImageRecordReader} with its stock resize, random-crop and flip transforms.
 */
public final class DataBench {
    private DataBench() {
    }

    /** One measurement. */
    public record Row(String pipeline, int threads, long images, double seconds) {
        public double imagesPerSecond() {
            return images / seconds;
        }

        public double perThread() {
            return imagesPerSecond() / threads;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("pipeline", pipeline);
            m.put("threads", threads);
            m.put("images", images);
            m.put("seconds", Math.round(seconds * 1000) / 1000.0);
            m.put("imagesPerSecond", Math.round(imagesPerSecond() * 10) / 10.0);
            m.put("imagesPerSecondPerThread", Math.round(perThread() * 10) / 10.0);
            return m;
        }
    }

    /**
     * The full training transform (paper preset: random crop, flip, PCA lighting, mean-image subtraction) over
     * {@code source} with {@code threads} workers, timed over at least {@code images} images after one warm-up
     * batch. Epochs repeat when the source is smaller.
     */
    public static Row measure(String name, ImageSource source, int threads, int images, int crop, int batch) {
        DatasetStats stats = DatasetStats.of(source);
        Preset preset = Preset.train(crop, PcaLighting.of(stats, 0.1), Normalization.meanImage(stats));
        ImageNetIterator.Options o = ImageNetIterator.Options.training(batch, 1, threads);
        try (ImageNetIterator it = new ImageNetIterator(source, preset, o)) {
            it.next(); // warm-up: JIT, OpenCV, first allocations
            return time(name, threads, it, images);
        }
    }

    /**
     * DataVec's stock pipeline on the original training files (one thread, as ImageRecordReader is). Files whose
     * header shows them unreadable are left out first: the stock reader aborts the whole iteration on an empty file.
     */
    public static Row dataVecBaseline(Path root, Manifest manifest, int images, int crop, int batch)
            throws IOException {
        List<URI> files = new ArrayList<>();
        for (Manifest.Entry e : manifest.split("train")) {
            Path p = root.resolve(e.path());
            if (ImageHeader.read(p).ok()) {
                files.add(p.toUri());
            }
        }
        Random rng = new Random(1);
        MultiImageTransform transform = new MultiImageTransform(rng, new ResizeImageTransform(256, 256),
                new RandomCropTransform(rng, 1, crop, crop), new FlipImageTransform(rng));
        ImageRecordReader reader = new ImageRecordReader(crop, crop, 3, new ParentPathLabelGenerator(), transform);
        java.util.Collections.shuffle(files, new Random(1));
        reader.initialize(new CollectionInputSplit(files));
        DataSetIterator it = new RecordReaderDataSetIterator(reader, batch, 1, manifest.wnids().size());
        it.next();
        return time("datavec ImageRecordReader (stock resize+crop+flip), JPEG", 1, it, images);
    }

    private static Row time(String name, int threads, DataSetIterator it, int images) {
        long n = 0;
        long start = System.nanoTime();
        while (n < images) {
            if (!it.hasNext()) {
                it.reset();
            }
            DataSet ds = it.next();
            n += ds.getFeatures().size(0);
        }
        return new Row(name, threads, n, (System.nanoTime() - start) / 1e9);
    }
}
