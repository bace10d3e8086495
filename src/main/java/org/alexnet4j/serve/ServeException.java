package org.alexnet4j.serve;

/**
 * A request the server answers with an error instead of outputs: the protocol's error status and one sentence saying
 * what was wrong and what to send instead. REST answers {@code {"error": message}} with {@link Status#http}; gRPC
 * with the matching status code ({@link GrpcEndpoint}).
 */
public final class ServeException extends RuntimeException {
    /** What kind of failure, as both protocols name it. */
    public enum Status {
        /** Malformed or invalid input: JSON, names, datatypes, shapes, values, images. */
        INVALID(400),
        /** An unknown model or version. */
        NOT_FOUND(404),
        /** A body over the configured limit. */
        TOO_LARGE(413),
        /** The queue is full: try again later (REST 503, gRPC RESOURCE_EXHAUSTED). */
        QUEUE_FULL(503),
        /** The model is not ready, or the server is stopping. */
        UNAVAILABLE(503),
        /** The client stopped sending its body (the idle timeout passed). */
        CLIENT_TIMEOUT(408),
        /** The request's deadline passed while it waited. */
        TIMEOUT(504),
        /** A failure of the server itself (logged with its stack trace). */
        INTERNAL(500);

        /** The HTTP status REST answers with. */
        public final int http;

        Status(int http) {
            this.http = http;
        }
    }

    private final Status status;

    public ServeException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
