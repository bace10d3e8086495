package org.alexnet4j.cuda;

import org.bytedeco.cuda.cudart.cudaDeviceProp;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import static org.bytedeco.cuda.global.cudart.*;

/**
 * Finds what the CUDA engine needs before it starts: the NVIDIA driver (CUDA 13 needs driver 580 or newer), the CUDA
 * 13 runtime, cuBLAS and cuDNN 9 (the user's install: system packages or a Python environment's {@code nvidia}
 * wheels), and a GPU of compute capability 7.5 (Turing) or newer. Each missing piece is a sentence that names the
 * library, where it was looked for and how to install it.
 */
public final class CudaRuntime {

    /** CUDA 13's runtime reports 13000 and up; its driver must report at least that. */
    public static final int CUDA_13 = 13000;

    /** What was found: versions and the chosen GPU. */
    public record Info(int driverVersion, int runtimeVersion, long cudnnVersion, int cublasVersion, int devices,
                       String gpuName, int major, int minor, long memoryBytes, int multiprocessors) {
        public Map<String, Object> asMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("driverCuda", version(driverVersion));
            m.put("runtimeCuda", version(runtimeVersion));
            m.put("cudnn", cudnnVersion / 10000 + "." + (cudnnVersion % 10000) / 100 + "." + cudnnVersion % 100);
            m.put("cublas", cublasVersion / 10000 + "." + (cublasVersion % 10000) / 100 + "." + cublasVersion % 100);
            m.put("devices", devices);
            m.put("gpu", gpuName);
            m.put("computeCapability", major + "." + minor);
            m.put("memoryMiB", memoryBytes / 1048576);
            m.put("multiprocessors", multiprocessors);
            return m;
        }
    }

    private CudaRuntime() {
    }

    /** Checks the driver, the libraries and GPU {@code device}; throws a {@link CudaException} sentence if unusable. */
    public static Info probe(int device) {
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (LinkageError e) {
            if (!java.nio.file.Files.exists(java.nio.file.Path.of("/proc/driver/nvidia/version"))) {
                throw new CudaException("No NVIDIA GPU driver on this machine (/proc/driver/nvidia/version is absent "
                        + "and the CUDA runtime did not load): the CUDA engine needs an NVIDIA GPU (Turing or newer) "
                        + "with driver 580 or newer; use --engine onednn or dl4j here", e);
            }
        }
        load(org.bytedeco.cuda.global.cudart.class, "the CUDA 13 runtime (libcudart.so.13)",
                "install CUDA 13 (NVIDIA's cuda-cudart-13 package) or `pip install nvidia-cuda-runtime` and put its"
                        + " lib folder on LD_LIBRARY_PATH");
        IntPointer v = new IntPointer(1);
        int rc = cudaDriverGetVersion(v);
        int driver = rc == cudaSuccess ? v.get() : 0;
        if (driver == 0) {
            throw new CudaException("No NVIDIA driver was found (libcuda.so.1 did not load or reports no CUDA): the "
                    + "CUDA engine needs an NVIDIA GPU with driver 580 or newer; on a machine without one use "
                    + "--engine onednn or dl4j");
        }
        if (driver < CUDA_13) {
            throw new CudaException("The NVIDIA driver supports CUDA " + version(driver) + "; the CUDA engine needs "
                    + "CUDA 13 (driver 580 or newer). Update the driver, or on Kepler..Ada GPUs use ND4J's CUDA 11.6 "
                    + "backend (mvn -Pcuda package, docs/gpu.md)");
        }
        cudaRuntimeGetVersion(v);
        int runtime = v.get();
        int cublasVersion = cublasVersion();
        long cudnnVersion = cudnnVersion();
        rc = cudaGetDeviceCount(v);
        int count = rc == cudaSuccess ? v.get() : 0;
        if (count == 0) {
            throw new CudaException("The NVIDIA driver (CUDA " + version(driver) + ") sees no GPU: "
                    + cudaGetErrorString(rc).getString());
        }
        if (device < 0 || device >= count) {
            throw new CudaException("--device " + device + " does not exist: this machine has " + count
                    + " GPU(s), numbered 0.." + (count - 1));
        }
        cudaDeviceProp p = new cudaDeviceProp();
        CudaOps.cuda(cudaGetDeviceProperties(p, device), "cudaGetDeviceProperties");
        if (p.major() * 10 + p.minor() < 75) {
            throw new CudaException(String.format(Locale.ROOT, "GPU %d (%s) has compute capability %d.%d; CUDA 13 "
                            + "needs 7.5 (Turing) or newer. Use ND4J's CUDA 11.6 backend for it (docs/gpu.md)",
                    device, p.name().getString(), p.major(), p.minor()));
        }
        return new Info(driver, runtime, cudnnVersion, cublasVersion, count, p.name().getString(), p.major(),
                p.minor(), p.totalGlobalMem(), p.multiProcessorCount());
    }

    /** Probes, then opens the op seam on {@code device}. */
    public static CudaOps open(int device, Precision precision, Consumer<String> log) {
        probe(device);
        return new CudaOps(device, precision, log);
    }

    /** True when {@link #probe} succeeds for device 0 (for {@code --engine auto}); never throws. */
    public static boolean usable() {
        try {
            probe(0);
            return true;
        } catch (CudaException | LinkageError e) {
            return false;
        }
    }

    /** Why the engine cannot run here, or null when it can (for {@code --engine auto}'s log line). */
    public static String whyNot() {
        if (!java.nio.file.Files.exists(java.nio.file.Path.of("/proc/driver/nvidia/version"))
                && System.getenv("ALEXNET4J_PROBE_CUDA") == null) {
            return "no NVIDIA driver on this machine";
        }
        try {
            probe(0);
            return null;
        } catch (CudaException e) {
            return e.getMessage();
        } catch (LinkageError e) {
            return "the CUDA presets did not load: " + e;
        }
    }

    private static int cublasVersion() {
        load(org.bytedeco.cuda.global.cublas.class, "cuBLAS 13 (libcublas.so.13, libcublasLt.so.13)",
                "install CUDA 13's cuBLAS (libcublas-13 package) or `pip install nvidia-cublas` and put its lib "
                        + "folder on LD_LIBRARY_PATH");
        org.bytedeco.cuda.cublas.cublasContext h = new org.bytedeco.cuda.cublas.cublasContext();
        int rc = org.bytedeco.cuda.global.cublas.cublasCreate_v2(h);
        if (rc != org.bytedeco.cuda.global.cublas.CUBLAS_STATUS_SUCCESS) {
            throw new CudaException("cuBLAS could not start: " + org.bytedeco.cuda.global.cublas.cublasGetStatusName(rc)
                    .getString());
        }
        IntPointer v = new IntPointer(1);
        org.bytedeco.cuda.global.cublas.cublasGetVersion_v2(h, v);
        org.bytedeco.cuda.global.cublas.cublasDestroy_v2(h);
        return v.get();
    }

    private static long cudnnVersion() {
        load(org.bytedeco.cuda.global.cudnn.class, "cuDNN 9 (libcudnn.so.9 and libcudnn_{graph,ops,cnn,adv}.so.9)",
                "install cuDNN 9 for CUDA 13 (NVIDIA's cudnn9-cuda-13 package) or `pip install nvidia-cudnn-cu13` and"
                        + " put its lib folder on LD_LIBRARY_PATH");
        long version = org.bytedeco.cuda.global.cudnn.cudnnGetVersion();
        if (version < 90000) {
            throw new CudaException("cuDNN " + version + " was loaded; the CUDA engine needs cuDNN 9");
        }
        return version;
    }

    private static void load(Class<?> presets, String what, String how) {
        try {
            Loader.load(presets);
        } catch (LinkageError e) {
            List<String> where = new ArrayList<>();
            String ld = System.getenv("LD_LIBRARY_PATH");
            where.add("LD_LIBRARY_PATH=" + (ld == null ? "(unset)" : ld));
            where.add("java.library.path=" + System.getProperty("java.library.path"));
            where.add("the system's ld.so cache");
            throw new CudaException("Could not load " + what + " for the CUDA engine: " + e.getMessage()
                    + ". Looked in " + String.join("; ", where) + ". To fix: " + how + ".", e);
        }
    }

    static String version(int v) {
        return v / 1000 + "." + (v % 1000) / 10;
    }
}
