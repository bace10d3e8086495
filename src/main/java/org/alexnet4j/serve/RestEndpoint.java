package org.alexnet4j.serve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Open Inference Protocol over HTTP/1.1 (and 1.0) on Jetty 12: {@code GET /v2/health/live}, {@code
 * /v2/health/ready}, {@code /v2} (server metadata), {@code /v2/models/NAME[/versions/V]} (model metadata),
 * {@code .../ready}, {@code POST .../infer} (JSON, or JSON plus binary tensors), and {@code GET /metrics}
 * (Prometheus). A body over the limit is refused from its Content-Length before it is read (413), a slow client is
 * cut off by the idle timeout, and every refusal is {@code {"error": "..."}} with the protocol's status and a log
 * line. Infer requests wait for their batch without holding a thread.
 */
public final class RestEndpoint implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RestEndpoint.class);
    private static final Pattern MODEL = Pattern.compile(
            "/v2/models/([^/]+)(?:/versions/([^/]+))?(/ready|/infer)?/?");

    private final InferenceService service;
    private final long maxBody;
    private final Server server;
    private final ServerConnector connector;

    /**
     * @param maxBody     the largest request body in bytes
     * @param idleTimeout milliseconds a connection may stay silent (also while sending a body) before it is closed
     */
    public RestEndpoint(InferenceService service, String host, int port, long maxBody, long idleTimeout) {
        this.service = service;
        this.maxBody = maxBody;
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("rest");
        threads.setDaemon(true);
        server = new Server(threads);
        HttpConfiguration config = new HttpConfiguration();
        config.setSendServerVersion(false);
        connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(config));
        connector.setHost(host);
        connector.setPort(port);
        connector.setIdleTimeout(idleTimeout);
        server.addConnector(connector);
        server.setHandler(new GracefulHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                RestEndpoint.this.handle(request, response, callback);
                return true;
            }
        }));
        server.setStopTimeout(60_000);
    }

    /** Starts listening. */
    public void start() throws Exception {
        server.start();
    }

    /** The port it listens on (the one chosen when asked for 0). */
    public int port() {
        return connector.getLocalPort();
    }

    private void handle(Request request, Response response, Callback callback) {
        String path = request.getHttpURI().getPath();
        String method = request.getMethod();
        long start = System.nanoTime();
        try {
            if (path.equals("/metrics") && method.equals("GET")) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                service.metrics().write(out);
                send(response, callback, 200, ServeMetrics.contentType(), out.toByteArray(), null);
            } else if (path.equals("/v2/health/live") && method.equals("GET")) {
                json(response, callback, 200, V2Json.mapper().createObjectNode().put("live", true));
            } else if (path.equals("/v2/health/ready") && method.equals("GET")) {
                boolean ready = service.ready();
                json(response, callback, ready ? 200 : 503, V2Json.mapper().createObjectNode().put("ready", ready));
            } else if ((path.equals("/v2") || path.equals("/v2/")) && method.equals("GET")) {
                ObjectNode m = V2Json.mapper().createObjectNode().put("name", "alexnet4j").put("version",
                        ServerInfo.version());
                m.putArray("extensions").add("binary_tensor_data").add("classification");
                json(response, callback, 200, m);
            } else {
                Matcher mm = MODEL.matcher(path);
                if (!mm.matches()) {
                    throw new ServeException(ServeException.Status.NOT_FOUND, "no such endpoint: " + method + " "
                            + path + " (see /v2, /v2/models/NAME, /v2/models/NAME/infer, /metrics)");
                }
                ServedModel model = service.model(mm.group(1), mm.group(2));
                String tail = mm.group(3);
                if (tail == null && method.equals("GET")) {
                    json(response, callback, 200, metadata(model));
                } else if ("/ready".equals(tail) && method.equals("GET")) {
                    boolean ready = model.ready() && service.ready();
                    json(response, callback, ready ? 200 : 503, V2Json.mapper().createObjectNode()
                            .put("name", model.name()).put("ready", ready));
                } else if ("/infer".equals(tail) && method.equals("POST")) {
                    try {
                        infer(request, response, callback, model, mm.group(2), start);
                    } catch (ServeException e) { // refused before it queued: counted under its model
                        fail(request, response, callback, e, model.name(), start);
                    }
                } else {
                    throw new ServeException(ServeException.Status.NOT_FOUND, method + " " + path
                            + " is not an endpoint (infer is POST, metadata and ready are GET)");
                }
            }
        } catch (ServeException e) {
            fail(request, response, callback, e, null, start);
        } catch (RuntimeException | IOException e) {
            fail(request, response, callback, InferenceService.unwrap(e), null, start);
        }
    }

    private void infer(Request request, Response response, Callback callback, ServedModel model, String version,
                       long start) throws IOException {
        long declared = request.getLength();
        if (declared > maxBody) {
            throw new ServeException(ServeException.Status.TOO_LARGE, "the body is " + declared + " bytes, over the "
                    + "server's limit of " + maxBody + " (--max-body-mb)");
        }
        byte[] body = read(request);
        String header = request.getHeaders().get(V2Json.HEADER_LENGTH);
        Integer jsonLength;
        try {
            jsonLength = header == null ? null : Integer.valueOf(header.trim());
        } catch (NumberFormatException e) {
            throw InferenceService.invalid(V2Json.HEADER_LENGTH + " is not a number: " + header);
        }
        InferRequest r = V2Json.request(model.name(), version, body, jsonLength);
        service.infer(r).whenComplete((res, err) -> {
            if (err != null) {
                fail(request, response, callback, InferenceService.unwrap(err), model.name(), start);
                return;
            }
            V2Json.Body b = V2Json.response(res);
            String type = b.jsonLength() == null ? "application/json" : "application/octet-stream";
            send(response, callback, 200, type, b.bytes(), b.jsonLength());
            service.metrics().request(model.name(), "rest", "ok", (System.nanoTime() - start) / 1e9);
        });
    }

    /** The body, at most {@link #maxBody} bytes (413 past it, for bodies without a Content-Length). */
    private byte[] read(Request request) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(request.getLength() > 0
                ? (int) request.getLength() : 8192);
        byte[] buf = new byte[65536];
        try (InputStream in = Request.asInputStream(request)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                if (out.size() > maxBody) {
                    throw new ServeException(ServeException.Status.TOO_LARGE, "the body is over the server's "
                            + "limit of " + maxBody + " bytes (--max-body-mb)");
                }
            }
        } catch (IOException e) {
            throw new ServeException(ServeException.Status.CLIENT_TIMEOUT, "the body stopped after " + out.size()
                    + " bytes (" + e.getMessage() + "; --idle-timeout-s)");
        }
        return out.toByteArray();
    }

    static ObjectNode metadata(ServedModel m) {
        ObjectNode o = V2Json.mapper().createObjectNode();
        o.put("name", m.name());
        o.putArray("versions").add(m.version());
        o.put("platform", "alexnet4j");
        ArrayNode in = o.putArray("inputs");
        m.inputs().forEach(t -> tensor(in, t));
        ArrayNode out = o.putArray("outputs");
        m.outputs().forEach(t -> tensor(out, t));
        ObjectNode p = o.putObject("parameters");
        p.put("variant", m.net().variant().id());
        p.put("engine", m.engineName());
        p.put("max_batch_size", m.maxBatch());
        return o;
    }

    private static void tensor(ArrayNode list, ServedModel.TensorSpec spec) {
        ObjectNode t = list.addObject();
        t.put("name", spec.name());
        t.put("datatype", spec.datatype());
        ArrayNode sh = t.putArray("shape");
        for (long d : spec.shape()) {
            sh.add(d);
        }
    }

    private void fail(Request request, Response response, Callback callback, ServeException e, String model,
                      long start) {
        log.info("{} {} from {}: {} {}", request.getMethod(), request.getHttpURI().getPath(),
                Request.getRemoteAddr(request), e.status().http, e.getMessage());
        if (model != null || e.status() != ServeException.Status.NOT_FOUND) {
            service.metrics().request(model != null ? model : "", "rest",
                    e.status().name().toLowerCase(java.util.Locale.ROOT), (System.nanoTime() - start) / 1e9);
        }
        send(response, callback, e.status().http, "application/json", V2Json.error(e.getMessage()), null);
    }

    private static void json(Response response, Callback callback, int status, ObjectNode body) {
        send(response, callback, status, "application/json", V2Json.write(body), null);
    }

    private static void send(Response response, Callback callback, int status, String type, byte[] body,
                             Integer jsonLength) {
        if (response.isCommitted()) {
            callback.failed(new IllegalStateException("response already committed"));
            return;
        }
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        if (jsonLength != null) {
            response.getHeaders().put(V2Json.HEADER_LENGTH, jsonLength);
        }
        response.write(true, ByteBuffer.wrap(body), callback);
    }

    /** Stops accepting connections and waits for requests in progress to be answered. */
    @Override
    public void close() throws Exception {
        server.stop();
    }
}
