package org.alexnet4j.train;

import org.alexnet4j.model.AlexNet;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * ParallelWrapper as this project drives it: averaging is checked against its definition (a step of two averaged
 * replicas is one SGD-with-momentum step on both batches together), the built-in replica check passes on a healthy
 * run and stops a run whose replicas do not average.
 */
class DataParallelTest {
    static final int CLASSES = 4;

    /** A small paper-topology net without dropout (so that steps are deterministic), SGD with momentum. */
    static ComputationGraph graph() {
        AlexNet net = AlexNet.builder().width(0.0625).numClasses(CLASSES).dropout(0).seed(5).build();
        ComputationGraph g = new ComputationGraph(net.configuration(new NeuralNetConfiguration.Builder().seed(5)
                .updater(new ClassicalMomentum(0.01, 0.9))));
        g.init();
        Trainer.heInit(g, 5);
        return g;
    }

    static List<DataSet> batches(int count, int size, long seed) {
        Nd4j.getRandom().setSeed(seed);
        List<DataSet> out = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            INDArray x = Nd4j.randn(DataType.FLOAT, size, 3, 227, 227).muli(50);
            INDArray y = Nd4j.zeros(DataType.FLOAT, size, CLASSES);
            for (int i = 0; i < size; i++) {
                y.putScalar(i, (b * size + i) % CLASSES, 1f);
            }
            out.add(new DataSet(x, y));
        }
        return out;
    }

    static ListDataSetIterator<DataSet> iterator(List<DataSet> batches) {
        return new ListDataSetIterator<>(batches, 1);
    }

    @Test
    void averagedReplicasTakeExactlyTheStepsOfOneNetworkOnTheirBatchesTogether() {
        List<DataSet> data = batches(4, 4, 11);
        ComputationGraph single = graph();
        ComputationGraph parallel = graph();
        assertThat(parallel.params()).isEqualTo(single.params());
        // single device: batches (0,1) and (2,3) merged, two steps
        single.fit(DataSet.merge(List.of(data.get(0), data.get(1))));
        single.fit(DataSet.merge(List.of(data.get(2), data.get(3))));

        List<StepEngine.Step> steps = new ArrayList<>();
        try (DataParallel dp = new DataParallel(parallel, 2, DataParallel.Mode.AVERAGING, 1, 0)) {
            int done = dp.train(iterator(data), 4, s -> steps.add(s));
            assertThat(done).isEqualTo(4);
            assertThat(dp.averagingsVerified()).isEqualTo(1); // step 2 started from the average of step 1
        }
        assertThat(steps).hasSize(2);
        assertThat(steps).allSatisfy(s -> {
            assertThat(s.batches()).isEqualTo(2);
            assertThat(s.images()).isEqualTo(8);
            assertThat(s.loss()).isPositive().isFinite();
        });
        INDArray before = graph().params();
        INDArray moved = single.params().sub(before);
        INDArray diff = parallel.params().sub(single.params());
        assertThat(moved.norm2Number().doubleValue()).isGreaterThan(1e-3);
        // float32 and a different summation order: agreement to a small fraction of the distance moved
        assertThat(diff.norm2Number().doubleValue()).isLessThan(1e-3 * moved.norm2Number().doubleValue());
        // the momentum was averaged too (otherwise the second step would differ by far more)
        INDArray vs = single.getUpdater().getStateViewArray();
        INDArray vp = parallel.getUpdater().getStateViewArray();
        assertThat(vp.sub(vs).norm2Number().doubleValue()).isLessThan(1e-3 * vs.norm2Number().doubleValue());
    }

    @Test
    void stepsShortOfTheAveragingFrequencyAreAveragedAtTheEndInsteadOfBeingThrownAway() {
        // averaging every 2 steps, but only 1 step to train: ParallelWrapper alone would end without averaging and
        // drop the replica's work (the network would hold worker 0's step on batch 0 alone)
        List<DataSet> data = batches(2, 4, 12);
        ComputationGraph single = graph();
        single.fit(DataSet.merge(data));
        ComputationGraph parallel = graph();
        try (DataParallel dp = new DataParallel(parallel, 2, DataParallel.Mode.AVERAGING, 2, 0)) {
            assertThat(dp.train(iterator(data), 2, s -> true)).isEqualTo(2);
        }
        INDArray moved = single.params().sub(graph().params());
        assertThat(parallel.params().sub(single.params()).norm2Number().doubleValue())
                .isLessThan(1e-3 * moved.norm2Number().doubleValue());
    }

    @Test
    void aRunWhoseReplicasNeverAverageIsStoppedWithAClearError() {
        List<DataSet> data = batches(6, 2, 13);
        ComputationGraph g = graph();
        // ParallelWrapper told to average every 1000 steps while the run expects every step: replicas drift apart
        try (DataParallel dp = new DataParallel(g, 2, DataParallel.Mode.AVERAGING, 1, 1000, 0)) {
            assertThatThrownBy(() -> dp.train(iterator(data), 6, s -> true))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("replicas hold different parameters")
                    .hasMessageContaining("step 2");
        }
    }

    @Test
    void fingerprintsAreEqualForEqualParametersAndChangeWithAnySampledValue() {
        INDArray p = Nd4j.rand(DataType.FLOAT, 1, 3_000_000);
        int a = DataParallel.fingerprint(p);
        assertThat(DataParallel.fingerprint(p.dup())).isEqualTo(a);
        INDArray q = p.dup();
        q.putScalar(0, 0, q.getFloat(0, 0) + 1e-6f); // index 0 is always in the sample
        assertThat(DataParallel.fingerprint(q)).isNotEqualTo(a);
    }
}
