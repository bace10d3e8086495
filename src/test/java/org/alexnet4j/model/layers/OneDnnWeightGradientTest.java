package org.alexnet4j.model.layers;

import org.alexnet4j.runtime.Backend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.alexnet4j.model.layers.LayerTests.relErr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * conv1's weight gradient on oneDNN ({@link OneDnnWeightGradient}) made in one thread and run in others, as a layer's
 * is when ParallelWrapper or Spark hands the network to new worker threads. With oneDNN's library-managed
 * scratchpad, the GEMM implementation (which plain layouts get) crashed the JVM here (SIGSEGV in im2col, exit 134:
 * the "Aborted" of a CI run); the blocked JIT kernel keeps a private scratchpad and did not.
 */
class OneDnnWeightGradientTest {
    @BeforeAll
    static void backend() {
        Backend.init();
        assumeTrue(OneDnnWeightGradient.available(), "oneDNN's natives are not available here");
    }

    private static INDArray[] run(OneDnnWeightGradient g, INDArray x, INDArray delta) {
        INDArray w = Nd4j.create(DataType.FLOAT, delta.size(1), x.size(1), 11, 11);
        INDArray b = Nd4j.create(DataType.FLOAT, delta.size(1));
        g.compute(x, delta, w, b);
        return new INDArray[]{w, b};
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void givesTheSameGradientsInThreadsOtherThanTheOneThatMadeIt(boolean plainLayouts) throws Exception {
        Nd4j.getRandom().setSeed(5);
        // one tower of conv1 at width 0.25 (12 kernels of 11 x 11 x 3, stride 4) on a batch of 8 at 227 x 227
        INDArray x = Nd4j.randn(DataType.FLOAT, 8, 3, 227, 227);
        INDArray delta = Nd4j.randn(DataType.FLOAT, 8, 12, 55, 55);
        long[] key = OneDnnWeightGradient.key(x, delta, 11, 4, 0);
        INDArray[] expected;
        try (OneDnnWeightGradient here = new OneDnnWeightGradient(key, false)) {
            expected = run(here, x, delta);
        }
        ExecutorService maker = Executors.newSingleThreadExecutor();
        OneDnnWeightGradient g = maker.submit(() -> new OneDnnWeightGradient(key, plainLayouts)).get();
        maker.shutdown();
        try {
            if (plainLayouts) {
                assertThat(g.implementation()).as("the case of a per-thread library scratchpad").contains("gemm");
            }
            for (int round = 0; round < 3; round++) {
                ExecutorService other = Executors.newSingleThreadExecutor(); // a thread that never made a primitive
                Future<INDArray[]> got = other.submit(() -> run(g, x, delta));
                INDArray[] wb = got.get();
                other.shutdown();
                assertThat(relErr(wb[0], expected[0])).as("weight gradient, round %d", round).isLessThan(1e-5);
                assertThat(relErr(wb[1], expected[1])).as("bias gradient, round %d", round).isLessThan(1e-5);
            }
        } finally {
            g.close();
        }
    }
}
