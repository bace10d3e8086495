package org.alexnet4j.runtime;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The thread pool of the project's own Java kernels (LRN, space-to-depth, the momentum update): one daemon thread per
 * core, kept apart from the common pool so that a kernel never waits behind unrelated parallel streams.
 */
public final class KernelPool {
    private static final ForkJoinPool POOL = new ForkJoinPool(Runtime.getRuntime().availableProcessors(),
            pool -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                t.setName("alexnet4j-kernel-" + t.getPoolIndex());
                t.setDaemon(true);
                return t;
            }, null, false);

    private KernelPool() {
    }

    /** Runs {@code body} for 0..items-1 on the pool (in the calling thread when there is one item). */
    public static void parallel(int items, IntConsumer body) {
        Runnable all = () -> IntStream.range(0, items).parallel().forEach(body);
        if (items == 1) {
            all.run();
        } else {
            POOL.submit(all).join();
        }
    }
}
