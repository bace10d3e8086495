package org.alexnet4j.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.schedule.ISchedule;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;

/**
 * The paper's update rule (section 5), classical ("heavy-ball") momentum, which DL4J does not ship (its
 * {@code Nesterovs} is Nesterov's variant):
 * <pre>
 *   v &lt;- momentum * v - lr * (grad + wd * w)
 *   w &lt;- w + v
 * </pre>
 * The weight-decay term enters through DL4J's L2 regularization ({@code l2(wd)}), which adds {@code wd * w} to the
 * gradient before the updater runs, so the decay goes through the momentum exactly as in the paper. DL4J applies
 * {@code l2} to weights only; biases are not decayed (as in cuda-convnet's configs, where biases have no weight
 * cost). The learning rate can be changed during training ({@code ComputationGraph#setLearningRate}).
 */
public class ClassicalMomentum implements IUpdater {
    private double learningRate;
    private double momentum;
    private ISchedule learningRateSchedule;

    /** For JSON deserialization. */
    public ClassicalMomentum() {
        this(0.01, 0.9);
    }

    public ClassicalMomentum(double learningRate, double momentum) {
        if (!(learningRate >= 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be >= 0, got " + learningRate);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
        }
        this.learningRate = learningRate;
        this.momentum = momentum;
    }

    public double getLearningRate() {
        return learningRate;
    }

    public void setLearningRate(double learningRate) {
        this.learningRate = learningRate;
    }

    public double getMomentum() {
        return momentum;
    }

    public void setMomentum(double momentum) {
        this.momentum = momentum;
    }

    public ISchedule getLearningRateSchedule() {
        return learningRateSchedule;
    }

    public void setLearningRateSchedule(ISchedule learningRateSchedule) {
        this.learningRateSchedule = learningRateSchedule;
    }

    @Override
    public long stateSize(long numParams) {
        return numParams;
    }

    @Override
    public GradientUpdater instantiate(INDArray viewArray, boolean initializeViewArray) {
        Updater u = new Updater(this);
        u.setStateViewArray(viewArray, viewArray.shape(), viewArray.ordering(), initializeViewArray);
        return u;
    }

    @Override
    public GradientUpdater instantiate(Map<String, INDArray> updaterState, boolean initializeStateArrays) {
        Updater u = new Updater(this);
        u.setState(updaterState, initializeStateArrays);
        return u;
    }

    @Override
    public ClassicalMomentum clone() {
        ClassicalMomentum c = new ClassicalMomentum(learningRate, momentum);
        c.learningRateSchedule = learningRateSchedule == null ? null : learningRateSchedule.clone();
        return c;
    }

    @Override
    public double getLearningRate(int iteration, int epoch) {
        return learningRateSchedule != null ? learningRateSchedule.valueAt(iteration, epoch) : learningRate;
    }

    @Override
    public boolean hasLearningRate() {
        return true;
    }

    @Override
    public void setLrAndSchedule(double lr, ISchedule lrSchedule) {
        this.learningRate = lr;
        this.learningRateSchedule = lrSchedule;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ClassicalMomentum c && c.learningRate == learningRate && c.momentum == momentum
                && Objects.equals(c.learningRateSchedule, learningRateSchedule);
    }

    @Override
    public int hashCode() {
        return Objects.hash(learningRate, momentum, learningRateSchedule);
    }

    @Override
    public String toString() {
        return "ClassicalMomentum(lr=" + learningRate + ", momentum=" + momentum + ")";
    }

    /** The per-parameter-block state: the velocity v. */
    static final class Updater implements GradientUpdater<ClassicalMomentum> {
        static final String V = "V";
        private final ClassicalMomentum config;
        private INDArray v;

        Updater(ClassicalMomentum config) {
            this.config = config;
        }

        @Override
        public ClassicalMomentum getConfig() {
            return config;
        }

        @Override
        public void setState(Map<String, INDArray> state, boolean initialize) {
            if (!state.containsKey(V) || state.size() != 1) {
                throw new IllegalStateException("ClassicalMomentum state must hold exactly the key " + V
                        + ", got " + state.keySet());
            }
            v = state.get(V);
            if (initialize) {
                v.assign(0);
            }
        }

        @Override
        public Map<String, INDArray> getState() {
            return Collections.singletonMap(V, v);
        }

        @Override
        public void setStateViewArray(INDArray viewArray, long[] gradientShape, char gradientOrder,
                                      boolean initialize) {
            if (!viewArray.isRowVectorOrScalar()) {
                throw new IllegalArgumentException("invalid updater view: must be a row vector");
            }
            if (initialize) {
                viewArray.assign(0);
            }
            v = viewArray.reshape(gradientOrder, gradientShape);
        }

        /** Turns {@code gradient} (already holding grad + wd * w) into the update DL4J subtracts: -v. */
        @Override
        public void applyUpdater(INDArray gradient, int iteration, int epoch) {
            if (v == null) {
                throw new IllegalStateException("updater state not initialized");
            }
            double lr = config.getLearningRate(iteration, epoch);
            if (MomentumKernel.applies(gradient, v)) {
                MomentumKernel.apply(gradient, v, (float) lr, (float) config.getMomentum());
                return;
            }
            // the device-safe form (and any non-float net): the same arithmetic as ND4J operations
            gradient.muli(lr);                  // lr * (grad + wd w)
            v.muli(config.getMomentum()).subi(gradient); // v = mu v - lr (grad + wd w)
            gradient.assign(v).negi();          // DL4J does w -= update, so update = -v
        }
    }
}
