package org.alexnet4j.cuda;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.cudnn.cudnnActivationStruct;
import org.bytedeco.cuda.cudnn.cudnnContext;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdDataAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionBwdFilterAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionFwdAlgoPerf_t;
import org.bytedeco.cuda.cudnn.cudnnConvolutionStruct;
import org.bytedeco.cuda.cudnn.cudnnDropoutStruct;
import org.bytedeco.cuda.cudnn.cudnnFilterStruct;
import org.bytedeco.cuda.cudnn.cudnnLRNStruct;
import org.bytedeco.cuda.cudnn.cudnnPoolingStruct;
import org.bytedeco.cuda.cudnn.cudnnTensorStruct;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.SizeTPointer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import static org.bytedeco.cuda.global.cublas.*;
import static org.bytedeco.cuda.global.cudart.*;
import static org.bytedeco.cuda.global.cudnn.*;

/**
 * The op seam on one NVIDIA GPU: each op one cuDNN 9 or cuBLAS call sequence on the engine's stream, through
 * JavaCPP's CUDA 13 presets. Convolutions pick their algorithms with cuDNN's own search once per shape (exact fp32:
 * FMA math and deterministic algorithms only; tf32: any, tensor cores allowed) and share one workspace. LRN is cuDNN's
 * cross-channel LRN with the paper's alpha times n (cuDNN divides by n, as Caffe). Inputs go host -> pinned memory ->
 * device on a copy stream that overlaps the previous step. Every failing call becomes a {@link CudaException} naming
 * the call, its status and the layer.
 *
 * <p>Open it with {@link CudaRuntime#open}, which checks the driver and libraries first. One instance belongs to one
 * thread and one device.
 */
public final class CudaOps implements Ops {

    private static final FloatPointer ONE = new FloatPointer(1f);
    private static final FloatPointer ZERO = new FloatPointer(0f);
    private static final long WORKSPACE_LIMIT = 1L << 30;

    /** A device buffer. */
    static final class Dev implements Buffer {
        final FloatPointer p;
        final long count;
        final String what;
        CUevent_st free;
        CUevent_st ready;

        Dev(FloatPointer p, long count, String what) {
            this.p = p;
            this.count = count;
            this.what = what;
        }

        @Override
        public long count() {
            return count;
        }
    }

    /** A convolution's descriptors and chosen algorithms for one batch size. */
    private static final class ConvPlan {
        cudnnTensorStruct x, y, bias;
        cudnnFilterStruct w;
        cudnnConvolutionStruct conv, convBwdFilter, convBwdData; // one per direction: each runs its algorithm's math
        int fwd, bwdData, bwdFilter;
        long fwdBytes, bwdDataBytes, bwdFilterBytes;
        boolean fused;      // decided by timing on the first batch (chooseFused)
        boolean fusedTimed;
    }

    private final int device;
    private final Precision precision;
    private final CUstream_st stream = new CUstream_st();
    private final CUstream_st copyStream = new CUstream_st();
    private final cudnnContext cudnn = new cudnnContext();
    private final cublasContext cublas = new cublasContext();
    private final cudnnActivationStruct relu = new cudnnActivationStruct();
    private final Map<String, cudnnTensorStruct> tensors = new HashMap<>();
    private final Map<String, ConvPlan> plans = new HashMap<>();
    private final Map<String, String> chosen = new LinkedHashMap<>();
    private final List<Dev> buffers = new ArrayList<>();
    private final FloatPointer[] staging = new FloatPointer[2];
    private final long[] stagingCapacity = new long[2];
    private final CUevent_st[] stagingFree = {new CUevent_st(), new CUevent_st()};
    private final boolean[] stagingUsed = new boolean[2];
    private int turn;
    private FloatPointer orderedStaging;
    private long orderedCapacity;
    private final CUevent_st orderedFree = new CUevent_st();
    private boolean orderedUsed;
    private FloatPointer downStaging;
    private long downCapacity;
    private Pointer workspace;
    private long workspaceBytes;
    private final Consumer<String> log;
    private boolean closed;

