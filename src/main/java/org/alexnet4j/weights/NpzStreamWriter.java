package org.alexnet4j.weights;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes a NumPy {@code .npz} whose arrays are too large to hold in memory: each array's data is first streamed to a
 * temporary file, then copied into the archive (uncompressed, Zip64 when large, as {@code numpy.savez}). The archive
 * appears under its name only when {@link #close()} completes.
 */
public final class NpzStreamWriter implements Closeable {
    private final Path file;
    private final Path tmp;
    private final ZipOutputStream zip;

    public NpzStreamWriter(Path file) throws IOException {
        this.file = file.toAbsolutePath();
        Path dir = this.file.getParent();
        Files.createDirectories(dir);
        this.tmp = Files.createTempFile(dir, "." + file.getFileName(), ".part");
        this.zip = new ZipOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20));
        zip.setMethod(ZipOutputStream.STORED);
    }

    /** Adds array {@code name} of type {@code descr} and {@code shape} whose C-order data is the file {@code data}. */
    public void add(String name, String descr, long[] shape, Path data) throws IOException {
        byte[] header = Npy.header(descr, shape);
        CRC32 crc = new CRC32();
        crc.update(header);
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(data)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                crc.update(buf, 0, n);
            }
        }
        long size = header.length + Files.size(data);
        ZipEntry e = new ZipEntry(name + ".npy");
        e.setSize(size);
        e.setCompressedSize(size);
        e.setCrc(crc.getValue());
        zip.putNextEntry(e);
        zip.write(header);
        try (InputStream in = Files.newInputStream(data)) {
            in.transferTo(zip);
        }
        zip.closeEntry();
    }

    /** Adds strings as a fixed-width unicode array ({@code <U<max length>}, UTF-32LE), one per line of {@code lines}. */
    public void addStrings(String name, Path lines, long count, int maxLength) throws IOException {
        int width = Math.max(1, maxLength);
        Path data = Files.createTempFile(tmp.getParent(), ".strings", ".part");
        try {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(data), 1 << 20);
                 var r = Files.newBufferedReader(lines, StandardCharsets.UTF_8)) {
                byte[] row = new byte[4 * width];
                for (String line; (line = r.readLine()) != null; ) {
                    java.util.Arrays.fill(row, (byte) 0);
                    int[] cps = line.codePoints().toArray();
                    for (int i = 0; i < Math.min(width, cps.length); i++) {
                        int c = cps[i];
                        row[4 * i] = (byte) c;
                        row[4 * i + 1] = (byte) (c >> 8);
                        row[4 * i + 2] = (byte) (c >> 16);
                        row[4 * i + 3] = (byte) (c >> 24);
                    }
                    out.write(row);
                }
            }
            add(name, "<U" + width, new long[]{count}, data);
        } finally {
            Files.deleteIfExists(data);
        }
    }

    /** Finishes the archive and moves it into place. */
    @Override
    public void close() throws IOException {
        zip.close();
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** Drops the unfinished archive (after a failure). */
    public void abandon() {
        try {
            zip.close();
        } catch (IOException ignored) {
            // the archive is deleted anyway
        }
        try {
            Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
            // a temporary file left behind; named .part
        }
    }
}
