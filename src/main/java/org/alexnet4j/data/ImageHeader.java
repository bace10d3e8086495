package org.alexnet4j.data;

/**
 * What a file's first bytes and last bytes say about it, read without decoding: the container format (by content,
 * not by name: ILSVRC2012 has a PNG named {@code .JPEG}), the pixel size, the number of JPEG components (1 gray,
 * 3 YCbCr/RGB, 4 CMYK/YCCK) and, when the file cannot be a whole image, why. A truncated JPEG decodes "successfully"
 * in libjpeg (the missing rows come out gray), so truncation is caught here, by the missing end-of-image marker.
 *
 * @param problem null when the file looks like a complete image, else a short reason such as "empty file"
 */
public record ImageHeader(Format format, int width, int height, int components, String problem) {

    /** Container formats recognised by content. */
    public enum Format { JPEG, PNG, BMP, UNKNOWN }

    /** How far from the end the JPEG end-of-image marker (FF D9) may be: allows short trailing padding. */
    static final int EOI_SEARCH = 4096;

    public boolean ok() {
        return problem == null;
    }

    /**
     * Reads the header of an encoded image held in {@code data[0..length)}.
     */
    public static ImageHeader parse(byte[] data, int length) {
        return parse(data, length, data, length, length);
    }

    /**
     * Reads a header from the first bytes of a file ({@code head[0..headLength)}) and its last bytes
     * ({@code tail[0..tailLength)}), of a file of {@code fileLength} bytes: enough to find the frame size and to
     * notice truncation without reading the whole file.
     */
    public static ImageHeader parse(byte[] head, int headLength, byte[] tail, int tailLength, long fileLength) {
        byte[] data = head;
        int length = headLength;
        if (fileLength == 0) {
            return new ImageHeader(Format.UNKNOWN, 0, 0, 0, "empty file");
        }
        if (length >= 3 && (data[0] & 0xFF) == 0xFF && (data[1] & 0xFF) == 0xD8 && (data[2] & 0xFF) == 0xFF) {
            return parseJpeg(data, length, tail, tailLength);
        }
        if (length >= 24 && (data[0] & 0xFF) == 0x89 && data[1] == 'P' && data[2] == 'N' && data[3] == 'G') {
            int w = be32(data, 16);
            int h = be32(data, 20);
            boolean end = false;
            for (int i = Math.max(0, tailLength - 64); i + 4 <= tailLength; i++) {
                if (tail[i] == 'I' && tail[i + 1] == 'E' && tail[i + 2] == 'N' && tail[i + 3] == 'D') {
                    end = true;
                    break;
                }
            }
            return new ImageHeader(Format.PNG, w, h, 0, end ? null : "truncated PNG (no IEND chunk)");
        }
        if (length >= 26 && data[0] == 'B' && data[1] == 'M') {
            long declared = le32(data, 2) & 0xFFFFFFFFL;
            int w = le32(data, 18);
            int h = Math.abs(le32(data, 22)); // negative: rows stored top-down
            String problem = w <= 0 || h <= 0 ? "BMP with no pixels" : declared > fileLength
                    ? "truncated BMP (" + fileLength + " of " + declared + " bytes)" : null;
            return new ImageHeader(Format.BMP, w, h, 0, problem);
        }
        return new ImageHeader(Format.UNKNOWN, 0, 0, 0, "not a JPEG, PNG or BMP file");
    }

    private static int le32(byte[] d, int i) {
        return (d[i] & 0xFF) | (d[i + 1] & 0xFF) << 8 | (d[i + 2] & 0xFF) << 16 | (d[i + 3] & 0xFF) << 24;
    }

    private static ImageHeader parseJpeg(byte[] d, int n, byte[] tail, int tn) {
        int i = 2;
        int w = 0;
        int h = 0;
        int comps = 0;
        while (i + 4 <= n) {
            if ((d[i] & 0xFF) != 0xFF) {
                return new ImageHeader(Format.JPEG, w, h, comps, "corrupt JPEG (bad marker at byte " + i + ")");
            }
            int marker = d[i + 1] & 0xFF;
            if (marker == 0xFF) {
                i++;
                continue;
            }
            if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
                i += 2;
                continue;
            }
            int len = ((d[i + 2] & 0xFF) << 8) | (d[i + 3] & 0xFF);
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof && i + 10 <= n) {
                h = ((d[i + 5] & 0xFF) << 8) | (d[i + 6] & 0xFF);
                w = ((d[i + 7] & 0xFF) << 8) | (d[i + 8] & 0xFF);
                comps = d[i + 9] & 0xFF;
            }
            if (marker == 0xDA) {
                break; // start of scan: entropy-coded data follows
            }
            i += 2 + len;
        }
        if (w == 0 || h == 0) {
            return new ImageHeader(Format.JPEG, w, h, comps, "corrupt or truncated JPEG (no frame header)");
        }
        for (int j = tn - 2; j >= Math.max(0, tn - EOI_SEARCH); j--) {
            if ((tail[j] & 0xFF) == 0xFF && (tail[j + 1] & 0xFF) == 0xD9) {
                return new ImageHeader(Format.JPEG, w, h, comps, null);
            }
        }
        return new ImageHeader(Format.JPEG, w, h, comps, "truncated JPEG (no end-of-image marker)");
    }

    /** Bytes read from the start of a file to find its frame header (EXIF thumbnails can push it far). */
    static final int HEAD_BYTES = 65536;

    /** Reads the header of a file from its first 64 KiB and last 4 KiB. */
    public static ImageHeader read(java.nio.file.Path file) throws java.io.IOException {
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
            long size = ch.size();
            if (size <= HEAD_BYTES) {
                byte[] all = new byte[(int) size];
                readFully(ch, java.nio.ByteBuffer.wrap(all), 0);
                return parse(all, all.length);
            }
            byte[] head = new byte[HEAD_BYTES];
            readFully(ch, java.nio.ByteBuffer.wrap(head), 0);
            byte[] tail = new byte[EOI_SEARCH];
            readFully(ch, java.nio.ByteBuffer.wrap(tail), size - EOI_SEARCH);
            return parse(head, head.length, tail, tail.length, size);
        }
    }

    private static void readFully(java.nio.channels.FileChannel ch, java.nio.ByteBuffer buf, long pos)
            throws java.io.IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos);
            if (n < 0) {
                throw new java.io.EOFException();
            }
            pos += n;
        }
    }

    private static int be32(byte[] d, int off) {
        return ((d[off] & 0xFF) << 24) | ((d[off + 1] & 0xFF) << 16) | ((d[off + 2] & 0xFF) << 8) | (d[off + 3] & 0xFF);
    }
}