    CudaOps(int device, Precision precision, Consumer<String> log) {
        this.device = device;
        this.precision = precision;
        this.log = log;
        cuda(cudaSetDevice(device), "cudaSetDevice(" + device + ")");
        cuda(cudaStreamCreate(stream), "cudaStreamCreate");
        cuda(cudaStreamCreate(copyStream), "cudaStreamCreate");
        dnn(cudnnCreate(cudnn), "cudnnCreate", "");
        dnn(cudnnSetStream(cudnn, stream), "cudnnSetStream", "");
        blas(cublasCreate_v2(cublas), "cublasCreate");
        blas(cublasSetStream_v2(cublas, stream), "cublasSetStream");
        blas(cublasSetMathMode(cublas, precision.fp32Arithmetic() ? CUBLAS_PEDANTIC_MATH
                : CUBLAS_TF32_TENSOR_OP_MATH), "cublasSetMathMode");
        dnn(cudnnCreateActivationDescriptor(relu), "cudnnCreateActivationDescriptor", "");
        dnn(cudnnSetActivationDescriptor(relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                "cudnnSetActivationDescriptor", "");
        cuda(cudaEventCreateWithFlags(orderedFree, cudaEventDisableTiming), "cudaEventCreate");
        for (CUevent_st e : stagingFree) {
            cuda(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreate");
        }
        log.accept(String.format(Locale.ROOT,
                "cuda ops on device %d: precision %s (cuDNN convolutions: %s; cuBLAS: %s)",
                device, precision.id(), switch (precision) {
                    case FP32 -> "FMA math, deterministic direct-sum algorithms";
                    case FP32_FAST -> "FMA math, the fastest fp32 algorithms (Winograd and FFT included)";
                    case TF32 -> "default math, TF32 tensor cores allowed";
                }, precision.fp32Arithmetic() ? "pedantic fp32" : "TF32 tensor op math"));
    }

    @Override
    public String name() {
        return "cuda";
    }

    /** The algorithms chosen per convolution and batch size, for logs and reports. */
    public Map<String, String> chosenAlgorithms() {
        return new LinkedHashMap<>(chosen);
    }

    public Precision precision() {
        return precision;
    }

    private boolean fusedAllowed = !"0".equals(System.getenv("ALEXNET4J_CUDA_FUSED"));

    /** Whether convolution, bias and ReLU run as cuDNN's one fused call (default; off: three calls, for timing). */
    public void fused(boolean on) {
        fusedAllowed = on;
    }

    @Override
    public Buffer alloc(long count, String what) {
        long bytes = count * 4;
        FloatPointer p = new FloatPointer((Pointer) null);
        int rc = cudaMalloc(p, bytes);
        if (rc == cudaErrorMemoryAllocation) {
            cudaGetLastError();
            throw new CudaException(String.format(Locale.ROOT,
                    "out of GPU memory allocating %s (%.1f MiB; %s): reduce the batch size", what, bytes / 1048576.0,
                    memoryLine()));
        }
        cuda(rc, "cudaMalloc(" + what + ", " + bytes + " bytes)");
        p.capacity(count).limit(count);
        cuda(cudaMemsetAsync(p, 0, bytes, stream), "cudaMemsetAsync");
        Dev d = new Dev(p, count, what);
        buffers.add(d);
        return d;
    }

    /** Free and total device memory, as a sentence fragment. */
    public String memoryLine() {
        SizeTPointer free = new SizeTPointer(1), total = new SizeTPointer(1);
        if (cudaMemGetInfo(free, total) != cudaSuccess) {
            return "free memory unknown";
        }
        return String.format(Locale.ROOT, "%.0f MiB free of %.0f MiB on device %d", free.get() / 1048576.0,
                total.get() / 1048576.0, device);
    }

    @Override
    public void upload(float[] src, int count, Buffer dst) {
        // ordered with the compute stream; the staging memory is reused once the previous ordered copy is done
        if (orderedUsed) {
            cuda(cudaEventSynchronize(orderedFree), "cudaEventSynchronize");
        }
        if (orderedCapacity < count) {
            if (orderedStaging != null) {
                cudaFreeHost(orderedStaging);
            }
            orderedStaging = pinned(count);
            orderedCapacity = count;
        }
        orderedStaging.position(0).put(src, 0, count);
        cuda(cudaMemcpyAsync(dev(dst).p, orderedStaging, (long) count * 4, cudaMemcpyHostToDevice, stream),
                "cudaMemcpyAsync(host to device, " + dev(dst).what + ")");
        cuda(cudaEventRecord(orderedFree, stream), "cudaEventRecord");
        orderedUsed = true;
    }

    @Override
    public void uploadInput(float[] src, int count, Buffer dst) {
        Dev d = dev(dst);
        int t = turn;
        turn = 1 - turn;
        if (stagingUsed[t]) {
            cuda(cudaEventSynchronize(stagingFree[t]), "cudaEventSynchronize");
        }
        if (stagingCapacity[t] < count) {
            if (staging[t] != null) {
                cudaFreeHost(staging[t]);
            }
            staging[t] = pinned(count);
            stagingCapacity[t] = count;
        }
        staging[t].position(0).put(src, 0, count);
        if (d.free != null) {
            cuda(cudaStreamWaitEvent(copyStream, d.free, 0), "cudaStreamWaitEvent");
        }
        cuda(cudaMemcpyAsync(d.p, staging[t], (long) count * 4, cudaMemcpyHostToDevice, copyStream),
                "cudaMemcpyAsync(host to device, " + d.what + ")");
        cuda(cudaEventRecord(stagingFree[t], copyStream), "cudaEventRecord");
        stagingUsed[t] = true;
        if (d.ready == null) {
            d.ready = event();
        }
        cuda(cudaEventRecord(d.ready, copyStream), "cudaEventRecord");
        cuda(cudaStreamWaitEvent(stream, d.ready, 0), "cudaStreamWaitEvent");
    }

    @Override
    public void release(Buffer dst) {
        Dev d = dev(dst);
        if (d.free == null) {
            d.free = event();
        }
        cuda(cudaEventRecord(d.free, stream), "cudaEventRecord");
    }

    @Override
    public void download(Buffer src, int count, float[] dst) {
        if (downCapacity < count) {
            if (downStaging != null) {
                cudaFreeHost(downStaging);
            }
            downStaging = pinned(count);
            downCapacity = count;
        }
        cuda(cudaMemcpyAsync(downStaging, dev(src).p, (long) count * 4, cudaMemcpyDeviceToHost, stream),
                "cudaMemcpyAsync(device to host, " + dev(src).what + ")");
        synchronize();
        downStaging.position(0).get(dst, 0, count);
    }

    @Override
    public void zero(Buffer b, long count) {
        cuda(cudaMemsetAsync(dev(b).p, 0, count * 4, stream), "cudaMemsetAsync");
    }

    // ---------------------------------------------------------------------------------------------------- conv

    private ConvPlan plan(Conv c, int n) {
        String key = c.name() + "/" + n;
        ConvPlan p = plans.get(key);
        if (p != null) {
            return p;
        }
        p = new ConvPlan();
        String layer = c.name();
        p.x = tensor(n, c.inChannels(), c.inSide(), c.inSide());
        p.y = tensor(n, c.outChannels(), c.outSide(), c.outSide());
        p.bias = tensor(1, c.outChannels(), 1, 1);
        p.w = new cudnnFilterStruct();
        dnn(cudnnCreateFilterDescriptor(p.w), "cudnnCreateFilterDescriptor", layer);
        dnn(cudnnSetFilter4dDescriptor(p.w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, c.outChannels(),
                c.inChannels() / c.groups(), c.kernel(), c.kernel()), "cudnnSetFilter4dDescriptor", layer);
        int math = precision.fp32Arithmetic() ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
        p.conv = convDescriptor(c, math);
        p.convBwdFilter = convDescriptor(c, math);
        p.convBwdData = convDescriptor(c, math);
        boolean exact = precision == Precision.FP32;
        boolean fmaOnly = precision.fp32Arithmetic();
        int max = 16;
        IntPointer found = new IntPointer(1);

        cudnnConvolutionFwdAlgoPerf_t fwd = new cudnnConvolutionFwdAlgoPerf_t(max);
        dnn(cudnnFindConvolutionForwardAlgorithm(cudnn, p.x, p.w, p.conv, p.y, max, found, fwd),
                "cudnnFindConvolutionForwardAlgorithm", layer);
        int fi = pick(found.get(), i -> fwd.position(i).status(), i -> fwd.position(i).determinism(),
                i -> fwd.position(i).mathType(), i -> fwd.position(i).memory(),
                i -> DIRECT_FWD.contains(fwd.position(i).algo()), exact, fmaOnly, layer + " forward");
        p.fwd = fwd.position(fi).algo();
        setMath(p.conv, fwd.position(fi).mathType(), fmaOnly, layer);
        p.fwdBytes = fwd.position(fi).memory();

        cudnnConvolutionBwdFilterAlgoPerf_t bf = new cudnnConvolutionBwdFilterAlgoPerf_t(max);
        dnn(cudnnFindConvolutionBackwardFilterAlgorithm(cudnn, p.x, p.y, p.convBwdFilter, p.w, max, found, bf),
                "cudnnFindConvolutionBackwardFilterAlgorithm", layer);
        int bfi = pick(found.get(), i -> bf.position(i).status(), i -> bf.position(i).determinism(),
                i -> bf.position(i).mathType(), i -> bf.position(i).memory(),
                i -> DIRECT_BWD_FILTER.contains(bf.position(i).algo()), exact, fmaOnly, layer + " backward filter");
        p.bwdFilter = bf.position(bfi).algo();
        setMath(p.convBwdFilter, bf.position(bfi).mathType(), fmaOnly, layer);
        p.bwdFilterBytes = bf.position(bfi).memory();

        cudnnConvolutionBwdDataAlgoPerf_t bd = new cudnnConvolutionBwdDataAlgoPerf_t(max);
        dnn(cudnnFindConvolutionBackwardDataAlgorithm(cudnn, p.w, p.y, p.convBwdData, p.x, max, found, bd),
                "cudnnFindConvolutionBackwardDataAlgorithm", layer);
        int bdi = pick(found.get(), i -> bd.position(i).status(), i -> bd.position(i).determinism(),
                i -> bd.position(i).mathType(), i -> bd.position(i).memory(),
                i -> DIRECT_BWD_DATA.contains(bd.position(i).algo()), exact, fmaOnly, layer + " backward data");
        p.bwdData = bd.position(bdi).algo();
        setMath(p.convBwdData, bd.position(bdi).mathType(), fmaOnly, layer);
        p.bwdDataBytes = bd.position(bdi).memory();
        ensureWorkspace(Math.max(p.fwdBytes, Math.max(p.bwdFilterBytes, p.bwdDataBytes)));
        String line = String.format(Locale.ROOT, "fwd %d, bwd-filter %d, bwd-data %d (workspace %.1f MiB)", p.fwd,
                p.bwdFilter, p.bwdData, Math.max(p.fwdBytes, Math.max(p.bwdFilterBytes, p.bwdDataBytes)) / 1048576.0);
        chosen.put(key, line);
        log.accept("cuDNN algorithms for " + key + ": " + line);
        plans.put(key, p);
        return p;
    }

    private cudnnConvolutionStruct convDescriptor(Conv c, int math) {
        cudnnConvolutionStruct d = new cudnnConvolutionStruct();
        dnn(cudnnCreateConvolutionDescriptor(d), "cudnnCreateConvolutionDescriptor", c.name());
        dnn(cudnnSetConvolution2dDescriptor(d, c.pad(), c.pad(), c.stride(), c.stride(), 1, 1,
                CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT), "cudnnSetConvolution2dDescriptor", c.name());
        dnn(cudnnSetConvolutionGroupCount(d, c.groups()), "cudnnSetConvolutionGroupCount", c.name());
        dnn(cudnnSetConvolutionMathType(d, math), "cudnnSetConvolutionMathType", c.name());
        return d;
    }

    /** Runs with the math type the search timed the chosen algorithm with (fp32 modes stay on FMA math). */
    private void setMath(cudnnConvolutionStruct d, int math, boolean fmaOnly, String layer) {
        if (!fmaOnly) {
            dnn(cudnnSetConvolutionMathType(d, math), "cudnnSetConvolutionMathType", layer);
        }
    }

    private interface IntAt {
        long at(int i);
    }

    /**
     * The algorithms that sum products directly (GEMM-like, as a CPU does), without Winograd or FFT transforms: exact
     * fp32 takes only these. Winograd and FFT round differently (5e-4 relative seen on one layer), enough to move a
     * ReLU or max-pooling decision, and cuDNN's timed search picks among them differently from run to run (on an H200
     * the full caffe net's gradients then differed from DL4J's by up to 0.7 % in norm).
     */
    private static final java.util.Set<Integer> DIRECT_FWD = java.util.Set.of(CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM,
            CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM, CUDNN_CONVOLUTION_FWD_ALGO_GEMM,
            CUDNN_CONVOLUTION_FWD_ALGO_DIRECT);
    private static final java.util.Set<Integer> DIRECT_BWD_DATA = java.util.Set.of(CUDNN_CONVOLUTION_BWD_DATA_ALGO_0,
            CUDNN_CONVOLUTION_BWD_DATA_ALGO_1);
    private static final java.util.Set<Integer> DIRECT_BWD_FILTER = java.util.Set.of(
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_0, CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1,
            CUDNN_CONVOLUTION_BWD_FILTER_ALGO_3);

    private interface Test {
        boolean at(int i);
    }

    /**
     * The fastest result that succeeded and fits the workspace limit; with {@code fmaOnly} one without tensor-op math;
     * with {@code exact} also one that sums directly and is deterministic. Where none qualifies: (logged) the fastest
     * that keeps the most of that, else the fastest.
     */
    private int pick(int found, IntAt status, IntAt determinism, IntAt mathType, IntAt memory, Test direct,
                     boolean exact, boolean fmaOnly, String what) {
        int fastest = -1, fallback = -1;
        for (int i = 0; i < found; i++) {
            if (status.at(i) != CUDNN_STATUS_SUCCESS || memory.at(i) > WORKSPACE_LIMIT) {
                continue;
            }
            boolean tensorOps = mathType.at(i) == CUDNN_TENSOR_OP_MATH
                    || mathType.at(i) == CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION;
            boolean fmaOk = !fmaOnly || !tensorOps;
            if (fmaOk && (!exact || (direct.at(i) && determinism.at(i) == CUDNN_DETERMINISTIC))) {
                return i;
            }
            if (fastest < 0) {
                fastest = i;
            }
            if (fmaOk && (!exact || direct.at(i)) && fallback < 0) {
                fallback = i;
            }
        }
        int chosen = fallback >= 0 ? fallback : fastest;
        if (chosen < 0) {
            throw new CudaException("cuDNN found no usable algorithm for " + what + " (" + found + " tried)");
        }
        log.accept(what + ": no algorithm meets --precision " + precision.id() + "; using result " + chosen
                + " of the search" + (fallback >= 0 ? " (not deterministic)" : " (may use tensor-op math)"));
        return chosen;
    }

    private void ensureWorkspace(long bytes) {
        if (bytes <= workspaceBytes) {
            return;
        }
        synchronize();
        if (workspace != null) {
            cudaFree(workspace);
        }
        workspace = new Pointer((Pointer) null);
        int rc = cudaMalloc(workspace, bytes);
        if (rc == cudaErrorMemoryAllocation) {
            cudaGetLastError();
            throw new CudaException(String.format(Locale.ROOT, "out of GPU memory for cuDNN's workspace (%.1f MiB; %s)"
                    + ": reduce the batch size", bytes / 1048576.0, memoryLine()));
        }
        cuda(rc, "cudaMalloc(workspace)");
        workspaceBytes = bytes;
    }

    @Override
    public void convForward(Conv c, int n, Buffer x, Buffer w, Buffer bias, Buffer y) {
        ConvPlan p = plan(c, n);
        if (fusedAllowed && !p.fusedTimed) {
            chooseFused(c, n, p, x, w, bias, y);
        }
        if (fusedAllowed && p.fused) {
            dnn(fused(p, x, w, bias, y), "cudnnConvolutionBiasActivationForward", c.name());
        } else {
            separate(c, p, x, w, bias, y);
        }
    }

    /** cuDNN's fused y = relu(conv(x, w) + bias); returns its status. */
    private int fused(ConvPlan p, Buffer x, Buffer w, Buffer bias, Buffer y) {
        return cudnnConvolutionBiasActivationForward(cudnn, ONE, p.x, dev(x).p, p.w, dev(w).p, p.conv, p.fwd,
                workspace, workspaceBytes, ZERO, p.y, dev(y).p, p.bias, dev(bias).p, relu, p.y, dev(y).p);
    }

    /**
     * Times cuDNN's fused convolution+bias+ReLU against the three separate calls on this convolution's first batch and
     * keeps the faster: the algorithm search times the convolution alone, and with some algorithms the fused call is
     * several times slower (measured on an H200 with tf32's implicit-precomputed-GEMM: conv4 2.3 ms fused, 0.29 ms
     * in three calls).
     */
    private void chooseFused(Conv c, int n, ConvPlan p, Buffer x, Buffer w, Buffer bias, Buffer y) {
        p.fusedTimed = true;
        CUevent_st a = timingEvent(), b = timingEvent(), d = timingEvent();
        try {
            // one untimed call of each first: the first call of a kernel loads it
            int rc = fused(p, x, w, bias, y);
            if (rc == CUDNN_STATUS_SUCCESS) {
                separate(c, p, x, w, bias, y);
            }
            record(a);
            for (int i = 0; i < 3 && rc == CUDNN_STATUS_SUCCESS; i++) {
                rc = fused(p, x, w, bias, y);
            }
            record(b);
            if (rc != CUDNN_STATUS_SUCCESS) {
                if (rc != CUDNN_STATUS_NOT_SUPPORTED) {
                    dnn(rc, "cudnnConvolutionBiasActivationForward", c.name());
                }
                p.fused = false;
                log.accept(c.name() + "/" + n + ": the fused convolution+bias+ReLU is not supported with its "
                        + "algorithm; three calls");
                return;
            }
            for (int i = 0; i < 3; i++) {
                separate(c, p, x, w, bias, y);
            }
            record(d);
            float fused = elapsedMs(a, b), apart = elapsedMs(b, d);
            p.fused = fused <= apart;
            log.accept(String.format(Locale.ROOT, "%s/%d: convolution+bias+ReLU fused %.3f ms, three calls %.3f ms: %s",
                    c.name(), n, fused / 3, apart / 3, p.fused ? "fused" : "three calls"));
        } finally {
            cudaEventDestroy(a);
            cudaEventDestroy(b);
            cudaEventDestroy(d);
        }
    }

    private void separate(Conv c, ConvPlan p, Buffer x, Buffer w, Buffer bias, Buffer y) {
        dnn(cudnnConvolutionForward(cudnn, ONE, p.x, dev(x).p, p.w, dev(w).p, p.conv, p.fwd, workspace,
                workspaceBytes, ZERO, p.y, dev(y).p), "cudnnConvolutionForward", c.name());
        dnn(cudnnAddTensor(cudnn, ONE, p.bias, dev(bias).p, ONE, p.y, dev(y).p), "cudnnAddTensor", c.name());
        dnn(cudnnActivationForward(cudnn, relu, ONE, p.y, dev(y).p, ZERO, p.y, dev(y).p), "cudnnActivationForward",
                c.name());
    }

    @Override
    public void convBackwardData(Conv c, int n, Buffer w, Buffer dy, Buffer dx) {
        ConvPlan p = plan(c, n);
        dnn(cudnnConvolutionBackwardData(cudnn, ONE, p.w, dev(w).p, p.y, dev(dy).p, p.convBwdData, p.bwdData, workspace,
                workspaceBytes, ZERO, p.x, dev(dx).p), "cudnnConvolutionBackwardData", c.name());
    }

    @Override
    public void convBackwardFilter(Conv c, int n, Buffer x, Buffer dy, Buffer dw, Buffer db) {
        ConvPlan p = plan(c, n);
        dnn(cudnnConvolutionBackwardFilter(cudnn, ONE, p.x, dev(x).p, p.y, dev(dy).p, p.convBwdFilter, p.bwdFilter,
                workspace, workspaceBytes, ZERO, p.w, dev(dw).p), "cudnnConvolutionBackwardFilter", c.name());
        dnn(cudnnConvolutionBackwardBias(cudnn, ONE, p.y, dev(dy).p, ZERO, p.bias, dev(db).p),
                "cudnnConvolutionBackwardBias", c.name());
    }

    // ---------------------------------------------------------------------------------------------------- others

    @Override
    public void reluBackward(long count, Buffer y, Buffer dy) {
        cudnnTensorStruct t = flat(count);
        dnn(cudnnActivationBackward(cudnn, relu, ONE, t, dev(y).p, t, dev(dy).p, t, dev(y).p, ZERO, t, dev(dy).p),
                "cudnnActivationBackward", "ReLU");
    }

    private cudnnLRNStruct lrnDesc;
    private Lrn lrnSet;

    private cudnnLRNStruct lrn(Lrn l) {
        if (lrnDesc == null) {
            lrnDesc = new cudnnLRNStruct();
            dnn(cudnnCreateLRNDescriptor(lrnDesc), "cudnnCreateLRNDescriptor", "LRN");
        }
        if (!l.equals(lrnSet)) {
            // cuDNN's LRN is x / (k + alpha/n * sum x^2)^beta (Caffe's form): the paper's alpha times n
            dnn(cudnnSetLRNDescriptor(lrnDesc, l.size(), l.alpha() * l.size(), l.beta(), l.k()),
                    "cudnnSetLRNDescriptor", "LRN");
            lrnSet = l;
        }
        return lrnDesc;
    }

    @Override
    public void lrnForward(Shape s, Lrn l, Buffer x, Buffer y) {
        cudnnTensorStruct t = tensor(s.n(), s.c(), s.h(), s.w());
        dnn(cudnnLRNCrossChannelForward(cudnn, lrn(l), CUDNN_LRN_CROSS_CHANNEL_DIM1, ONE, t, dev(x).p, ZERO, t,
                dev(y).p), "cudnnLRNCrossChannelForward", "LRN " + s);
    }

    @Override
    public void lrnBackward(Shape s, Lrn l, Buffer x, Buffer y, Buffer dy, Buffer dx) {
        cudnnTensorStruct t = tensor(s.n(), s.c(), s.h(), s.w());
        dnn(cudnnLRNCrossChannelBackward(cudnn, lrn(l), CUDNN_LRN_CROSS_CHANNEL_DIM1, ONE, t, dev(y).p, t, dev(dy).p,
                t, dev(x).p, ZERO, t, dev(dx).p), "cudnnLRNCrossChannelBackward", "LRN " + s);
    }

    private final Map<Pool, cudnnPoolingStruct> pools = new HashMap<>();

    private cudnnPoolingStruct pool(Pool p) {
        return pools.computeIfAbsent(p, k -> {
            cudnnPoolingStruct d = new cudnnPoolingStruct();
            dnn(cudnnCreatePoolingDescriptor(d), "cudnnCreatePoolingDescriptor", "pooling");
            dnn(cudnnSetPooling2dDescriptor(d, k.max() ? CUDNN_POOLING_MAX_DETERMINISTIC
                            : CUDNN_POOLING_AVERAGE_COUNT_INCLUDE_PADDING, CUDNN_NOT_PROPAGATE_NAN, k.window(),
                    k.window(), 0, 0, k.stride(), k.stride()), "cudnnSetPooling2dDescriptor", "pooling");
            return d;
        });
    }

    @Override
    public void poolForward(Shape in, Pool p, Buffer x, Buffer y) {
        int o = p.out(in.h());
        dnn(cudnnPoolingForward(cudnn, pool(p), ONE, tensor(in.n(), in.c(), in.h(), in.w()), dev(x).p, ZERO,
                tensor(in.n(), in.c(), o, o), dev(y).p), "cudnnPoolingForward", "pooling " + in);
    }

    @Override
    public void poolBackward(Shape in, Pool p, Buffer x, Buffer y, Buffer dy, Buffer dx) {
        int o = p.out(in.h());
        cudnnTensorStruct ti = tensor(in.n(), in.c(), in.h(), in.w()), to = tensor(in.n(), in.c(), o, o);
        dnn(cudnnPoolingBackward(cudnn, pool(p), ONE, to, dev(y).p, to, dev(dy).p, ti, dev(x).p, ZERO, ti,
                dev(dx).p), "cudnnPoolingBackward", "pooling " + in);
    }

    @Override
    public void padBottomRight(Shape in, int extra, Buffer x, Buffer y) {
        long padded = (long) in.n() * in.c() * (in.h() + extra) * (in.w() + extra);
        zero(y, padded);
        dnn(cudnnTransformTensor(cudnn, ONE, tensor(in.n(), in.c(), in.h(), in.w()), dev(x).p, ZERO,
                paddedView(in, extra), dev(y).p), "cudnnTransformTensor", "padding " + in);
    }

    @Override
    public void cropBottomRight(Shape in, int extra, Buffer dy, Buffer dx) {
        dnn(cudnnTransformTensor(cudnn, ONE, paddedView(in, extra), dev(dy).p, ZERO,
                tensor(in.n(), in.c(), in.h(), in.w()), dev(dx).p), "cudnnTransformTensor", "cropping " + in);
    }

    /** The top-left {@code in} part of a map padded by {@code extra}: a strided view. */
    private cudnnTensorStruct paddedView(Shape in, int extra) {
        int ph = in.h() + extra, pw = in.w() + extra;
        String key = "view " + in + "+" + extra;
        cudnnTensorStruct t = tensors.get(key);
        if (t == null) {
            t = new cudnnTensorStruct();
            dnn(cudnnCreateTensorDescriptor(t), "cudnnCreateTensorDescriptor", key);
            dnn(cudnnSetTensor4dDescriptorEx(t, CUDNN_DATA_FLOAT, in.n(), in.c(), in.h(), in.w(), in.c() * ph * pw,
                    ph * pw, pw, 1), "cudnnSetTensor4dDescriptorEx", key);
            tensors.put(key, t);
        }
        return t;
    }

    @Override
    public void linearForward(int n, int in, int out, Buffer x, Buffer w, Buffer b, Buffer y, boolean relu) {
        FloatPointer alpha = ONE, beta = ZERO;
        blas(cublasSgemm_v2(cublas, CUBLAS_OP_T, CUBLAS_OP_N, out, n, in, alpha, dev(w).p, in, dev(x).p, in, beta,
                dev(y).p, out), "cublasSgemm (linear forward " + in + " -> " + out + ")");
        cudnnTensorStruct ty = tensor(n, out, 1, 1);
        dnn(cudnnAddTensor(cudnn, ONE, tensor(1, out, 1, 1), dev(b).p, ONE, ty, dev(y).p), "cudnnAddTensor",
                "linear " + out);
        if (relu) {
            dnn(cudnnActivationForward(cudnn, this.relu, ONE, ty, dev(y).p, ZERO, ty, dev(y).p),
                    "cudnnActivationForward", "linear " + out);
        }
    }

    @Override
    public void linearBackwardData(int n, int in, int out, Buffer w, Buffer dy, Buffer dx) {
        blas(cublasSgemm_v2(cublas, CUBLAS_OP_N, CUBLAS_OP_N, in, n, out, ONE, dev(w).p, in, dev(dy).p, out, ZERO,
                dev(dx).p, in), "cublasSgemm (linear backward data " + out + " -> " + in + ")");
    }

    @Override
    public void linearBackwardWeights(int n, int in, int out, Buffer x, Buffer dy, Buffer dw, Buffer db) {
        blas(cublasSgemm_v2(cublas, CUBLAS_OP_N, CUBLAS_OP_T, in, out, n, ONE, dev(x).p, in, dev(dy).p, out, ZERO,
                dev(dw).p, in), "cublasSgemm (linear backward weights " + in + " x " + out + ")");
        dnn(cudnnConvolutionBackwardBias(cudnn, ONE, tensor(n, out, 1, 1), dev(dy).p, ZERO, tensor(1, out, 1, 1),
                dev(db).p), "cudnnConvolutionBackwardBias", "linear " + out);
    }

    @Override
    public Dropout dropout(long count, float rate, long seed) {
        cudnnDropoutStruct d = new cudnnDropoutStruct();
        dnn(cudnnCreateDropoutDescriptor(d), "cudnnCreateDropoutDescriptor", "dropout");
        SizeTPointer size = new SizeTPointer(1);
        dnn(cudnnDropoutGetStatesSize(cudnn, size), "cudnnDropoutGetStatesSize", "dropout");
        Dev states = (Dev) alloc((size.get() + 3) / 4, "dropout random states");
        dnn(cudnnSetDropoutDescriptor(d, cudnn, rate, states.p, size.get(), seed), "cudnnSetDropoutDescriptor",
                "dropout");
        dnn(cudnnDropoutGetReserveSpaceSize(flat(count), size), "cudnnDropoutGetReserveSpaceSize", "dropout");
        Dev reserve = (Dev) alloc((size.get() + 3) / 4, "dropout mask");
        return new Dropout() {
            @Override
            public void forward(long n, Buffer x, Buffer y) {
                cudnnTensorStruct t = flat(n);
                dnn(cudnnDropoutForward(cudnn, d, t, dev(x).p, t, dev(y).p, reserve.p, reserveBytes(t)),
                        "cudnnDropoutForward", "dropout");
            }

            @Override
            public void backward(long n, Buffer dy, Buffer dx) {
                cudnnTensorStruct t = flat(n);
                dnn(cudnnDropoutBackward(cudnn, d, t, dev(dy).p, t, dev(dx).p, reserve.p, reserveBytes(t)),
                        "cudnnDropoutBackward", "dropout");
            }
        };
    }

    private long reserveBytes(cudnnTensorStruct t) {
        SizeTPointer size = new SizeTPointer(1);
        dnn(cudnnDropoutGetReserveSpaceSize(t, size), "cudnnDropoutGetReserveSpaceSize", "dropout");
        return size.get();
    }

    @Override
    public void softmaxCrossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer probs, Buffer dlogits) {
        cudnnTensorStruct t = tensor(n, classes, 1, 1);
        dnn(cudnnSoftmaxForward(cudnn, CUDNN_SOFTMAX_ACCURATE, CUDNN_SOFTMAX_MODE_INSTANCE, ONE, t, dev(logits).p,
                ZERO, t, dev(probs).p), "cudnnSoftmaxForward", "fc8");
        FloatPointer a = new FloatPointer(1f / n), b = new FloatPointer(-1f / n);
        blas(cublasSgeam(cublas, CUBLAS_OP_N, CUBLAS_OP_N, classes, n, a, dev(probs).p, classes, b, dev(onehot).p,
                classes, dev(dlogits).p, classes), "cublasSgeam (softmax cross-entropy gradient)");
    }

    @Override
    public double crossEntropy(int n, int classes, Buffer logits, Buffer onehot, Buffer scratch) {
        cudnnTensorStruct t = tensor(n, classes, 1, 1);
        dnn(cudnnSoftmaxForward(cudnn, CUDNN_SOFTMAX_LOG, CUDNN_SOFTMAX_MODE_INSTANCE, ONE, t, dev(logits).p, ZERO, t,
                dev(scratch).p), "cudnnSoftmaxForward (log)", "fc8");
        FloatPointer result = new FloatPointer(1);
        blas(cublasSdot_v2(cublas, n * classes, dev(onehot).p, 1, dev(scratch).p, 1, result), "cublasSdot (loss)");
        synchronize();
        return -result.get() / n;
    }

    @Override
    public void momentumUpdate(long count, Buffer w, Buffer g, Buffer v, float lr, float momentum, float decay) {
        int c = Math.toIntExact(count);
        Dev dw = dev(w), dg = dev(g), dv = dev(v);
        blas(cublasSscal_v2(cublas, c, new FloatPointer(momentum), dv.p, 1), "cublasSscal (momentum)");
        if (decay != 0) {
            blas(cublasSaxpy_v2(cublas, c, new FloatPointer(-lr * decay), dw.p, 1, dv.p, 1),
                    "cublasSaxpy (weight decay)");
        }
        blas(cublasSaxpy_v2(cublas, c, new FloatPointer(-lr), dg.p, 1, dv.p, 1), "cublasSaxpy (gradient)");
        blas(cublasSaxpy_v2(cublas, c, ONE, dv.p, 1, dw.p, 1), "cublasSaxpy (update)");
    }

    @Override
    public void synchronize() {
        cuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    }

    /** Records a timing event on the engine's stream. */
    public CUevent_st timingEvent() {
        CUevent_st e = new CUevent_st();
        cuda(cudaEventCreate(e), "cudaEventCreate");
        return e;
    }

    public void record(CUevent_st e) {
        cuda(cudaEventRecord(e, stream), "cudaEventRecord");
    }

    /** Milliseconds between two recorded events (waits for the second). */
    public float elapsedMs(CUevent_st a, CUevent_st b) {
        cuda(cudaEventSynchronize(b), "cudaEventSynchronize");
        FloatPointer ms = new FloatPointer(1);
        cuda(cudaEventElapsedTime(ms, a, b), "cudaEventElapsedTime");
        return ms.get();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        cudaStreamSynchronize(stream);
        cudaStreamSynchronize(copyStream);
        for (Dev d : buffers) {
            cudaFree(d.p);
        }
        buffers.clear();
        if (workspace != null) {
            cudaFree(workspace);
        }
        for (FloatPointer s : staging) {
            if (s != null) {
                cudaFreeHost(s);
            }
        }
        if (orderedStaging != null) {
            cudaFreeHost(orderedStaging);
        }
        if (downStaging != null) {
            cudaFreeHost(downStaging);
        }
        cudnnDestroy(cudnn);
        cublasDestroy_v2(cublas);
    }

    // ---------------------------------------------------------------------------------------------------- helpers

    private CUevent_st event() {
        CUevent_st e = new CUevent_st();
        cuda(cudaEventCreateWithFlags(e, cudaEventDisableTiming), "cudaEventCreate");
        return e;
    }

    private FloatPointer pinned(long count) {
        FloatPointer p = new FloatPointer((Pointer) null);
        cuda(cudaMallocHost(p, count * 4), "cudaMallocHost(" + count * 4 + " bytes)");
        p.capacity(count).limit(count);
        return p;
    }

    private cudnnTensorStruct tensor(int n, int c, int h, int w) {
        String key = n + "x" + c + "x" + h + "x" + w;
        cudnnTensorStruct t = tensors.get(key);
        if (t == null) {
            t = new cudnnTensorStruct();
            dnn(cudnnCreateTensorDescriptor(t), "cudnnCreateTensorDescriptor", key);
            dnn(cudnnSetTensor4dDescriptor(t, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w),
                    "cudnnSetTensor4dDescriptor", key);
            tensors.put(key, t);
        }
        return t;
    }

    private cudnnTensorStruct flat(long count) {
        return tensor(Math.toIntExact(count), 1, 1, 1);
    }

    private static Dev dev(Buffer b) {
        return (Dev) b;
    }

    static void cuda(int rc, String call) {
        if (rc != cudaSuccess) {
            throw new CudaException(call + " failed: " + cudaGetErrorName(rc).getString() + " ("
                    + cudaGetErrorString(rc).getString() + ")");
        }
    }

    static void dnn(int rc, String call, String layer) {
        if (rc != CUDNN_STATUS_SUCCESS) {
            throw new CudaException(call + (layer.isEmpty() ? "" : " [" + layer + "]") + " failed: "
                    + cudnnGetErrorString(rc).getString());
        }
    }

    static void blas(int rc, String call) {
        if (rc != CUBLAS_STATUS_SUCCESS) {
            throw new CudaException(call + " failed: " + cublasGetStatusName(rc).getString());
        }
    }
}
