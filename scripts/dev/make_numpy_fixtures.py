"""Writes the NumPy fixtures under src/test/resources/numpy/ (run once by a developer; CI never runs it).

The Java tests compare alexnet4j's .npy/.npz reader and writer against these files, written by NumPy itself.
Usage: python3 scripts/dev/make_numpy_fixtures.py   (needs numpy)
"""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "..", "src", "test", "resources", "numpy")
os.makedirs(out, exist_ok=True)
a = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5
np.save(os.path.join(out, "arange_2x3_f4.npy"), a)
np.save(os.path.join(out, "vector_5_f4.npy"), np.linspace(-1, 1, 5, dtype=np.float32))
np.save(os.path.join(out, "big_endian_f4.npy"), a.astype(">f4"))
np.save(os.path.join(out, "float64.npy"), a.astype(np.float64))
np.save(os.path.join(out, "fortran_f4.npy"), np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)))
with open(os.path.join(out, "version2_f4.npy"), "wb") as f:
    np.lib.format.write_array(f, a, version=(2, 0))
np.savez(os.path.join(out, "two_arrays.npz"), **{"conv1.weight": a, "conv1.bias": np.ones(3, np.float32)})
np.savez_compressed(os.path.join(out, "two_arrays_compressed.npz"),
                    **{"conv1.weight": a, "conv1.bias": np.ones(3, np.float32)})
print("wrote", sorted(os.listdir(out)))
