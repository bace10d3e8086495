package org.alexnet4j.serve;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import org.alexnet4j.serve.grpc.GRPCInferenceServiceGrpc;
import org.alexnet4j.serve.grpc.InferParameter;
import org.alexnet4j.serve.grpc.InferTensorContents;
import org.alexnet4j.serve.grpc.ModelInferRequest;
import org.alexnet4j.serve.grpc.ModelInferResponse;
import org.alexnet4j.serve.grpc.ModelMetadataRequest;
import org.alexnet4j.serve.grpc.ModelMetadataResponse;
import org.alexnet4j.serve.grpc.ModelReadyRequest;
import org.alexnet4j.serve.grpc.ModelReadyResponse;
import org.alexnet4j.serve.grpc.ServerLiveRequest;
import org.alexnet4j.serve.grpc.ServerLiveResponse;
import org.alexnet4j.serve.grpc.ServerMetadataRequest;
import org.alexnet4j.serve.grpc.ServerMetadataResponse;
import org.alexnet4j.serve.grpc.ServerReadyRequest;
import org.alexnet4j.serve.grpc.ServerReadyResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Open Inference Protocol over gRPC (grpc-java on its shaded Netty; the service generated from
 * src/main/proto/grpc_predict_v2.proto at build time). Inputs come as typed contents ({@code fp32_contents},
 * {@code bytes_contents}) or raw ({@code raw_input_contents}); outputs go back the same way the inputs came. The
 * call's deadline drops it from the queue; errors are gRPC statuses (INVALID_ARGUMENT, NOT_FOUND,
 * RESOURCE_EXHAUSTED for a full queue, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL) with the same sentences as REST.
 */
