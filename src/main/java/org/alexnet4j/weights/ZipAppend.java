package org.alexnet4j.weights;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * Appends one stored (uncompressed) entry to an existing zip file in place: the central directory is read, the file
 * is cut where it began, the new entry is written there and the central directory follows it again. Adding a small
 * entry to a large model zip so costs the entry's size instead of a second copy of the model (a checkpoint of the
 * paper net with momentum is ~450 MB). Plain zips only (no Zip64, no archive comment); anything else is refused so
 * that the caller can copy instead.
 */
final class ZipAppend {
    private static final int EOCD_SIG = 0x06054b50;
    private static final int EOCD_LEN = 22;

    private ZipAppend() {
    }

    /** Appends {@code name} with {@code data}; false (file untouched) if the zip is not a plain one. */
    static boolean append(Path zip, String name, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(zip, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            long size = ch.size();
            if (size < EOCD_LEN) {
                return false;
            }
            ByteBuffer eocd = ByteBuffer.allocate(EOCD_LEN).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(eocd, size - EOCD_LEN);
            eocd.flip();
            if (eocd.getInt(0) != EOCD_SIG || eocd.getShort(20) != 0) {
                return false; // a comment, or not a zip
            }
            int entries = Short.toUnsignedInt(eocd.getShort(10));
            long cdSize = Integer.toUnsignedLong(eocd.getInt(12));
            long cdOffset = Integer.toUnsignedLong(eocd.getInt(16));
            if (entries == 0xFFFF || cdSize == 0xFFFFFFFFL || cdOffset == 0xFFFFFFFFL
                    || cdOffset + cdSize != size - EOCD_LEN) {
                return false; // Zip64 or an unexpected layout
            }
            ByteBuffer cd = ByteBuffer.allocate((int) cdSize);
            ch.read(cd, cdOffset);
            cd.flip();
            byte[] fileName = name.getBytes(StandardCharsets.UTF_8);
            CRC32 crc = new CRC32();
            crc.update(data);
            long newEntryOffset = cdOffset;
            if (newEntryOffset + 30 + fileName.length + data.length > 0xFFFFFFFFL - cdSize - 100) {
                return false;
            }
            ByteBuffer local = ByteBuffer.allocate(30 + fileName.length).order(ByteOrder.LITTLE_ENDIAN);
            local.putInt(0x04034b50).putShort((short) 20).putShort((short) 0x0800).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0x21) // time/date: 1980-01-01
                    .putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                    .putShort((short) fileName.length).putShort((short) 0).put(fileName).flip();
            ByteBuffer central = ByteBuffer.allocate(46 + fileName.length).order(ByteOrder.LITTLE_ENDIAN);
            central.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0x0800)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0x21).putInt((int) crc.getValue())
                    .putInt(data.length).putInt(data.length).putShort((short) fileName.length).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt((int) newEntryOffset).put(fileName).flip();
            long newCdOffset = newEntryOffset + local.remaining() + data.length;
            long newCdSize = cdSize + central.remaining();
            ByteBuffer end = ByteBuffer.allocate(EOCD_LEN).order(ByteOrder.LITTLE_ENDIAN);
            end.putInt(EOCD_SIG).putShort((short) 0).putShort((short) 0).putShort((short) (entries + 1))
                    .putShort((short) (entries + 1)).putInt((int) newCdSize).putInt((int) newCdOffset)
                    .putShort((short) 0).flip();
            long pos = newEntryOffset;
            pos += writeFully(ch, local, pos);
            pos += writeFully(ch, ByteBuffer.wrap(data), pos);
            pos += writeFully(ch, cd, pos);
            pos += writeFully(ch, central, pos);
            pos += writeFully(ch, end, pos);
            ch.truncate(pos);
            return true;
        }
    }

    private static long writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        long n = 0;
        while (b.hasRemaining()) {
            n += ch.write(b, pos + n);
        }
        return n;
    }
}
