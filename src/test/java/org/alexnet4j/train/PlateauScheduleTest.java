package org.alexnet4j.train;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** "Divide by 10 when the validation error stops improving", at the right epochs and at most 3 times. */
class PlateauScheduleTest {
    @Test
    void dividesAfterPatienceEpochsWithoutANewBestAtMostThreeTimes() {
        PlateauSchedule s = new PlateauSchedule(0.01, 0.1, 2, 3);
        double[] errors = {0.9, 0.8, 0.7, 0.71, 0.70,   // epochs 0-4: best 0.7 at 2; 3, 4 no better -> cut after 4
                0.6, 0.65, 0.62,                        // 5 best; 6, 7 -> cut after 7
                0.61, 0.605, 0.59, 0.6, 0.6,            // 8, 9 not below 0.6 -> cut after 9; 10 best; 11, 12 -> 4th? no
                0.6, 0.6, 0.6, 0.6};
        StringBuilder cuts = new StringBuilder();
        for (int e = 0; e < errors.length; e++) {
            if (s.step(e, errors[e])) {
                cuts.append(e).append(' ');
            }
        }
        assertThat(s.reductions).containsExactly(4, 7, 9);
        assertThat(cuts.toString().trim()).isEqualTo("4 7 9");
        assertThat(s.lr).isCloseTo(1e-5, within(1e-12));
        assertThat(s.best).isEqualTo(0.59);
    }

    @Test
    void anImprovementResetsThePatience() {
        PlateauSchedule s = new PlateauSchedule(0.01, 0.1, 3, 3);
        for (double err : new double[]{0.5, 0.6, 0.6, 0.4, 0.5, 0.5}) {
            assertThat(s.step(0, err)).isFalse();
        }
        assertThat(s.lr).isEqualTo(0.01);
        assertThat(s.step(6, 0.45)).isTrue();
        assertThat(s.lr).isCloseTo(0.001, within(1e-15));
    }
}
