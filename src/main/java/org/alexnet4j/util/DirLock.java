package org.alexnet4j.util;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One writer per directory (a run, a search, a cache): an exclusive lock on {@code DIR/.alexnet4j.lock}, held while
 * the process works there and released by the operating system when the process ends, however it ends (SIGKILL
 * included), so a stale lock never blocks a resume. The file holds the holder's PID, host and start time for the
 * message a second writer gets. Locks are advisory: on network file systems without lock support they do not
 * exclude writers on other machines.
 */
public final class DirLock implements AutoCloseable {
    public static final String FILE = ".alexnet4j.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Locks {@code dir} (created if missing) for this process.
     *
     * @param what what the directory is, for the message ("run", "search", "cache")
     * @throws IllegalStateException if another process (or another task of this one) holds it, naming the holder
     */
    public static DirLock acquire(Path dir, String what) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE);
        FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        FileLock l;
        boolean sameProcess = false;
        try {
            l = ch.tryLock();
        } catch (OverlappingFileLockException e) {
            l = null;
            sameProcess = true;
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        if (l == null) {
            String holder = holder(ch);
            ch.close();
            throw new IllegalStateException("the " + what + " " + dir + " is in use by another alexnet4j "
                    + (sameProcess ? "task in this process" : "process") + (holder.isEmpty() ? "" : " (" + holder + ")")
                    + "; wait for it to finish or stop it, then run the command again");
        }
        ch.truncate(0);
        ch.write(ByteBuffer.wrap(("pid " + ProcessHandle.current().pid() + " on " + host() + " since "
                + Instant.now() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
        ch.force(false);
        return new DirLock(ch, l);
    }

    private static String holder(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(512);
            int n = ch.read(b, 0);
            return n <= 0 ? "" : new String(b.array(), 0, n, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static String host() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown host";
        }
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
