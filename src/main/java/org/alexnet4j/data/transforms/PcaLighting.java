package org.alexnet4j.data.transforms;

import org.alexnet4j.data.DatasetStats;

import java.util.random.RandomGenerator;

/**
 * Paper section 4.1, "fancy PCA": to every RGB pixel (0..1 scale) of an image add
 * {@code [p1 p2 p3] [a1 l1, a2 l2, a3 l3]^T}, where p_i and l_i are the eigenvectors and eigenvalues of the training
 * set's RGB covariance and a_i ~ N(0, alphaStd) (0.1 in the paper), drawn once per image per presentation.
 */
public final class PcaLighting {
    private final double alphaStd;
    private final double[] eigval;
    private final double[][] eigvec;

    /**
     * @param eigvec rows are R, G, B; column j is the eigenvector of {@code eigval[j]}
     */
    public PcaLighting(double alphaStd, double[] eigval, double[][] eigvec) {
        if (!(alphaStd >= 0) || Double.isInfinite(alphaStd)) {
            throw new IllegalArgumentException("lighting alpha std must be >= 0, got " + alphaStd);
        }
        if (eigval.length != 3 || eigvec.length != 3 || eigvec[0].length != 3 || eigvec[1].length != 3
                || eigvec[2].length != 3) {
            throw new IllegalArgumentException("PCA lighting needs 3 eigenvalues and a 3x3 eigenvector matrix");
        }
        this.alphaStd = alphaStd;
        this.eigval = eigval.clone();
        this.eigvec = new double[][]{eigvec[0].clone(), eigvec[1].clone(), eigvec[2].clone()};
    }

    public static PcaLighting of(DatasetStats stats, double alphaStd) {
        return new PcaLighting(alphaStd, stats.eigval(), stats.eigvec());
    }

    public double alphaStd() {
        return alphaStd;
    }

    /** Draws the three coefficients a_i ~ N(0, alphaStd). */
    public double[] sampleAlpha(RandomGenerator rng) {
        return new double[]{rng.nextGaussian() * alphaStd, rng.nextGaussian() * alphaStd,
                rng.nextGaussian() * alphaStd};
    }

    /** The RGB offset (0..1 scale) for given coefficients: eigvec * (alpha .* eigval). */
    public float[] offset(double[] alpha) {
        float[] rgb = new float[3];
        for (int i = 0; i < 3; i++) {
            double s = 0;
            for (int j = 0; j < 3; j++) {
                s += eigvec[i][j] * alpha[j] * eigval[j];
            }
            rgb[i] = (float) s;
        }
        return rgb;
    }
}