public final class GrpcEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(GrpcEndpoint.class);

    private final InferenceService service;
    private final Server server;

    public GrpcEndpoint(InferenceService service, String host, int port, long maxMessage) {
        this.service = service;
        this.server = NettyServerBuilder.forAddress(new InetSocketAddress(host, port))
                .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, maxMessage))
                .addService(new Service()).build();
    }

    public void start() throws IOException {
        server.start();
    }

    public int port() {
        return server.getPort();
    }

    /** Stops taking calls; {@link #awaitTermination} waits for those in progress. */
    public void shutdown() {
        server.shutdown();
    }

    public void awaitTermination(long millis) throws InterruptedException {
        if (!server.awaitTermination(millis, TimeUnit.MILLISECONDS)) {
            server.shutdownNow();
        }
    }

    @Override
    public void close() throws InterruptedException {
        shutdown();
        awaitTermination(60_000);
    }

    static Status status(ServeException e) {
        Status s = switch (e.status()) {
            case INVALID, TOO_LARGE -> Status.INVALID_ARGUMENT;
            case NOT_FOUND -> Status.NOT_FOUND;
            case QUEUE_FULL -> Status.RESOURCE_EXHAUSTED;
            case UNAVAILABLE -> Status.UNAVAILABLE;
            case TIMEOUT, CLIENT_TIMEOUT -> Status.DEADLINE_EXCEEDED;
            case INTERNAL -> Status.INTERNAL;
        };
        return s.withDescription(e.getMessage());
    }

    private final class Service extends GRPCInferenceServiceGrpc.GRPCInferenceServiceImplBase {
        @Override
        public void serverLive(ServerLiveRequest r, StreamObserver<ServerLiveResponse> out) {
            out.onNext(ServerLiveResponse.newBuilder().setLive(true).build());
            out.onCompleted();
        }

        @Override
        public void serverReady(ServerReadyRequest r, StreamObserver<ServerReadyResponse> out) {
            out.onNext(ServerReadyResponse.newBuilder().setReady(service.ready()).build());
            out.onCompleted();
        }

        @Override
        public void modelReady(ModelReadyRequest r, StreamObserver<ModelReadyResponse> out) {
            try {
                ServedModel m = service.model(r.getName(), r.getVersion());
                out.onNext(ModelReadyResponse.newBuilder().setReady(m.ready() && service.ready()).build());
                out.onCompleted();
            } catch (ServeException e) {
                out.onError(status(e).asRuntimeException());
            }
        }

        @Override
        public void serverMetadata(ServerMetadataRequest r, StreamObserver<ServerMetadataResponse> out) {
            out.onNext(ServerMetadataResponse.newBuilder().setName("alexnet4j").setVersion(ServerInfo.version())
                    .addExtensions("binary_tensor_data").addExtensions("classification").build());
            out.onCompleted();
        }

        @Override
        public void modelMetadata(ModelMetadataRequest r, StreamObserver<ModelMetadataResponse> out) {
            try {
                ServedModel m = service.model(r.getName(), r.getVersion());
                ModelMetadataResponse.Builder b = ModelMetadataResponse.newBuilder().setName(m.name())
                        .addVersions(m.version()).setPlatform("alexnet4j");
                m.inputs().forEach(t -> b.addInputs(meta(t)));
                m.outputs().forEach(t -> b.addOutputs(meta(t)));
                out.onNext(b.build());
                out.onCompleted();
            } catch (ServeException e) {
                out.onError(status(e).asRuntimeException());
            }
        }

        @Override
        public void modelInfer(ModelInferRequest r, StreamObserver<ModelInferResponse> out) {
            long start = System.nanoTime();
            String model = r.getModelName();
            boolean raw = r.getRawInputContentsCount() > 0;
            try {
                service.infer(request(r)).whenComplete((res, err) -> {
                    if (err != null) {
                        fail(out, InferenceService.unwrap(err), model, start);
                        return;
                    }
                    out.onNext(response(res, raw));
                    out.onCompleted();
                    service.metrics().request(model, "grpc", "ok", (System.nanoTime() - start) / 1e9);
                });
            } catch (ServeException e) {
                fail(out, e, model, start);
            } catch (RuntimeException e) {
                fail(out, InferenceService.unwrap(e), model, start);
            }
        }
    }

    private void fail(StreamObserver<ModelInferResponse> out, ServeException e, String model, long start) {
        log.info("gRPC ModelInfer {}: {} {}", model, e.status(), e.getMessage());
        service.metrics().request(model, "grpc", e.status().name().toLowerCase(java.util.Locale.ROOT),
                (System.nanoTime() - start) / 1e9);
        out.onError(status(e).asRuntimeException());
    }

    private static ModelMetadataResponse.TensorMetadata meta(ServedModel.TensorSpec spec) {
        ModelMetadataResponse.TensorMetadata.Builder b = ModelMetadataResponse.TensorMetadata.newBuilder()
                .setName(spec.name()).setDatatype(spec.datatype());
        for (long d : spec.shape()) {
            b.addShape(d);
        }
        return b.build();
    }

    static InferRequest request(ModelInferRequest r) {
        boolean raw = r.getRawInputContentsCount() > 0;
        if (raw && r.getRawInputContentsCount() != r.getInputsCount()) {
            throw InferenceService.invalid(r.getRawInputContentsCount() + " raw_input_contents for "
                    + r.getInputsCount() + " inputs; give one per input, in order");
        }
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < r.getInputsCount(); i++) {
            ModelInferRequest.InferInputTensor t = r.getInputs(i);
            long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
            InferenceService.checkDatatype(t.getName(), t.getDatatype());
            boolean fp32 = Tensor.FP32.equals(t.getDatatype());
            if (raw) {
                ByteBuffer b = r.getRawInputContents(i).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                if (fp32) {
                    if (b.remaining() % 4 != 0) {
                        throw InferenceService.invalid("input '" + t.getName() + "': " + b.remaining()
                                + " raw bytes are not whole FP32 values");
                    }
                    float[] v = new float[b.remaining() / 4];
                    b.asFloatBuffer().get(v);
                    inputs.add(Tensor.fp32(t.getName(), shape, v, false));
                } else {
                    inputs.add(Tensor.bytes(t.getName(), shape, V2Json.elements(t.getName(), b), false));
                }
            } else if (fp32) {
                List<Float> c = t.getContents().getFp32ContentsList();
                float[] v = new float[c.size()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = c.get(k);
                }
                inputs.add(Tensor.fp32(t.getName(), shape, v, false));
            } else {
                List<byte[]> e = new ArrayList<>();
                for (ByteString s : t.getContents().getBytesContentsList()) {
                    e.add(s.toByteArray());
                }
                inputs.add(Tensor.bytes(t.getName(), shape, e, false));
            }
        }
        List<InferRequest.Output> outputs = new ArrayList<>();
        for (ModelInferRequest.InferRequestedOutputTensor o : r.getOutputsList()) {
            InferParameter c = o.getParametersMap().get("classification");
            outputs.add(new InferRequest.Output(o.getName(), raw, c == null ? 0 : (int) c.getInt64Param()));
        }
        Deadline d = Context.current().getDeadline();
        long timeout = d == null ? 0 : Math.max(1, d.timeRemaining(TimeUnit.NANOSECONDS));
        Map<String, InferParameter> p = r.getParametersMap();
        if (d == null && p.containsKey("timeout")) {
            timeout = Math.max(0, p.get("timeout").getInt64Param()) * 1000;
        }
        return new InferRequest(r.getModelName(), r.getModelVersion(), r.getId(), inputs, outputs, raw, timeout);
    }

    static ModelInferResponse response(InferResponse res, boolean raw) {
        ModelInferResponse.Builder b = ModelInferResponse.newBuilder().setModelName(res.model())
                .setModelVersion(res.version()).setId(res.id() == null ? "" : res.id());
        for (Tensor t : res.outputs()) {
            ModelInferResponse.InferOutputTensor.Builder o = ModelInferResponse.InferOutputTensor.newBuilder()
                    .setName(t.name()).setDatatype(t.datatype());
            for (long d : t.shape()) {
                o.addShape(d);
            }
            if (raw) {
                b.addRawOutputContents(ByteString.copyFrom(V2Json.raw(t)));
            } else {
                InferTensorContents.Builder c = InferTensorContents.newBuilder();
                if (t.fp32() != null) {
                    for (float f : t.fp32()) {
                        c.addFp32Contents(f);
                    }
                } else {
                    for (byte[] e : t.bytes()) {
                        c.addBytesContents(ByteString.copyFrom(e));
                    }
                }
                o.setContents(c);
            }
            b.addOutputs(o);
        }
        return b.build();
    }
}
