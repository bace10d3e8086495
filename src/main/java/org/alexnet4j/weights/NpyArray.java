package org.alexnet4j.weights;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Arrays;

/**
 * One array of a NumPy {@code .npy} file: its dtype descriptor as NumPy writes it ({@code "<f4"}), its C-order shape,
 * and, for float32 arrays, the values. Arrays of other dtypes are kept as descriptor and shape only, so a reader can
 * name them in an error.
 */
public record NpyArray(String dtype, long[] shape, float[] data) {

    public static final String FLOAT32 = "<f4";

    public NpyArray {
        shape = shape.clone();
        if (data != null && data.length != count(shape)) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + count(shape)
                    + " values, got " + data.length);
        }
    }

    /** A float32 array. */
    public static NpyArray float32(long[] shape, float[] data) {
        return new NpyArray(FLOAT32, shape, data);
    }

    /** A float32 copy of an ND4J array (any data type, any ordering), in C order. */
    public static NpyArray of(INDArray array) {
        INDArray f = array.castTo(DataType.FLOAT).dup('c');
        return float32(f.shape(), f.data().asFloat());
    }

    /** This float32 array as a new ND4J array of the same shape. */
    public INDArray toINDArray() {
        if (!isFloat32()) {
            throw new IllegalStateException("only float32 arrays convert to ND4J, this is " + dtype);
        }
        return Nd4j.create(data, shape, 'c');
    }

    public boolean isFloat32() {
        return FLOAT32.equals(dtype) && data != null;
    }

    /** Number of elements of a shape (1 for a scalar). */
    public static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NpyArray a && dtype.equals(a.dtype) && Arrays.equals(shape, a.shape)
                && Arrays.equals(data, a.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "NpyArray[" + dtype + " " + Arrays.toString(shape) + "]";
    }
}
