package org.alexnet4j.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.alexnet4j.bench.ServeBench;
import org.alexnet4j.model.AlexNet;
import org.alexnet4j.model.Variant;
import org.alexnet4j.weights.ModelFiles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code serve} as a real process: two models from --checkpoint and --model-spec, {@code bench-serve} against it,
 * and SIGTERM while requests wait in the batcher: every one is answered and the process exits 0.
 */
class ServeCliTest {
    @TempDir
    Path tmp;

    @Test
    void servesTwoModelsBenchesAndDrainsOnSigterm() throws Exception {
        AlexNet net = AlexNet.builder(Variant.PAPER).width(0.25).numClasses(10).build();
        Path ck = tmp.resolve("net.zip");
        ModelFiles.save(ck, net, org.alexnet4j.infer.OneDnnInferenceTest.graph(net), false);
        Path log = tmp.resolve("serve.log");
        Process p = TrainCliTest.launch(List.of("serve", "--checkpoint", ck.toString(), "--port", "0",
                "--grpc-port", "-1", "--max-batch", "4", "--max-delay-ms", "1500", "--engine", "dl4j",
                "--model-spec", "name=second,checkpoint=" + ck), log);
        try {
            int port = port(p, log);
            HttpClient http = HttpClient.newHttpClient();
            URI base = URI.create("http://127.0.0.1:" + port);
            assertThat(http.send(HttpRequest.newBuilder(base.resolve("/v2/models/second")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

            Path out = tmp.resolve("bench");
            CliRunner.Result b = CliRunner.run("bench-serve", "--url", base.toString(), "--concurrency", "1,2",
                    "--requests", "4", "--warmup", "1", "--out", out.toString());
            assertThat(b.exit()).as(b.out() + b.err()).isZero();
            assertThat(Files.readAllLines(out.resolve("serve-bench.csv"))).hasSize(3);
            assertThat(out.resolve("serve-bench-latency.png")).exists();
            assertThat(new ObjectMapper().readTree(out.resolve("serve-bench.json").toFile()).path("levels").get(1)
                    .path("rssEndMib").asDouble()).isPositive();

            List<byte[]> jpegs = ServeBench.generatedJpegs(3);
            List<CompletableFuture<HttpResponse<String>>> inFlight = new ArrayList<>();
            for (byte[] jpeg : jpegs) {
                String json = "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"parameters\":"
                        + "{\"binary_data_size\":" + (jpeg.length + 4) + "}}]}";
                byte[] j = json.getBytes(StandardCharsets.UTF_8);
                ByteBuffer body = ByteBuffer.allocate(j.length + 4 + jpeg.length).order(ByteOrder.LITTLE_ENDIAN)
                        .put(j).putInt(jpeg.length).put(jpeg);
                inFlight.add(http.sendAsync(HttpRequest.newBuilder(base.resolve("/v2/models/alexnet/infer"))
                        .header("Inference-Header-Content-Length", String.valueOf(j.length))
                        .POST(HttpRequest.BodyPublishers.ofByteArray(body.array())).build(),
                        HttpResponse.BodyHandlers.ofString()));
            }
            Thread.sleep(500); // taken, waiting 1.5 s for their batch to fill
            p.destroy(); // SIGTERM
            for (CompletableFuture<HttpResponse<String>> f : inFlight) {
                HttpResponse<String> r = f.get(60, TimeUnit.SECONDS);
                assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
                assertThat(r.body()).contains("top_k");
            }
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("exits after draining").isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            assertThat(Files.readString(log)).contains("SIGTERM").contains("server stopped after answering");
        } finally {
            p.destroyForcibly();
        }
    }

    private static int port(Process p, Path log) throws Exception {
        Pattern serving = Pattern.compile("serving 2 model\\(s\\) on http://127\\.0\\.0\\.1:(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            String text = Files.exists(log) ? Files.readString(log) : "";
            Matcher m = serving.matcher(text);
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertThat(p.isAlive()).as("serve ended early:\n" + text).isTrue();
            Thread.sleep(200);
        }
        throw new AssertionError("serve did not listen within 180 s:\n" + Files.readString(log));
    }

    @Test
    void modelSpecsAreCheckedWithASentence() {
        assertThatThrownBy(() -> ServeCommand.parse("weights=w.npz"))
                .hasMessageContaining("--model-spec 'weights=w.npz'").hasMessageContaining("name=N");
        assertThat(ServeCommand.parse("name=caffe,weights=w.onnx,model=caffe").model.build().variant())
                .isEqualTo(Variant.CAFFE);
        CliRunner.Result r = CliRunner.run("serve", "--port", "0");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("give a model");
    }
}
