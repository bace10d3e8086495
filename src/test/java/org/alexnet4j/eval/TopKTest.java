package org.alexnet4j.eval;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Top-1/top-5 error and loss on hand-made predictions. */
class TopKTest {
    @Test
    void topOneAndTopFiveOnHandMadePredictions() {
        TopK k = new TopK(7);
        // label 0 ranked 1st; label 1 ranked 3rd; label 2 ranked 6th; label 3 ranked 5th
        k.add(new float[]{0.40f, 0.20f, 0.10f, 0.10f, 0.10f, 0.05f, 0.05f}, 0);
        k.add(new float[]{0.30f, 0.20f, 0.25f, 0.10f, 0.05f, 0.05f, 0.05f}, 1);
        k.add(new float[]{0.20f, 0.20f, 0.02f, 0.20f, 0.18f, 0.10f, 0.10f}, 2);
        k.add(new float[]{0.30f, 0.20f, 0.20f, 0.10f, 0.10f, 0.05f, 0.05f}, 3); // tie with 4: lower index first
        assertThat(TopK.rank(new float[]{0.30f, 0.20f, 0.20f, 0.10f, 0.10f, 0.05f, 0.05f}, 3)).isEqualTo(3);
        assertThat(TopK.rank(new float[]{0.30f, 0.20f, 0.20f, 0.10f, 0.10f, 0.05f, 0.05f}, 4)).isEqualTo(4);
        assertThat(k.examples()).isEqualTo(4);
        assertThat(k.top1Error()).isEqualTo(0.75);
        assertThat(k.top5Error()).isEqualTo(0.25); // only label 2 (rank 6) misses the top 5
        double loss = -(Math.log(0.40) + Math.log(0.20) + Math.log(0.02) + Math.log(0.10)) / 4;
        assertThat(k.loss()).isCloseTo(loss, within(1e-6));
        assertThat(k.perClassTotal()[2]).isEqualTo(1);
        assertThat(k.perClassTop5()[2]).isZero();
        assertThat(k.perClassTop1()[0]).isEqualTo(1);

        TopK batch = new TopK(3);
        batch.add(Nd4j.create(new float[][]{{0.1f, 0.7f, 0.2f}, {0.5f, 0.3f, 0.2f}}), new int[]{1, 2});
        assertThat(batch.top1Error()).isEqualTo(0.5);
        assertThat(batch.top5Error()).isEqualTo(0.0);
    }
}
