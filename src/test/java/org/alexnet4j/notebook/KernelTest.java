package org.alexnet4j.notebook;

import org.dflib.jjava.jupyter.kernel.BaseKernel;
import org.dflib.jjava.jupyter.kernel.JupyterIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The notebook kernel's cell semantics without Jupyter: state carries across cells, the project's classes are
 * visible, the last expression's value is the result, and a cell that does not compile or throws fails (which is
 * what makes a headless nbconvert run fail).
 */
class KernelTest {
    static Kernel kernel;

    @BeforeAll
    static void start() {
        kernel = new Kernel(new JupyterIO(StandardCharsets.UTF_8));
    }

    @AfterAll
    static void stop() {
        kernel.close();
    }

    @Test
    void cellsShareStateSeeTheProjectAndReturnTheirLastExpression() {
        assertThat(kernel.evalRaw("import org.alexnet4j.model.*;\nint twice(int x) { return 2 * x; }\n"
                + "var net = AlexNet.builder().width(0.25).build();")).isNull();
        assertThat(kernel.evalRaw("twice(21)")).isEqualTo("42");
        assertThat(kernel.evalRaw("long p = net.parameterCount();\np")).isEqualTo("4587592");
        assertThat(kernel.evalRaw("p / 2;\nint q = 1;")).isNull(); // the last snippet is not an expression
    }

    @Test
    void aCellThatDoesNotCompileOrThrowsFails() {
        assertThatThrownBy(() -> kernel.evalRaw("int x = \"text\";")).isInstanceOf(Kernel.CellException.class)
                .hasMessageContaining("does not compile").hasMessageContaining("incompatible types");
        assertThatThrownBy(() -> kernel.evalRaw("undefinedMethod(3)")).isInstanceOf(Kernel.CellException.class)
                .hasMessageContaining("does not compile");
        assertThatThrownBy(() -> kernel.evalRaw("int y = 1;\nthrow new IllegalStateException(\"boom\");"))
                .isInstanceOf(Kernel.CellException.class)
                .hasMessageContaining("java.lang.IllegalStateException: boom");
        assertThatThrownBy(() -> kernel.evalRaw("Integer.parseInt(\"x\")")).hasMessageContaining(
                "NumberFormatException");
        assertThatThrownBy(() -> kernel.evalRaw("int z = (1 + ")).hasMessageContaining("incomplete");
        assertThat(kernel.isComplete("int z = (1 + ")).isEqualTo(BaseKernel.IS_COMPLETE_MAYBE);
        assertThat(kernel.isComplete("int z = 1;")).isEqualTo(BaseKernel.IS_COMPLETE_YES);
    }

    @Test
    void showDrawsGridsAndBarsAndFallsBackToTextOutsideANotebook() {
        BufferedImage a = new BufferedImage(10, 8, BufferedImage.TYPE_INT_RGB);
        a.setRGB(3, 2, 0xff0000);
        BufferedImage g = Show.grid(List.of(a, a, a), List.of("x", "y", "z"), 2, 3);
        assertThat(g.getWidth()).isEqualTo(2 * (30 + 6) + 6);
        assertThat(g.getHeight()).isEqualTo(2 * (24 + 18 + 6) + 6);
        assertThat(g.getRGB(6 + 3 * 3, 6 + 2 * 3) & 0xffffff).isEqualTo(0xff0000); // nearest-neighbour, scaled 3x
        assertThat(Show.bars("t", List.of("a", "b"), new double[]{1, 2}, "M").getHeight()).isEqualTo(40 + 2 * 22 + 10);
        assertThatThrownBy(() -> Show.bars("t", List.of("a"), new double[]{1, 2}, "")).hasMessageContaining("label");
        Show.table(List.of("a", "b"), List.of(List.of(1, 2.5))); // no kernel: prints text
        assertThat(Show.number(2.5)).isEqualTo("2.5");
        assertThat(Show.number(1234567)).isEqualTo("1,234,567");
        assertThat(Show.number(0.000123456)).isEqualTo("0.0001235");
        assertThat(Show.png(a)).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    }

    @Test
    void filterPicturesStretchEachFilterToItsOwnRange() {
        var w = org.nd4j.linalg.factory.Nd4j.create(new float[]{
                0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,           // filter 0: R, G, B planes of 2x2, values 0..3
                -1, -1, -1, 1, 5, 5, 5, 5, 5, 5, 5, 5}, 2, 3, 2, 2);
        List<BufferedImage> f = Pictures.filters(w);
        assertThat(f).hasSize(2);
        assertThat(f.get(0).getRGB(0, 0) & 0xffffff).isEqualTo(0x000000);
        assertThat(f.get(0).getRGB(1, 1) & 0xffffff).isEqualTo(0xffffff);
        // filter 1 spans -1..5: -1 -> 0, 1 -> 85, 5 -> 255
        assertThat(f.get(1).getRGB(1, 1) & 0xffffff).isEqualTo((85 << 16) | (255 << 8) | 255);
        assertThatThrownBy(() -> Pictures.filters(org.nd4j.linalg.factory.Nd4j.zeros(2, 1, 3, 3)))
                .hasMessageContaining("RGB filters");
    }
}
