package org.alexnet4j.weights;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy's {@code .npy} format (versions 1.0 to 3.0), as documented in {@code numpy.lib.format}.
 * Writing produces version 1.0 little-endian float32, C order, the layout {@code numpy.save} gives a float32 array.
 * Reading accepts any dtype and byte order in the header but decodes only float32 ({@code <f4}, {@code >f4});
 * other dtypes come back without data so that callers can report them. Fortran-order arrays are refused.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static NpyArray read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads one array; {@code source} names the stream in error messages. */
    public static NpyArray read(InputStream stream, String source) throws IOException {
        DataInputStream in = new DataInputStream(stream);
        byte[] magic = new byte[6];
        try {
            in.readFully(magic);
        } catch (EOFException e) {
            throw new IOException(source + ": not a .npy file (too short)");
        }
        for (int i = 0; i < 6; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new IOException(source + ": not a .npy file (bad magic)");
            }
        }
        int major = in.readUnsignedByte();
        in.readUnsignedByte();
        long headerLen;
        if (major == 1) {
            headerLen = Short.toUnsignedInt(Short.reverseBytes(in.readShort()));
        } else if (major == 2 || major == 3) {
            headerLen = Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
        } else {
            throw new IOException(source + ": unsupported .npy version " + major);
        }
        if (headerLen > 1 << 20) {
            throw new IOException(source + ": .npy header too long (" + headerLen + " bytes)");
        }
        byte[] headerBytes = new byte[(int) headerLen];
        in.readFully(headerBytes);
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, source, "descr");
        if ("True".equals(group(FORTRAN, header, source, "fortran_order"))) {
            throw new IOException(source + ": Fortran-order arrays are not supported; save with np.ascontiguousarray");
        }
        long[] shape = parseShape(group(SHAPE, header, source, "shape"), source);
        if (!descr.equals("<f4") && !descr.equals(">f4")) {
            return new NpyArray(descr, shape, null);
        }
        long count = NpyArray.count(shape);
        if (count > Integer.MAX_VALUE / 4) {
            throw new IOException(source + ": array too large (" + count + " values)");
        }
        byte[] raw = new byte[(int) count * 4];
        try {
            in.readFully(raw);
        } catch (EOFException e) {
            throw new IOException(source + ": truncated data (" + count + " float32 values expected)");
        }
        float[] data = new float[(int) count];
        ByteBuffer.wrap(raw).order(descr.startsWith(">") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN)
                .asFloatBuffer().get(data);
        return NpyArray.float32(shape, data);
    }

    public static void write(Path file, NpyArray array) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            write(out, array);
        }
    }

    /** Writes a float32 array as {@code numpy.save} would. */
    public static void write(OutputStream out, NpyArray array) throws IOException {
        out.write(encode(array));
    }

    /** The complete .npy bytes of a float32 array. */
    public static byte[] encode(NpyArray array) {
        if (!array.isFloat32()) {
            throw new IllegalArgumentException("only float32 arrays are written, got " + array.dtype());
        }
        byte[] header = header(NpyArray.FLOAT32, array.shape());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(header.length + array.data().length * 4);
        bytes.writeBytes(header);
        ByteBuffer buf = ByteBuffer.allocate(array.data().length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(array.data());
        bytes.writeBytes(buf.array());
        return bytes.toByteArray();
    }

    /**
     * The .npy header (format 1.0) of a C-order array of type {@code descr}
     * (e.g. {@code <f4}, {@code <i8}, {@code <U12}); the data follows it.
     */
    public static byte[] header(String descr, long[] s) {
        StringBuilder shape = new StringBuilder("(");
        for (int i = 0; i < s.length; i++) {
            shape.append(i == 0 ? "" : ", ").append(s[i]);
        }
        shape.append(s.length == 1 ? ",)" : ")");
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT,
                "{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape));
        int total = MAGIC.length + 2 + 2 + header.length() + 1;
        header.append(" ".repeat((64 - total % 64) % 64)).append('\n');
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(total + 64);
        bytes.writeBytes(MAGIC);
        bytes.write(1);
        bytes.write(0);
        int len = header.length();
        bytes.write(len & 0xff);
        bytes.write((len >> 8) & 0xff);
        bytes.writeBytes(header.toString().getBytes(StandardCharsets.ISO_8859_1));
        return bytes.toByteArray();
    }

    private static String group(Pattern p, String header, String source, String key) throws IOException {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new IOException(source + ": .npy header has no '" + key + "': " + header.trim());
        }
        return m.group(1);
    }

    private static long[] parseShape(String s, String source) throws IOException {
        List<Long> dims = new ArrayList<>();
        for (String part : s.split(",")) {
            String t = part.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (t.endsWith("L")) {
                t = t.substring(0, t.length() - 1);
            }
            try {
                long d = Long.parseLong(t);
                if (d < 0) {
                    throw new NumberFormatException();
                }
                dims.add(d);
            } catch (NumberFormatException e) {
                throw new IOException(source + ": bad shape (" + s + ")");
            }
        }
        return dims.stream().mapToLong(Long::longValue).toArray();
    }
}
