package org.alexnet4j.train;

import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * How the training loop turns batches into optimiser steps: on one device ({@link SingleDevice}), or data-parallel
 * over replicas through DL4J's ParallelWrapper ({@link DataParallel}), where one step trains one batch per replica.
 * The loop around it ({@link Trainer}) owns the schedule, checkpoints, metrics and evaluation, the same for both.
 */
public interface StepEngine extends AutoCloseable {

    /**
     * One optimiser step: {@code batches} batches (one per replica), {@code images} images in all, their mean data
     * loss (cross-entropy without the weight penalty), and the seconds spent waiting for data and training.
     */
    record Step(int batches, long images, double loss, double dataSeconds, double computeSeconds) {
    }

    /** Told about every finished step, in order; returns false to stop after it. */
    interface StepListener {
        boolean onStep(Step step);
    }

    /** Batches per step: replicas trained in parallel (times the local steps between averagings, on Spark). */
    int batchesPerStep();

    /**
     * Trains on the next {@code batches} batches of {@code data} (which must hold that many), telling
     * {@code listener} about every step. Returns the batches trained: all of them, unless the listener stopped early.
     * The network given at construction holds the trained parameters when this returns.
     */
    int train(DataSetIterator data, int batches, StepListener listener);

    @Override
    void close();

    /** The step's data loss: DL4J's score includes the weight penalty, which the metrics report apart. */
    static double dataLoss(ComputationGraph graph, double weightDecay) {
        return graph.score() - (weightDecay > 0 ? graph.calcRegularizationScore(true) : 0);
    }
}
