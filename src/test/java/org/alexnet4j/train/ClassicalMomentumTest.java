package org.alexnet4j.train;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * The paper's update rule, v = mu v - lr (grad + wd w), w = w + v, on a softmax layer whose gradient is computed by
 * hand (dL/dz = p - y, averaged over the batch), for two steps so the momentum term matters. Biases are not decayed.
 */
class ClassicalMomentumTest {
    static final double LR = 0.1;
    static final double MU = 0.9;
    static final double WD = 0.01;

    @Test
    void twoStepsFollowThePapersRuleExactly() {
        double[][] x = {{1.0, -2.0, 0.5}, {0.3, 0.8, -1.0}};
        int[] y = {0, 1};
        double[][] w = {{0.2, -0.1}, {0.05, 0.3}, {-0.4, 0.1}}; // [nIn=3, nOut=2], z = x w + b
        double[] b = {0.1, -0.2};

        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder()
                .dataType(DataType.DOUBLE)
                .updater(new ClassicalMomentum(LR, MU))
                .l2(WD)
                .graphBuilder()
                .addInputs("in")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "in")
                .setOutputs("out")
                .build();
        ComputationGraph g = new ComputationGraph(conf);
        g.init();
        g.getParam("out_W").assign(Nd4j.create(w));
        g.getParam("out_b").assign(Nd4j.create(new double[][]{b}));
        DataSet ds = new DataSet(Nd4j.create(x), Nd4j.create(new double[][]{{1, 0}, {0, 1}}));

        double[][] vw = new double[3][2];
        double[] vb = new double[2];
        for (int step = 0; step < 2; step++) {
            // hand gradient of the mean cross-entropy
            double[][] gw = new double[3][2];
            double[] gb = new double[2];
            for (int n = 0; n < 2; n++) {
                double[] z = new double[2];
                for (int k = 0; k < 2; k++) {
                    z[k] = b[k];
                    for (int i = 0; i < 3; i++) {
                        z[k] += x[n][i] * w[i][k];
                    }
                }
                double m = Math.max(z[0], z[1]);
                double e0 = Math.exp(z[0] - m);
                double e1 = Math.exp(z[1] - m);
                double[] p = {e0 / (e0 + e1), e1 / (e0 + e1)};
                for (int k = 0; k < 2; k++) {
                    double d = (p[k] - (y[n] == k ? 1 : 0)) / 2;
                    gb[k] += d;
                    for (int i = 0; i < 3; i++) {
                        gw[i][k] += x[n][i] * d;
                    }
                }
            }
            for (int i = 0; i < 3; i++) {
                for (int k = 0; k < 2; k++) {
                    vw[i][k] = MU * vw[i][k] - LR * (gw[i][k] + WD * w[i][k]);
                    w[i][k] += vw[i][k];
                }
            }
            for (int k = 0; k < 2; k++) {
                vb[k] = MU * vb[k] - LR * gb[k]; // no decay on biases
                b[k] += vb[k];
            }
            g.fit(ds);
            double[][] gotW = g.getParam("out_W").toDoubleMatrix();
            double[] gotB = g.getParam("out_b").toDoubleVector();
            for (int i = 0; i < 3; i++) {
                for (int k = 0; k < 2; k++) {
                    assertThat(gotW[i][k]).as("step %d W[%d][%d]", step, i, k).isCloseTo(w[i][k], within(1e-12));
                }
            }
            assertThat(gotB).containsExactly(b, within(1e-12));
        }
        // the configuration reports its rate and refuses momentum outside [0, 1)
        assertThat(new ClassicalMomentum(LR, MU).getLearningRate(5, 1)).isEqualTo(LR);
        assertThatThrownBy(() -> new ClassicalMomentum(0.1, 1.0)).hasMessageContaining("momentum");
    }
}
