package org.alexnet4j.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.alexnet4j.data.ImageCodec;
import org.alexnet4j.data.RgbImage;
import org.alexnet4j.data.SyntheticImageNet;
import org.alexnet4j.data.transforms.Normalization;
import org.alexnet4j.eval.Predictor;
import org.alexnet4j.eval.Preprocessing;
import org.alexnet4j.infer.InferenceEngine;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.serve.grpc.GRPCInferenceServiceGrpc;
import org.alexnet4j.serve.grpc.InferTensorContents;
import org.alexnet4j.serve.grpc.ModelInferRequest;
import org.alexnet4j.serve.grpc.ModelInferResponse;
import org.alexnet4j.serve.grpc.ModelMetadataRequest;
import org.alexnet4j.serve.grpc.ServerLiveRequest;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The server end to end on free ports: the protocol over REST (Java's HTTP client, raw sockets for HTTP/1.0 and a
 * slow client) and gRPC (the generated stub), batching, bad input, overflow and deadlines. The net is the paper's at
 * width 0.25 with 10 classes and He-scaled random weights, on the engine {@code auto} picks (oneDNN here).
 */
class ServeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLASSES = 10;

    static AlexNet net;
    static ComputationGraph graph;
    static InferenceServer server;
    static HttpClient http;
    static URI base;
    static List<byte[]> jpegs;

    @BeforeAll
    static void start() throws Exception {
        net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(CLASSES).build();
        graph = org.alexnet4j.infer.OneDnnInferenceTest.graph(net);
        server = InferenceServer.start(List.of(model("alexnet", InferenceEngine.Kind.AUTO, List.of(1, 2, 4, 8))),
                new InferenceServer.Settings("127.0.0.1", 0, 0, 8, 300, 64, 8 << 20, 1500, 2));
        http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        base = URI.create("http://127.0.0.1:" + server.port());
        jpegs = new ArrayList<>();
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < 8; i++) {
            jpegs.add(ImageCodec.encodeJpeg(SyntheticImageNet.render(i, rng), 90));
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    static ServedModel model(String name, InferenceEngine.Kind kind, List<Integer> sizes) {
        Normalization n = Preprocessing.input(net, null, null, null, false, Predictor.SOURCE_SIZE).normalization();
        Predictor p = new Predictor(InferenceEngine.dl4j(graph), net, n, false, 3);
        List<String> classes = IntStream.range(0, CLASSES).mapToObj(i -> "class " + i).toList();
        return new ServedModel(name, net, () -> InferenceEngine.open(kind, net, graph), p, classes, sizes, 3,
                64_000_000);
    }

    /** DL4J's own logits of preprocessed inputs: the independent reference. */
    static float[] reference(float[] x, int n) {
        int s = net.inputSize();
        return InferenceEngine.dl4jLogits(graph, Nd4j.create(x, new long[]{n, 3, s, s}, 'c')).dup('c').data()
                .asFloat();
    }

    static float[] preprocessed(int n, int seed) {
        float[] x = new float[n * 3 * net.inputSize() * net.inputSize()];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    static void assertClose(float[] actual, float[] expected, double relative) {
        assertThat(actual).hasSameSizeAs(expected);
        double scale = 0;
        for (float e : expected) {
            scale = Math.max(scale, Math.abs(e));
        }
        for (int i = 0; i < actual.length; i++) {
            assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i],
                    org.assertj.core.data.Offset.offset(relative * scale + 1e-7));
        }
    }

    static HttpResponse<byte[]> post(String path, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(Duration.ofSeconds(60))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(base.resolve(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static byte[] tensorJson(float[] x, int n) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode in = root.putArray("inputs").addObject();
        in.put("name", "input").put("datatype", "FP32");
        in.putArray("shape").add(n).add(3).add(net.inputSize()).add(net.inputSize());
        ArrayNode d = in.putArray("data");
        for (float f : x) {
            d.add(f);
        }
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A request of encoded images with the binary tensor data extension: the body and its JSON length. */
    static Object[] imagesBinary(List<byte[]> images, boolean binaryOut) {
        int len = images.stream().mapToInt(b -> b.length + 4).sum();
        String json = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[" + images.size() + "],"
                + "\"parameters\":{\"binary_data_size\":" + len + "}}]" + (binaryOut
                ? ",\"parameters\":{\"binary_data_output\":true}" : "") + "}";
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(j.length + len).order(ByteOrder.LITTLE_ENDIAN).put(j);
        for (byte[] im : images) {
            b.putInt(im.length).put(im);
        }
        return new Object[]{b.array(), j.length};
    }

    static float[] floats(JsonNode output) {
        float[] v = new float[output.path("data").size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) output.path("data").get(i).asDouble();
        }
        return v;
    }

    static JsonNode output(JsonNode response, String name) {
        for (JsonNode o : response.path("outputs")) {
            if (o.path("name").asText().equals(name)) {
                return o;
            }
        }
        throw new AssertionError("no output " + name + " in " + response);
    }

    static String error(HttpResponse<byte[]> r) throws Exception {
        return JSON.readTree(r.body()).path("error").asText();
    }

    @Test
    void healthAndMetadataFollowTheProtocol() throws Exception {
        assertThat(get("/v2/health/live").statusCode()).isEqualTo(200);
        assertThat(get("/v2/health/ready").statusCode()).isEqualTo(200);
        JsonNode server = JSON.readTree(get("/v2").body());
        assertThat(server.path("extensions").toString()).contains("binary_tensor_data");
        JsonNode m = JSON.readTree(get("/v2/models/alexnet").body());
        assertThat(m.path("versions").get(0).asText()).isEqualTo("1");
        assertThat(m.path("inputs").get(0).path("shape").toString()).isEqualTo("[-1,3,227,227]");
        assertThat(m.path("inputs").get(1).path("datatype").asText()).isEqualTo("BYTES");
        assertThat(m.path("outputs").get(0).path("shape").toString()).isEqualTo("[-1," + CLASSES + "]");
        assertThat(get("/v2/models/alexnet/versions/1/ready").statusCode()).isEqualTo(200);
        HttpResponse<String> missing = get("/v2/models/nope");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(missing.body()).path("error").asText()).contains("no model named 'nope'");
        assertThat(get("/v2/models/alexnet/versions/7").statusCode()).isEqualTo(404);
    }

    @Test
    void jsonTensorsGiveTheNetsLogitsAndProbabilities() throws Exception {
        float[] x = preprocessed(2, 1);
        HttpResponse<byte[]> r = post("/v2/models/alexnet/infer", tensorJson(x, 2));
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        JsonNode res = JSON.readTree(r.body());
        assertThat(res.path("model_name").asText()).isEqualTo("alexnet");
        float[] logits = floats(output(res, "logits"));
        assertClose(logits, reference(x, 2), 1e-5);
        float[] p = floats(output(res, "probabilities"));
        assertThat(p[0] + p[1] + p[2] + p[3] + p[4] + p[5] + p[6] + p[7] + p[8] + p[9]).isCloseTo(1f,
                org.assertj.core.data.Offset.offset(1e-5f));
    }

    @Test
    void everyBatchSizeRunsOnTheCompiledSizesWithTheNetsResults() {
        ServedModel m = server.service().model("alexnet", null);
        for (int n = 1; n <= 8; n++) {
            List<Integer> plan = m.plan(n);
            assertThat(plan.stream().mapToInt(Integer::intValue).sum()).as("plan %s for %d", plan, n)
                    .isGreaterThanOrEqualTo(n);
            assertThat(m.batchSizes()).containsAll(plan);
            float[] x = preprocessed(n, 20 + n);
            assertClose(m.run(x, n), reference(x, n), 1e-5);
        }
    }

    @Test
    void binaryTensorsInAndOut() throws Exception {
        float[] x = preprocessed(1, 2);
        String json = "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,227,227],"
                + "\"parameters\":{\"binary_data_size\":" + x.length * 4 + "}}],\"outputs\":[{\"name\":\"logits\","
                + "\"parameters\":{\"binary_data\":true}},{\"name\":\"probabilities\",\"parameters\":"
                + "{\"classification\":3}}]}";
        byte[] j = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(j.length + x.length * 4).order(ByteOrder.LITTLE_ENDIAN).put(j);
        b.asFloatBuffer().put(x);
        HttpResponse<byte[]> r = post("/v2/models/alexnet/infer", b.array(), V2Json.HEADER_LENGTH,
                String.valueOf(j.length));
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        int jsonLength = Integer.parseInt(r.headers().firstValue(V2Json.HEADER_LENGTH).orElseThrow());
        JsonNode res = JSON.readTree(Arrays.copyOf(r.body(), jsonLength));
        assertThat(output(res, "logits").path("parameters").path("binary_data_size").asInt()).isEqualTo(CLASSES * 4);
        float[] logits = new float[CLASSES];
        ByteBuffer.wrap(r.body(), jsonLength, CLASSES * 4).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(logits);
        float[] expected = reference(x, 1);
        assertClose(logits, expected, 1e-5);
        JsonNode top = output(res, "probabilities");
        assertThat(top.path("datatype").asText()).isEqualTo("BYTES");
        int best = 0;
        for (int c = 1; c < CLASSES; c++) {
            best = expected[c] > expected[best] ? c : best;
        }
        assertThat(top.path("data").get(0).asText()).matches("0\\.\\d+:" + best + ":class " + best);
    }

    @Test
    void imagesArePreprocessedAsPredictDoes() throws Exception {
        List<byte[]> two = jpegs.subList(0, 2);
        Object[] req = imagesBinary(two, false);
        HttpResponse<byte[]> r = post("/v2/models/alexnet/infer", (byte[]) req[0], V2Json.HEADER_LENGTH,
                String.valueOf(req[1]));
        assertThat(r.statusCode()).as(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        JsonNode res = JSON.readTree(r.body());
        // predict's pipeline on the same bytes, DL4J's forward pass
        Predictor p = new Predictor(InferenceEngine.dl4j(graph), net,
                Preprocessing.input(net, null, null, null, false, Predictor.SOURCE_SIZE).normalization(), false, 3);
        float[] x = new float[2 * 3 * 227 * 227];
        for (int i = 0; i < 2; i++) {
            p.writeViews(p.square(two.get(i)), x, i * 3 * 227 * 227);
        }
        assertClose(floats(output(res, "logits")), reference(x, 2), 1e-5);
        assertThat(output(res, "top_k").path("shape").toString()).isEqualTo("[2,3]");
        // the same images base64 in plain JSON
        String json = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\""
                + Base64.getEncoder().encodeToString(two.get(0)) + "\",\"" + Base64.getEncoder()
                .encodeToString(two.get(1)) + "\"]}],\"outputs\":[{\"name\":\"logits\"}]}";
        HttpResponse<byte[]> r2 = post("/v2/models/alexnet/infer", json.getBytes(StandardCharsets.UTF_8));
        assertThat(r2.statusCode()).isEqualTo(200);
        assertThat(floats(output(JSON.readTree(r2.body()), "logits"))).containsExactly(
                floats(output(res, "logits")));
    }

    @Test
    void concurrentRequestsAreBatchedWithTheSameResults() throws Exception {
        double[] before = batchStats();
        List<CompletableFuture<HttpResponse<byte[]>>> futures = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Object[] req = imagesBinary(List.of(jpegs.get(i)), false);
            futures.add(http.sendAsync(HttpRequest.newBuilder(base.resolve("/v2/models/alexnet/infer"))
                    .header(V2Json.HEADER_LENGTH, String.valueOf(req[1]))
                    .POST(HttpRequest.BodyPublishers.ofByteArray((byte[]) req[0])).build(),
                    HttpResponse.BodyHandlers.ofByteArray()));
        }
        List<float[]> batched = new ArrayList<>();
        for (CompletableFuture<HttpResponse<byte[]>> f : futures) {
            HttpResponse<byte[]> r = f.get(60, TimeUnit.SECONDS);
            assertThat(r.statusCode()).isEqualTo(200);
            batched.add(floats(output(JSON.readTree(r.body()), "logits")));
        }
        double[] after = batchStats();
        double batches = after[0] - before[0];
        double images = after[1] - before[1];
        assertThat(images).isEqualTo(6);
        assertThat(batches).as("6 concurrent requests within the 300 ms delay share forward passes").isLessThan(6);
        for (int i = 0; i < 6; i++) { // one at a time, each alone in its batch
            Object[] req = imagesBinary(List.of(jpegs.get(i)), false);
            HttpResponse<byte[]> r = post("/v2/models/alexnet/infer", (byte[]) req[0], V2Json.HEADER_LENGTH,
                    String.valueOf(req[1]));
            assertClose(floats(output(JSON.readTree(r.body()), "logits")), batched.get(i), 1e-5);
        }
    }

    /** {count, sum} of the batch-size histogram. */
    static double[] batchStats() throws Exception {
        double count = 0, sum = 0;
        for (String line : get("/metrics").body().split("\n")) {
            if (line.startsWith("alexnet4j_batch_size_count{model=\"alexnet\"}")) {
                count = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            } else if (line.startsWith("alexnet4j_batch_size_sum{model=\"alexnet\"}")) {
                sum = Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return new double[]{count, sum};
    }

    @Test
    void badInputGetsTheProtocolsErrorAndASentence() throws Exception {
        String infer = "/v2/models/alexnet/infer";
        HttpResponse<byte[]> r = post(infer, "{\"inputs\": [".getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("not valid JSON");
        r = post(infer, "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"INT8\",\"shape\":[1],\"data\":[1]}]}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("INT8");
        r = post(infer, "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[1,3,10,10],\"data\":[1]}]}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("[N,3,227,227]");
        r = post(infer, "{\"inputs\":[{\"name\":\"pixels\",\"datatype\":\"FP32\",\"shape\":[1],\"data\":[1]}]}"
                .getBytes(StandardCharsets.UTF_8));
        assertThat(error(r)).contains("no input 'pixels'");
        float[] x = preprocessed(1, 5);
        x[77] = Float.NaN;
        String withNaN = new String(tensorJson(x, 1), StandardCharsets.UTF_8);
        for (String nan : List.of(withNaN, withNaN.replace("\"NaN\"", "NaN"))) { // a string, and JSON's non-number
            r = post(infer, nan.getBytes(StandardCharsets.UTF_8));
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(error(r)).contains("NaN").contains("element 77");
        }
        Object[] notImage = imagesBinary(List.of("hello, not an image".getBytes(StandardCharsets.UTF_8)), false);
        r = post(infer, (byte[]) notImage[0], V2Json.HEADER_LENGTH, String.valueOf(notImage[1]));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).startsWith("image 0 cannot be read");
        byte[] cut = Arrays.copyOf(jpegs.get(0), jpegs.get(0).length / 3);
        Object[] truncated = imagesBinary(List.of(cut), false);
        r = post(infer, (byte[]) truncated[0], V2Json.HEADER_LENGTH, String.valueOf(truncated[1]));
        assertThat(r.statusCode()).isIn(200, 400); // OpenCV decodes what is there or refuses; never a crash
        Object[] huge = imagesBinary(List.of(hugePngHeader(20_000, 20_000)), false);
        r = post(infer, (byte[]) huge[0], V2Json.HEADER_LENGTH, String.valueOf(huge[1]));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("20000x20000").contains("--max-image-pixels");
        Object[] many = imagesBinary(java.util.Collections.nCopies(9, jpegs.get(0)), false);
        r = post(infer, (byte[]) many[0], V2Json.HEADER_LENGTH, String.valueOf(many[1]));
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("at most 8 images");
        // refused from its Content-Length before the body is read; a client that waits for "100 Continue" (as curl
        // does for large bodies) gets the 413 instead of a connection closed under its upload
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write(("POST " + infer + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + (9 << 20)
                    + "\r\nExpect: 100-continue\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            StringBuilder reply = new StringBuilder();
            InputStream in = s.getInputStream();
            for (int b; (b = in.read()) >= 0 && reply.indexOf("}") < 0; ) { // until the end of the error JSON
                reply.append((char) b);
            }
            assertThat(reply.toString()).startsWith("HTTP/1.1 413").contains("--max-body-mb");
        }
        r = post(infer, new byte[3 << 20], V2Json.HEADER_LENGTH, "abc");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(error(r)).contains("is not a number");
        r = post(infer, "{\"inputs\":[]}".getBytes(StandardCharsets.UTF_8), V2Json.HEADER_LENGTH, "999");
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(get("/v2/models/alexnet/infer").statusCode()).isEqualTo(404);
        assertThat(get("/v2/health/live").statusCode()).as("still alive").isEqualTo(200);
        String metrics = get("/metrics").body();
        assertThat(metrics).contains("alexnet4j_requests_total{model=\"alexnet\",protocol=\"rest\",status=\"invalid\"}")
                .contains("alexnet4j_requests_total{model=\"alexnet\",protocol=\"rest\",status=\"too_large\"}")
                .doesNotContain("model=\"\"");
    }

    /** A PNG signature and IHDR claiming {@code w x h} pixels, with no pixel data. */
    static byte[] hugePngHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(33);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(w).putInt(h)
                .put(new byte[]{8, 2, 0, 0, 0}).putInt(0);
        return b.array();
    }

    @Test
    void http10AndSlowClientsAreHandled() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.getOutputStream().write("GET /v2/health/live HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(reply).matches("(?s)HTTP/1\\.[01] 200.*").contains("\"live\":true");
        }
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            OutputStream o = s.getOutputStream();
            o.write(("POST /v2/models/alexnet/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{\"in")
                    .getBytes(StandardCharsets.US_ASCII));
            o.flush();
            long t0 = System.nanoTime();
            InputStream in = s.getInputStream();
            byte[] rest = in.readAllBytes(); // the server gives up on the silent client: idle timeout 1.5 s
            assertThat((System.nanoTime() - t0) / 1e9).isLessThan(15);
            assertThat(rest.length == 0 || new String(rest, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 4")
                    || new String(rest, StandardCharsets.US_ASCII).startsWith("HTTP/1.1 5")).isTrue();
        }
        assertThat(get("/v2/health/live").statusCode()).isEqualTo(200);
    }

    @Test
    void deadlinesDropQueuedRequests() throws Exception {
        float[] x = preprocessed(1, 9);
        String body = new String(tensorJson(x, 1), StandardCharsets.UTF_8).replaceFirst("\\}$",
                ",\"parameters\":{\"timeout\":1}}");
        HttpResponse<byte[]> r = post("/v2/models/alexnet/infer", body.getBytes(StandardCharsets.UTF_8));
        assertThat(r.statusCode()).isEqualTo(504);
        assertThat(error(r)).contains("deadline");
    }

    @Test
    void grpcSpeaksTheSameProtocol() throws Exception {
        ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext()
                .maxInboundMessageSize(64 << 20).build();
        try {
            var stub = GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
            assertThat(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive()).isTrue();
            assertThat(stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("alexnet").build())
                    .getInputs(0).getShapeList()).containsExactly(-1L, 3L, 227L, 227L);
            float[] x = preprocessed(2, 4);
            InferTensorContents.Builder c = InferTensorContents.newBuilder();
            for (float f : x) {
                c.addFp32Contents(f);
            }
            ModelInferResponse typed = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("alexnet")
                    .setId("req-1").addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input")
                            .setDatatype("FP32").addAllShape(List.of(2L, 3L, 227L, 227L)).setContents(c))
                    .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits"))
                    .build());
            assertThat(typed.getId()).isEqualTo("req-1");
            float[] logits = new float[2 * CLASSES];
            for (int i = 0; i < logits.length; i++) {
                logits[i] = typed.getOutputs(0).getContents().getFp32Contents(i);
            }
            assertClose(logits, reference(x, 2), 1e-5);
            ByteBuffer raw = ByteBuffer.allocate(x.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            raw.asFloatBuffer().put(x);
            ModelInferResponse rawRes = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("alexnet")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                            .addAllShape(List.of(2L, 3L, 227L, 227L)))
                    .addRawInputContents(ByteString.copyFrom(raw.array()))
                    .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("logits"))
                    .build());
            float[] rawLogits = new float[2 * CLASSES];
            rawRes.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
                    .get(rawLogits);
            assertThat(rawLogits).containsExactly(logits);
            ByteBuffer img = ByteBuffer.allocate(4 + jpegs.get(0).length).order(ByteOrder.LITTLE_ENDIAN)
                    .putInt(jpegs.get(0).length).put(jpegs.get(0));
            ModelInferResponse top = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("alexnet")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("image").setDatatype("BYTES")
                            .addShape(1)).addRawInputContents(ByteString.copyFrom(img.array())).build());
            assertThat(top.getOutputsList()).extracting(o -> o.getName())
                    .containsExactly("logits", "probabilities", "top_k");
            assertThatThrownBy(() -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("nope").build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("NOT_FOUND");
            assertThatThrownBy(() -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("alexnet")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                            .addShape(1)).build()))
                    .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT");
        } finally {
            ch.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void aFullQueueRefusesAtOnce() throws Exception {
        try (InferenceServer small = InferenceServer.start(List.of(model("tiny", InferenceEngine.Kind.DL4J,
                List.of(1))), new InferenceServer.Settings("127.0.0.1", 0, -1, 1, 0, 1, 2 << 20, 5000, 1))) {
            float[] x = preprocessed(1, 6);
            byte[] body = tensorJson(x, 1);
            List<CompletableFuture<HttpResponse<byte[]>>> futures = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                futures.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + small.port()
                                + "/v2/models/tiny/infer")).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                        HttpResponse.BodyHandlers.ofByteArray()));
            }
            int ok = 0, refused = 0;
            for (CompletableFuture<HttpResponse<byte[]>> f : futures) {
                HttpResponse<byte[]> r = f.get(120, TimeUnit.SECONDS);
                if (r.statusCode() == 200) {
                    ok++;
                } else {
                    assertThat(r.statusCode()).isEqualTo(503);
                    assertThat(error(r)).contains("queue is full");
                    refused++;
                }
            }
            assertThat(ok).isPositive();
            assertThat(refused).as("a queue of 1 and one image per pass cannot take 40 at once").isPositive();
        }
    }
}
