package org.alexnet4j.model.layers;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The fully connected layers' three products through libnd4j's matmul op, on operands laid out so that its oneDNN
 * implementation accepts them: DL4J's {@code [nIn, nOut]} 'f'-order weights are used as their 'c'-order transpose
 * {@code W^T} (DL4J's own path is BLAS sgemm on the 'f'-order weights). Shared by fc6/fc7 and fc8.
 */
final class MatmulOps {
    private MatmulOps() {
    }

    /** {@code a} itself when dense in 'c' order, else a dense 'c' copy (what the ops here take). */
    static INDArray dense(INDArray a) {
        return a.ordering() == 'c' && Shape.hasDefaultStridesForShape(a) ? a : a.dup('c');
    }

    /** {@code z [n, nOut] = x [n, nIn] W}: {@code x (W^T)^T}. */
    static void forward(INDArray x, INDArray w, INDArray z) {
        Nd4j.exec(new Mmul(x, w.transpose(), z, MMulTranspose.builder().transposeB(true).build()));
    }

    /** {@code dW [nIn, nOut] = x^T delta}, written as {@code (delta^T x) [nOut, nIn]} into the transposed view. */
    static void weightGradient(INDArray delta, INDArray x, INDArray gradW) {
        INDArray gradWt = gradW.transpose();
        if (gradWt.ordering() == 'c' && Shape.hasDefaultStridesForShape(gradWt)) {
            Nd4j.exec(new Mmul(delta, x, gradWt, MMulTranspose.builder().transposeA(true).build()));
        } else {
            Nd4j.gemm(x, delta, gradW, true, false, 1.0, 0.0);
        }
    }

    /** {@code dX [n, nIn] = delta [n, nOut] W^T} ('c' view of the weights). */
    static void inputGradient(INDArray delta, INDArray w, INDArray eps) {
        Nd4j.exec(new Mmul(delta, w.transpose(), eps, MMulTranspose.allFalse()));
    }
}
