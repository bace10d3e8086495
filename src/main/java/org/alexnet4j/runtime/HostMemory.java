package org.alexnet4j.runtime;

import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The one rule for Java code that reads or writes ND4J arrays' memory itself (through {@code addressPointer()} and
 * a Java buffer): only where that memory is the array's memory, i.e. on the CPU backend. On CUDA the address is the
 * host copy, which ND4J neither synchronises before such a read nor after such a write: the GPU would compute on stale
 * data with no error. Every such fast path asks {@link #direct()} and otherwise takes its device-safe twin (ND4J
 * operations, or Java arrays copied in and out through ND4J's own API).
 *
 * <p>{@code -Dalexnet4j.deviceSafe=true} (launcher: {@code ALEXNET4J_DEVICE_SAFE=1}) takes the twins on the CPU too,
 * so that the code a GPU runs is exercised and compared on machines without one. The reviewed places are listed in
 * {@code HostMemoryGuardTest}, which fails when a new raw access appears elsewhere.
 */
public final class HostMemory {
    /** System property: take the device-safe twins even on the CPU backend. */
    public static final String DEVICE_SAFE = "alexnet4j.deviceSafe";

    private HostMemory() {
    }

    /** Whether the device-safe twins were asked for. */
    public static boolean deviceSafeRequested() {
        return Boolean.getBoolean(DEVICE_SAFE);
    }

    /** Whether Java may access ND4J arrays' memory directly: the CPU backend, not in device-safe mode. */
    public static boolean direct() {
        return !deviceSafeRequested() && Nd4j.getEnvironment().isCPU();
    }

    /**
     * A dense C-order float copy of {@code a} in a Java array, read through ND4J's API (which brings device data to
     * the host first): the device-safe way to hand an array to a Java kernel.
     */
    public static float[] read(INDArray a) {
        INDArray copy = a.dup('c');
        Nd4j.getAffinityManager().ensureLocation(copy, AffinityManager.Location.HOST);
        return copy.data().asFloat();
    }
}
