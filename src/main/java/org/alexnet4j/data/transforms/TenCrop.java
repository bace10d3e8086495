package org.alexnet4j.data.transforms;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.ArrayList;
import java.util.List;

/**
 * Paper section 4.1, test time: the four corner patches and the centre patch, and their horizontal reflections: ten
 * views per image whose softmax outputs are averaged. View order: top-left, top-right, bottom-left, bottom-right,
 * centre, then the same five mirrored.
 */
public record TenCrop(int size) {
    public static final int VIEWS = 10;

    public TenCrop {
        if (size <= 0) {
            throw new IllegalArgumentException("crop size must be positive, got " + size);
        }
    }

    public List<Crop> of(int sourceSize) {
        RandomCrop.checkSource(size, sourceSize);
        int far = sourceSize - size;
        int mid = far / 2;
        List<Crop> five = List.of(new Crop(0, 0, size, false), new Crop(far, 0, size, false),
                new Crop(0, far, size, false), new Crop(far, far, size, false), new Crop(mid, mid, size, false));
        List<Crop> all = new ArrayList<>(five);
        for (Crop c : five) {
            all.add(c.mirrored(true));
        }
        return all;
    }

    /**
     * Averages the per-view predictions of images laid out view-major within each image (rows
     * {@code 10*i .. 10*i+9} belong to image i, as {@code ImageNetIterator} emits them): {@code [10n, C] -> [n, C]}.
     */
    public static INDArray average(INDArray perView) {
        long rows = perView.size(0);
        if (rows % VIEWS != 0) {
            throw new IllegalArgumentException("ten-crop predictions need a multiple of 10 rows, got " + rows);
        }
        long classes = perView.size(1);
        return perView.reshape('c', rows / VIEWS, VIEWS, classes).mean(1);
    }
}
