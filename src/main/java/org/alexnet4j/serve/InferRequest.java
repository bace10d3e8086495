package org.alexnet4j.serve;

import java.util.List;

/**
 * An inference request as both protocols carry it: the model, an optional id echoed back, the input tensors, the
 * outputs asked for (none: the model's defaults) and how long the client waits.
 *
 * @param timeoutNanos the client's deadline from now (0: none): a request still queued when it passes is dropped
 */
public record InferRequest(String model, String version, String id, List<Tensor> inputs, List<Output> outputs,
                           boolean binaryOutputs, long timeoutNanos) {
    /**
     * An output asked for.
     *
     * @param binary         send it as raw bytes
     * @param classification Triton's classification extension: the top {@code classification} classes as BYTES
     *                       {@code "value:index:label"} instead of the values (0: the values)
     */
    public record Output(String name, boolean binary, int classification) {
    }
}
