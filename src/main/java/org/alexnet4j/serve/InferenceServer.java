package org.alexnet4j.serve;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * {@code alexnet4j serve} as a Java API: the models behind one {@link InferenceService}, the REST endpoint and
 * (optionally) the gRPC endpoint. {@link #start} listens first (live at once) and then compiles and warms each
 * model (ready after); {@link #shutdown} stops taking requests, answers every one already taken, and stops.
 */
public final class InferenceServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(InferenceServer.class);

    /**
     * How the server listens and batches.
     *
     * @param grpcPort        the gRPC port, or -1 for no gRPC endpoint
     * @param maxDelayMs      how long the oldest queued request waits for others to join its batch
     * @param queue           requests a model's queue holds before it refuses more
     * @param maxBody         the largest request body (REST) or message (gRPC), bytes
     * @param idleTimeoutMs   how long a REST connection may stay silent, also while sending its body
     * @param decodeThreads   the threads that decode and preprocess images
     */
    public record Settings(String host, int port, int grpcPort, int maxBatch, double maxDelayMs, int queue,
                           long maxBody, long idleTimeoutMs, int decodeThreads) {
        public Settings {
            if (port < 0 || port > 65535 || grpcPort < -1 || grpcPort > 65535) {
                throw new IllegalArgumentException("ports are 0..65535 (0: any free one), got " + port + " and "
                        + grpcPort);
            }
            if (maxBatch < 1) {
                throw new IllegalArgumentException("--max-batch must be at least 1, got " + maxBatch);
            }
            if (maxBody < 1024) {
                throw new IllegalArgumentException("the body limit must be at least 1 KiB, got " + maxBody);
            }
            if (decodeThreads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + decodeThreads);
            }
        }
    }

    private final List<ServedModel> models;
    private final InferenceService service;
    private final RestEndpoint rest;
    private final GrpcEndpoint grpc;
    private final ExecutorService decoders;

    private InferenceServer(List<ServedModel> models, Settings s) {
        this.models = models;
        this.decoders = Executors.newFixedThreadPool(s.decodeThreads(),
                org.alexnet4j.util.Parallel.daemonThreads("serve-decode"));
        this.service = new InferenceService(models, s.maxBatch(), (long) (s.maxDelayMs() * 1e6), s.queue(),
                decoders);
        this.rest = new RestEndpoint(service, s.host(), s.port(), s.maxBody(), s.idleTimeoutMs());
        this.grpc = s.grpcPort() >= 0 ? new GrpcEndpoint(service, s.host(), s.grpcPort(), s.maxBody()) : null;
    }

    /** Listens, then compiles and warms every model; returns when all are ready. */
    public static InferenceServer start(List<ServedModel> models, Settings s) throws Exception {
        if (models.isEmpty()) {
            throw new IllegalArgumentException("give at least one model to serve");
        }
        InferenceServer server = new InferenceServer(models, s);
        try {
            server.rest.start();
            if (server.grpc != null) {
                server.grpc.start();
            }
            boolean local = s.host().equals("127.0.0.1") || s.host().equals("localhost") || s.host().equals("::1");
            log.info("listening on http://{}:{} (REST{}){}", s.host(), server.rest.port(), server.grpc != null
                    ? ", gRPC on port " + server.grpc.port() : "", local ? " (this machine only; --host 0.0.0.0 "
                    + "for others)" : " -- reachable from other machines, with no authentication: put it behind "
                    + "your own proxy or firewall");
            for (ServedModel m : models) {
                m.warm();
            }
        } catch (Exception | Error e) {
            server.close();
            throw e;
        }
        return server;
    }

    public InferenceService service() {
        return service;
    }

    /** The REST port (the one chosen when asked for 0). */
    public int port() {
        return rest.port();
    }

    /** The gRPC port, or -1. */
    public int grpcPort() {
        return grpc != null ? grpc.port() : -1;
    }

    /**
     * Stops taking requests (ready turns false, new ones are refused with 503 / UNAVAILABLE), waits for every
     * request already taken to be answered, at most {@code drainMs}, and releases the engines.
     */
    public void shutdown(long drainMs) throws Exception {
        long t0 = System.nanoTime();
        service.stopAccepting();
        if (grpc != null) {
            grpc.shutdown();
        }
        rest.close();
        if (grpc != null) {
            grpc.awaitTermination(Math.max(1, drainMs - (System.nanoTime() - t0) / 1_000_000));
        }
        service.close();
        decoders.shutdownNow();
        decoders.awaitTermination(10, TimeUnit.SECONDS);
        log.info("server stopped after answering every request taken ({} ms)", (System.nanoTime() - t0) / 1_000_000);
    }

    @Override
    public void close() throws Exception {
        shutdown(60_000);
    }
}
