package org.alexnet4j.data;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Training-set statistics: exact sums on hand-made images, and the 3x3 eigen-decomposition. */
class StatsTest {
    @Test
    void meanImageChannelMeanAndCovarianceOfTwoFlatImages() {
        int s = 4;
        DatasetStats.Accumulator acc = new DatasetStats.Accumulator(s);
        RgbImage a = RgbImage.blank(s, s);
        RgbImage b = RgbImage.blank(s, s);
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                a.set(x, y, 0, 255); // a: pure red
                b.set(x, y, 1, 255); // b: pure green
            }
        }
        b.set(0, 0, 2, 255);         // plus one blue pixel
        DatasetStats.Accumulator part = new DatasetStats.Accumulator(s);
        acc.add(a);
        part.add(b);
        acc.merge(part);             // shards merge exactly
        DatasetStats st = acc.finish();
        assertThat(st.images()).isEqualTo(2);
        assertThat(st.meanImage()[0]).isEqualTo(0.5f);              // R plane, (0,0)
        assertThat(st.meanImage()[s * s]).isEqualTo(0.5f);          // G plane
        assertThat(st.meanImage()[2 * s * s]).isEqualTo(0.5f);      // B plane at (0,0)
        assertThat(st.meanImage()[2 * s * s + 1]).isEqualTo(0f);
        double n = 2 * s * s;
        assertThat(st.channelMean()).containsExactly(new double[]{0.5, 0.5, 1 / n}, within(1e-12));
        // var(R) = E[R^2] - E[R]^2 = 0.5 - 0.25; cov(R, G) = 0 - 0.25
        assertThat(st.covariance()[0][0]).isCloseTo(0.25, within(1e-12));
        assertThat(st.covariance()[0][1]).isCloseTo(-0.25, within(1e-12));
        assertThat(st.covariance()[1][2]).isCloseTo(1 / n - 0.5 / n, within(1e-12));
        assertThat(st.channelStd()[0]).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void eigenDecompositionRecoversThePublishedImageNetComponents() {
        double[] val = {0.2175, 0.0188, 0.0045};
        double[][] vec = ImageNetMeta.get().pca().eigvec();
        // C = V diag(val) V^T (the published vectors are orthonormal to 4 decimals)
        double[][] c = new double[3][3];
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                for (int k = 0; k < 3; k++) {
                    c[i][j] += vec[i][k] * val[k] * vec[j][k];
                }
            }
        }
        double[][] got = new double[3][3];
        double[] eig = DatasetStats.symmetricEigen(c, got);
        assertThat(eig).containsExactly(val, within(2e-4));
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) {
                assertThat(got[i][j]).isCloseTo(vec[i][j], within(2e-3));
            }
        }
        // and C v = lambda v holds for a generic matrix
        double[][] m = {{4, 1, 0.5}, {1, 3, 0.2}, {0.5, 0.2, 1}};
        double[][] v = new double[3][3];
        double[] l = DatasetStats.symmetricEigen(m, v);
        assertThat(l[0]).isGreaterThan(l[1]);
        assertThat(l[1]).isGreaterThan(l[2]);
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < 3; i++) {
                double mv = m[i][0] * v[0][k] + m[i][1] * v[1][k] + m[i][2] * v[2][k];
                assertThat(mv).isCloseTo(l[k] * v[i][k], within(1e-10));
            }
        }
    }
}
