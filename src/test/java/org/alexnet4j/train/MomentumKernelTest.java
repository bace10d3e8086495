package org.alexnet4j.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The one-pass momentum update against ClassicalMomentum's ND4J operations: bit for bit, on sizes around its chunk,
 * on views into a larger array (as DL4J's updater blocks are), and through the updater itself on both paths.
 */
class MomentumKernelTest {
    /** The float bits of {@code a}, so that equality means bit for bit (INDArray.equals allows 1e-5). */
    private static int[] bits(INDArray a) {
        float[] f = a.dup('c').data().asFloat();
        int[] b = new int[f.length];
        for (int i = 0; i < f.length; i++) {
            b[i] = Float.floatToRawIntBits(f[i]);
        }
        return b;
    }

    private static INDArray[] opsUpdate(INDArray g, INDArray v, double lr, double mu) {
        INDArray gg = g.dup(), vv = v.dup();
        gg.muli(lr);
        vv.muli(mu).subi(gg);
        gg.assign(vv).negi();
        return new INDArray[]{gg, vv};
    }

    @Test
    void equalsTheOperationsBitForBitOnWholeArraysAndViews() {
        Nd4j.getRandom().setSeed(7);
        for (int n : new int[]{1, 5, 16 * 1024, 16 * 1024 + 3, 100_003}) {
            INDArray g = Nd4j.randn(DataType.FLOAT, 1, n).muli(1e-2), v = Nd4j.randn(DataType.FLOAT, 1, n).muli(1e-3);
            INDArray[] want = opsUpdate(g, v, 0.01, 0.9);
            assertThat(MomentumKernel.applies(g, v)).isTrue();
            MomentumKernel.apply(g, v, 0.01f, 0.9f);
            assertThat(bits(g)).as("update, n=%d", n).isEqualTo(bits(want[0]));
            assertThat(bits(v)).as("velocity, n=%d", n).isEqualTo(bits(want[1]));
        }
        // views at an offset, as the updater's blocks of the flattened gradient and state
        INDArray gAll = Nd4j.randn(DataType.FLOAT, 1, 50_000), vAll = Nd4j.randn(DataType.FLOAT, 1, 50_000);
        INDArray gAllBefore = gAll.dup(), vAllBefore = vAll.dup();
        INDArray g = gAll.get(NDArrayIndex.point(0), NDArrayIndex.interval(1_234, 41_234));
        INDArray v = vAll.get(NDArrayIndex.point(0), NDArrayIndex.interval(1_234, 41_234));
        INDArray[] want = opsUpdate(g, v, 0.003, 0.95);
        MomentumKernel.apply(g, v, 0.003f, 0.95f);
        assertThat(bits(g)).isEqualTo(bits(want[0]));
        assertThat(bits(v)).isEqualTo(bits(want[1]));
        // nothing outside the views was touched
        assertThat(gAll.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 1_234)))
                .isEqualTo(gAllBefore.get(NDArrayIndex.point(0), NDArrayIndex.interval(0, 1_234)));
        assertThat(vAll.get(NDArrayIndex.point(0), NDArrayIndex.interval(41_234, 50_000)))
                .isEqualTo(vAllBefore.get(NDArrayIndex.point(0), NDArrayIndex.interval(41_234, 50_000)));
        // strided or double arrays are left to the operations
        assertThat(MomentumKernel.applies(Nd4j.randn(DataType.FLOAT, 4, 6).getColumn(1), Nd4j.zeros(DataType.FLOAT, 4)))
                .isFalse();
        assertThat(MomentumKernel.applies(Nd4j.zeros(DataType.DOUBLE, 8), Nd4j.zeros(DataType.DOUBLE, 8))).isFalse();
    }

    @Test
    void theUpdaterGivesTheSameStepsWithTheKernelAndInDeviceSafeMode() throws Exception {
        INDArray[] fast = updaterSteps(), safe = DeviceSafeTest.deviceSafe(MomentumKernelTest::updaterSteps);
        assertThat(bits(fast[0])).isEqualTo(bits(safe[0]));
        assertThat(bits(fast[1])).isEqualTo(bits(safe[1]));
    }

    /** Three updates through ClassicalMomentum's updater: the last update and the velocity. */
    private static INDArray[] updaterSteps() {
        Nd4j.getRandom().setSeed(11);
        INDArray state = Nd4j.zeros(DataType.FLOAT, 1, 70_000);
        var u = new ClassicalMomentum(0.01, 0.9).instantiate(state, true);
        INDArray g = null;
        for (int step = 0; step < 3; step++) {
            g = Nd4j.randn(DataType.FLOAT, 1, 70_000);
            u.applyUpdater(g, step, 0);
        }
        Map<String, INDArray> st = u.getState();
        return new INDArray[]{g, st.get("V").dup()};
    }
}
