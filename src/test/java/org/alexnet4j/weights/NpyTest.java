package org.alexnet4j.weights;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The .npy/.npz reader and writer against files written by NumPy 2.4 (scripts/dev/make_numpy_fixtures.py). */
class NpyTest {
    private static final float[] ARANGE = {-2.5f, -1.5f, -0.5f, 0.5f, 1.5f, 2.5f};

    private static Path fixture(String name) throws IOException {
        try (InputStream in = NpyTest.class.getResourceAsStream("/numpy/" + name)) {
            assertThat(in).as(name).isNotNull();
            Path p = Files.createTempFile("fixture", name);
            Files.write(p, in.readAllBytes());
            p.toFile().deleteOnExit();
            return p;
        }
    }

    @Test
    void readsWhatNumpyWrites() throws IOException {
        NpyArray a = Npy.read(fixture("arange_2x3_f4.npy"));
        assertThat(a.shape()).containsExactly(2, 3);
        assertThat(a.data()).containsExactly(ARANGE);
        assertThat(Npy.read(fixture("vector_5_f4.npy")).data()).containsExactly(-1f, -0.5f, 0f, 0.5f, 1f);
        assertThat(Npy.read(fixture("big_endian_f4.npy")).data()).containsExactly(ARANGE);
        assertThat(Npy.read(fixture("version2_f4.npy")).data()).containsExactly(ARANGE);
    }

    @Test
    void writesExactlyTheBytesNumpyWrites() throws IOException {
        byte[] numpy = Files.readAllBytes(fixture("arange_2x3_f4.npy"));
        assertThat(Npy.encode(NpyArray.float32(new long[]{2, 3}, ARANGE))).isEqualTo(numpy);
        byte[] vector = Files.readAllBytes(fixture("vector_5_f4.npy"));
        assertThat(Npy.encode(NpyArray.float32(new long[]{5}, new float[]{-1f, -0.5f, 0f, 0.5f, 1f})))
                .isEqualTo(vector);
    }

    @Test
    void otherDtypesAreReportedNotDecoded() throws IOException {
        NpyArray d = Npy.read(fixture("float64.npy"));
        assertThat(d.dtype()).isEqualTo("<f8");
        assertThat(d.isFloat32()).isFalse();
        assertThat(d.shape()).containsExactly(2, 3);
        assertThatThrownBy(() -> Npy.read(fixture("fortran_f4.npy"))).hasMessageContaining("Fortran-order");
    }

    @Test
    void readsStoredAndCompressedNpz() throws IOException {
        for (String f : new String[]{"two_arrays.npz", "two_arrays_compressed.npz"}) {
            Map<String, NpyArray> m = Npz.read(fixture(f));
            assertThat(m.keySet()).containsExactly("conv1.weight", "conv1.bias");
            assertThat(m.get("conv1.weight").data()).containsExactly(ARANGE);
            assertThat(m.get("conv1.bias").data()).containsExactly(1f, 1f, 1f);
        }
    }

    @Test
    void npzRoundTripAndAtomicWrite(@TempDir Path dir) throws IOException {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("a", NpyArray.float32(new long[]{2, 3}, ARANGE));
        m.put("b.bias", NpyArray.float32(new long[]{1}, new float[]{Float.NaN}));
        Path f = dir.resolve("w.npz");
        Npz.write(f, m);
        assertThat(Npz.read(f)).isEqualTo(m);
        try (var files = Files.list(dir)) {
            assertThat(files).containsExactly(f); // no temporary file left behind
        }
    }

    @Test
    void garbageGetsAClearError(@TempDir Path dir) throws IOException {
        Path junk = dir.resolve("junk.npz");
        Files.writeString(junk, "not a zip");
        assertThatThrownBy(() -> Npz.read(junk)).hasMessageContaining("not a .npz");
        Path npy = dir.resolve("junk.npy");
        Files.writeString(npy, "not numpy at all");
        assertThatThrownBy(() -> Npy.read(npy)).hasMessageContaining("bad magic");
        byte[] good = Npy.encode(NpyArray.float32(new long[]{2, 3}, ARANGE));
        Path cut = dir.resolve("cut.npy");
        Files.write(cut, java.util.Arrays.copyOf(good, good.length - 4));
        assertThatThrownBy(() -> Npy.read(cut)).hasMessageContaining("truncated");
        assertThatThrownBy(() -> Npz.read(dir.resolve("missing.npz"))).hasMessageContaining("no such file");
    }
}
