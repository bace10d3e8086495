package org.alexnet4j.data.transforms;

/**
 * A square window of a source image, optionally mirrored left-right: the geometric part of every training and test
 * view. Pixel (x, y) of the view is source pixel ({@code mirror ? this.x + size - 1 - x : this.x + x}, this.y + y).
 */
public record Crop(int x, int y, int size, boolean mirror) {
    public Crop {
        if (x < 0 || y < 0 || size <= 0) {
            throw new IllegalArgumentException("bad crop " + x + "," + y + " size " + size);
        }
    }

    public Crop mirrored(boolean m) {
        return new Crop(x, y, size, m);
    }

    /** Checks that the window fits a square source of side {@code sourceSize}. */
    public void checkFits(int sourceSize) {
        if (x + size > sourceSize || y + size > sourceSize) {
            throw new IllegalArgumentException("crop " + this + " does not fit a " + sourceSize + "x" + sourceSize
                    + " image");
        }
    }
}
