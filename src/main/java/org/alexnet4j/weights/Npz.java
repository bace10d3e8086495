package org.alexnet4j.weights;

import org.alexnet4j.util.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * NumPy's {@code .npz}: a zip archive of {@code .npy} files, one per named array (what {@code numpy.savez} writes
 * and {@code numpy.load} reads). Reads stored and deflated archives; writes stored ones, atomically (a temporary file
 * moved into place, so a crash never leaves a half-written archive under the final name).
 */
public final class Npz {
    private Npz() {
    }

    /** All arrays of the archive by name (the entry name without {@code .npy}), in archive order. */
    public static Map<String, NpyArray> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such file");
        }
        Map<String, NpyArray> arrays = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName().endsWith(".npy")
                        ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                try (InputStream in = zip.getInputStream(e)) {
                    arrays.put(name, Npy.read(in, file + ":" + e.getName()));
                }
            }
        } catch (ZipException e) {
            throw new IOException(file + ": not a .npz (zip) archive: " + e.getMessage(), e);
        }
        return arrays;
    }

    /** Writes {@code arrays} as an uncompressed .npz, replacing {@code file} atomically. */
    public static void write(Path file, Map<String, NpyArray> arrays) throws IOException {
        AtomicFiles.write(file, tmp -> {
            try (OutputStream os = Files.newOutputStream(tmp); ZipOutputStream zip = new ZipOutputStream(os)) {
                zip.setMethod(ZipOutputStream.STORED);
                for (Map.Entry<String, NpyArray> a : arrays.entrySet()) {
                    byte[] bytes = Npy.encode(a.getValue());
                    ZipEntry e = new ZipEntry(a.getKey() + ".npy");
                    CRC32 crc = new CRC32();
                    crc.update(bytes);
                    e.setSize(bytes.length);
                    e.setCompressedSize(bytes.length);
                    e.setCrc(crc.getValue());
                    zip.putNextEntry(e);
                    zip.write(bytes);
                    zip.closeEntry();
                }
            }
        });
    }
}
