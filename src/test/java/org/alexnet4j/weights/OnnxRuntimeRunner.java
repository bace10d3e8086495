package org.alexnet4j.weights;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Map;

/** ONNX Runtime for Java as the independent engine of the ONNX tests: runs a model on an NCHW batch. */
final class OnnxRuntimeRunner {
    private OnnxRuntimeRunner() {
    }

    /** Output {@code output} (or the first output, if null) of {@code model} for {@code nchw}, as a float array. */
    static INDArray run(byte[] model, INDArray nchw, String output) throws OrtException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions o = new OrtSession.SessionOptions()) {
            o.setIntraOpNumThreads(2);
            o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.BASIC_OPT);
            try (OrtSession s = env.createSession(model, o)) {
                String input = s.getInputNames().iterator().next();
                float[] data = nchw.castTo(DataType.FLOAT).dup('c').data().asFloat();
                try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), nchw.shape());
                     OrtSession.Result r = s.run(Map.of(input, t))) {
                    OnnxTensor y = (OnnxTensor) (output == null ? r.get(0) : r.get(output).orElseThrow());
                    long[] shape = y.getInfo().getShape();
                    FloatBuffer fb = y.getFloatBuffer();
                    float[] out = new float[fb.remaining()];
                    fb.get(out);
                    return Nd4j.create(out, shape, 'c');
                }
            }
        }
    }

    /** max |a - b| / max |b|: relative error on the scale of the expected values. */
    static double relErr(INDArray actual, INDArray expected) {
        double diff = actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        return diff / Math.max(1e-12, expected.castTo(DataType.DOUBLE).amaxNumber().doubleValue());
    }
}
