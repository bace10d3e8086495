package org.alexnet4j.train;

import org.alexnet4j.cuda.AlexNetEngine;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.weights.EngineWeights;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.api.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

import java.util.HashMap;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * Training steps on an {@link AlexNetEngine} (the CUDA engine, or its CPU reference seam) instead of DL4J's graph:
 * the same data, recipe (the paper's momentum and weight decay, the learning-rate schedule, frozen layers and
 * learning-rate multipliers) and checkpoints. The graph stays the run's record: the engine starts from its parameters
 * and momentum, and they go back into it after every span of steps, so checkpoints keep the project's format and a
 * run moves between engines on resume. Dropout masks come from the engine's own generators, restarted from each
 * step's seed where the seam can (oneDNN, reference: a resumed run repeats an uninterrupted one bit for bit); cuDNN's
 * runs on, so on a GPU a resumed run repeats one in parameters and momentum up to the first dropout mask.
 */
public final class EngineTraining implements StepEngine {
    private final ComputationGraph graph;
    private final AlexNet net;
    private final AlexNetEngine engine;
    private final DoubleSupplier lr;
    /** The recipe's update (momentum, decay, multipliers, frozen layers); each step sets the schedule's rate. */
    private final AlexNetEngine.Update recipe;
    /** The seed of the step about to run (dropout's), or null. */
    private final java.util.function.LongSupplier stepSeed;

    /**
     * Takes over {@code engine} (closed with this); copies the graph's parameters and momentum into it. Before every
     * step the dropout masks restart from {@code stepSeed} (the step's own seed, null: never), so that a resumed run
     * draws the masks of an uninterrupted one where the engine's seam can
     * ({@link org.alexnet4j.cuda.Ops.Dropout#reseed}: the oneDNN and reference seams; cuDNN's generator runs on).
     */
    public EngineTraining(ComputationGraph graph, AlexNet net, AlexNetEngine engine, TrainConfig cfg,
                          DoubleSupplier lr, java.util.function.LongSupplier stepSeed) {
        this.stepSeed = stepSeed;
        if (cfg.optimizer != Optimizer.SGD) {
            throw new IllegalArgumentException("the " + engine.opsName() + " engine trains with the paper's classical "
                    + "momentum (--optimizer sgd), not " + cfg.optimizer);
        }
        this.graph = graph;
        this.net = net;
        this.engine = engine;
        this.lr = lr;
        Map<String, double[]> multipliers = new HashMap<>();
        FineTuning.multipliers(cfg.lrMult).forEach((k, m) -> multipliers.put(k, new double[]{m.weight(), m.bias()}));
        this.recipe = new AlexNetEngine.Update(cfg.lr, cfg.momentum, cfg.weightDecay, multipliers,
                FineTuning.layers(cfg.freeze));
        EngineWeights.toEngine(graph, net, engine);
        EngineWeights.velocityToEngine(graph, net, engine);
    }

    /** The engine, holding the parameters of the last step (for validation where it trains). */
    public AlexNetEngine engine() {
        return engine;
    }

    @Override
    public int batchesPerStep() {
        return 1;
    }

    @Override
    public int train(DataSetIterator data, int batches, StepListener listener) {
        int done = 0;
        try {
            while (done < batches) {
                long t0 = System.nanoTime();
                DataSet ds = data.next();
                float[] x = org.alexnet4j.infer.InferenceEngine.nchwFloats(ds.getFeatures(), net);
                int[] y = labels(ds.getLabels());
                long t1 = System.nanoTime();
                if (stepSeed != null) {
                    engine.reseedDropout(stepSeed.getAsLong());
                }
                double loss = engine.step(x, y, y.length, recipe.withLearningRate(lr.getAsDouble()), true);
                long t2 = System.nanoTime();
                done++;
                if (!listener.onStep(new Step(1, y.length, loss, (t1 - t0) / 1e9, (t2 - t1) / 1e9))) {
                    break;
                }
            }
        } finally {
            EngineWeights.toGraph(engine, net, graph);
            EngineWeights.velocityToGraph(engine, net, graph);
        }
        return done;
    }

    /** The class of each one-hot row. */
    public static int[] labels(INDArray onehot) {
        INDArray idx = Nd4j.argMax(onehot, 1);
        int[] y = new int[(int) onehot.size(0)];
        for (int i = 0; i < y.length; i++) {
            y[i] = idx.getInt(i);
        }
        return y;
    }

    @Override
    public void close() {
        engine.close();
    }
}
