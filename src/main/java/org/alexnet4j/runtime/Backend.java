package org.alexnet4j.runtime;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Process-wide ND4J/DL4J set-up: loads the backend with a clear error when it cannot run here, and switches on DL4J's
 * oneDNN layer helpers on CPU (off by default in 1.0.0-M2.1; see {@code org.nd4j.nativeblas.Nd4jCpu} for the second
 * bug that kept them off). Call {@link #init()} before building any network.
 */
public final class Backend {
    private static final Logger log = LoggerFactory.getLogger(Backend.class);

    /** DL4J's switch for its layer helpers (oneDNN on CPU, cuDNN on CUDA); "true" disables them. */
    public static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";
    /** Set to "false" to run without the oneDNN/cuDNN helpers (for comparison or gradient checks). */
    public static final String HELPERS_PROPERTY = "alexnet4j.helpers";

    private static volatile Map<String, Object> info;

    private Backend() {
    }

    /**
     * JavaCPP logs through SLF4J (so log4j2.xml can drop its version-mismatch warnings for ND4J M2.1's 1.5.7 presets
     * under JavaCPP 1.5.13, docs/stack.md). Must run before JavaCPP's Loader class initialises.
     */
    public static void javacppLogging() {
        if (System.getProperty("org.bytedeco.javacpp.logger") == null) {
            System.setProperty("org.bytedeco.javacpp.logger", "slf4j");
        }
    }

    /** Loads the backend once and returns its description; fails with an actionable message if it cannot load. */
    public static synchronized Map<String, Object> init() {
        if (info != null) {
            return info;
        }
        CudaSettings.apply(); // before ND4J loads (no-op on the CPU build)
        javacppLogging();
        boolean helpers = Boolean.parseBoolean(System.getProperty(HELPERS_PROPERTY, "true"));
        if (System.getProperty(HELPERS_DISABLE) == null) {
            System.setProperty(HELPERS_DISABLE, Boolean.toString(!helpers));
        }
        Properties env;
        try {
            env = Nd4j.getExecutioner().getEnvironmentInformation();
        } catch (Throwable t) {
            throw new BackendUnavailableException(describeFailure(t), t);
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", env.getProperty("backend", "unknown"));
        m.put("blas", env.getProperty("blas.vendor", "unknown"));
        m.put("ompThreads", env.get("omp.threads"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpuModel());
        m.put("helpersRequested", !Boolean.parseBoolean(System.getProperty(HELPERS_DISABLE)));
        m.put("oneDNN", isCpu(m) && BaseMKLDNNHelper.mklDnnEnabled());
        m.put("dataType", Nd4j.dataType().name());
        m.put("java", System.getProperty("java.version"));
        m.put("malloc", mallocSettings());
        m.put("hostMemoryDirect", HostMemory.direct());
        m.put("deviceSafeRequested", HostMemory.deviceSafeRequested());
        info = m;
        log.info("ND4J backend {}: BLAS {}, {} threads, oneDNN helpers {}", m.get("backend"), m.get("blas"),
                m.get("ompThreads"), Boolean.TRUE.equals(m.get("oneDNN")) ? "on" : "off");
        if (!HostMemory.direct()) {
            log.info("device-safe paths{}: the Java kernels that read and write ND4J memory directly (LRN, conv1's"
                            + " space-to-depth, the iterator's batch buffers) are replaced by ND4J operations and"
                            + " copies through ND4J's API", HostMemory.deviceSafeRequested()
                            ? " (" + HostMemory.DEVICE_SAFE + "=true)" : " (not the CPU backend)");
        }
        if (isCpu(m) && System.getenv("MALLOC_ARENA_MAX") == null && new java.io.File("/proc/self").exists()) {
            log.info("glibc malloc settings not set: large native blocks go back to the OS after every use, which can"
                    + " make training 2-3x slower; scripts/alexnet4j sets MALLOC_ARENA_MAX=1 MALLOC_MMAP_MAX_=0"
                    + " MALLOC_TRIM_THRESHOLD_=100000000000 (docs/stack.md)");
        }
        return m;
    }

    /**
     * DL4J's cache mode from its id: "device" keeps each convolution's pre-activation from the forward pass for the
     * backward pass (DL4J otherwise recomputes the whole convolution there); "none" saves that memory.
     */
    public static org.deeplearning4j.nn.conf.CacheMode cacheMode(String id) {
        return switch (String.valueOf(id).toLowerCase(java.util.Locale.ROOT)) {
            case "device" -> org.deeplearning4j.nn.conf.CacheMode.DEVICE;
            case "none" -> org.deeplearning4j.nn.conf.CacheMode.NONE;
            default -> throw new IllegalArgumentException("--cache-mode must be device or none, got " + id);
        };
    }

    /**
     * Sets the cache mode on a network's layers and in its configuration, so that copies made from the configuration
     * (ParallelWrapper's replicas) use it too.
     */
    public static void applyCacheMode(ComputationGraph graph, org.deeplearning4j.nn.conf.CacheMode mode) {
        graph.getConfiguration().setCacheMode(mode);
        for (org.deeplearning4j.nn.conf.graph.GraphVertex v : graph.getConfiguration().getVertices().values()) {
            if (v instanceof org.deeplearning4j.nn.conf.graph.LayerVertex lv && lv.getLayerConf() != null) {
                lv.getLayerConf().setCacheMode(mode);
            }
        }
        graph.setCacheMode(mode);
    }

    /** The glibc malloc tuning variables of this process (empty values for those not set). */
    public static Map<String, String> mallocSettings() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : new String[]{"MALLOC_ARENA_MAX", "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_"}) {
            m.put(k, System.getenv().getOrDefault(k, ""));
        }
        return m;
    }

    /** The CPU model from /proc/cpuinfo (Linux), or os.arch elsewhere: benchmark records name the machine. */
    public static String cpuModel() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch");
    }

    private static boolean isCpu(Map<String, Object> m) {
        return "CPU".equalsIgnoreCase(String.valueOf(m.get("backend")));
    }

    /**
     * How many convolution and pooling layers of {@code graph} run on a helper (oneDNN/cuDNN) rather than DL4J's
     * built-in im2col code: the check that the 3.5x speed-up is really on.
     */
    public static int[] helperCoverage(ComputationGraph graph) {
        int withHelper = 0, total = 0;
        for (Layer l : graph.getLayers()) {
            if (l instanceof ConvolutionLayer || l instanceof SubsamplingLayer) {
                total++;
                if (l.getHelper() != null) {
                    withHelper++;
                }
            }
        }
        return new int[]{withHelper, total};
    }

    private static String describeFailure(Throwable t) {
        StringBuilder sb = new StringBuilder("The ND4J backend failed to load: ");
        Throwable root = t;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        sb.append(root.getClass().getSimpleName()).append(": ").append(root.getMessage());
        if (String.valueOf(root.getMessage()).toLowerCase().contains("cuda") || isCudaBuild()) {
            if (!java.nio.file.Files.exists(java.nio.file.Path.of("/proc/driver/nvidia/version"))) {
                sb.append("\nNo NVIDIA driver on this machine (no /proc/driver/nvidia, libcuda.so.1 not loadable).");
            }
            sb.append("\nThis is the CUDA build (mvn -Pcuda). It needs an NVIDIA GPU, a driver for CUDA 11.6 and a GPU of"
                    + " compute capability 3.7 to 8.6: the released nd4j-cuda-11.6 has no code for Hopper (sm_90) or"
                    + " newer. Rebuild without -Pcuda to run on the CPU.");
        }
        return sb.toString();
    }

    /** True when this is the CUDA build (the CUDA backend is on the class path). */
    public static boolean isCudaBuild() {
        try {
            Class.forName("org.nd4j.linalg.jcublas.JCublasBackend");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The backend cannot run on this machine; the message says why and what to do. */
    public static final class BackendUnavailableException extends RuntimeException {
        public BackendUnavailableException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
