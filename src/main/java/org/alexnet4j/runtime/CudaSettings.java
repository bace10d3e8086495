package org.alexnet4j.runtime;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Locale;

/**
 * The CUDA backend's settings, applied before the first ND4J call: ND4J reads {@code CudaEnvironment}'s
 * configuration once, when the backend loads, and ignores later changes. Set here: several GPUs and cross-device
 * access allowed (ParallelWrapper's replicas, one per GPU), and a device cache sized from the smallest GPU's memory
 * (a quarter of it, at least ND4J's 512 MB default) with arrays up to 256 MB cacheable, so that fc6's 151 MB weights
 * and gradients are reused instead of allocated with {@code cudaMalloc} every step.
 *
 * <p>Through reflection: the CPU build has no CUDA classes, and there this is a no-op. The methods called are those of
 * nd4j-cuda-11.6 1.0.0-M2.1's {@code org.nd4j.jita.conf.Configuration} (read from its jar with javap).
 */
public final class CudaSettings {
    private static final Logger log = LoggerFactory.getLogger(CudaSettings.class);
    static final String ENVIRONMENT = "org.nd4j.jita.conf.CudaEnvironment";
    private static final long MB = 1L << 20;
    private static boolean applied;

    private CudaSettings() {
    }

    /** The settings to apply for GPUs of these memory sizes (MiB; empty when unknown). */
    public record Plan(boolean multiGpu, boolean crossDevice, long deviceCacheBytes, long cacheableBytes) {
        public static Plan forGpus(List<Long> memoryMiB) {
            long smallest = memoryMiB.stream().mapToLong(Long::longValue).min().orElse(0);
            long cache = Math.max(512 * MB, smallest * MB / 4);
            return new Plan(true, true, cache, 256 * MB);
        }
    }

    /**
     * Applies {@link Plan#forGpus} for this machine's GPUs on the CUDA build, once; returns what was applied, or null
     * on the CPU build. Never throws: a setting that cannot be applied is logged and the backend's default kept.
     */
    public static synchronized Plan apply() {
        if (applied || !Backend.isCudaBuild()) {
            return null;
        }
        applied = true;
        List<Long> mem = Gpus.query().devices().stream().map(d -> parseMiB(d.memoryMiB())).filter(m -> m > 0)
                .toList();
        Plan plan = Plan.forGpus(mem);
        try {
            Class<?> env = Class.forName(ENVIRONMENT);
            Object conf = env.getMethod("getConfiguration").invoke(env.getMethod("getInstance").invoke(null));
            call(conf, "allowMultiGPU", boolean.class, plan.multiGpu());
            call(conf, "allowCrossDeviceAccess", boolean.class, plan.crossDevice());
            call(conf, "setMaximumDeviceCache", long.class, plan.deviceCacheBytes());
            call(conf, "setMaximumDeviceCacheableLength", long.class, plan.cacheableBytes());
            log.info(String.format(Locale.ROOT, "CUDA settings: multi-GPU %s, cross-device access %s, device cache "
                            + "%d MB, arrays up to %d MB cached", plan.multiGpu(), plan.crossDevice(),
                    plan.deviceCacheBytes() / MB, plan.cacheableBytes() / MB));
        } catch (ReflectiveOperationException | LinkageError e) {
            log.warn("could not apply the CUDA settings ({}); ND4J's defaults apply", e.toString());
        }
        return plan;
    }

    private static void call(Object conf, String name, Class<?> type, Object value)
            throws ReflectiveOperationException {
        Method m = conf.getClass().getMethod(name, type);
        m.invoke(conf, value);
    }

    static long parseMiB(String s) {
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException | NullPointerException e) {
            return 0;
        }
    }
}
