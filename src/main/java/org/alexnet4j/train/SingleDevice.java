package org.alexnet4j.train;

import org.alexnet4j.data.Seeds;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

import java.util.function.LongSupplier;

/**
 * One network, one batch per step, on the calling thread. Dropout's random stream is reseeded from (seed, iteration)
 * before every step, so a resumed run repeats an uninterrupted one exactly.
 */
public final class SingleDevice implements StepEngine {
    private final ComputationGraph graph;
    private final long seed;
    private final LongSupplier iteration;
    private final double weightDecay;

    /** {@code iteration} gives the number of the step about to run (for the dropout seed). */
    public SingleDevice(ComputationGraph graph, long seed, LongSupplier iteration, double weightDecay) {
        this.graph = graph;
        this.seed = seed;
        this.iteration = iteration;
        this.weightDecay = weightDecay;
    }

    @Override
    public int batchesPerStep() {
        return 1;
    }

    @Override
    public int train(DataSetIterator data, int batches, StepListener listener) {
        int done = 0;
        while (done < batches) {
            long t0 = System.nanoTime();
            DataSet ds = data.next();
            long t1 = System.nanoTime();
            Nd4j.getRandom().setSeed(Seeds.mix(seed, 0x5eed, iteration.getAsLong()));
            graph.fit(ds);
            double loss = StepEngine.dataLoss(graph, weightDecay);
            long t2 = System.nanoTime();
            done++;
            if (!listener.onStep(new Step(1, ds.getFeatures().size(0), loss, (t1 - t0) / 1e9, (t2 - t1) / 1e9))) {
                break;
            }
        }
        return done;
    }

    @Override
    public void close() {
    }
}
