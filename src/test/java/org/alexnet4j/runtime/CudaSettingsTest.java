package org.alexnet4j.runtime;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The CUDA settings plan, and that applying it is a no-op on the CPU build. */
class CudaSettingsTest {
    private static final long MB = 1L << 20;

    @Test
    void theDeviceCacheIsAQuarterOfTheSmallestGpuAndAtLeastNd4jsDefault() {
        assertThat(CudaSettings.Plan.forGpus(List.of(16160L, 81920L)).deviceCacheBytes()).isEqualTo(4040 * MB);
        assertThat(CudaSettings.Plan.forGpus(List.of(1024L)).deviceCacheBytes()).isEqualTo(512 * MB);
        assertThat(CudaSettings.Plan.forGpus(List.of()).deviceCacheBytes()).isEqualTo(512 * MB);
        CudaSettings.Plan p = CudaSettings.Plan.forGpus(List.of(24576L));
        assertThat(p.multiGpu()).isTrue();
        assertThat(p.crossDevice()).isTrue();
        // fc6's weights (9216 x 4096 floats, 151 MB) must be cacheable
        assertThat(p.cacheableBytes()).isGreaterThan(9216L * 4096 * 4);
        assertThat(CudaSettings.parseMiB(" 16160 ")).isEqualTo(16160);
        assertThat(CudaSettings.parseMiB("[N/A]")).isZero();
    }

    @Test
    void onTheCpuBuildNothingIsApplied() {
        assertThat(Backend.isCudaBuild()).isFalse();
        assertThat(CudaSettings.apply()).isNull();
    }
}
