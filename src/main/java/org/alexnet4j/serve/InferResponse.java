package org.alexnet4j.serve;

import java.util.List;

/** The outputs of one inference request, in the order asked for. */
public record InferResponse(String model, String version, String id, List<Tensor> outputs) {
}
