package org.alexnet4j.cuda;

/** A CUDA, cuDNN or cuBLAS failure, or a missing driver or library, as a sentence a user can act on. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
