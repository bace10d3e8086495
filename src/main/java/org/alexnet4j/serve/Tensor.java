package org.alexnet4j.serve;

import java.util.Arrays;
import java.util.List;

/**
 * One named tensor of an inference request or response, protocol-neutral: FP32 values ({@link #fp32}) or BYTES
 * elements ({@link #bytes}), row-major, with its shape.
 *
 * @param binary for a response output: send it as raw bytes (the binary tensor data extension, or gRPC's raw
 *               contents) instead of JSON numbers or repeated fields
 */
public record Tensor(String name, String datatype, long[] shape, float[] fp32, List<byte[]> bytes, boolean binary) {
    public static final String FP32 = "FP32";
    public static final String BYTES = "BYTES";

    public static Tensor fp32(String name, long[] shape, float[] values, boolean binary) {
        return new Tensor(name, FP32, shape, values, null, binary);
    }

    public static Tensor bytes(String name, long[] shape, List<byte[]> values, boolean binary) {
        return new Tensor(name, BYTES, shape, null, values, binary);
    }

    /** The number of elements the shape says ({@code -1} for a negative or overflowing dimension). */
    public static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0 || (d > 0 && n > Long.MAX_VALUE / d)) {
                return -1;
            }
            n *= d;
        }
        return n;
    }

    @Override
    public String toString() {
        return name + " " + datatype + " " + Arrays.toString(shape);
    }
}
