package org.alexnet4j.data;

/**
 * An 8-bit RGB image, pixels interleaved row-major ({@code (y * width + x) * 3 + c}, c = 0 red, 1 green, 2 blue).
 * The pipeline's working type: decoders produce it, the paper's resize/centre-crop keeps it, and the tensor writer
 * reads crops of it.
 */
public record RgbImage(int width, int height, byte[] pixels) {
    public RgbImage {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("image size must be positive, got " + width + "x" + height);
        }
        if (pixels.length != width * height * 3) {
            throw new IllegalArgumentException("pixel array has " + pixels.length + " bytes, expected "
                    + (width * height * 3) + " for " + width + "x" + height + " RGB");
        }
    }

    public static RgbImage blank(int width, int height) {
        return new RgbImage(width, height, new byte[width * height * 3]);
    }

    /** Channel value 0..255 at (x, y). */
    public int get(int x, int y, int c) {
        return pixels[(y * width + x) * 3 + c] & 0xFF;
    }

    public void set(int x, int y, int c, int value) {
        pixels[(y * width + x) * 3 + c] = (byte) value;
    }
}
