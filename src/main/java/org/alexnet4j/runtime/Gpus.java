package org.alexnet4j.runtime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NVIDIA GPUs on this machine as the driver reports them ({@code nvidia-smi}), independent of ND4J, and whether the
 * released ND4J CUDA backend can run on them.
 *
 * <p>nd4j-cuda-11.6 1.0.0-M2.1 ships machine code (SASS) for sm_37, 50, 52, 60, 61, 70, 75, 80 and 86 and no PTX.
 * SASS for compute capability X.y runs on devices X.z with z >= y, so Kepler 3.7 through Ada 8.9 can run it; Hopper
 * (9.0) and newer cannot, and no PTX means the driver cannot compile for them either.
 */
public final class Gpus {
    /** Compute capabilities the released backend carries machine code for. */
    public static final List<String> SASS = List.of("3.7", "5.0", "5.2", "6.0", "6.1", "7.0", "7.5", "8.0", "8.6");

    private Gpus() {
    }

    /** One GPU. Fields the driver did not report are empty. */
    public record Device(int index, String name, String computeCapability, String driverVersion, String memoryMiB) {
    }

    /** The machine's view: driver present, CUDA version the driver supports, devices. */
    public record Machine(boolean driver, String cudaVersion, List<Device> devices, String problem) {
    }

    /** Asks the driver (never throws; {@link Machine#problem()} says what was missing). */
    public static Machine query() {
        boolean driver = Files.exists(Path.of("/proc/driver/nvidia/version"));
        String list;
        try {
            list = run("nvidia-smi", "--query-gpu=index,name,compute_cap,driver_version,memory.total",
                    "--format=csv,noheader,nounits");
        } catch (IOException e) {
            return new Machine(driver, "", List.of(), driver ? "nvidia-smi failed: " + e.getMessage()
                    : "no NVIDIA driver on this machine (no /proc/driver/nvidia/version, no working nvidia-smi)");
        }
        List<Device> devices = parse(list);
        String cuda = "";
        try {
            Matcher m = Pattern.compile("CUDA Version:\\s*([0-9.]+)").matcher(run("nvidia-smi"));
            if (m.find()) {
                cuda = m.group(1);
            }
        } catch (IOException e) {
            // the device list is what matters
        }
        return new Machine(true, cuda, devices, devices.isEmpty() ? "the driver reports no GPU" : null);
    }

    /** Parses {@code nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total} CSV lines. */
    public static List<Device> parse(String csv) {
        List<Device> out = new ArrayList<>();
        for (String line : csv.split("\\R")) {
            if (line.isBlank()) {
                continue;
            }
            String[] f = line.split(",\\s*");
            if (f.length < 2) {
                continue;
            }
            out.add(new Device(Integer.parseInt(f[0].trim()), f[1].trim(), f.length > 2 ? clean(f[2]) : "",
                    f.length > 3 ? clean(f[3]) : "", f.length > 4 ? clean(f[4]) : ""));
        }
        return out;
    }

    private static String clean(String s) {
        String t = s.trim();
        return t.startsWith("[") ? "" : t; // "[N/A]" or "[Not Supported]"
    }

    /**
     * Whether the released backend has machine code for compute capability {@code cc} ("8.6"): null if it does, else
     * what to do.
     */
    public static String unsupported(String cc) {
        if (cc == null || cc.isBlank()) {
            return "compute capability unknown (driver too old to report it); the backend runs on 3.7 to 8.9";
        }
        String[] p = cc.trim().split("\\.");
        int major, minor;
        try {
            major = Integer.parseInt(p[0]);
            minor = p.length > 1 ? Integer.parseInt(p[1]) : 0;
        } catch (NumberFormatException e) {
            return "unreadable compute capability '" + cc + "'";
        }
        for (String s : SASS) {
            String[] q = s.split("\\.");
            if (Integer.parseInt(q[0]) == major && Integer.parseInt(q[1]) <= minor) {
                return null;
            }
        }
        if (major >= 9) {
            return String.format(Locale.ROOT, "compute capability %s (Hopper or newer): the released nd4j-cuda-11.6 "
                    + "has machine code for sm_37..sm_86 only and no PTX, so it cannot run here. Train on the CPU "
                    + "build, use a GPU of compute capability 3.7-8.9, or build libnd4j from source for it "
                    + "(-Dlibnd4j.compute=%d.%d with CUDA 11.8: scripts/build-libnd4j-cuda.sh --compute %d.%d; "
                    + "see docs/gpu.md)", cc, major, minor, major, minor);
        }
        return "compute capability " + cc + " is older than the backend's oldest target (3.7)";
    }

    private static String run(String... cmd) throws IOException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new IOException(cmd[0] + " not found");
        }
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd[0] + " timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted");
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IOException(cmd[0] + " exited with " + p.exitValue() + ": " + out.strip());
        }
        return out;
    }
}
